//! FHIR R4 (JSON) resources built from Hamroh's records: pure functions, no I/O.
//!
//! Identifiers and code systems that Hamroh defines are URNs (`urn:hamroh:...`), so that no
//! address is claimed that Hamroh does not serve. LOINC codes are used where the instrument file
//! gives them.

use hamroh_domain::instrument::{Instrument, Texts};
use hamroh_domain::model::{Millis, Person, Referral, Screening};
use hamroh_domain::org::Lang;
use hamroh_domain::referral::{ReferralStatus, Urgency};
use serde_json::{Value, json};
use uuid::Uuid;

const TRANSLATION: &str = "http://hl7.org/fhir/StructureDefinition/translation";
const LOINC: &str = "http://loinc.org";

/// The canonical URL of an instrument's questionnaire.
pub fn questionnaire_url(id: &str) -> String {
    format!("urn:hamroh:questionnaire:{id}")
}

/// English text, with Russian and Tajik as translation extensions on the `_field` twin.
fn translations(texts: &Texts) -> Value {
    let extensions: Vec<Value> = [Lang::Ru, Lang::Tg]
        .iter()
        .map(|l| {
            json!({
                "url": TRANSLATION,
                "extension": [
                    {"url": "lang", "valueCode": l.as_str()},
                    {"url": "content", "valueString": texts.get(*l)},
                ]
            })
        })
        .collect();
    json!({ "extension": extensions })
}

fn item_system(inst: &Instrument) -> String {
    if inst.codes.system.is_empty() { format!("urn:hamroh:instrument:{}", inst.id) } else { inst.codes.system.clone() }
}

/// The coding of an answer: the LOINC answer code where the file has one, else Hamroh's.
fn answer_coding(inst: &Instrument, option: &hamroh_domain::instrument::AnswerOption) -> Value {
    match &option.code {
        Some(code) if code.starts_with("LA") => json!({"system": LOINC, "code": code, "display": option.text.en}),
        _ => json!({
            "system": format!("urn:hamroh:answers:{}", inst.id),
            "code": option.value.to_string(),
            "display": option.text.en,
        }),
    }
}

/// An instrument as a `Questionnaire`: items with their codes, answer options, texts in English
/// with Russian and Tajik translations.
pub fn questionnaire(inst: &Instrument) -> Value {
    let items: Vec<Value> = inst
        .items
        .iter()
        .map(|item| {
            let options = &inst.response_sets[&item.response_set].options;
            let mut v = json!({
                "linkId": item.id,
                "text": item.text.en,
                "_text": translations(&item.text),
                "type": "choice",
            });
            // The engine's value of each answer as its score (R4's ordinalValue extension).
            v["answerOption"] = options
                .iter()
                .map(|o| {
                    json!({
                        "valueCoding": answer_coding(inst, o),
                        "extension": [{"url": ORDINAL_VALUE, "valueDecimal": o.value}],
                    })
                })
                .collect();
            if let Some(code) = &item.code {
                v["code"] = json!([{"system": item_system(inst), "code": code}]);
            }
            if !item.optional {
                v["required"] = json!(true);
            }
            enable(inst, &item.id, &mut v);
            v
        })
        .collect();
    let mut q = json!({
        "resourceType": "Questionnaire",
        "id": inst.id.replace('_', "-"),
        "url": questionnaire_url(&inst.id),
        "version": inst.version,
        "name": inst.short_name.chars().filter(char::is_ascii_alphanumeric).collect::<String>(),
        "title": inst.name.en,
        "_title": translations(&inst.name),
        "status": "active",
        "language": "en",
        "description": inst.instructions.en,
        "copyright": inst.licence,
        "item": items,
    });
    if let Some(panel) = &inst.codes.panel {
        q["code"] = json!([{"system": inst.codes.system, "code": panel, "display": inst.short_name}]);
    }
    // A rule on the respondent's sex reads the patient, which an SDC client must be given.
    if inst.skip.iter().any(|s| s.sex.is_some()) {
        q["extension"] = json!([{
            "url": SDC_LAUNCH_CONTEXT,
            "extension": [
                {"url": "name", "valueCoding": {"system": SDC_LAUNCH_CONTEXT_CODES, "code": "patient"}},
                {"url": "type", "valueCode": "Patient"},
            ],
        }]);
    }
    q
}

