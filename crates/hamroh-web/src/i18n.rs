//! Text shown to people comes from the Fluent files under `locales/` (en, ru, tg), embedded at
//! build time. Bidi isolation marks are turned off: they would end up in HTML and CSV.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{Loader, static_loader};
use hamroh_domain::org::Lang;
use unic_langid::LanguageIdentifier;

static_loader! {
    static LOCALES = {
        locales: "../../locales",
        fallback_language: "en",
        customise: |bundle| {
            bundle.set_use_isolating(false);
        },
    };
}

/// A translator for one language, handed to templates as `t`.
#[derive(Debug, Clone)]
pub struct Tr {
    pub lang: Lang,
    id: LanguageIdentifier,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        let id = lang.as_str().parse().expect("tg, ru and en are valid language identifiers");
        Self { lang, id }
    }

    pub fn get(&self, key: &str) -> String {
        LOCALES.lookup(&self.id, key)
    }

    /// A message about a number, `$count`: the number itself, so that the message can choose the
    /// plural form of the language, or with `capped` the text `N+`.
    pub fn count(&self, key: &str, n: usize, capped: bool) -> String {
        let value = if capped { FluentValue::from(format!("{n}+")) } else { FluentValue::from(n) };
        let args: HashMap<Cow<'static, str>, FluentValue> = HashMap::from([(Cow::Borrowed("count"), value)]);
        LOCALES.lookup_with_args(&self.id, key, &args)
    }

    pub fn with(&self, key: &str, args: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            args.iter().map(|(k, v)| (Cow::Borrowed(*k), FluentValue::from(v.clone()))).collect();
        LOCALES.lookup_with_args(&self.id, key, &args)
    }
}

/// A date and time in Dushanbe (UTC+5).
pub fn local_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(5))).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Picks the interface language from an Accept-Language header; Tajik when nothing matches.
pub fn negotiate(accept_language: Option<&str>) -> Lang {
    let Some(header) = accept_language else {
        return Lang::Tg;
    };
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or_default();
        if let Ok(lang) = primary.parse::<Lang>()
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::Tg, |(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_exists_in_every_language() {
        let ids = |lang: &str| -> Vec<String> {
            let path = format!("{}/../../locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).unwrap();
            let mut ids: Vec<String> = text
                .lines()
                .filter(|l| !l.starts_with(' ') && !l.starts_with('#') && l.contains(" = "))
                .map(|l| l.split(" = ").next().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids("en"), ids("ru"));
        assert_eq!(ids("en"), ids("tg"));
    }

    /// Every value of every vocabulary shown to people has its message (the test above makes it
    /// exist in all three languages): a new state, sector or reason cannot reach a page as a key.
    #[test]
    fn every_vocabulary_shown_to_people_has_its_messages() {
        use hamroh_domain::{migration, org, person, referral, safety, service};
        fn codes<T: std::fmt::Display>(all: &[T]) -> Vec<String> {
            all.iter().map(ToString::to_string).collect()
        }
        let actions: Vec<String> = hamroh_domain::pathway::Action::ALL.iter().map(|a| a.as_str().to_owned()).collect();
        let rules: Vec<String> = hamroh_domain::pathway::rules().iter().map(|r| r.id.clone()).collect();
        let vocabularies: [(&str, Vec<String>); 23] = [
            ("rule", rules),
            (
                "alcohol-intervention",
                ["alcohol_education", "simple_advice", "brief_counselling", "specialist_referral"]
                    .map(String::from)
                    .to_vec(),
            ),
            ("step", referral::STEPS.iter().map(|s| (*s).to_owned()).collect()),
            ("referral_status", codes(referral::ReferralStatus::ALL)),
            ("urgency", codes(referral::Urgency::ALL)),
            ("barrier", codes(referral::Barrier::ALL)),
            ("follow_up", codes(referral::FollowUpKind::ALL)),
            ("follow_up_status", codes(referral::FollowUpStatus::ALL)),
            ("sector", codes(org::Sector::ALL)),
            ("role", codes(org::Role::ALL)),
            ("sex", codes(person::Sex::ALL)),
            ("cost", codes(service::Cost::ALL)),
            ("service-language", codes(service::ServiceLanguage::ALL)),
            ("safety-action", codes(safety::SafetyAction::ALL)),
            ("safety-not_possible", codes(safety::NotPossible::ALL)),
            ("screen-not-asked", codes(safety::NotAsked::ALL)),
            ("action", actions),
            ("work_sector", codes(migration::WorkSector::ALL)),
            ("legal_status", codes(migration::LegalStatus::ALL)),
            ("return_reason", codes(migration::ReturnReason::ALL)),
            ("injury_cause", codes(migration::InjuryCause::ALL)),
            ("body_part", codes(migration::BodyPart::ALL)),
            ("flag", safety::FLAGS.iter().map(|f| (*f).to_owned()).collect()),
        ];
        let text =
            std::fs::read_to_string(format!("{}/../../locales/en/main.ftl", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let ids: std::collections::HashSet<&str> = text
            .lines()
            .filter(|l| l.contains(" = ") && !l.starts_with(' '))
            .filter_map(|l| l.split(" = ").next())
            .collect();
        let missing: Vec<String> = vocabularies
            .iter()
            .flat_map(|(prefix, codes)| codes.iter().map(move |c| format!("{prefix}-{c}")))
            .filter(|key| !ids.contains(key.as_str()))
            .collect();
        assert!(missing.is_empty(), "no message for {missing:?}");
    }

    #[test]
    fn messages_are_translated_with_arguments_and_without_isolation_marks() {
        let ru = Tr::new(Lang::Ru);
        assert_eq!(ru.get("login-title"), "Вход");
        let text = ru.with("home-welcome", &[("name", "Малика".into())]);
        assert_eq!(text, "Здравствуйте, Малика.");
        assert!(!text.contains('\u{2068}'));
    }

    #[test]
    fn accept_language_picks_a_supported_language() {
        assert_eq!(negotiate(Some("ru-RU,ru;q=0.9,en;q=0.8")), Lang::Ru);
        assert_eq!(negotiate(Some("de-DE,en;q=0.5")), Lang::En);
        assert_eq!(negotiate(Some("fr")), Lang::Tg);
        assert_eq!(negotiate(None), Lang::Tg);
    }
}

/// The catalogue in all three languages at once, for what is written outside a request (the
/// offline forms, which carry every language).
#[derive(Debug, Clone, Copy, Default)]
pub struct Messages;

impl hamroh_interop::xforms::Wording for Messages {
    fn texts(&self, key: &str) -> hamroh_domain::instrument::Texts {
        hamroh_domain::instrument::Texts {
            tg: Tr::new(Lang::Tg).get(key),
            ru: Tr::new(Lang::Ru).get(key),
            en: Tr::new(Lang::En).get(key),
        }
    }
}
