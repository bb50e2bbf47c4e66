//! The shape of an instrument file, and the checks a file must pass to be loaded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::org::Lang;
use crate::person::Sex;

/// A text in each of Hamroh's three languages. All three are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Texts {
    pub tg: String,
    pub ru: String,
    pub en: String,
}

impl Texts {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Tg => &self.tg,
            Lang::Ru => &self.ru,
            Lang::En => &self.en,
        }
    }

    fn check(&self, what: &str) -> Result<(), String> {
        for (lang, text) in [("tg", &self.tg), ("ru", &self.ru), ("en", &self.en)] {
            if text.trim().is_empty() {
                return Err(format!("{what}: the {lang} text is empty"));
            }
        }
        Ok(())
    }
}

/// Whether a language version is the original, a published translation or Hamroh's own wording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LanguageOrigin {
    /// `original`, `published` (a published translation) or `hamroh` (Hamroh's own, not validated).
    pub origin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Codes {
    /// The code system of the item and total codes, e.g. `http://loinc.org`.
    pub system: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    pub value: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub text: Texts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResponseSet {
    pub options: Vec<AnswerOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub response_set: String,
    pub text: Texts,
    /// A domain or cluster this item belongs to, for instrument-specific detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// An item the person may leave unanswered, never scored and never behind a flag (the PHQ-9's
    /// item 10, difficulty in daily functioning). Optional items come last, so that answers
    /// without them are still complete.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

impl Item {
    /// The lowest and highest value the item's options allow.
    pub fn value_range(&self, instrument: &Instrument) -> (i64, i64) {
        let options = &instrument.response_sets[&self.response_set].options;
        let min = options.iter().map(|o| o.value).min().unwrap_or(0);
        let max = options.iter().map(|o| o.value).max().unwrap_or(0);
        (min, max)
    }

    /// The values the item's options allow, in order.
    pub fn values<'a>(&self, instrument: &'a Instrument) -> impl Iterator<Item = i64> + 'a {
        instrument.response_sets[&self.response_set].options.iter().map(|o| o.value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScoringMethod {
    /// The sum of the scored items' values.
    Sum,
    /// The number of scored items whose value is at least `item_at_least` (WG-SS: domains with
    /// "a lot of difficulty" or worse; SRQ-20: "yes" answers).
    CountAtLeast,
    /// The number of distinct item domains with at least one item at `item_at_least` or more.
    DomainsPresent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    pub method: ScoringMethod,
    /// The items that count, by id; all items when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_at_least: Option<i64>,
    pub min: i64,
    pub max: i64,
    /// Bands are `negative` and `positive`, following the cut-off in force (which may differ by
    /// sex or deployment), instead of fixed score ranges.
    #[serde(default)]
    pub bands_follow_cutoff: bool,
    /// The respondent's sex must be given (sex-specific cut-offs).
    #[serde(default)]
    pub requires_sex: bool,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    pub label: Texts,
}

/// The cut-off for a positive screen: total at least `at_least` (per sex where the source says so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Positive {
    pub at_least: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least_male: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least_female: Option<i64>,
    pub source: String,
}

impl Positive {
    pub fn for_sex(&self, sex: Option<Sex>) -> i64 {
        match sex {
            Some(Sex::Male) => self.at_least_male,
            Some(Sex::Female) => self.at_least_female,
            None => None,
        }
        .unwrap_or(self.at_least)
    }
}

/// Another published threshold, reported beside the positive rule (e.g. PC-PTSD-5's
/// "optimally efficient" cut-off of 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    pub id: String,
    pub at_least: i64,
    pub source: String,
}

/// A red flag raised by one item's answer, whatever the total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Flag {
    pub id: String,
    pub item: String,
    pub at_least: i64,
    pub source: String,
}

/// Items left out by the instrument's own rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Skip {
    pub items: Vec<String>,
    /// Applies to respondents of this sex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<Sex>,
    /// Applies when the sum of these items equals `equals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_sum_of: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<i64>,
    /// `must`: the items must be left out (`-`), a rule of the instrument itself. `interview`: a
    /// rule of the interview form only; the items may be left out and count as their lowest value,
    /// and an answer given (a self-completed form asks every item) is scored as given, with a
    /// warning naming the inconsistency.
    pub mode: SkipMode,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SkipMode {
    Must,
    Interview,
}

/// Which validated instruments a checklist result points to next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Next {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_item: Option<String>,
    pub give: Vec<String>,
    pub why: Texts,
    pub source: String,
}