const ORDINAL_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/ordinalValue";
const SDC_ENABLE_WHEN_EXPRESSION: &str =
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression";
const SDC_LAUNCH_CONTEXT: &str = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-launchContext";
const SDC_LAUNCH_CONTEXT_CODES: &str = "http://hl7.org/fhir/uv/sdc/CodeSystem/launchContext";

/// When an item is asked, from the instrument's skip rules: `enableWhen` where the rules can be
/// said with it (an answer other than one value; any of several answers other than 0 for a sum
/// of non-negative values that must not be 0), else SDC's `enableWhenExpression` in FHIRPath
/// (sums of answer scores, the patient's sex).
fn enable(inst: &Instrument, item_id: &str, v: &mut Value) {
    let rules: Vec<&hamroh_domain::instrument::Skip> =
        inst.skip.iter().filter(|s| s.items.iter().any(|i| i == item_id)).collect();
    if rules.is_empty() {
        return;
    }
    // The coding of the answer to `item` whose value is `value`, if it has one.
    let coding_of = |item: &str, value: i64| {
        let item = inst.items.iter().find(|i| i.id == item)?;
        let option = inst.response_sets[&item.response_set].options.iter().find(|o| o.value == value)?;
        Some(answer_coding(inst, option))
    };
    let not = |item: &str, value: i64| {
        coding_of(item, value).map(|c| json!({"question": item, "operator": "!=", "answerCoding": c}))
    };
    let sums: Vec<(&Vec<String>, i64)> =
        rules.iter().filter_map(|r| Some((r.when_sum_of.as_ref()?, r.equals?))).collect();
    let non_negative = |items: &[String]| {
        items.iter().all(|id| {
            inst.items
                .iter()
                .find(|i| &i.id == id)
                .is_some_and(|i| inst.response_sets[&i.response_set].options.iter().all(|o| o.value >= 0))
        })
    };
    if sums.len() == rules.len() {
        // Each rule names one item: asked when every one of them is not the skipping answer.
        let single: Option<Vec<Value>> =
            sums.iter().map(|(of, e)| if of.len() == 1 { not(&of[0], *e) } else { None }).collect();
        if let Some(conditions) = single {
            if conditions.len() > 1 {
                v["enableBehavior"] = json!("all");
            }
            v["enableWhen"] = json!(conditions);
            return;
        }
        // One rule: a sum of non-negative values must not be 0, so any of its items not 0.
        if let [(of, 0)] = sums[..]
            && non_negative(of)
            && let Some(conditions) = of.iter().map(|i| not(i, 0)).collect::<Option<Vec<Value>>>()
        {
            v["enableBehavior"] = json!("any");
            v["enableWhen"] = json!(conditions);
            return;
        }
    }
    let answer = |item: &str| format!("%resource.repeat(item).where(linkId = '{item}').answer.value.ordinal()");
    let conditions: Vec<String> = rules
        .iter()
        .filter_map(|r| match (r.sex, &r.when_sum_of, r.equals) {
            (Some(sex), _, _) => Some(format!("%patient.gender != '{}'", sex.as_str())),
            (None, Some(of), Some(e)) => {
                Some(format!("({}) != {e}", of.iter().map(|i| answer(i)).collect::<Vec<_>>().join(" + ")))
            }
            _ => None,
        })
        .collect();
    if !conditions.is_empty() {
        v["extension"] = json!([{
            "url": SDC_ENABLE_WHEN_EXPRESSION,
            "valueExpression": {"language": "text/fhirpath", "expression": conditions.join(" and ")},
        }]);
    }
}

/// The code of an instrument's total score: LOINC where one exists, else Hamroh's.
fn total_code(inst: &Instrument) -> Value {
    let coding = match &inst.codes.total {
        Some(code) => json!({"system": inst.codes.system, "code": code}),
        None => json!({"system": format!("urn:hamroh:instrument:{}", inst.id), "code": "total"}),
    };
    json!({"coding": [coding], "text": format!("{} total score", inst.short_name)})
}

fn instant(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.to_string()).unwrap_or_default()
}

/// A second id derived from a referral's, for its `Task`.
fn task_id(referral: Uuid) -> Uuid {
    let mut bytes = *referral.as_bytes();
    bytes[15] ^= 0x5a;
    Uuid::from_bytes(bytes)
}

fn entry(id: Uuid, resource: Value) -> Value {
    json!({"fullUrl": format!("urn:uuid:{id}"), "resource": resource})
}

