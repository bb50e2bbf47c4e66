//! Directory entries' words in the viewer's language: a text that has no translation into it is
//! shown in the language it was written in, and says which ("(in English)").

use hamroh_domain::wording::{Shown, Words};

use crate::i18n::Tr;

/// A text as the viewer reads it, marked when it is in another language.
pub fn text(t: &Tr, shown: &Shown) -> String {
    match shown.fallback {
        Some(lang) => format!("{} ({})", shown.text, t.get(&format!("shown-in-{lang}"))),
        None => shown.text.clone(),
    }
}

/// An entry's name in the viewer's language.
pub fn name(t: &Tr, words: &Words) -> String {
    text(t, &words.in_lang(t.lang).name)
}

/// A service's name, description and opening hours in the viewer's language.
pub fn service(t: &Tr, words: &Words) -> (String, Option<String>, Option<String>) {
    let shown = words.in_lang(t.lang);
    (text(t, &shown.name), shown.description.map(|d| text(t, &d)), shown.opening_hours.map(|h| text(t, &h)))
}

/// A referral's service, its opening hours and the receiving organisation in the viewer's
/// language, for the pages and messages that show them.
pub fn localise(t: &Tr, r: &mut hamroh_store::ReferralDetail) {
    let (service, _, hours) = service(t, &r.service_words);
    r.service = service;
    r.service_hours = hours;
    r.to_organisation = name(t, &r.to_organisation_words);
}
