//! The shape of an instrument file, and the checks a file must pass to be loaded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::org::Lang;

/// A text in each of Hamroh's three languages. All three are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Whether a language version is a published translation or Hamroh's own wording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageOrigin {
    /// `original`, `published` (a published translation) or `hamroh` (Hamroh's own, not validated).
    pub origin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(deny_unknown_fields)]
pub struct Option_ {
    pub value: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub text: Texts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSet {
    pub options: Vec<Option_>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
}

impl Item {
    /// The lowest and highest value the item's options allow.
    pub fn value_range(&self, instrument: &Instrument) -> (i64, i64) {
        let options = &instrument.response_sets[&self.response_set].options;
        let min = options.iter().map(|o| o.value).min().unwrap_or(0);
        let max = options.iter().map(|o| o.value).max().unwrap_or(0);
        (min, max)
    }

    pub fn allows(&self, instrument: &Instrument, value: i64) -> bool {
        instrument.response_sets[&self.response_set]
            .options
            .iter()
            .any(|o| o.value == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringMethod {
    /// The sum of the item values.
    Sum,
    /// The number of items whose value is at least `item_at_least` (WG-SS: domains with "a lot of
    /// difficulty" or worse).
    CountAtLeast,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    pub method: ScoringMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_at_least: Option<i64>,
    pub min: i64,
    pub max: i64,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub id: String,
    pub min: i64,
    pub max: i64,
    pub label: Texts,
}

/// The cut-off for a positive screen: total at least `at_least` (per sex where the manual says so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Positive {
    pub at_least: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least_male: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least_female: Option<i64>,
    pub source: String,
}

/// A red flag raised by one item's answer, whatever the total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    pub id: String,
    pub item: String,
    pub at_least: i64,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(default)]
    pub flags: Vec<Flag>,
}

impl Instrument {
    /// Parses one file and checks that it is complete and consistent.
    pub fn parse(text: &str) -> Result<Self, String> {
        let instrument: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        instrument.check()?;
        Ok(instrument)
    }

    pub fn item_index(&self, id: &str) -> Option<usize> {
        self.items.iter().position(|i| i.id == id)
    }

    fn check(&self) -> Result<(), String> {
        for (what, texts) in [
            ("name", &self.name),
            ("recall", &self.recall),
            ("instructions", &self.instructions),
        ] {
            texts.check(what)?;
        }
        for lang in ["tg", "ru", "en"] {
            let origin = self
                .languages
                .get(lang)
                .ok_or_else(|| format!("languages: no entry for {lang}"))?;
            if !["original", "published", "hamroh"].contains(&origin.origin.as_str()) {
                return Err(format!(
                    "languages.{lang}: origin must be original, published or hamroh"
                ));
            }
        }
        for (id, set) in &self.response_sets {
            if set.options.is_empty() {
                return Err(format!("response set {id} has no options"));
            }
            for o in &set.options {
                o.text
                    .check(&format!("response set {id}, value {}", o.value))?;
            }
        }
        if self.items.is_empty() {
            return Err("no items".into());
        }
        for item in &self.items {
            if !self.response_sets.contains_key(&item.response_set) {
                return Err(format!(
                    "item {}: unknown response set {}",
                    item.id, item.response_set
                ));
            }
            item.text.check(&format!("item {}", item.id))?;
        }
        if self.scoring.method == ScoringMethod::CountAtLeast
            && self.scoring.item_at_least.is_none()
        {
            return Err("scoring: count_at_least needs item_at_least".into());
        }
        self.check_bands()?;
        for flag in &self.flags {
            if self.item_index(&flag.item).is_none() {
                return Err(format!("flag {}: unknown item {}", flag.id, flag.item));
            }
        }
        Ok(())
    }

    /// Bands must cover the score range exactly once, in order.
    fn check_bands(&self) -> Result<(), String> {
        if self.bands.is_empty() {
            return Ok(());
        }
        let mut next = self.scoring.min;
        for band in &self.bands {
            band.label.check(&format!("band {}", band.id))?;
            if band.min != next || band.max < band.min {
                return Err(format!("band {} must start at {next}", band.id));
            }
            next = band.max + 1;
        }
        if next != self.scoring.max + 1 {
            return Err(format!(
                "bands end at {} but the score reaches {}",
                next - 1,
                self.scoring.max
            ));
        }
        Ok(())
    }
}