fn reference(id: Uuid) -> Value {
    json!({"reference": format!("urn:uuid:{id}")})
}

/// What a bundle may say of the person: pseudonymous for statistics or partners, with name and
/// phone only for care when the person's consent allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    Pseudonymous,
    ForCare,
}

/// A person's record as a `collection` Bundle: the `Patient`, a `QuestionnaireResponse` and an
/// `Observation` (the total) per screening, a `ServiceRequest` and a `Task` per referral.
pub fn person_bundle(
    person: &Person,
    identity: Identity,
    screenings: &[Screening],
    referrals: &[Referral],
    catalog: &hamroh_domain::instrument::Catalog,
    now: Millis,
) -> Value {
    json!({
        "resourceType": "Bundle",
        "id": Uuid::now_v7().to_string(),
        "type": "collection",
        "timestamp": instant(now),
        "entry": person_entries(person, identity, screenings, referrals, catalog),
    })
}

/// A person's record as Bundle entries (`fullUrl` and `resource`), the `Patient` first.
pub fn person_entries(
    person: &Person,
    identity: Identity,
    screenings: &[Screening],
    referrals: &[Referral],
    catalog: &hamroh_domain::instrument::Catalog,
) -> Vec<Value> {
    let mut entries = vec![entry(person.id, patient(person, identity))];
    for s in screenings {
        let Some(inst) = catalog.get(&s.instrument) else { continue };
        entries.push(entry(s.id, questionnaire_response(person.id, s, inst)));
        if let Some(total) = s.outcome.total {
            let obs_id = task_id(s.id);
            let mut obs = json!({
                "resourceType": "Observation",
                "id": obs_id.to_string(),
                "status": "final",
                "category": [{"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "survey",
                    "display": "Survey",
                }]}],
                "code": total_code(inst),
                "subject": reference(person.id),
                "effectiveDateTime": instant(s.encounter_at),
                "valueInteger": total,
                "derivedFrom": [reference(s.id)],
            });
            if let Some(band) = &s.outcome.band {
                obs["interpretation"] = json!([{"coding": [{"system": format!("urn:hamroh:bands:{}", inst.id), "code": band}], "text": band}]);
            }
            entries.push(entry(obs_id, obs));
        }
    }
    for r in referrals {
        entries.push(entry(r.id, service_request(person.id, r, identity)));
        entries.push(entry(task_id(r.id), task(person.id, r, identity)));
    }
    entries
}

/// Several persons' records as one pseudonymous `collection` Bundle, in memory (see
/// [`BundleWriter`] for an export of any size).
pub fn records_bundle(
    records: &[(Person, Vec<Screening>, Vec<Referral>)],
    catalog: &hamroh_domain::instrument::Catalog,
    now: Millis,
) -> Value {
    let mut w = BundleWriter::new(Vec::new(), now).expect("writing to memory cannot fail");
    for (person, screenings, referrals) in records {
        for e in person_entries(person, Identity::Pseudonymous, screenings, referrals, catalog) {
            w.push(&e).expect("writing to memory cannot fail");
        }
    }
    let bytes = w.finish().expect("writing to memory cannot fail");
    serde_json::from_slice(&bytes).expect("the writer writes JSON")
}

/// Writes one `collection` Bundle entry by entry, so that an export of a million persons holds
/// one person's records in memory at a time.
pub struct BundleWriter<W: std::io::Write> {
    out: W,
    entries: u64,
}

impl<W: std::io::Write> BundleWriter<W> {
    pub fn new(mut out: W, now: Millis) -> std::io::Result<Self> {
        let head = json!({
            "resourceType": "Bundle",
            "id": Uuid::now_v7().to_string(),
            "type": "collection",
            "timestamp": instant(now),
        });
        let head = head.to_string();
        // The object without its closing brace: entries follow.
        out.write_all(&head.as_bytes()[..head.len() - 1])?;
        Ok(Self { out, entries: 0 })
    }

