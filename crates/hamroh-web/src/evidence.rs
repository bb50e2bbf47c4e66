//! What the dashboard, its downloads and the indicators API share: reading a request into a
//! query, computing the disclosure-controlled tables, and naming categories in the reader's language.

use hamroh_analytics::{CATALOGUE, Dimension, Indicator, PeriodKind, Query, Table};
use hamroh_domain::geo;
use hamroh_domain::migration::country;
use hamroh_domain::org::Lang;

use crate::AppState;
use crate::error::WebError;
use crate::i18n::Tr;

/// The indicators shown when none is chosen.
pub const DEFAULT_INDICATORS: [&str; 4] = ["registered", "screened", "depression_positive", "referral_completion"];

/// A request for indicators, as chosen on the dashboard or in the API.
#[derive(Debug, Clone)]
pub struct Request {
    pub indicators: Vec<&'static Indicator>,
    pub query: Query,
}

/// Reads `indicator` (repeated), `from`, `to` (`YYYY-MM`), `period`, `by` from a query string.
/// Defaults: the last twelve months by quarter, by region; unknown values are refused.
pub fn parse(raw: &str, disclosure: Disclosure) -> Result<Request, WebError> {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(raw.as_bytes()).map(|(a, b)| (a.into_owned(), b.into_owned())).collect();
    parse_pairs(&pairs, disclosure)
}

/// A deployment's disclosure settings: the smallest count published, the smallest group over
/// which a share of 0 % or 100 % is, and how often a year's figures may be released anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disclosure {
    pub k: i64,
    pub min_share_group: i64,
    /// Minutes a release is shown before changed counts make a new one (0: at once).
    pub release_every_minutes: i64,
}

impl Default for Disclosure {
    fn default() -> Self {
        Self {
            k: hamroh_analytics::DEFAULT_K,
            min_share_group: hamroh_analytics::DEFAULT_MIN_SHARE_GROUP,
            release_every_minutes: 0,
        }
    }
}

/// [`parse`] from decoded pairs.
pub fn parse_pairs(pairs: &[(String, String)], disclosure: Disclosure) -> Result<Request, WebError> {
    let get = |key: &str| pairs.iter().find(|(k, v)| k == key && !v.is_empty()).map(|(_, v)| v.as_str());
    let bad = |field: &str, value: &str| WebError::BadRequest {
        code: "invalid_query",
        message: format!("{field}: `{value}` is not known"),
    };
    let mut indicators = Vec::new();
    for (_, id) in pairs.iter().filter(|(k, v)| k == "indicator" && !v.is_empty()) {
        let i = hamroh_analytics::indicator(id).ok_or_else(|| bad("indicator", id))?;
        if !indicators.contains(&i) {
            indicators.push(i);
        }
    }
    if indicators.is_empty() {
        indicators = DEFAULT_INDICATORS.iter().filter_map(|id| hamroh_analytics::indicator(id)).collect();
    }
    let today = crate::workflow::today();
    let this_month = i64::from(today.year()) * 100 + i64::from(today.month());
    let to = match get("to") {
        Some(t) => hamroh_analytics::dims::parse_month(t).ok_or_else(|| bad("to", t))?,
        None => this_month,
    };
    let from = match get("from") {
        Some(f) => hamroh_analytics::dims::parse_month(f).ok_or_else(|| bad("from", f))?,
        None => {
            let back = to - 100 + 1;
            if back % 100 == 13 { back + 100 - 12 } else { back }
        }
    };
    if from > to {
        return Err(WebError::BadRequest {
            code: "invalid_query",
            message: "from: the first month is after the last".into(),
        });
    }
    // 20 years of months is the most one query covers.
    if (to / 100 - from / 100) > 20 {
        return Err(WebError::BadRequest { code: "invalid_query", message: "from: at most 20 years at a time".into() });
    }
    let period = match get("period") {
        Some(p) => PeriodKind::parse(p).ok_or_else(|| bad("period", p))?,
        None => PeriodKind::Quarter,
    };
    let by = match get("by") {
        Some("none") => None,
        Some(b) => Some(Dimension::parse(b).ok_or_else(|| bad("by", b))?),
        None if pairs.iter().any(|(k, _)| k == "by") => None,
        None => Some(Dimension::Region),
    };
    let Disclosure { k, min_share_group, .. } = disclosure;
    Ok(Request { indicators, query: Query { from, to, period, by, k, min_share_group, as_of: this_month } })
}

