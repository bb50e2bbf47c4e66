//! A returnee and the validated values that describe one.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::code_enum;
use crate::geo::{self, District};

code_enum!(
    /// Sex as recorded for screening rules (PHQ-15, AUDIT-C) and indicators.
    Sex: "sex" { Male = "male", Female = "female" }
);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    #[error("birth year {0} is outside {1}..={2}")]
    BirthYear(i32, i32, i32),
    #[error("unknown district `{0}`")]
    District(String),
    #[error("a phone number has 9 to 15 digits, optionally after a leading +")]
    Phone,
    #[error("unknown country `{0}`: use an ISO 3166-1 alpha-2 code")]
    Country(String),
}

/// A birth year that makes the person between 10 and 110 years old in `this_year`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BirthYear(i32);

impl BirthYear {
    pub fn new(year: i32, this_year: i32) -> Result<Self, ValueError> {
        let (min, max) = (this_year - 110, this_year - 10);
        if (min..=max).contains(&year) { Ok(Self(year)) } else { Err(ValueError::BirthYear(year, min, max)) }
    }

    pub fn get(self) -> i32 {
        self.0
    }

    pub fn age_in(self, year: i32) -> i32 {
        year - self.0
    }
}

/// A known district, by Hamroh's district code (see [`crate::geo`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DistrictCode(&'static District);

impl DistrictCode {
    pub fn parse(code: &str) -> Result<Self, ValueError> {
        geo::district(code).map(Self).ok_or_else(|| ValueError::District(code.to_owned()))
    }

    pub fn as_str(self) -> &'static str {
        self.0.code
    }

    pub fn district(self) -> &'static District {
        self.0
    }

    pub fn region(self) -> &'static str {
        self.0.region
    }
}

impl Serialize for DistrictCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DistrictCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A phone number normalised to digits with an optional leading `+`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, ValueError> {
        let trimmed = raw.trim();
        let plus = trimmed.starts_with('+');
        let mut out = String::with_capacity(trimmed.len());
        if plus {
            out.push('+');
        }
        for c in trimmed.chars().skip(usize::from(plus)) {
            match c {
                '0'..='9' => out.push(c),
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => return Err(ValueError::Phone),
            }
        }
        let digits = out.len() - usize::from(plus);
        if (9..=15).contains(&digits) { Ok(Self(out)) } else { Err(ValueError::Phone) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_year_bounds_follow_the_current_year() {
        assert!(BirthYear::new(1990, 2026).is_ok());
        assert!(BirthYear::new(2020, 2026).is_err());
        assert!(BirthYear::new(1900, 2026).is_err());
        assert_eq!(BirthYear::new(1990, 2026).unwrap().age_in(2026), 36);
    }

    #[test]
    fn phone_is_normalised_and_checked() {
        assert_eq!(Phone::parse("+992 (93) 123-45-67").unwrap().as_str(), "+992931234567");
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("+992 93 abc").is_err());
    }

    #[test]
    fn district_codes_are_checked() {
        let d = DistrictCode::parse("TJ-KT.kulob").unwrap();
        assert_eq!(d.region(), "TJ-KT");
        assert!(DistrictCode::parse("TJ-KT.nowhere").is_err());
    }
}