/// An instrument-specific algorithm reported beside the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DetailRule {
    /// PHQ-9: major and other depressive syndrome.
    Phq9DepressiveSyndrome,
    /// PCL-5: DSM-5 symptom clusters B-E.
    Pcl5Dsm5Clusters,
    /// WG-SS: the difficulty in each domain.
    WgssDomains,
    /// PHQ-15: how many symptoms bother the person "a lot".
    Phq15BotheredALot,
    /// A checklist: the domains present and the instruments to give next.
    Checklist,
    /// AUDIT: the level of intervention, stepped up for signs of dependence or harm.
    AuditIntervention,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    pub id: String,
    pub version: String,
    pub short_name: String,
    pub name: Texts,
    pub recall: Texts,
    pub instructions: Texts,
    pub citation: String,
    pub licence: String,
    pub languages: BTreeMap<String, LanguageOrigin>,
    pub codes: Codes,
    pub response_sets: BTreeMap<String, ResponseSet>,
    pub items: Vec<Item>,
    pub scoring: Scoring,
    #[serde(default)]
    pub bands: Vec<Band>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub positive: Option<Positive>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<Threshold>,
    #[serde(default)]
    pub flags: Vec<Flag>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<Skip>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<DetailRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next: Vec<Next>,
    /// The file, checked and indexed for fast scoring.
    #[serde(skip)]
    pub(super) compiled: Compiled,
}

/// Item ids resolved to positions, and each item's allowed values as a bit set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Compiled {
    pub allowed: Vec<u64>,
    pub lowest: Vec<i64>,
    pub scored: Vec<bool>,
    pub flags: Vec<(usize, i64)>,
    pub skips: Vec<CompiledSkip>,
    pub item_domain: Vec<Option<usize>>,
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CompiledSkip {
    pub items: Vec<usize>,
    pub sex: Option<Sex>,
    pub when_sum_of: Vec<usize>,
    pub equals: i64,
    pub mode: SkipMode,
}

