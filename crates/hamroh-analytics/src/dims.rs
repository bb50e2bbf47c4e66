//! What an indicator can be broken down by, and the periods it is reported for.

use hamroh_store::facts::Fact;
use serde::{Deserialize, Serialize};

/// A breakdown of an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Region,
    District,
    Sex,
    AgeBand,
    Destination,
    WorkSector,
    /// The indicator's own categories: instrument, barrier, WG-SS domain, injury cause, sector.
    Category,
}

impl Dimension {
    pub const ALL: [Dimension; 7] = [
        Dimension::Region,
        Dimension::District,
        Dimension::Sex,
        Dimension::AgeBand,
        Dimension::Destination,
        Dimension::WorkSector,
        Dimension::Category,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Region => "region",
            Dimension::District => "district",
            Dimension::Sex => "sex",
            Dimension::AgeBand => "age_band",
            Dimension::Destination => "destination",
            Dimension::WorkSector => "work_sector",
            Dimension::Category => "category",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == code)
    }

    /// The fact's value for this breakdown; `unknown` where the fact has none.
    pub fn key(self, fact: &Fact) -> String {
        let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_owned());
        match self {
            Dimension::Region => fact.district.split('.').next().unwrap_or_default().to_owned(),
            Dimension::District => fact.district.clone(),
            Dimension::Sex => fact.sex.clone(),
            Dimension::AgeBand => age_band(fact.month / 100 - fact.birth_year).to_owned(),
            Dimension::Destination => or_unknown(&fact.destination),
            Dimension::WorkSector => or_unknown(&fact.work_sector),
            Dimension::Category => or_unknown(&fact.category),
        }
    }
}

pub use hamroh_store::cube::{AGE_BANDS, age_band};

/// The length of a reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "month" => Some(Self::Month),
            "quarter" => Some(Self::Quarter),
            "year" => Some(Self::Year),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
        }
    }

    /// The period a `YYYYMM` month belongs to, as DHIS2 writes periods: `202603`, `2026Q1`, `2026`.
    pub fn period_of(self, month: i64) -> String {
        let (year, m) = (month / 100, month % 100);
        match self {
            Self::Month => format!("{year}{m:02}"),
            Self::Quarter => format!("{year}Q{}", (m - 1) / 3 + 1),
            Self::Year => year.to_string(),
        }
    }

    /// The periods covering the months `from..=to`, in order.
    pub fn periods(self, from: i64, to: i64) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut m = from;
        while m <= to {
            let p = self.period_of(m);
            if out.last() != Some(&p) {
                out.push(p);
            }
            m = hamroh_store::facts::next_month(m);
        }
        out
    }
}

/// Parses `YYYY-MM` or `YYYYMM` into `YYYYMM`.
pub fn parse_month(text: &str) -> Option<i64> {
    let digits: String = text.trim().chars().filter(|c| *c != '-').collect();
    let m: i64 = digits.parse().ok()?;
    (digits.len() == 6 && (1..=12).contains(&(m % 100)) && (1990..=2200).contains(&(m / 100))).then_some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_written_as_dhis2_writes_them() {
        assert_eq!(PeriodKind::Quarter.periods(202511, 202604), ["2025Q4", "2026Q1", "2026Q2"]);
        assert_eq!(PeriodKind::Month.periods(202512, 202601), ["202512", "202601"]);
        assert_eq!(PeriodKind::Year.periods(202512, 202601), ["2025", "2026"]);
        assert_eq!(parse_month("2026-03"), Some(202603));
        assert_eq!(parse_month("2026-13"), None);
    }

    #[test]
    fn age_bands_cover_every_age() {
        assert_eq!(age_band(17), "under_18");
        assert_eq!(age_band(18), "18_29");
        assert_eq!(age_band(59), "50_59");
        assert_eq!(age_band(60), "60_plus");
    }
}