/// The tables of a request, published to `to` (and recorded in the release log).
pub async fn compute(
    state: &AppState,
    request: &Request,
    to: &hamroh_analytics::Recipient,
) -> Result<Vec<Table>, WebError> {
    let lost_cutoff = hamroh_store::now_millis() - state.safety_net.lost_after_days * 86_400_000;
    let every_ms = state.disclosure.release_every_minutes.max(0) * 60_000;
    let (store, indicators, query) = (&state.store, &request.indicators, &request.query);
    Ok(hamroh_analytics::tables_and_loss_every(store, indicators, query, lost_cutoff, to, every_ms).await?.0)
}

/// A signed-in user as the recipient of a release through `channel`.
pub fn recipient(user: Option<&hamroh_store::SessionUser>, channel: &str) -> hamroh_analytics::Recipient {
    hamroh_analytics::Recipient {
        user_id: user.map(|u| u.id),
        organisation_id: user.map(|u| u.organisation_id),
        channel: channel.to_owned(),
    }
}

/// [`label`] in a language, for callers outside the web layer (the CLI's exports).
pub fn label_in(lang: Lang, table: &Table, code: &str) -> String {
    label(&Tr::new(lang), table, code)
}

/// The name of a breakdown value in the reader's language.
pub(crate) fn label(t: &Tr, table: &Table, code: &str) -> String {
    if code == "total" {
        return t.get("evidence-total");
    }
    if code == "unknown" {
        return t.get("evidence-unknown");
    }
    let lang = t.lang;
    match table.by {
        Some(Dimension::Region) => {
            geo::region(code).map_or(code.to_owned(), |r| lang.pick(r.en, r.ru, r.tg).to_owned())
        }
        Some(Dimension::District) => {
            geo::district(code).map_or(code.to_owned(), |d| lang.pick(d.en, d.ru, d.tg).to_owned())
        }
        Some(Dimension::Sex) => t.get(&format!("sex-{code}")),
        Some(Dimension::AgeBand) => age_label(code),
        Some(Dimension::Destination) => {
            country(code).map_or(code.to_owned(), |c| lang.pick(c.en, c.ru, c.tg).to_owned())
        }
        Some(Dimension::WorkSector) => t.get(&format!("work_sector-{code}")),
        Some(Dimension::Category) => category_label(t, table.indicator.category.unwrap_or_default(), code),
        None => code.to_owned(),
    }
}

fn age_label(code: &str) -> String {
    match code {
        "under_18" => "<18".to_owned(),
        "60_plus" => "60+".to_owned(),
        other => other.replace('_', "–"),
    }
}

fn category_label(t: &Tr, kind: &str, code: &str) -> String {
    match kind {
        "instrument" => {
            hamroh_domain::instrument::catalog().get(code).map_or(code.to_owned(), |i| i.short_name.clone())
        }
        "barrier" => t.get(&format!("barrier-{code}")),
        "sector" => t.get(&format!("sector-{code}")),
        "injury_cause" => t.get(&format!("injury_cause-{code}")),
        "wgss_domain" => t.get(&format!("wgss-domain-{code}")),
        _ => code.to_owned(),
    }
}

/// A published value as the reader sees it: a count, a percentage or days.
pub fn show(table: &Table, value: f64) -> String {
    match table.indicator.formula {
        hamroh_analytics::catalogue::Formula::Share { .. } => format!("{:.1}%", value * 100.0),
        hamroh_analytics::catalogue::Formula::Median { .. } => format!("{value:.1}"),
        hamroh_analytics::catalogue::Formula::Count { .. } => format!("{value:.0}"),
    }
}

/// Every indicator, for choosing.
pub(crate) fn choices(t: &Tr) -> Vec<(&'static str, String)> {
    CATALOGUE.iter().map(|i| (i.id, t.get(&format!("indicator-{}", i.id)))).collect()
}
