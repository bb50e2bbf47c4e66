//! A submitted instance read back: which form, which person, which answers. Every problem is a
//! message naming the field, for the device to show; nothing here touches a database.

use std::collections::HashMap;

use hamroh_domain::instrument::{Catalog, Instrument};
use hamroh_domain::model::Millis;
use hamroh_domain::org::Lang;
use hamroh_domain::person::Sex;
use hamroh_domain::registration::{EpisodeInput, Registration};
use hamroh_domain::safety;
use quick_xml::events::Event;

use super::build::ROOT;
use super::forms::{ENCOUNTER_FORM, REGISTRATION_FORM, field, item_node};

/// What a device sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    Encounter(SubmittedEncounter),
    Registration(SubmittedRegistration),
}

impl Submitted {
    /// The instance id the client drew (`uuid:...`): one submission, however often it is sent.
    pub fn instance_id(&self) -> &str {
        match self {
            Self::Encounter(e) => &e.instance_id,
            Self::Registration(r) => &r.instance_id,
        }
    }
}

/// A screening form's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedEncounter {
    pub instance_id: String,
    pub form_id: String,
    /// The person's code as scanned or typed, upper-cased and with its dashes put back.
    pub person_code: String,
    pub lang: Lang,
    /// When the interview began, as the device's clock had it.
    pub at: Option<Millis>,
    /// The respondent's sex where the form asked it.
    pub sex: Option<Sex>,
    /// Each instrument's answers in item order; `None` for an item not answered or skipped.
    pub answers: Vec<(String, Vec<Option<i64>>)>,
}

/// A registration form's fields, as text for the registration's own checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmittedRegistration {
    pub instance_id: String,
    pub registration: Registration,
    pub at: Option<Millis>,
}

/// The leaves of an instance by their path below the root (`phq9/q1`), and the root's `id`.
struct Leaves {
    form_id: String,
    values: HashMap<String, String>,
}

impl Leaves {
    fn get(&self, path: &str) -> Option<&str> {
        self.values.get(path).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    fn text(&self, path: &str) -> String {
        self.get(path).unwrap_or_default().to_owned()
    }
}

fn leaves(xml: &[u8]) -> Result<Leaves, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut values = HashMap::new();
    let mut form_id = None;
    let mut text = String::new();
    let bad = |e: &dyn std::fmt::Display| format!("the submission is not well-formed XML: {e}");
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(|e| bad(&e))?;
        let opens = matches!(event, Event::Start(_));
        match event {
            Event::Start(e) | Event::Empty(e) if path.is_empty() && form_id.is_none() => {
                if e.local_name().as_ref() != ROOT.as_bytes() {
                    return Err(format!("the submission's root element must be `{ROOT}`"));
                }
                let id = e
                    .try_get_attribute("id")
                    .map_err(|e| bad(&e))?
                    .ok_or("the submission's root element has no form id")?;
                form_id = Some(id.decode_and_unescape_value(reader.decoder()).map_err(|e| bad(&e))?.into_owned());
                if opens {
                    path.push(String::new());
                }
            }
            Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                text.clear();
            }
            Event::Empty(e) => {
                let mut at = path[1..].join("/");
                if !at.is_empty() {
                    at.push('/');
                }
                at.push_str(&String::from_utf8_lossy(e.local_name().as_ref()));
                values.entry(at).or_insert_with(String::new);
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(|e| bad(&e))?),
            Event::GeneralRef(r) => {
                if let Some(c) = r.resolve_char_ref().map_err(|e| bad(&e))? {
                    text.push(c);
                    buf.clear();
                    continue;
                }
                let name = r.decode().map_err(|e| bad(&e))?;
                let c = match name.as_ref() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    other => return Err(bad(&format!("unknown entity `&{other};`"))),
                };
                text.push_str(c);
            }
            Event::CData(c) => text.push_str(&String::from_utf8_lossy(&c)),
            Event::End(_) => {
                if path.len() > 1 {
                    values.entry(path[1..].join("/")).or_insert_with(|| text.clone());
                }
                text.clear();
                path.pop();
            }
            Event::Eof if path.is_empty() => break,
            Event::Eof => return Err(bad(&"it ends before its elements are closed")),
            _ => {}
        }
        buf.clear();
    }
    let form_id = form_id.ok_or("the submission is empty")?;
    Ok(Leaves { form_id, values })
}

