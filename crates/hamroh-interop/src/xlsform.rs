//! An instrument authored in XLSForm (`survey`, `choices` and `settings` sheets) as a Hamroh
//! instrument file, so that partners can bring their own forms.
//!
//! Only what the form states is carried over. Items are `select_one` questions whose choices are
//! numbers; the total is a `calculate` field that adds items up (`${q1} + ${q2} + …`). A form
//! without such a total cannot be scored and is refused. Everything else (other question types,
//! skip logic, missing translations, the absence of any cut-off) is listed in the notes, never
//! guessed: a cut-off or band must come from the instrument's manual, with its source.

use std::collections::BTreeMap;

use hamroh_domain::instrument::Instrument;
use serde_json::{Value, json};

use crate::sheet::{self, Sheet};

/// A converted form: the instrument file's text, and what was left out or needs a person's work.
#[derive(Debug, Clone)]
pub struct Converted {
    pub id: String,
    pub toml: String,
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum XlsFormError {
    #[error("{0}")]
    Read(#[from] sheet::ReadError),
    #[error("the workbook has no `{0}` sheet (an XLSForm has survey and choices sheets)")]
    MissingSheet(&'static str),
    #[error("the `{sheet}` sheet has no `{column}` column")]
    MissingColumn { sheet: &'static str, column: &'static str },
    #[error("{0}")]
    CannotScore(String),
    #[error("the converted file does not load: {0}")]
    Invalid(String),
}

const LANGS: [(&str, &[&str]); 3] = [
    ("tg", &["tg", "tajik", "тоҷикӣ", "таджикский"]),
    ("ru", &["ru", "russian", "русский"]),
    ("en", &["en", "english"]),
];

/// Which of Hamroh's languages a `label::…` column is in: `label::English (en)`, `label::ru`.
fn column_lang(column: &str, base: &str) -> Option<Option<&'static str>> {
    let lower = column.to_lowercase();
    if lower == base {
        return Some(None);
    }
    let rest = lower.strip_prefix(base)?.strip_prefix("::")?.trim().to_owned();
    let code = rest.rsplit_once('(').map(|(_, c)| c.trim_end_matches(')').trim().to_owned());
    let name = rest.split('(').next().unwrap_or("").trim().to_owned();
    for (lang, names) in LANGS {
        if code.as_deref() == Some(lang) || names.contains(&name.as_str()) {
            return Some(Some(lang));
        }
    }
    None
}

/// A row's texts by language: Hamroh's languages found, plus the label without a language.
#[derive(Debug, Default, Clone)]
struct Labels {
    by_lang: BTreeMap<&'static str, String>,
    plain: Option<String>,
}

struct Table<'a> {
    sheet: &'a Sheet,
    label_columns: Vec<(usize, Option<&'static str>)>,
}

impl<'a> Table<'a> {
    fn new(sheet: &'a Sheet) -> Self {
        let label_columns =
            sheet.header.iter().enumerate().filter_map(|(n, h)| column_lang(h, "label").map(|l| (n, l))).collect();
        Self { sheet, label_columns }
    }

    fn get<'r>(&self, row: &'r sheet::Row, column: &str) -> &'r str {
        self.sheet
            .header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(column))
            .and_then(|c| row.cells.get(c))
            .map_or("", |s| s.trim())
    }

    fn labels(&self, row: &sheet::Row) -> Labels {
        let mut labels = Labels::default();
        for (c, lang) in &self.label_columns {
            let text = row.cells.get(*c).map_or("", |s| s.trim());
            if text.is_empty() {
                continue;
            }
            match lang {
                Some(l) => {
                    labels.by_lang.insert(l, text.to_owned());
                }
                None => labels.plain = Some(text.to_owned()),
            }
        }
        labels
    }
}

/// Fills the languages a form lacks, remembering which were filled.
struct Texts<'a> {
    default_lang: Option<&'static str>,
    missing: &'a mut BTreeMap<&'static str, usize>,
}