    pub fn push(&mut self, entry: &Value) -> std::io::Result<()> {
        // FHIR allows no empty arrays: `entry` opens with the first one.
        self.out.write_all(if self.entries == 0 { b",\"entry\":[\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, entry)?;
        self.entries += 1;
        Ok(())
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(if self.entries == 0 { b"}\n" } else { b"]}\n" })?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A person's Bundle entries as FHIR Bulk Data resources (one per NDJSON line): each with its
/// `id`, every reference between them as `Type/id`, with the resource type of each.
pub fn bulk_resources(entries: Vec<Value>) -> Vec<(String, Value)> {
    let types: std::collections::HashMap<String, String> = entries
        .iter()
        .filter_map(|e| {
            let url = e["fullUrl"].as_str()?;
            let kind = e["resource"]["resourceType"].as_str()?;
            Some((url.to_owned(), format!("{kind}/{}", url.trim_start_matches("urn:uuid:"))))
        })
        .collect();
    fn relink(v: &mut Value, types: &std::collections::HashMap<String, String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get_mut("reference")
                    && let Some(to) = types.get(r.as_str())
                {
                    *r = to.clone();
                }
                map.values_mut().for_each(|v| relink(v, types));
            }
            Value::Array(list) => list.iter_mut().for_each(|v| relink(v, types)),
            _ => {}
        }
    }
    entries
        .into_iter()
        .filter_map(|mut e| {
            let url = e["fullUrl"].as_str()?.trim_start_matches("urn:uuid:").to_owned();
            let mut resource = e.get_mut("resource")?.take();
            resource["id"] = json!(url);
            relink(&mut resource, &types);
            let kind = resource["resourceType"].as_str()?.to_owned();
            Some((kind, resource))
        })
        .collect()
}

fn patient(p: &Person, identity: Identity) -> Value {
    let district = p.district.district();
    let region = hamroh_domain::geo::region(p.district.region());
    let mut v = json!({
        "resourceType": "Patient",
        "id": p.id.to_string(),
        "identifier": [{"system": "urn:hamroh:person-code", "value": p.code}],
        "gender": p.sex.as_str(),
        "birthDate": format!("{:04}", p.birth_year.get()),
        "address": [{
            "district": district.en,
            "state": region.map_or("", |r| r.en),
            "country": "TJ",
        }],
    });
    if identity == Identity::ForCare {
        let mut name = serde_json::Map::new();
        if let Some(f) = &p.family_name {
            name.insert("family".into(), json!(f));
        }
        if let Some(g) = &p.given_name {
            name.insert("given".into(), json!([g]));
        }
        if !name.is_empty() {
            v["name"] = json!([name]);
        }
        if let Some(phone) = &p.phone {
            v["telecom"] = json!([{"system": "phone", "value": phone.as_str()}]);
        }
    }
    v
}

fn questionnaire_response(person: Uuid, s: &Screening, inst: &Instrument) -> Value {
    let items: Vec<Value> = inst
        .items
        .iter()
        .zip(&s.answers)
        .filter_map(|(item, answer)| {
            let value = (*answer)?;
            let option = inst.response_sets[&item.response_set].options.iter().find(|o| o.value == value)?;
            Some(json!({"linkId": item.id, "text": item.text.en, "answer": [{"valueCoding": answer_coding(inst, option)}]}))
        })
        .collect();
    json!({
        "resourceType": "QuestionnaireResponse",
        "id": s.id.to_string(),
        "questionnaire": format!("{}|{}", questionnaire_url(&inst.id), inst.version),
        "status": "completed",
        "subject": reference(person),
        "authored": instant(s.encounter_at),
        "language": s.lang.as_str(),
        "item": items,
    })
}

/// A referral as a `ServiceRequest`. The reason typed by the sender is free text, which may hold
/// a name or a phone: only a care bundle carries it.
fn service_request(person: Uuid, r: &Referral, identity: Identity) -> Value {
    let status = match r.status {
        ReferralStatus::Sent | ReferralStatus::Accepted | ReferralStatus::NoShow => "active",
        ReferralStatus::Attended | ReferralStatus::Closed => "completed",
        ReferralStatus::Declined | ReferralStatus::Redirected | ReferralStatus::Cancelled => "revoked",
    };
    let mut v = json!({
        "resourceType": "ServiceRequest",
        "id": r.id.to_string(),
        "identifier": [{"system": "urn:hamroh:referral-code", "value": r.code}],
        "status": status,
        "intent": "order",
        "priority": priority(r.urgency),
        "subject": reference(person),
        "authoredOn": instant(r.created_at),
        "occurrenceDateTime": r.due_date.to_string(),
        "requester": {"identifier": {"system": "urn:hamroh:organisation", "value": r.from_organisation_id.to_string()}},
        "performer": [{"identifier": {"system": "urn:hamroh:organisation", "value": r.to_organisation_id.to_string()}}],
    });
    if identity == Identity::ForCare && !r.reason.trim().is_empty() {
        v["reasonCode"] = json!([{"text": r.reason}]);
    }
    v
}

fn priority(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Routine => "routine",
        Urgency::Urgent => "urgent",
        Urgency::Emergency => "stat",
    }
}

/// A referral's state as a `Task`. Why it last changed is coded (the barrier) in every bundle;
/// the words typed with it only in a care bundle.
fn task(person: Uuid, r: &Referral, identity: Identity) -> Value {
    let status = match r.status {
        ReferralStatus::Sent => "requested",
        ReferralStatus::Accepted => "accepted",
        ReferralStatus::Declined | ReferralStatus::Redirected => "rejected",
        ReferralStatus::Attended | ReferralStatus::Closed => "completed",
        ReferralStatus::NoShow => "failed",
        ReferralStatus::Cancelled => "cancelled",
    };
    let last = r.events.last();
    let mut t = json!({
        "resourceType": "Task",
        "id": task_id(r.id).to_string(),
        "status": status,
        "businessStatus": {"coding": [{"system": "urn:hamroh:referral-status", "code": r.status.as_str()}]},
        "intent": "order",
        "focus": reference(r.id),
        "for": reference(person),
        "authoredOn": instant(r.created_at),
        "lastModified": instant(last.map_or(r.created_at, |e| e.at)),
        "owner": {"identifier": {"system": "urn:hamroh:organisation", "value": r.to_organisation_id.to_string()}},
    });
    let mut reason = serde_json::Map::new();
    if let Some(barrier) = last.and_then(|e| e.barrier) {
        reason.insert("coding".into(), json!([{"system": "urn:hamroh:barrier", "code": barrier.as_str()}]));
    }
    if identity == Identity::ForCare
        && let Some(text) = last.and_then(|e| e.reason.as_ref())
    {
        reason.insert("text".into(), json!(text));
    }
    if !reason.is_empty() {
        t["statusReason"] = Value::Object(reason);
    }
    t
}

/// One screening read from a FHIR `QuestionnaireResponse`: the instrument, answers in item order
/// (`None` where the response has none), and the language it was given in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedResponse {
    pub instrument: String,
    pub answers: Vec<Option<i64>>,
    pub lang: Option<Lang>,
    /// When the response was given (`authored`), if it says.
    pub authored: Option<Millis>,
    /// Who it is about (`subject`), as sent; the caller checks it names the person.
    pub subject: Option<Value>,
}