/// Reads one submitted instance of a Hamroh form.
pub fn read_instance(xml: &[u8], catalog: &Catalog) -> Result<Submitted, String> {
    let leaves = leaves(xml)?;
    let instance_id = leaves.get("meta/instanceID").ok_or("meta/instanceID: the submission has no instance id")?;
    let instance_id = instance_id.to_owned();
    let at = match leaves.get(field::AT) {
        Some(t) => Some(parse_time(t).ok_or_else(|| format!("{}: `{t}` is not a date and time", field::AT))?),
        None => None,
    };
    if leaves.form_id == REGISTRATION_FORM {
        return Ok(Submitted::Registration(SubmittedRegistration {
            instance_id,
            registration: registration(&leaves),
            at,
        }));
    }
    let instruments: Vec<&Instrument> = if leaves.form_id == ENCOUNTER_FORM {
        let chosen = leaves.get(field::INSTRUMENTS).ok_or("instruments: choose at least one instrument")?;
        let mut out = Vec::new();
        for id in chosen.split_whitespace() {
            out.push(catalog.get(id).ok_or_else(|| format!("instruments: no instrument `{id}`"))?);
        }
        // Asked when none of the chosen instruments asks about self-harm; sent when answered.
        if let Some(q) = catalog.get(safety::QUESTIONS)
            && !out.iter().any(|i| i.id == q.id)
            && q.items.iter().any(|i| leaves.get(&format!("{}/{}", q.id, item_node(&i.id))).is_some())
        {
            out.push(q);
        }
        out
    } else {
        vec![catalog.get(&leaves.form_id).ok_or_else(|| format!("`{}` is not a form of this server", leaves.form_id))?]
    };
    let mut answers = Vec::new();
    for inst in instruments {
        let mut given = Vec::with_capacity(inst.items.len());
        for item in &inst.items {
            let at = format!("{}/{}", inst.id, item_node(&item.id));
            given.push(match leaves.get(&at) {
                None => None,
                Some(v) => Some(v.parse::<i64>().map_err(|_| format!("{at}: `{v}` is not one of the item's values"))?),
            });
        }
        answers.push((inst.id.clone(), given));
    }
    let code = leaves.get(field::CODE).ok_or("person_code: scan or type the person's Hamroh id")?;
    let lang = match leaves.get(field::LANG) {
        Some(l) => l.parse::<Lang>().map_err(|_| format!("{}: `{l}` is not tg, ru or en", field::LANG))?,
        None => Lang::Tg,
    };
    let sex = match leaves.get(field::SEX) {
        Some(s) => Some(s.parse::<Sex>().map_err(|_| format!("{}: `{s}` is not male or female", field::SEX))?),
        None => None,
    };
    Ok(Submitted::Encounter(SubmittedEncounter {
        instance_id,
        form_id: leaves.form_id.clone(),
        person_code: normalise_code(code),
        lang,
        at,
        sex,
        answers,
    }))
}

/// `hm12345678`, `HM-1234-5678` and ` hm-1234-5678 ` name the same person.
fn normalise_code(code: &str) -> String {
    let chars: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase();
    if chars.len() == 10 && chars.starts_with("HM") {
        format!("HM-{}-{}", &chars[2..6], &chars[6..])
    } else {
        code.trim().to_ascii_uppercase()
    }
}

/// An XForms `dateTime` (`2026-12-03T10:15:30.123+05:00`), or a date alone, as milliseconds.
fn parse_time(text: &str) -> Option<Millis> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_millisecond());
    }
    let date = text.parse::<jiff::civil::Date>().ok()?;
    Some(date.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp().as_millisecond())
}

