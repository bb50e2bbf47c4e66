//! Files made from published tables: CSV, XLSX, and DHIS2 `dataValueSets` JSON. They take
//! [`Table`]s, which only exist disclosure-controlled, so no file can carry a hidden figure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::table::{Cell, Table};

/// The columns of a long-format export, one line per cell.
pub const HEADER: [&str; 11] = [
    "indicator",
    "version",
    "period",
    "breakdown",
    "category",
    "category_label",
    "value",
    "numerator",
    "denominator",
    "suppressed",
    "k",
];

/// One line per cell: the codes, a label for the breakdown value in the reader's language, and the
/// published figures (empty where hidden).
pub fn lines(tables: &[Table], label: &dyn Fn(&Table, &str) -> String) -> Vec<[String; 11]> {
    let mut out = Vec::new();
    for t in tables {
        for (r, period) in t.rows.iter().enumerate() {
            for (c, column) in t.columns.iter().enumerate() {
                let cell: &Cell = &t.cells[r][c];
                out.push([
                    t.indicator.id.to_owned(),
                    t.indicator.version.to_string(),
                    period.clone(),
                    t.by.map_or("none", |b| b.as_str()).to_owned(),
                    column.clone(),
                    label(t, column),
                    cell.value.map(format_value).unwrap_or_default(),
                    cell.numerator.map(|n| n.to_string()).unwrap_or_default(),
                    cell.denominator.map(|n| n.to_string()).unwrap_or_default(),
                    cell.suppressed.to_string(),
                    t.k.to_string(),
                ]);
            }
        }
    }
    out
}

/// A value as written to files: integers without a decimal point, shares to four places.
pub fn format_value(v: f64) -> String {
    if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.4}") }
}

pub fn csv(tables: &[Table], label: &dyn Fn(&Table, &str) -> String) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for line in lines(tables, label) {
        w.write_record(&line)?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

pub fn xlsx(tables: &[Table], label: &dyn Fn(&Table, &str) -> String) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("indicators")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, h) in HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (r, line) in lines(tables, label).iter().enumerate() {
        let row = r as u32 + 1;
        for (c, v) in line.iter().enumerate() {
            // Figures as numbers, so that a spreadsheet can sum them.
            match (c, v.parse::<f64>()) {
                (1 | 6 | 7 | 8 | 10, Ok(n)) => sheet.write_number(row, c as u16, n)?,
                _ => sheet.write_string(row, c as u16, v)?,
            };
        }
    }
    book.save_to_buffer()
}

/// How indicators map to a DHIS2 instance: data elements (with a category option combo) per
/// indicator, and organisation units per region or district code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dhis2Mapping {
    pub data_elements: BTreeMap<String, Dhis2Element>,
    pub org_units: BTreeMap<String, String>,
    /// The organisation unit for national totals, if the instance has one.
    #[serde(default)]
    pub country_org_unit: Option<String>,
}

impl Dhis2Mapping {
    /// Reads a mapping file and checks it: every indicator is one of Hamroh's, every organisation
    /// unit key a region or district code, every DHIS2 id a UID (11 letters and digits, a letter
    /// first). Each problem names the line of the file it is on.
    pub fn parse(text: &str) -> Result<Self, Vec<String>> {
        let mapping: Self = serde_json::from_str(text).map_err(|e| vec![e.to_string()])?;
        let mut problems = Vec::new();
        let mut at =
            |needle: &str, message: String| problems.push(format!("line {}: {message}", line_of(text, needle)));
        for (indicator, element) in &mapping.data_elements {
            if crate::catalogue::indicator(indicator).is_none() {
                at(indicator, format!("`{indicator}` is not one of Hamroh's indicators"));
            }
            let uids = std::iter::once(&element.data_element)
                .chain(&element.category_option_combo)
                .chain(&element.suppressed_data_element);
            for uid in uids {
                if !is_uid(uid) {
                    at(
                        uid,
                        format!("`{uid}` (for {indicator}) is not a DHIS2 UID: 11 letters and digits, a letter first"),
                    );
                }
            }
        }
        for (code, unit) in &mapping.org_units {
            if hamroh_domain::geo::region(code).is_none() && hamroh_domain::geo::district(code).is_none() {
                at(code, format!("`{code}` is not a region or district code (TJ-KT, TJ-KT.kulob)"));
            }
            if !is_uid(unit) {
                at(unit, format!("`{unit}` (for {code}) is not a DHIS2 UID: 11 letters and digits, a letter first"));
            }
        }
        if let Some(unit) = mapping.country_org_unit.as_ref().filter(|u| !is_uid(u)) {
            at(unit, format!("`{unit}` (countryOrgUnit) is not a DHIS2 UID: 11 letters and digits, a letter first"));
        }
        if problems.is_empty() { Ok(mapping) } else { Err(problems) }
    }
}

/// A DHIS2 UID: 11 characters, letters and digits, the first a letter.
pub fn is_uid(text: &str) -> bool {
    text.len() == 11
        && text.bytes().all(|b| b.is_ascii_alphanumeric())
        && text.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
}