/// Reads `QuestionnaireResponse`s (one, or a `Bundle` of them) for instruments Hamroh knows. The
/// answers are not judged here: the caller scores them with the engine, which refuses what the
/// instrument does not allow.
pub fn read_responses(
    resource: &Value,
    catalog: &hamroh_domain::instrument::Catalog,
) -> Result<Vec<ImportedResponse>, String> {
    match resource["resourceType"].as_str() {
        Some("QuestionnaireResponse") => Ok(vec![read_response(resource, catalog)?]),
        Some("Bundle") => {
            let entries = resource["entry"].as_array().ok_or("Bundle: no entry")?;
            let responses: Vec<_> = entries
                .iter()
                .enumerate()
                .map(|(n, e)| read_response(&e["resource"], catalog).map_err(|m| format!("entry {n}: {m}")))
                .collect::<Result<_, _>>()?;
            if responses.is_empty() { Err("Bundle: no QuestionnaireResponse".into()) } else { Ok(responses) }
        }
        Some(other) => Err(format!("resourceType {other}: expected QuestionnaireResponse or Bundle")),
        None => Err("not a FHIR resource (no resourceType)".into()),
    }
}

fn flatten<'a>(items: &'a [Value], out: &mut Vec<&'a Value>) {
    for item in items {
        out.push(item);
        if let Some(children) = item["item"].as_array() {
            flatten(children, out);
        }
    }
}