impl Texts<'_> {
    fn of(&mut self, labels: &Labels, fallback: &str) -> Value {
        let mut by_lang = labels.by_lang.clone();
        if let (Some(plain), Some(default)) = (&labels.plain, self.default_lang) {
            by_lang.entry(default).or_insert_with(|| plain.clone());
        }
        let stand_in = ["en", "ru", "tg"]
            .iter()
            .find_map(|l| by_lang.get(l).cloned())
            .or_else(|| labels.plain.clone())
            .unwrap_or_else(|| fallback.to_owned());
        let mut out = serde_json::Map::new();
        for (lang, _) in LANGS {
            let text = match by_lang.get(lang) {
                Some(t) => t.clone(),
                None => {
                    *self.missing.entry(lang).or_default() += 1;
                    stand_in.clone()
                }
            };
            out.insert(lang.to_owned(), json!(text));
        }
        Value::Object(out)
    }
}

/// `${a} + ${b} + …`: the names added up, or `None` for any other calculation. The wrappers
/// form authors put around a sum or its terms to make ODK count a blank as 0 or as a number
/// (`int(…)`, `number(…)`, `coalesce(${a}, 0)`, parentheses) are read through.
fn sum_of(calculation: &str) -> Option<Vec<String>> {
    split_top_level(strip_wrappers(calculation), '+')
        .into_iter()
        .map(|term| {
            let term = strip_wrappers(term);
            let term = match term.strip_prefix("coalesce(").and_then(|t| t.strip_suffix(')')) {
                Some(args) => match split_top_level(args, ',').as_slice() {
                    [value, zero] if matches!(zero.trim(), "0" | "'0'" | "\"0\"") => strip_wrappers(value),
                    _ => return None,
                },
                None => term,
            };
            // An XLSForm name: letters, digits, `_`, `-` and `.`.
            let name_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
            term.strip_prefix("${")
                .and_then(|t| t.strip_suffix('}'))
                .filter(|n| !n.is_empty() && n.chars().all(name_char))
                .map(str::to_owned)
        })
        .collect()
}

/// The text inside any `int(…)`, `number(…)` or plain parentheses around the whole of it.
fn strip_wrappers(text: &str) -> &str {
    let mut text = text.trim();
    loop {
        let inner = ["int(", "number(", "("]
            .iter()
            .find_map(|open| text.strip_prefix(open).and_then(|t| t.strip_suffix(')')))
            .filter(|inner| balanced(inner));
        match inner {
            Some(inner) => text = inner.trim(),
            None => return text,
        }
    }
}