impl Instrument {
    /// The items the instrument itself never asks of a respondent of this sex (PHQ-15 item 4, of
    /// men): a form leaves them out.
    pub fn not_asked_of(&self, sex: Sex) -> impl Iterator<Item = &str> + '_ {
        self.skip
            .iter()
            .filter(move |s| s.sex == Some(sex) && s.mode == SkipMode::Must)
            .flat_map(|s| s.items.iter().map(String::as_str))
    }

    /// Whether a skip rule may leave this item out for a respondent of this sex, so that a form
    /// offers "not asked" for it.
    pub fn may_leave_out(&self, item_id: &str, sex: Sex) -> bool {
        self.skip.iter().any(|s| s.sex.is_none_or(|x| x == sex) && s.items.iter().any(|i| i == item_id))
    }
    /// Parses one file and checks that it is complete and consistent.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut instrument: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        instrument.check()?;
        instrument.compiled = instrument.compile()?;
        Ok(instrument)
    }

    pub fn item_index(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|i| i.id == id)
    }

    fn index(&self, id: &str, what: &str) -> Result<usize, String> {
        self.item_index(id).ok_or_else(|| format!("{what}: unknown item {id}"))
    }

    fn check(&self) -> Result<(), String> {
        for (what, texts) in [("name", &self.name), ("recall", &self.recall), ("instructions", &self.instructions)] {
            texts.check(what)?;
        }
        for lang in ["tg", "ru", "en"] {
            let origin = self.languages.get(lang).ok_or_else(|| format!("languages: no entry for {lang}"))?;
            if !["original", "published", "hamroh"].contains(&origin.origin.as_str()) {
                return Err(format!("languages.{lang}: origin must be original, published or hamroh"));
            }
        }
        for (id, set) in &self.response_sets {
            if set.options.is_empty() {
                return Err(format!("response set {id} has no options"));
            }
            for o in &set.options {
                if !(0..64).contains(&o.value) {
                    return Err(format!("response set {id}: values must lie in 0..=63"));
                }
                o.text.check(&format!("response set {id}, value {}", o.value))?;
            }
        }
        if self.items.is_empty() {
            return Err("no items".into());
        }
        for item in &self.items {
            if !self.response_sets.contains_key(&item.response_set) {
                return Err(format!("item {}: unknown response set {}", item.id, item.response_set));
            }
            item.text.check(&format!("item {}", item.id))?;
        }
        self.check_optional()?;
        if !self.has_own_codes() && self.items.iter().any(|i| i.code.is_none()) {
            return Err(format!("codes: every item needs its {} code, or use Hamroh's own system", self.codes.system));
        }
        if self.has_own_codes() && self.codes.system != format!("urn:hamroh:instrument:{}", self.id) {
            return Err(format!("codes: Hamroh's own system for this instrument is urn:hamroh:instrument:{}", self.id));
        }
        if self.scoring.method != ScoringMethod::Sum && self.scoring.item_at_least.is_none() {
            return Err("scoring: this method needs item_at_least".into());
        }
        if self.scoring.method == ScoringMethod::DomainsPresent && self.items.iter().any(|i| i.domain.is_none()) {
            return Err("scoring: domains_present needs a domain on every item".into());
        }
        self.check_bands()?;
        for next in &self.next {
            next.why.check("next")?;
            if let Some(item) = &next.when_item {
                self.index(item, "next")?;
            }
        }
        Ok(())
    }

    /// Optional items come after every required one, and count towards no total and no flag.
    fn check_optional(&self) -> Result<(), String> {
        let required = self.required_items();
        if let Some(item) = self.items[..required].iter().find(|i| i.optional) {
            return Err(format!("item {}: an optional item must come after the required ones", item.id));
        }
        for item in &self.items[required..] {
            let scored = self.scoring.items.as_ref().is_none_or(|ids| ids.contains(&item.id));
            if scored {
                return Err(format!("item {}: an optional item must be left out of scoring.items", item.id));
            }
            if self.flags.iter().any(|f| f.item == item.id) {
                return Err(format!("item {}: an optional item cannot raise a flag", item.id));
            }
        }
        Ok(())
    }

    /// How many items a complete set of answers has at least: all but the optional ones at the
    /// end.
    pub fn required_items(&self) -> usize {
        self.items.iter().rposition(|i| !i.optional).map_or(0, |n| n + 1)
    }

    /// Fixed bands must tile the score range exactly, in order; cut-off bands are exactly
    /// `negative` and `positive`.
    fn check_bands(&self) -> Result<(), String> {
        for band in &self.bands {
            band.label.check(&format!("band {}", band.id))?;
        }
        if self.scoring.bands_follow_cutoff {
            let ids: Vec<&str> = self.bands.iter().map(|b| b.id.as_str()).collect();
            if ids != ["negative", "positive"] || self.positive.is_none() {
                return Err("bands that follow the cut-off must be negative and positive, with a positive rule".into());
            }
            if self.bands.iter().any(|b| b.min.is_some() || b.max.is_some()) {
                return Err("bands that follow the cut-off take no min or max".into());
            }
            return Ok(());
        }
        if self.bands.is_empty() {
            return Ok(());
        }
        let mut next = self.scoring.min;
        for band in &self.bands {
            let (Some(min), Some(max)) = (band.min, band.max) else {
                return Err(format!("band {} needs min and max", band.id));
            };
            if min != next || max < min {
                return Err(format!("band {} must start at {next}", band.id));
            }
            next = max + 1;
        }
        if next != self.scoring.max + 1 {
            return Err(format!("bands end at {} but the score reaches {}", next - 1, self.scoring.max));
        }
        Ok(())
    }

    fn compile(&self) -> Result<Compiled, String> {
        let allowed = self.items.iter().map(|i| i.values(self).fold(0u64, |set, v| set | (1 << v))).collect();
        let lowest = self.items.iter().map(|i| i.value_range(self).0).collect();
        let scored = match &self.scoring.items {
            None => vec![true; self.items.len()],
            Some(ids) => {
                let mut scored = vec![false; self.items.len()];
                for id in ids {
                    scored[self.index(id, "scoring.items")?] = true;
                }
                scored
            }
        };
        let flags = self
            .flags
            .iter()
            .map(|f| Ok((self.index(&f.item, &format!("flag {}", f.id))?, f.at_least)))
            .collect::<Result<_, String>>()?;
        let skips = self
            .skip
            .iter()
            .map(|s| {
                if s.sex.is_none() && (s.when_sum_of.is_none() || s.equals.is_none()) {
                    return Err("skip: give either sex, or when_sum_of with equals".to_owned());
                }
                Ok(CompiledSkip {
                    items: s.items.iter().map(|i| self.index(i, "skip")).collect::<Result<_, _>>()?,
                    sex: s.sex,
                    when_sum_of: s
                        .when_sum_of
                        .iter()
                        .flatten()
                        .map(|i| self.index(i, "skip"))
                        .collect::<Result<_, _>>()?,
                    equals: s.equals.unwrap_or(0),
                    mode: s.mode,
                })
            })
            .collect::<Result<_, String>>()?;
        let mut domains: Vec<String> = Vec::new();
        let item_domain = self
            .items
            .iter()
            .map(|i| {
                i.domain.as_ref().map(|d| match domains.iter().position(|x| x == d) {
                    Some(n) => n,
                    None => {
                        domains.push(d.clone());
                        domains.len() - 1
                    }
                })
            })
            .collect();
        Ok(Compiled { allowed, lowest, scored, flags, skips, item_domain, domains })
    }

    /// Whether the codes are Hamroh's own (no LOINC code is confirmed for the instrument).
    pub fn has_own_codes(&self) -> bool {
        self.codes.system.starts_with("urn:hamroh:")
    }

    /// The code of the total score: LOINC's where one exists, else `total` in Hamroh's system.
    pub fn total_code(&self) -> &str {
        self.codes.total.as_deref().unwrap_or("total")
    }

    /// The distinct item domains, in the order they first appear.
    pub fn domains(&self) -> &[String] {
        &self.compiled.domains
    }
}