/// The instrument a `questionnaire` canonical names: Hamroh's own (`urn:hamroh:questionnaire:phq9`)
/// or LOINC's for its panel (`http://loinc.org/q/44249-1`), with the version after `|` when given,
/// which must be the instrument's. Nothing else is guessed from the end of a URL.
fn questionnaire_of<'c>(
    canonical: &str,
    catalog: &'c hamroh_domain::instrument::Catalog,
) -> Result<&'c Instrument, String> {
    let (url, version) = canonical.split_once('|').map_or((canonical, None), |(u, v)| (u, Some(v)));
    let inst = match (url.strip_prefix("urn:hamroh:questionnaire:"), url.strip_prefix("http://loinc.org/q/")) {
        (Some(id), _) => catalog.get(id),
        (None, Some(panel)) => catalog.iter().find(|i| i.codes.panel.as_deref() == Some(panel)),
        (None, None) => None,
    };
    let inst = inst.ok_or_else(|| {
        format!(
            "questionnaire {canonical}: not an instrument Hamroh knows (use {}, with the instrument's id)",
            questionnaire_url("ID")
        )
    })?;
    match version {
        Some(v) if v != inst.version => {
            Err(format!("questionnaire {canonical}: version {v}, but Hamroh's {} is version {}", inst.id, inst.version))
        }
        _ => Ok(inst),
    }
}

/// The value of one answer: a `valueInteger`, or a `valueCoding` in the item's own answer system
/// (LOINC's answer codes where the item has them, else `urn:hamroh:answers:<instrument>` with the
/// value); a coding without a system is matched by its code.
fn answer_value(inst: &Instrument, item: &hamroh_domain::instrument::Item, answer: &Value) -> Result<i64, String> {
    if let Some(v) = answer["valueInteger"].as_i64() {
        return Ok(v);
    }
    let coding = &answer["valueCoding"];
    let Some(code) = coding["code"].as_str() else {
        return Err(format!("item {}: an answer must be valueCoding or valueInteger", item.id));
    };
    let options = &inst.response_sets[&item.response_set].options;
    let own = format!("urn:hamroh:answers:{}", inst.id);
    let found = match coding["system"].as_str() {
        Some(LOINC) => options.iter().find(|o| o.code.as_deref() == Some(code)),
        Some(system) if system == own => options.iter().find(|o| o.value.to_string() == code),
        None => options.iter().find(|o| o.code.as_deref() == Some(code) || o.value.to_string() == code),
        Some(system) => {
            let expected = answer_coding(inst, &options[0]);
            return Err(format!(
                "item {}: answer system {system} is not the item's ({})",
                item.id,
                expected["system"].as_str().unwrap_or_default()
            ));
        }
    };
    found
        .map(|o| o.value)
        .ok_or_else(|| format!("item {}: answer code {code} is not one of the item's options", item.id))
}

/// A FHIR `dateTime` or `date` as milliseconds (a date alone is its midnight in UTC).
fn date_time(text: &str) -> Option<Millis> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond());
    }
    let date = text.parse::<jiff::civil::Date>().ok()?;
    date.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp().as_millisecond())
}

fn read_response(r: &Value, catalog: &hamroh_domain::instrument::Catalog) -> Result<ImportedResponse, String> {
    if r["resourceType"] != "QuestionnaireResponse" {
        return Err("expected a QuestionnaireResponse".into());
    }
    if r["status"] != "completed" {
        return Err(format!("status {}: only a completed response is a screening", r["status"]));
    }
    let canonical = r["questionnaire"].as_str().ok_or("questionnaire: missing")?;
    let inst = questionnaire_of(canonical, catalog)?;
    let mut items = Vec::new();
    flatten(r["item"].as_array().map(Vec::as_slice).unwrap_or_default(), &mut items);
    let mut answers = Vec::with_capacity(inst.items.len());
    for item in &inst.items {
        let found: Vec<&&Value> = items.iter().filter(|i| i["linkId"] == item.id.as_str()).collect();
        if found.len() > 1 {
            return Err(format!("item {}: answered more than once", item.id));
        }
        let given = found.first().and_then(|i| i["answer"].as_array()).map(Vec::as_slice).unwrap_or_default();
        match given {
            [] => answers.push(None),
            [answer] => answers.push(Some(answer_value(inst, item, answer)?)),
            _ => return Err(format!("item {}: {} answers, but the item takes one", item.id, given.len())),
        }
    }
    let known: Vec<&str> = inst.items.iter().map(|i| i.id.as_str()).collect();
    if let Some(extra) = items.iter().filter_map(|i| i["linkId"].as_str()).find(|l| !known.contains(l)) {
        return Err(format!("item {extra}: not an item of {}", inst.id));
    }
    // `ru-RU` is Russian: the language's primary subtag.
    let lang = match r["language"].as_str() {
        None => None,
        Some(tag) => {
            let primary = tag.split(['-', '_']).next().unwrap_or_default().to_ascii_lowercase();
            Some(primary.parse::<Lang>().map_err(|_| format!("language {tag}: Hamroh records tg, ru or en"))?)
        }
    };
    let authored = match r["authored"].as_str() {
        None => None,
        Some(text) => Some(date_time(text).ok_or_else(|| format!("authored {text}: not a FHIR dateTime"))?),
    };
    let subject = r.get("subject").filter(|s| !s.is_null()).cloned();
    Ok(ImportedResponse { instrument: inst.id.clone(), answers, lang, authored, subject })
}