fn registration(leaves: &Leaves) -> Registration {
    let stay = |name: &str| leaves.text(&format!("stay/{name}"));
    let episode = EpisodeInput {
        destination_country: stay("destination_country"),
        destination_region: stay("destination_region"),
        year_from: stay("year_from"),
        year_to: stay("year_to"),
        work_sector: stay("work_sector"),
        occupation: stay("occupation"),
        legal_status: stay("legal_status"),
        return_date: stay("return_date"),
        return_reason: stay("return_reason"),
        injury: stay("injury") == "yes",
        injury_cause: stay("injury_cause"),
        injury_body_part: stay("injury_body_part"),
    };
    let mut consents = Vec::new();
    if leaves.text("consent_care") == "yes" {
        consents.push("care".to_owned());
    }
    if leaves.text("consent_research") == "yes" {
        consents.push("research".to_owned());
    }
    Registration {
        given_name: leaves.text("given_name"),
        family_name: leaves.text("family_name"),
        sex: leaves.text("sex"),
        birth_year: leaves.text("birth_year"),
        district: leaves.text("district"),
        phone: leaves.text("phone"),
        episodes: vec![episode],
        consents,
        consent_how: leaves.text("consent_how"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hamroh_domain::instrument::catalog;

    fn instance(form: &str, body: &str) -> Vec<u8> {
        format!(
            "<?xml version='1.0'?><data xmlns:jr=\"http://openrosa.org/javarosa\" id=\"{form}\" version=\"v1\">\
             {body}<meta><instanceID>uuid:7d1e2c4a-0000-4000-8000-000000000001</instanceID></meta></data>"
        )
        .into_bytes()
    }

    fn phq9(answers: &str) -> Vec<u8> {
        instance(
            "phq9",
            &format!(
                "<person_code_scan/><person_code_typed> hm12340a0b </person_code_typed><person_code>hm12340a0b</person_code>\
                 <respondent_lang>ru</respondent_lang><interview_at>2026-12-03T10:15:30.000+05:00</interview_at>\
                 <phq9><instructions/>{answers}</phq9>"
            ),
        )
    }

    #[test]
    fn a_screening_form_gives_its_answers_in_item_order() {
        let xml =
            phq9("<q1>3</q1><q2>2</q2><q3>1</q3><q4>0</q4><q5>0</q5><q6>1</q6><q7>2</q7><q8>3</q8><q9>1</q9><q10/>");
        let Submitted::Encounter(e) = read_instance(&xml, catalog()).unwrap() else { panic!("not an encounter") };
        assert_eq!(e.instance_id, "uuid:7d1e2c4a-0000-4000-8000-000000000001");
        assert_eq!(e.form_id, "phq9");
        assert_eq!(e.person_code, "HM-1234-0A0B");
        assert_eq!(e.lang, Lang::Ru);
        assert_eq!(e.at, Some("2026-12-03T05:15:30Z".parse::<jiff::Timestamp>().unwrap().as_millisecond()));
        assert_eq!(e.answers.len(), 1);
        let (id, given) = &e.answers[0];
        assert_eq!(id, "phq9");
        assert_eq!(given[..9], [Some(3), Some(2), Some(1), Some(0), Some(0), Some(1), Some(2), Some(3), Some(1)]);
        assert_eq!(given[9], None, "an item left empty is unanswered, not zero");
    }

    #[test]
    fn a_value_that_is_not_a_number_names_its_field() {
        let err = read_instance(&phq9("<q1>often</q1>"), catalog()).unwrap_err();
        assert!(err.starts_with("phq9/q1:"), "{err}");
    }

    #[test]
    fn a_submission_without_instance_id_or_person_is_refused_by_name() {
        let no_id = b"<data id=\"phq9\"><person_code>HM-1234-5678</person_code></data>";
        assert!(read_instance(no_id, catalog()).unwrap_err().starts_with("meta/instanceID"));
        let no_person = instance("phq9", "<phq9><q1>1</q1></phq9>");
        assert!(read_instance(&no_person, catalog()).unwrap_err().starts_with("person_code"));
        let unknown = instance("nope", "<person_code>HM-1234-5678</person_code>");
        assert!(read_instance(&unknown, catalog()).unwrap_err().contains("`nope`"));
        assert!(read_instance(b"<data id='phq9'><q1>", catalog()).unwrap_err().contains("not well-formed"));
        assert!(read_instance(b"<other id='phq9'/>", catalog()).unwrap_err().contains("root element"));
    }

    #[test]
    fn the_encounter_form_reads_the_chosen_instruments_and_the_self_harm_questions() {
        let xml = instance(
            ENCOUNTER_FORM,
            "<person_code>HM-1234-5678</person_code><instruments>gad7 phq2</instruments>\
             <gad7><q1>1</q1><q2>&#50;</q2></gad7><phq2><q1>0</q1><q2>0</q2></phq2><phq9><q1>3</q1></phq9>\
             <self_harm_questions><qthoughts>0</qthoughts></self_harm_questions>",
        );
        let Submitted::Encounter(e) = read_instance(&xml, catalog()).unwrap() else { panic!("not an encounter") };
        let ids: Vec<&str> = e.answers.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["gad7", "phq2", safety::QUESTIONS], "a group not chosen is not read");
        assert_eq!(e.answers[0].1[..2], [Some(1), Some(2)], "a character reference is read as its character");
        assert_eq!(e.lang, Lang::Tg, "Tajik when the form did not say");
    }

    #[test]
    fn a_registration_form_gives_the_registration_fields() {
        let xml = instance(
            REGISTRATION_FORM,
            "<given_name>Фарҳод &amp; Co</given_name><family_name>Раҳимов</family_name><sex>male</sex>\
             <birth_year>1990</birth_year><district>vahdat</district><phone/>\
             <stay><destination_country>RU</destination_country><year_from>2019</year_from><injury>yes</injury>\
             <injury_cause>fall</injury_cause></stay><consent_care>yes</consent_care><consent_research>no</consent_research>\
             <consent_how>verbal</consent_how><interview_at>2026-12-01</interview_at>",
        );
        let Submitted::Registration(r) = read_instance(&xml, catalog()).unwrap() else { panic!("not a registration") };
        assert_eq!(r.registration.given_name, "Фарҳод & Co");
        assert_eq!(r.registration.sex, "male");
        assert_eq!(r.registration.consents, ["care"]);
        let stay = &r.registration.episodes[0];
        assert_eq!((stay.destination_country.as_str(), stay.injury, stay.injury_cause.as_str()), ("RU", true, "fall"));
        assert_eq!(r.at, Some("2026-12-01T00:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond()));
    }
}
