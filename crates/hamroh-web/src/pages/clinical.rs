//! The clinician's workflow: find a person, register one (duplicates first), screen with one or
//! more instruments in the respondent's language, see the results with red flags first and the
//! suggested pathway, and record a decision.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::instrument::{Instrument, catalog};
use hamroh_domain::model::Screening;
use hamroh_domain::names::parse_query;
use hamroh_domain::org::{Lang, Sector};
use hamroh_domain::pathway::{Action, suggest};
use hamroh_domain::person::Sex;
use hamroh_domain::registration::Registration;
use hamroh_store::PersonSummary;
use serde::Deserialize;
use uuid::Uuid;

use super::form::FormState;
use super::form::form_pairs;
use super::persons::{district_name, local_time};
use super::{Chrome, error_page, page};
use crate::AppState;
use crate::auth::Caller;
use crate::error::WebError;
use crate::i18n::Tr;
use crate::session::Viewer;
use crate::workflow;

/// A person in a list, in the viewer's language.
pub struct PersonLine {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub sex: String,
    pub birth_year: i64,
    pub district: String,
}

fn line(t: &Tr, p: &PersonSummary) -> PersonLine {
    let name = [p.family_name.as_deref(), p.given_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    PersonLine {
        id: p.id,
        code: p.code.clone(),
        name,
        sex: t.get(&format!("sex-{}", p.sex)),
        birth_year: p.birth_year,
        district: hamroh_domain::person::DistrictCode::parse(&p.district)
            .map(|d| district_name(t.lang, d))
            .unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    c: Chrome,
    q: String,
    q_encoded: String,
    searched: bool,
    found: String,
    results: Vec<PersonLine>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn search(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Response {
    let t = &viewer.tr;
    let parsed = parse_query(&query.q);
    let results = match &parsed {
        Some(q) => match caller.gate(&state).search(q, 50).await {
            Ok(r) => r,
            Err(e) => return error_page(&viewer, e.into()),
        },
        None => Vec::new(),
    };
    let template = SearchPage {
        c: Chrome::new(&viewer),
        q_encoded: form_urlencoded::byte_serialize(query.q.as_bytes()).collect(),
        q: query.q.clone(),
        searched: parsed.is_some(),
        found: t.with("search-found", &[("count", results.len().to_string())]),
        results: results.iter().map(|p| line(t, p)).collect(),
    };
    page(&viewer, StatusCode::OK, &template)
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    c: Chrome,
    f: FormState,
    duplicates: Vec<PersonLine>,
    ch: super::record::Choices,
    consent_options: Vec<(String, String)>,
    consent_modes: Vec<(&'static str, String)>,
}

fn register_page(viewer: &Viewer, status: StatusCode, f: FormState, duplicates: Vec<PersonLine>) -> Response {
    let t = &viewer.tr;
    let mut consent_options =
        vec![("care".to_owned(), t.get("consent-care")), ("research".to_owned(), t.get("consent-research"))];
    for s in Sector::ALL {
        let scope = hamroh_domain::consent::ConsentScope::Sector(*s);
        consent_options.push((scope.to_string(), super::persons::consent_label(t, &scope)));
    }
    let template = RegisterPage {
        c: Chrome::new(viewer),
        f,
        duplicates,
        ch: super::record::Choices::new(t),
        consent_options,
        consent_modes: super::persons::consent_modes(t),
    };
    page(viewer, status, &template)
}

pub async fn register_form(viewer: Viewer, Query(query): Query<SearchQuery>) -> Response {
    let mut f = FormState::default();
    f.set("consent", "care");
    f.set("ep.legal_status", "unknown");
    // Carry over a name typed into the search box.
    if !query.q.trim().is_empty()
        && parse_query(&query.q).is_some_and(|q| matches!(q, hamroh_domain::names::Query::Name { .. }))
    {
        let mut words = query.q.split_whitespace().filter(|w| w.parse::<i32>().is_err());
        f.set("family_name", words.next().unwrap_or(""));
        f.set("given_name", &words.collect::<Vec<_>>().join(" "));
    }
    register_page(&viewer, StatusCode::OK, f, Vec::new())
}

/// The form's fields as a registration; field names of the form map to the domain's.
fn registration_from(f: &FormState) -> Registration {
    Registration {
        given_name: f.val("given_name").to_owned(),
        family_name: f.val("family_name").to_owned(),
        sex: f.val("sex").to_owned(),
        birth_year: f.val("birth_year").to_owned(),
        district: f.val("district").to_owned(),
        phone: f.val("phone").to_owned(),
        episodes: vec![super::record::episode_from(f)],
        consents: f.all("consent"),
        consent_how: f.val("consent_how").to_owned(),
    }
}

pub async fn register(State(state): State<AppState>, viewer: Viewer, caller: Caller, body: String) -> Response {
    let pairs = form_pairs(&body);
    let mut f = FormState::from_pairs(&pairs);
    let ctx = workflow::registration_context(&caller.principal, hamroh_store::now_millis());
    let record = match registration_from(&f).validate(&ctx) {
        Ok(r) => r,
        Err(errors) => {
            for e in errors {
                let field = e.field.replace("episodes.0.", "ep.");
                let message = viewer.tr.get(e.message);
                f.error(&field, message);
            }
            return register_page(&viewer, StatusCode::UNPROCESSABLE_ENTITY, f, Vec::new());
        }
    };
    let gate = caller.gate(&state);
    if f.val("confirm_new") != "yes" {
        match gate.likely_duplicates(&record.person).await {
            Ok(d) if !d.is_empty() => {
                let lines = d.iter().map(|p| line(&viewer.tr, p)).collect();
                return register_page(&viewer, StatusCode::OK, f, lines);
            }
            Ok(_) => {}
            Err(e) => return error_page(&viewer, e.into()),
        }
    }
    match gate.register(record).await {
        Ok(stored) => Redirect::to(&format!("/persons/{}", stored.person.id)).into_response(),
        Err(e) => error_page(&viewer, e.into()),
    }
}

#[derive(Template)]
#[template(path = "screen_choose.html")]
struct ChoosePage {
    c: Chrome,
    person_id: Uuid,
    code: String,
    missing_choice: bool,
    instruments: Vec<(String, String)>,
}

pub struct ItemView {
    pub number: usize,
    pub field: String,
    pub text: String,
    /// (value, label, checked)
    pub options: Vec<(String, String, bool)>,
    pub error: bool,
}

pub struct InstrumentForm {
    pub id: String,
    pub name: String,
    pub instructions: String,
    /// Whether the wording in the respondent's language is the original, a published translation
    /// or Hamroh's own, in words.
    pub wording: String,
    pub items: Vec<ItemView>,
    /// For the self-harm questions a clinic encounter adds: why they could not be asked
    /// (value, label, checked).
    pub not_asked: Option<Vec<(String, String, bool)>>,
}

/// The instruments chosen, with the self-harm questions added where none of them asks about
/// self-harm: every clinic encounter asks (mhGAP-IG 2.0, SUI 1) or records why not.
fn with_self_harm_question(mut chosen: Vec<&'static Instrument>) -> Vec<&'static Instrument> {
    use hamroh_domain::safety::{QUESTIONS, asks_about_self_harm};
    if !chosen.iter().any(|i| asks_about_self_harm(i))
        && let Some(q) = catalog().get(QUESTIONS)
    {
        chosen.push(q);
    }
    chosen
}

#[derive(Template)]
#[template(path = "screen_form.html")]
struct ScreenPage {
    c: Chrome,
    person_id: Uuid,
    code: String,
    lang: String,
    forms: Vec<InstrumentForm>,
    /// (field id, message) for the summary at the top.
    errors: Vec<(String, String)>,
}

/// The instruments in the order they are offered: the symptom review first.
fn offered() -> Vec<&'static Instrument> {
    let mut all: Vec<&Instrument> = catalog().iter().collect();
    all.sort_by_key(|i| (i.id != "symptom_review", i.id != "phq9", i.id.clone()));
    all
}

/// An instrument's form for a respondent: the items it asks of them (none the instrument never
/// asks of their sex), a "not asked" choice where a skip rule may leave an item out.
fn instrument_form(
    t: &Tr,
    inst: &Instrument,
    (lang, sex): (Lang, Sex),
    answers: &FormState,
    missing: &[String],
) -> InstrumentForm {
    let never: Vec<&str> = inst.not_asked_of(sex).collect();
    let items = inst
        .items
        .iter()
        .enumerate()
        .filter(|(_, item)| !never.contains(&item.id.as_str()))
        .map(|(n, item)| {
            let field = format!("{}.{}", inst.id, n + 1);
            let chosen = answers.val(&field);
            let mut options: Vec<(String, String, bool)> = inst.response_sets[&item.response_set]
                .options
                .iter()
                .map(|o| (o.value.to_string(), o.text.get(lang).to_owned(), chosen == o.value.to_string()))
                .collect();
            if inst.may_leave_out(&item.id, sex) {
                options.push(("-".into(), t.get("screen-not-asked"), chosen == "-"));
            }
            ItemView {
                number: n + 1,
                error: missing.contains(&field),
                field,
                text: item.text.get(lang).to_owned(),
                options,
            }
        })
        .collect();
    let not_asked = (inst.id == hamroh_domain::safety::QUESTIONS).then(|| {
        hamroh_domain::safety::NotAsked::ALL
            .iter()
            .map(|r| {
                (
                    r.as_str().to_owned(),
                    t.get(&format!("screen-not-asked-{r}")),
                    answers.val("self_harm_not_asked") == r.as_str(),
                )
            })
            .collect()
    });
    InstrumentForm {
        id: inst.id.clone(),
        wording: wording(t, inst, lang),
        name: inst.name.get(lang).to_owned(),
        instructions: inst.instructions.get(lang).to_owned(),
        items,
        not_asked,
    }
}

pub async fn screen_form(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let person = match caller.gate(&state).person(id).await {
        Ok(p) => p,
        Err(e) => return error_page(&viewer, e.into()),
    };
    let pairs = form_pairs(raw.as_deref().unwrap_or(""));
    let f = FormState::from_pairs(&pairs);
    let chosen: Vec<&Instrument> = f.all("instrument").iter().filter_map(|i| catalog().get(i)).collect();
    if chosen.is_empty() {
        let instruments = offered().iter().map(|i| (i.id.clone(), i.name.get(viewer.tr.lang).to_owned())).collect();
        let template = ChoosePage {
            c: Chrome::new(&viewer),
            person_id: id,
            code: person.code,
            missing_choice: raw.is_some(),
            instruments,
        };
        return page(&viewer, StatusCode::OK, &template);
    }
    let lang = f.val("respondent_lang").parse::<Lang>().unwrap_or(viewer.tr.lang);
    let chosen = with_self_harm_question(chosen);
    let forms =
        chosen.iter().map(|i| instrument_form(&viewer.tr, i, (lang, person.sex), &FormState::default(), &[])).collect();
    let template = ScreenPage {
        c: Chrome::new(&viewer),
        person_id: id,
        code: person.code,
        lang: lang.as_str().into(),
        forms,
        errors: vec![],
    };
    page(&viewer, StatusCode::OK, &template)
}

pub async fn screen_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    body: String,
) -> Response {
    let gate = caller.gate(&state);
    let (person, grant) = match gate.person_to_write(id, "screening").await {
        Ok(p) => p,
        Err(e) => return error_page(&viewer, e.into()),
    };
    let f = FormState::from_pairs(&form_pairs(&body));
    let lang = f.val("respondent_lang").parse::<Lang>().unwrap_or(viewer.tr.lang);
    let chosen: Vec<&Instrument> = f.all("instrument").iter().filter_map(|i| catalog().get(i)).collect();
    if chosen.is_empty() {
        if let Err(e) = gate.nothing_written(grant).await {
            return error_page(&viewer, e.into());
        }
        return Redirect::to(&format!("/persons/{id}/screen")).into_response();
    }
    let chosen = with_self_harm_question(chosen);
    // The self-harm questions left unanswered with a reason are not asked: the reason is kept.
    let unanswered = |inst: &Instrument| (1..=inst.items.len()).all(|n| f.val(&format!("{}.{n}", inst.id)).is_empty());
    let not_asked = f
        .val("self_harm_not_asked")
        .parse::<hamroh_domain::safety::NotAsked>()
        .ok()
        .filter(|_| chosen.iter().any(|i| i.id == hamroh_domain::safety::QUESTIONS && unanswered(i)));
    let inputs: Vec<(&Instrument, Vec<Option<i64>>)> = chosen
        .iter()
        .filter(|inst| !(not_asked.is_some() && inst.id == hamroh_domain::safety::QUESTIONS))
        .map(|inst| {
            let answers =
                (1..=inst.items.len()).map(|n| f.val(&format!("{}.{n}", inst.id)).parse::<i64>().ok()).collect();
            (*inst, answers)
        })
        .collect();
    let mut missing: Vec<String> = Vec::new();
    let mut messages: Vec<(String, String)> = Vec::new();
    let screenings = match workflow::score_encounter(
        &state.cutoffs,
        &caller.principal,
        &person,
        (lang, hamroh_store::now_millis()),
        &inputs,
    ) {
        Ok(s) => s,
        Err(problems) => {
            for (id, e) in problems {
                let Some(inst) = catalog().get(&id) else { continue };
                let item = e.item().unwrap_or(1);
                // Mark every unanswered item, not only the first problem the engine names.
                for n in (1..=inst.items.len()).filter(|n| !inst.items[n - 1].optional) {
                    let field = format!("{}.{n}", inst.id);
                    if f.val(&field).is_empty() && !missing.contains(&field) {
                        missing.push(field);
                    }
                }
                let field = format!("{}.{item}", inst.id);
                if !missing.contains(&field) {
                    missing.push(field.clone());
                }
                messages.push((field, format!("{} {item}: {}", inst.short_name, viewer.tr.get("screen-item-missing"))));
            }
            Vec::new()
        }
    };
    if !missing.is_empty() {
        // The form is shown again, with the person's code: their read is audited first.
        if let Err(e) = gate.nothing_written(grant).await {
            return error_page(&viewer, e.into());
        }
        let forms = chosen.iter().map(|i| instrument_form(&viewer.tr, i, (lang, person.sex), &f, &missing)).collect();
        let template = ScreenPage {
            c: Chrome::new(&viewer),
            person_id: id,
            code: person.code,
            lang: lang.as_str().into(),
            forms,
            errors: messages,
        };
        return page(&viewer, StatusCode::UNPROCESSABLE_ENTITY, &template);
    }
    let encounter_id = screenings.first().map(|s| s.encounter_id).unwrap_or_default();
    match gate.record_encounter(grant, &screenings, true, not_asked, state.notifier.as_ref()).await {
        Ok(()) => Redirect::to(&format!("/encounters/{encounter_id}")).into_response(),
        Err(e) => error_page(&viewer, e.into()),
    }
}

pub struct StepView {
    /// Where to give the instruments the step suggests, all at once.
    pub give_href: Option<String>,
    pub urgent: bool,
    pub action: String,
    pub detail: String,
    pub why: String,
    pub rule: String,
    pub because: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "encounter.html")]
struct EncounterPage {
    c: Chrome,
    encounter_id: Uuid,
    person_id: Uuid,
    code: String,
    when: String,
    flags: Vec<String>,
    /// Instrument, total, band, positive, flags.
    results: Vec<(String, String, String, String, String)>,
    /// What the instruments' own algorithms add to the totals (PHQ-9 syndrome, AUDIT level of
    /// intervention), in words.
    result_notes: Vec<String>,
    /// Inconsistencies in the answers, scored as answered: the clinician should know.
    result_warnings: Vec<String>,
    steps: Vec<StepView>,
    decision: Option<String>,
    decision_error: Option<String>,
    actions: Vec<(&'static str, String)>,
    /// The safety assessment this encounter's red flags still wait for, if they do.
    safety: Option<SafetyForm>,
    /// The assessment recorded for this encounter's flags, in words.
    assessed: Option<String>,
    safety_questions: [(&'static str, &'static str); 5],
    /// No instrument of this encounter asked about self-harm.
    self_harm_not_asked: bool,
    /// Why the clinician did not ask, where a reason was given.
    not_asked_reason: Option<String>,
    safety_actions: Vec<(&'static str, String)>,
    not_possible_reasons: Vec<(&'static str, String)>,
    /// Who to call, beside the encounter's self-harm flag.
    emergency: Option<super::EmergencyView>,
}

/// The safety assessment form: what was typed, and the problem next to each field.
#[derive(Debug, Default)]
pub struct SafetyForm {
    pub flag: String,
    pub contact_today: bool,
    pub values: std::collections::HashMap<String, String>,
    pub errors: std::collections::HashMap<String, String>,
}

impl SafetyForm {
    pub fn value(&self, field: &str) -> &str {
        self.values.get(field).map_or("", String::as_str)
    }

    pub fn is(&self, field: &str, value: &str) -> bool {
        self.value(field) == value
    }

    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// Safety-assessment answers as the form names them.
const SAFETY_QUESTIONS: [(&str, &str); 5] = [
    ("thoughts", "safety-thoughts"),
    ("plan", "safety-plan"),
    ("act_past_year", "safety-act"),
    ("imminent_risk", "safety-imminent"),
    ("means_counselled", "safety-means"),
];

/// An assessment in a line of words.
fn assessment_summary(t: &Tr, a: &hamroh_domain::model::SafetyAssessment) -> String {
    use hamroh_domain::safety::SafetyRecord;
    let what = match &a.record {
        SafetyRecord::Assessed(x) => t.get(&format!("safety-action-{}", x.action)),
        SafetyRecord::NotPossible { reason, .. } => {
            format!("{}: {}", t.get("safety-not-possible"), t.get(&format!("safety-not_possible-{reason}")))
        }
    };
    format!("{} · {} · {what}", t.get("safety-recorded"), local_time(a.at))
}

pub fn band_label(t: &Tr, s: &Screening) -> String {
    s.outcome.band.as_ref().map(|band| band_name(t, &s.instrument, band)).unwrap_or_default()
}

/// An instrument's band in the viewer's language.
pub fn band_name(t: &Tr, instrument: &str, band: &str) -> String {
    catalog()
        .get(instrument)
        .and_then(|i| i.bands.iter().find(|b| b.id == band))
        .map_or_else(|| band.to_owned(), |b| b.label.get(t.lang).to_owned())
}

/// Whether an instrument's wording in `lang` is the original, a published translation or
/// Hamroh's own (whose cut-off was validated in the original language only), in words.
fn wording(t: &Tr, inst: &Instrument, lang: Lang) -> String {
    let origin = inst.languages.get(lang.as_str()).map_or("hamroh", |o| o.origin.as_str());
    t.get(&format!("wording-{origin}{}", no_cutoff_suffix(inst, origin)))
}

/// Hamroh's own wording of an instrument without a cut-off (the observations, WHODAS) says so,
/// instead of naming a cut-off validated in another language.
fn no_cutoff_suffix(inst: &Instrument, origin: &str) -> &'static str {
    if origin == "hamroh" && inst.positive.is_none() && inst.bands.is_empty() { "-no-cutoff" } else { "" }
}

/// An instrument's short name (`PHQ-9`).
fn name_of(id: &str) -> String {
    catalog().get(id).map_or(id.to_owned(), |i| i.short_name.clone())
}

/// What an instrument's own algorithm says beside the total, in words: the PHQ-9's depressive
/// syndrome, the AUDIT's level of intervention and why it was stepped up.
fn result_note(t: &Tr, s: &Screening) -> Option<String> {
    let d = s.outcome.result.get("detail")?;
    let name = name_of(&s.instrument);
    let yes = |key: &str| d.get(key).and_then(serde_json::Value::as_bool) == Some(true);
    match s.instrument.as_str() {
        "phq9" => {
            let present = d.get("items_present")?.as_i64()?.to_string();
            let key = if yes("major_depressive_syndrome") {
                "result-phq9-major"
            } else if yes("other_depressive_syndrome") {
                "result-phq9-other"
            } else {
                "result-phq9-none"
            };
            let mut note = t.with(key, &[("instrument", name), ("present", present)]);
            // Item 10, unscored: how hard the problems made daily life, in the viewer's words.
            if let Some(v) = d.get("difficulty").and_then(serde_json::Value::as_i64)
                && let Some(option) = catalog()
                    .get("phq9")
                    .and_then(|i| i.response_sets.get("difficulty"))
                    .and_then(|set| set.options.iter().find(|o| o.value == v))
            {
                note.push_str(". ");
                note.push_str(&t.with("result-phq9-difficulty", &[("answer", option.text.get(t.lang).to_owned())]));
            }
            Some(note)
        }
        "audit" => {
            let text = |key: &str| d.get(key).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
            let intervention = t.get(&format!("alcohol-intervention-{}", text("intervention")));
            let mut args = vec![("instrument", name), ("intervention", intervention), ("zone", text("zone"))];
            if !yes("stepped_up") {
                return Some(t.with("result-audit-level", &args));
            }
            let why: Vec<String> = d
                .get("why")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(serde_json::Value::as_str)
                .map(|w| t.get(&format!("alcohol-why-{w}")))
                .collect();
            args.push(("from", text("zone_of_total")));
            args.push(("why", why.join(", ")));
            Some(t.with("result-audit-stepped-up", &args))
        }
        _ => None,
    }
}

/// The warnings kept with a result, in words.
fn result_warnings(t: &Tr, s: &Screening) -> Vec<String> {
    let warnings = s.outcome.result.get("warnings").and_then(serde_json::Value::as_array);
    warnings
        .into_iter()
        .flatten()
        .filter(|w| w.get("code").and_then(serde_json::Value::as_str) == Some("answered_though_not_asked"))
        .filter_map(|w| w.get("item").and_then(serde_json::Value::as_str))
        .map(|item| {
            t.with("result-warning-not-asked", &[("instrument", name_of(&s.instrument)), ("item", item.to_owned())])
        })
        .collect()
}

pub fn flag_label(t: &Tr, flag: &str) -> String {
    t.get(&format!("flag-{flag}"))
}

async fn encounter_page(
    state: &AppState,
    viewer: &Viewer,
    caller: &Caller,
    id: Uuid,
    decision_error: Option<String>,
) -> Result<Response, WebError> {
    encounter_page_with(state, viewer, caller, id, decision_error, None).await
}

async fn encounter_page_with(
    state: &AppState,
    viewer: &Viewer,
    caller: &Caller,
    id: Uuid,
    decision_error: Option<String>,
    safety_form: Option<SafetyForm>,
) -> Result<Response, WebError> {
    let gate = caller.gate(state);
    let hamroh_store::EncounterRecord { screenings, decision, circumstances } = gate.encounter(id).await?;
    let first = screenings.first().ok_or_else(WebError::not_found)?;
    let person = gate.person(first.person_id).await?;
    let t = &viewer.tr;
    let flagged: Vec<&String> = screenings.iter().flat_map(|s| &s.outcome.flags).collect();
    let assessments = if flagged.is_empty() { Vec::new() } else { gate.safety_assessments(person.id).await? };
    // An assessment answers the person's flags raised up to its encounter.
    let answer = assessments.iter().rev().find(|a| a.encounter_id == id || a.at >= first.encounter_at);
    let (safety, assessed) = match (flagged.first(), answer) {
        (None, _) => (None, None),
        (Some(_), Some(a)) => (None, Some(assessment_summary(t, a))),
        (Some(flag), None) => {
            let mut form = safety_form.unwrap_or_default();
            form.flag = (*flag).clone();
            form.contact_today =
                state.store.waiting_flags_of(person.id).await?.iter().any(|(e, _, contact, _)| *e == id && *contact);
            (Some(form), None)
        }
    };
    let pathway = suggest(&screenings, &circumstances, t.lang);
    let steps = pathway
        .steps
        .iter()
        .map(|s| {
            let mut detail: Vec<String> = s.refer_to.iter().map(|r| t.get(&format!("sector-{r}"))).collect();
            detail.extend(s.give.iter().map(|g| name_of(g)));
            if let Some(f) = s.follow_up {
                detail.push(t.with(
                    "follow-up-in",
                    &[("kind", t.get(&format!("follow_up-{}", f.kind))), ("days", f.days.to_string())],
                ));
            }
            let give: String = s.give.iter().map(|g| format!("&instrument={g}")).collect();
            StepView {
                give_href: (!give.is_empty()).then(|| format!("/persons/{}/screen?{}", person.id, &give[1..])),
                urgent: s.action == Action::UrgentAssessment,
                action: t.get(&format!("action-{}", s.action.as_str())),
                detail: detail.join(", "),
                why: s.why.clone(),
                rule: t.get(&format!("rule-{}", s.rule)),
                because: s.because.clone(),
                source: s.source.clone(),
            }
        })
        .collect();
    let yes_no = |p: Option<bool>| match p {
        Some(true) => t.get("answer-yes"),
        Some(false) => t.get("answer-no"),
        None => String::new(),
    };
    let not_asked_reason = state
        .store
        .self_harm_unasked_of(person.id)
        .await?
        .into_iter()
        .find(|(e, _)| *e == id)
        .and_then(|(_, r)| r)
        .map(|r| t.get(&format!("screen-not-asked-{r}")));
    let emergency = flagged
        .iter()
        .any(|f| hamroh_domain::safety::FLAGS.contains(&f.as_str()))
        .then(|| super::EmergencyView::new(state, t, person.district));
    let template = EncounterPage {
        emergency,
        c: Chrome::new(viewer),
        encounter_id: id,
        person_id: person.id,
        code: person.code,
        when: local_time(first.encounter_at),
        flags: pathway.flags.iter().map(|f| flag_label(t, f)).collect(),
        results: screenings
            .iter()
            .map(|s| {
                (
                    name_of(&s.instrument),
                    s.outcome.total.map_or(String::new(), |v| v.to_string()),
                    band_label(t, s),
                    yes_no(s.outcome.positive),
                    s.outcome.flags.iter().map(|f| flag_label(t, f)).collect::<Vec<_>>().join(", "),
                )
            })
            .collect(),
        result_notes: screenings
            .iter()
            .filter_map(|s| result_note(t, s))
            .chain(screenings.iter().filter_map(|s| {
                let inst = catalog().get(&s.instrument)?;
                let origin = inst.languages.get(s.lang.as_str())?;
                (origin.origin == "hamroh").then(|| {
                    t.with(
                        &format!("wording-result-hamroh{}", no_cutoff_suffix(inst, &origin.origin)),
                        &[
                            ("instrument", inst.short_name.clone()),
                            ("lang", t.get(&format!("service-language-{}", s.lang.as_str()))),
                        ],
                    )
                })
            }))
            .collect(),
        result_warnings: screenings.iter().flat_map(|s| result_warnings(t, s)).collect(),
        steps,
        decision: decision.map(|d| {
            let what = if d.choice == "follow" {
                t.get("decision-followed")
            } else {
                t.with("decision-other-was", &[("reason", d.reason.unwrap_or_default())])
            };
            format!("{} · {}", local_time(d.at), what)
        }),
        decision_error,
        actions: Action::ALL.iter().map(|a| (a.as_str(), t.get(&format!("action-{}", a.as_str())))).collect(),
        safety,
        assessed,
        safety_questions: SAFETY_QUESTIONS,
        self_harm_not_asked: !hamroh_domain::safety::asked_about_self_harm(&screenings),
        not_asked_reason,
        safety_actions: hamroh_domain::safety::SafetyAction::ALL
            .iter()
            .map(|a| (a.as_str(), t.get(&format!("safety-action-{a}"))))
            .collect(),
        not_possible_reasons: hamroh_domain::safety::NotPossible::ALL
            .iter()
            .map(|r| (r.as_str(), t.get(&format!("safety-not_possible-{r}"))))
            .collect(),
    };
    Ok(page(viewer, StatusCode::OK, &template))
}

/// Records the safety assessment of an encounter's red flag from its form; problems are shown
/// next to their fields with everything typed kept.
pub async fn assess(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    body: String,
) -> Response {
    // Access first: nobody learns from a validation error that an encounter exists.
    if let Err(e) = caller.gate(&state).encounter(id).await {
        return error_page(&viewer, e.into());
    }
    let pairs = form_pairs(&body);
    let f = FormState::from_pairs(&pairs);
    let yes_no = |field: &str| match f.val(field) {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let not_possible = f.val("not_possible").to_owned();
    let input = hamroh_domain::safety::AssessmentInput {
        flag: f.val("flag").to_owned(),
        thoughts: yes_no("thoughts"),
        plan: yes_no("plan"),
        act_past_year: yes_no("act_past_year"),
        imminent_risk: yes_no("imminent_risk"),
        means_counselled: yes_no("means_counselled"),
        safety_plan: Some(f.val("safety_plan").to_owned()),
        action: Some(f.val("action").to_owned()).filter(|a| !a.is_empty()),
        note: Some(f.val("note").to_owned()),
        attempts: f.val("attempts").trim().parse().ok(),
        not_possible: Some(not_possible).filter(|n| !n.is_empty()),
    };
    let record = match input.parse() {
        Ok(record) => record,
        Err(e) => {
            let mut form = SafetyForm { flag: input.flag.clone(), ..SafetyForm::default() };
            form.values = pairs.iter().cloned().collect();
            match e {
                hamroh_domain::safety::InputError::UnknownFlag(_) => {
                    return error_page(&viewer, WebError::Invalid { code: "unknown_flag", message: String::new() });
                }
                hamroh_domain::safety::InputError::Fields(problems) => {
                    for p in problems {
                        form.errors.insert(p.field.to_owned(), viewer.tr.get(p.code));
                    }
                }
            }
            return match encounter_page_with(&state, &viewer, &caller, id, None, Some(form)).await {
                Ok(mut r) => {
                    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                    r
                }
                Err(e) => error_page(&viewer, e),
            };
        }
    };
    let imminent = matches!(&record, hamroh_domain::safety::SafetyRecord::Assessed(a) if a.imminent_risk);
    match caller.gate(&state).assess(id, &input.flag, record, state.notifier.as_ref()).await {
        Ok(a) if imminent => {
            Redirect::to(&format!("/persons/{}/refer?urgency=emergency&sector=mental_health", a.person_id))
                .into_response()
        }
        Ok(_) => Redirect::to(&format!("/encounters/{id}")).into_response(),
        Err(e) => error_page(&viewer, e.into()),
    }
}

pub async fn encounter(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
) -> Response {
    encounter_page(&state, &viewer, &caller, id, None).await.unwrap_or_else(|e| error_page(&viewer, e))
}

pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    caller: Caller,
    super::PageId(id): super::PageId,
    body: String,
) -> Response {
    let f = FormState::from_pairs(&form_pairs(&body));
    let gate = caller.gate(&state);
    let hamroh_store::EncounterRecord { screenings, decision: existing, circumstances } = match gate.encounter(id).await
    {
        Ok(x) => x,
        Err(e) => return error_page(&viewer, e.into()),
    };
    let amend = f.val("amend") == "1";
    if existing.is_some() != amend {
        return Redirect::to(&format!("/encounters/{id}")).into_response();
    }
    let decided = workflow::decision(
        &caller.principal,
        (&screenings, &circumstances),
        f.val("choice"),
        f.val("action"),
        f.val("reason"),
        existing.as_ref(),
    );
    match decided {
        Ok((decision, follow_ups)) => match workflow::record_decision(&gate, &decision, &follow_ups).await {
            Ok(()) => Redirect::to(&format!("/encounters/{id}")).into_response(),
            Err(e) => error_page(&viewer, e.into()),
        },
        Err(message) => {
            let message = viewer.tr.get(message);
            encounter_page(&state, &viewer, &caller, id, Some(message)).await.unwrap_or_else(|e| error_page(&viewer, e))
        }
    }
}