/// Whether a response's `subject` names this person: a reference to the Patient by id
/// (`Patient/<id>`, `urn:uuid:<id>` or a URL ending in `/Patient/<id>`), or the person's Hamroh code
/// as an identifier (`urn:hamroh:person-code`).
pub fn names_person(subject: &Value, id: Uuid, code: &str) -> bool {
    if let Some(reference) = subject["reference"].as_str() {
        let id = id.to_string();
        return reference == format!("urn:uuid:{id}")
            || reference == format!("Patient/{id}")
            || reference.ends_with(&format!("/Patient/{id}"));
    }
    let identifier = &subject["identifier"];
    identifier["system"] == "urn:hamroh:person-code"
        && identifier["value"].as_str().is_some_and(|v| v.eq_ignore_ascii_case(code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hamroh_domain::instrument::catalog;

    fn item<'a>(q: &'a Value, link_id: &str) -> &'a Value {
        q["item"].as_array().unwrap().iter().find(|i| i["linkId"] == link_id).unwrap()
    }

    #[test]
    fn an_sdc_client_gets_required_items_and_the_engines_scores() {
        let q = questionnaire(catalog().get("phq9").unwrap());
        assert_eq!(item(&q, "1")["required"], true);
        assert!(item(&q, "10").get("required").is_none(), "item 10 may be left unanswered");
        let options = item(&q, "1")["answerOption"].as_array().unwrap();
        let scores: Vec<f64> = options.iter().map(|o| o["extension"][0]["valueDecimal"].as_f64().unwrap()).collect();
        assert_eq!(scores, [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(options[0]["extension"][0]["url"], ORDINAL_VALUE);
    }

    #[test]
    fn skip_rules_become_enable_when_where_fhir_can_say_them() {
        // AUDIT: items 2 and 3 are asked when item 1 is not "never".
        let audit = questionnaire(catalog().get("audit").unwrap());
        let two = item(&audit, "2");
        assert_eq!(two["enableWhen"][0]["question"], "1");
        assert_eq!(two["enableWhen"][0]["operator"], "!=");
        let never = &item(&audit, "1")["answerOption"][0]["valueCoding"];
        assert_eq!(&two["enableWhen"][0]["answerCoding"], never);
        // Items 4-8: item 1 not 0, and items 2 + 3 not 0: only an expression says both.
        let four = &item(&audit, "4")["extension"][0];
        assert_eq!(four["url"], SDC_ENABLE_WHEN_EXPRESSION);
        let expression = four["valueExpression"]["expression"].as_str().unwrap();
        assert!(expression.contains("linkId = '1'") && expression.contains("linkId = '3'"), "{expression}");
        // K10: item 3 is asked unless item 2 was answered "none of the time" (1).
        let k10 = questionnaire(catalog().get("k10").unwrap());
        let three = &item(&k10, "3")["enableWhen"][0];
        assert_eq!(three["question"], "2");
        let none = item(&k10, "2")["answerOption"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["extension"][0]["valueDecimal"] == 1.0)
            .map(|o| o["valueCoding"].clone())
            .unwrap();
        assert_eq!(three["answerCoding"], none);
        // PHQ-15: item 4 (menstrual problems) is not asked of men; the patient is the context.
        let phq15 = questionnaire(catalog().get("phq15").unwrap());
        let four = &item(&phq15, "4")["extension"][0]["valueExpression"]["expression"];
        assert_eq!(four, "%patient.gender != 'male'");
        assert_eq!(phq15["extension"][0]["url"], SDC_LAUNCH_CONTEXT);
        assert!(item(&phq15, "1").get("extension").is_none());
    }
}
