//! The words of a directory entry (an organisation's or a service's name, a service's description
//! and opening hours) in the languages they were written in. An entry has its own words in one
//! language and may have translations; shown in a language it lacks, a text falls back to the
//! entry's own words, and says in which language they are, so that a Tajik page never passes an
//! English name off as Tajik.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::org::Lang;

/// An entry's words in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Wording {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening_hours: Option<String>,
}

/// Translations of an entry's words, by language.
pub type Translations = BTreeMap<Lang, Wording>;

/// An entry's own words, their language and their translations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Words {
    pub lang: Lang,
    pub own: Wording,
    pub translations: Translations,
}

impl Words {
    /// The words shown in `lang` (see [`shown_in`]).
    pub fn in_lang(&self, lang: Lang) -> ShownWording {
        shown_in(lang, self.lang, &self.own, &self.translations)
    }
}

/// A text as shown: the words, and the language they are in when it is not the one asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub text: String,
    pub fallback: Option<Lang>,
}

/// An entry's words as shown in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownWording {
    pub name: Shown,
    pub description: Option<Shown>,
    pub opening_hours: Option<Shown>,
}

/// `own` (in `own_lang`) and its translations, shown in `lang`: each text in `lang` where it
/// was written or translated, else the entry's own, marked with its language.
pub fn shown_in(lang: Lang, own_lang: Lang, own: &Wording, translations: &Translations) -> ShownWording {
    let translated = if lang == own_lang { Some(own) } else { translations.get(&lang) };
    let pick = |here: Option<&String>, there: Option<&String>| match (here, there) {
        (Some(t), _) if !t.trim().is_empty() => Some(Shown { text: t.clone(), fallback: None }),
        (_, Some(t)) if !t.trim().is_empty() => Some(Shown { text: t.clone(), fallback: Some(own_lang) }),
        _ => None,
    };
    let name =
        pick(translated.map(|w| &w.name), Some(&own.name)).unwrap_or(Shown { text: own.name.clone(), fallback: None });
    ShownWording {
        name,
        description: pick(translated.and_then(|w| w.description.as_ref()), own.description.as_ref()),
        opening_hours: pick(translated.and_then(|w| w.opening_hours.as_ref()), own.opening_hours.as_ref()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own() -> Wording {
        Wording {
            name: "Physiotherapy".into(),
            description: Some("Exercises after injury".into()),
            opening_hours: Some("Mon–Fri 08:00–17:00".into()),
        }
    }

    #[test]
    fn a_translation_is_shown_as_such_and_its_gaps_fall_back_marked() {
        let mut translations = Translations::new();
        translations.insert(Lang::Tg, Wording { name: "Физиотерапия".into(), ..Wording::default() });
        let tg = shown_in(Lang::Tg, Lang::En, &own(), &translations);
        assert_eq!(tg.name, Shown { text: "Физиотерапия".into(), fallback: None });
        assert_eq!(tg.description.unwrap().fallback, Some(Lang::En));
        assert_eq!(tg.opening_hours.unwrap().text, "Mon–Fri 08:00–17:00");
    }

    #[test]
    fn without_a_translation_the_own_words_are_marked_with_their_language() {
        let ru = shown_in(Lang::Ru, Lang::En, &own(), &Translations::new());
        assert_eq!(ru.name, Shown { text: "Physiotherapy".into(), fallback: Some(Lang::En) });
        let en = shown_in(Lang::En, Lang::En, &own(), &Translations::new());
        assert_eq!(en.name.fallback, None);
        assert_eq!(en.description.unwrap().fallback, None);
    }

    #[test]
    fn an_entry_without_a_description_has_none_in_any_language() {
        let bare = Wording { name: "X".into(), ..Wording::default() };
        assert!(shown_in(Lang::Tg, Lang::Ru, &bare, &Translations::new()).description.is_none());
    }
}