/// The 1-based line of the first quoted occurrence of `needle` in a JSON text.
fn line_of(text: &str, needle: &str) -> usize {
    let quoted = serde_json::to_string(needle).unwrap_or_default();
    text.find(&quoted).map_or(1, |at| 1 + text[..at].matches('\n').count())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dhis2Element {
    pub data_element: String,
    #[serde(default)]
    pub category_option_combo: Option<String>,
    /// A data element (value type TRUE_ONLY) that receives `true` for each cell Hamroh hides,
    /// so that the receiving side can tell "hidden" from "no data" without learning the count.
    #[serde(default)]
    pub suppressed_data_element: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataValue {
    pub data_element: String,
    pub period: String,
    pub org_unit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_option_combo: Option<String>,
    pub value: String,
    pub comment: String,
}

/// A `dataValueSets` payload: the published numerators (counts) of mapped indicators, per period
/// and per mapped organisation unit (tables broken down by region or district; without a breakdown,
/// the country unit). Hidden cells are left out, as DHIS2 reads a missing value as not reported.
pub fn dhis2(tables: &[Table], mapping: &Dhis2Mapping) -> serde_json::Value {
    let mut values = Vec::new();
    for t in tables {
        let Some(element) = mapping.data_elements.get(t.indicator.id) else { continue };
        for (r, period) in t.rows.iter().enumerate().filter(|(_, p)| p.as_str() != "total") {
            for (c, column) in t.columns.iter().enumerate() {
                let unit = match t.by {
                    None => mapping.country_org_unit.clone(),
                    Some(crate::Dimension::Region | crate::Dimension::District) => {
                        mapping.org_units.get(column).cloned()
                    }
                    Some(_) => None,
                };
                let cell = &t.cells[r][c];
                let figure = match t.indicator.formula {
                    crate::catalogue::Formula::Median { .. } => cell.value.map(format_value),
                    _ => cell.numerator.map(|n| n.to_string()),
                };
                let comment = format!("hamroh {} v{}", t.indicator.id, t.indicator.version);
                match (unit, figure) {
                    (Some(org_unit), Some(value)) => values.push(DataValue {
                        data_element: element.data_element.clone(),
                        period: period.clone(),
                        org_unit,
                        category_option_combo: element.category_option_combo.clone(),
                        value,
                        comment,
                    }),
                    // A hidden cell: marked, where the mapping has an element for it, never valued.
                    (Some(org_unit), None) if cell.suppressed => {
                        if let Some(marker) = &element.suppressed_data_element {
                            values.push(DataValue {
                                data_element: marker.clone(),
                                period: period.clone(),
                                org_unit,
                                category_option_combo: element.category_option_combo.clone(),
                                value: "true".into(),
                                comment: format!("{comment}: hidden, fewer than k or hidden to protect one"),
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    serde_json::json!({ "dataValues": values })
}

#[cfg(test)]
mod dhis2_mapping_tests {
    use super::*;

    #[test]
    fn uids_are_eleven_letters_and_digits_a_letter_first() {
        for ok in ["deReg000001", "ouKhatlon01", "Abcdefghijk"] {
            assert!(is_uid(ok), "{ok}");
        }
        for bad in ["1eReg000001", "deReg00000", "deReg0000011", "deReg-00001", "", "дeReg000001"] {
            assert!(!is_uid(bad), "{bad}");
        }
    }

    #[test]
    fn a_mapping_names_every_unknown_code_at_its_line() {
        let text = "{\n\"dataElements\": {\"registered\": {\"dataElement\": \"deReg000001\", \"categoryOptionCombo\": \"x\"}},\n\
                    \"orgUnits\": {\"TJ-XX\": \"ouKhatlon01\", \"TJ-KT\": \"short\"},\n\"countryOrgUnit\": \"ouTajik0001\"\n}";
        let problems = Dhis2Mapping::parse(text).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("line 2: `x`"), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("line 3: `TJ-XX`")), "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("line 3: `short`")), "{problems:?}");
        let good = r#"{"dataElements": {"registered": {"dataElement": "deReg000001"}}, "orgUnits": {"TJ-KT.kulob": "ouKulob0001"}}"#;
        assert!(Dhis2Mapping::parse(good).is_ok());
    }

    #[test]
    fn hidden_cells_are_marked_where_the_mapping_asks_and_never_valued() {
        let cell = |n: Option<i64>| crate::table::Cell {
            value: n.map(|n| n as f64),
            numerator: n,
            denominator: None,
            suppressed: n.is_none(),
        };
        let table = Table {
            indicator: crate::catalogue::indicator("registered").unwrap(),
            period: crate::PeriodKind::Quarter,
            by: Some(crate::Dimension::Region),
            k: 5,
            rows: vec!["2026Q1".into(), "2026Q2".into(), "total".into()],
            columns: vec!["TJ-KT".into(), "total".into()],
            cells: vec![
                vec![cell(Some(12)), cell(Some(12))],
                vec![cell(None), cell(None)],
                vec![cell(None), cell(None)],
            ],
        };
        let text = r#"{"dataElements": {"registered": {"dataElement": "deReg000001", "suppressedDataElement": "deRegHidden"}},
                       "orgUnits": {"TJ-KT": "ouKhatlon01"}}"#;
        let payload = dhis2(std::slice::from_ref(&table), &Dhis2Mapping::parse(text).unwrap());
        let values = payload["dataValues"].as_array().unwrap();
        assert_eq!(values.len(), 2, "{payload}");
        assert_eq!((values[0]["dataElement"].as_str(), values[0]["value"].as_str()), (Some("deReg000001"), Some("12")));
        assert_eq!(
            (values[1]["dataElement"].as_str(), values[1]["period"].as_str()),
            (Some("deRegHidden"), Some("2026Q2"))
        );
        assert_eq!(values[1]["value"], "true", "marked, never valued");
        // Without a marker element, a hidden cell is simply absent.
        let plain =
            r#"{"dataElements": {"registered": {"dataElement": "deReg000001"}}, "orgUnits": {"TJ-KT": "ouKhatlon01"}}"#;
        assert_eq!(dhis2(&[table], &Dhis2Mapping::parse(plain).unwrap())["dataValues"].as_array().unwrap().len(), 1);
    }
}