/// Whether every parenthesis in `text` is closed, never closing more than were opened.
fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    for c in text.chars() {
        depth += match c {
            '(' => 1,
            ')' => -1,
            _ => 0,
        };
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// `text` split at each `sep` outside parentheses and `${…}`.
fn split_top_level(text: &str, sep: char) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn slug(text: &str) -> String {
    let s: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect::<String>()
        .trim_matches('_')
        .to_owned();
    if s.is_empty() { "form".into() } else { s }
}

/// Converts an XLSForm workbook into an instrument file that Hamroh loads.
pub fn convert(bytes: &[u8]) -> Result<Converted, XlsFormError> {
    let mut sheets = sheet::read_sheets(bytes, &["survey", "choices", "settings"])?.into_iter();
    let survey = sheets.next().flatten().ok_or(XlsFormError::MissingSheet("survey"))?;
    let choices = sheets.next().flatten().ok_or(XlsFormError::MissingSheet("choices"))?;
    let settings = sheets.next().flatten().unwrap_or_default();
    for (sheet, name, columns) in [(&survey, "survey", &["type", "name"][..]), (&choices, "choices", &["name"][..])] {
        for column in columns {
            if !sheet.header.iter().any(|h| h.eq_ignore_ascii_case(column)) {
                return Err(XlsFormError::MissingColumn { sheet: name, column });
            }
        }
    }
    let mut notes = Vec::new();
    let survey_t = Table::new(&survey);
    let choices_t = Table::new(&choices);
    let settings_t = Table::new(&settings);
    let setting = |name: &str| settings.rows.first().map(|r| settings_t.get(r, name).to_owned()).unwrap_or_default();
    let default_lang = {
        let d = setting("default_language");
        let found = column_lang(&format!("label::{d}"), "label").flatten();
        if found.is_none() && survey_t.label_columns.iter().any(|(_, l)| l.is_none()) {
            notes.push(
                "labels without a language (`label`) are used only where a language is missing: the settings \
                 sheet's default_language does not name Tajik, Russian or English"
                    .to_owned(),
            );
        }
        found
    };
    let list_column =
        if choices.header.iter().any(|h| h.eq_ignore_ascii_case("list_name")) { "list_name" } else { "list name" };
    let title = setting("form_title");
    let id = slug(&{
        let id = setting("form_id");
        if id.is_empty() { title.clone() } else { id }
    });
    let mut missing = BTreeMap::new();
    let mut texts = Texts { default_lang, missing: &mut missing };

    // Choice lists whose names are all numbers become response sets.
    let mut lists: BTreeMap<String, Result<Vec<Value>, String>> = BTreeMap::new();
    for row in &choices.rows {
        let list = choices_t.get(row, list_column);
        let name = choices_t.get(row, "name");
        if list.is_empty() {
            continue;
        }
        let entry = lists.entry(list.to_owned()).or_insert_with(|| Ok(Vec::new()));
        let Ok(options) = entry else { continue };
        match name.parse::<i64>() {
            Ok(value) if (0..64).contains(&value) => {
                let text = texts.of(&choices_t.labels(row), name);
                options.push(json!({ "value": value, "text": text }));
            }
            _ => *entry = Err(name.to_owned()),
        }
    }

    let mut items = Vec::new();
    let mut item_range: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut used_lists = BTreeMap::new();
    let mut totals = Vec::new();
    let mut instructions = None;
    for row in &survey.rows {
        let kind = survey_t.get(row, "type");
        let name = survey_t.get(row, "name");
        let mut words = kind.split_whitespace();
        match (words.next().unwrap_or(""), words.next()) {
            ("select_one", Some(list)) => match lists.get(list) {
                Some(Ok(options)) if !options.is_empty() => {
                    let values: Vec<i64> = options.iter().filter_map(|o| o["value"].as_i64()).collect();
                    let range = (*values.iter().min().unwrap_or(&0), *values.iter().max().unwrap_or(&0));
                    item_range.insert(name.to_owned(), range);
                    used_lists.insert(list.to_owned(), options.clone());
                    if words.next() == Some("or_other") {
                        notes.push(format!(
                            "item `{name}`: its \"or other\" choice (free text) is not carried over; an answer \
                             other than the listed values cannot be scored"
                        ));
                    }
                    let filter = survey_t.get(row, "choice_filter");
                    if !filter.is_empty() {
                        notes.push(format!(
                            "item `{name}`: its choice filter ({filter}) is not carried over; every choice of \
                             list `{list}` is offered"
                        ));
                    }
                    let relevant = survey_t.get(row, "relevant");
                    if !relevant.is_empty() {
                        notes.push(format!(
                            "item `{name}`: its skip logic (relevant: {relevant}) is not carried over; the engine \
                             asks every item unless the file has a skip rule from the manual"
                        ));
                    }
                    items.push(json!({
                        "id": name,
                        "response_set": list,
                        "text": texts.of(&survey_t.labels(row), name),
                    }));
                }
                Some(Err(choice)) => notes.push(format!(
                    "question `{name}` is left out: choice `{choice}` of list `{list}` is not a number from 0 to \
                     63, so Hamroh cannot score it (name the choices by the values the manual scores)"
                )),
                _ => notes.push(format!("question `{name}` is left out: choice list `{list}` is missing or empty")),
            },
            ("calculate", _) => {
                let calculation = survey_t.get(row, "calculation");
                match sum_of(calculation) {
                    Some(terms) => totals.push((name.to_owned(), calculation.to_owned(), terms)),
                    None => notes.push(format!(
                        "calculation `{name}` ({calculation}) is not a sum of items; Hamroh does not carry it over"
                    )),
                }
            }
            ("note", _) if instructions.is_none() => instructions = Some(survey_t.labels(row)),
            ("begin" | "end", Some("group")) | ("begin_group" | "end_group", _) => {}
            ("start" | "end" | "today" | "deviceid" | "username" | "phonenumber" | "audit" | "note", _) => {}
            ("", _) => {}
            (other, _) => notes.push(format!(
                "question `{name}` ({other}) is left out: only select_one questions with numbered choices are scored"
            )),
        }
    }
    if items.is_empty() {
        return Err(XlsFormError::CannotScore(
            "the form has no select_one question with numbered choices: nothing Hamroh can score".into(),
        ));
    }
    let scored =
        totals.iter().find(|(_, _, terms)| terms.iter().all(|t| item_range.contains_key(t))).ok_or_else(|| {
            XlsFormError::CannotScore(
                "the form has no total: add a calculate field that adds up the scored items \
                 (${q1} + ${q2} + …) as the instrument's manual scores it; Hamroh does not guess a scoring rule"
                    .into(),
            )
        })?;
    for (name, calculation, _) in totals.iter().filter(|t| t.0 != scored.0) {
        notes.push(format!("calculation `{name}` ({calculation}) is not carried over; `{}` is the total", scored.0));
    }
    let (min, max) = scored.2.iter().fold((0, 0), |(lo, hi), t| (lo + item_range[t].0, hi + item_range[t].1));
    let all_items = scored.2.len() == items.len() && items.iter().all(|i| scored.2.iter().any(|t| i["id"] == *t));

    let name = texts.of(&Labels { plain: Some(title.clone()).filter(|t| !t.is_empty()), ..Labels::default() }, &id);
    let none = Labels { plain: Some("—".into()), ..Labels::default() };
    let instructions = texts.of(instructions.as_ref().unwrap_or(&none), "—");
    let recall = texts.of(&none, "—");
    let mut languages = serde_json::Map::new();
    for (lang, _) in LANGS {
        let entry = match missing.get(lang) {
            None => json!({ "origin": "original", "source": "the XLSForm" }),
            Some(n) => {
                notes.push(format!(
                    "{n} texts have no {lang} version in the form; another language stands in: translate before use"
                ));
                json!({ "origin": "hamroh", "source": format!("not in the XLSForm: {n} texts stand in from another language") })
            }
        };
        languages.insert(lang.to_owned(), entry);
    }
    let citation = setting("citation");
    let licence = {
        let l = setting("licence");
        if l.is_empty() { setting("license") } else { l }
    };
    if citation.is_empty() || licence.is_empty() {
        notes.push("the settings sheet gives no citation or licence: add them before use".into());
    }
    notes.push(
        "no cut-off, bands or red flags: an XLSForm does not state them; add them with their published source \
         before the results guide care"
            .into(),
    );
    let version = setting("version");
    let mut scoring = json!({
        "method": "sum",
        "min": min,
        "max": max,
        "source": format!("the XLSForm's calculation `{}`: {}", scored.0, scored.1),
    });
    if !all_items {
        scoring["items"] = json!(scored.2);
    }
    let response_sets: serde_json::Map<String, Value> =
        used_lists.into_iter().map(|(k, options)| (k, json!({ "options": options }))).collect();
    let file = json!({
        "id": id,
        "version": if version.is_empty() { "1".to_owned() } else { version },
        "short_name": if title.is_empty() { id.clone() } else { title.clone() },
        "citation": if citation.is_empty() { "not given in the XLSForm".to_owned() } else { citation },
        "licence": if licence.is_empty() { "not given in the XLSForm".to_owned() } else { licence },
        "name": name,
        "recall": recall,
        "instructions": instructions,
        "languages": languages,
        "codes": { "system": format!("urn:hamroh:instrument:{id}") },
        "response_sets": response_sets,
        "items": items,
        "scoring": scoring,
    });
    let toml = format!(
        "# Converted from an XLSForm by `hamroh import xlsform`. Read the notes it printed: no cut-off,\n\
         # band or red flag is set, and every one added must cite its source.\n\n{}",
        toml::to_string(&file).map_err(|e| XlsFormError::Invalid(e.to_string()))?
    );
    Instrument::parse(&toml).map_err(XlsFormError::Invalid)?;
    Ok(Converted { id, toml, notes })
}

#[cfg(test)]
mod tests;
