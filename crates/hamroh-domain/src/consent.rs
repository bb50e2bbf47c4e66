//! Consent: what a person allows to be done with their record.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::code::UnknownCode;
use crate::org::Sector;

crate::code_enum!(
    /// How a consent decision was given.
    ConsentMode: "consent mode" { Verbal = "verbal", Written = "written" }
);

/// One scope of consent. Stored as `care`, `research`, `sector:<sector>` or `org:<uuid>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ConsentScope {
    /// Care by the registering organisation.
    Care,
    /// Sharing with organisations of a sector (for referrals).
    Sector(Sector),
    /// Sharing with one named organisation.
    Organisation(Uuid),
    /// Anonymised use in research and indicators.
    Research,
}

impl fmt::Display for ConsentScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Care => f.write_str("care"),
            Self::Research => f.write_str("research"),
            Self::Sector(s) => write!(f, "sector:{s}"),
            Self::Organisation(id) => write!(f, "org:{id}"),
        }
    }
}

impl FromStr for ConsentScope {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, UnknownCode> {
        let bad = || UnknownCode { kind: "consent scope", value: s.to_owned() };
        match s.split_once(':') {
            None if s == "care" => Ok(Self::Care),
            None if s == "research" => Ok(Self::Research),
            Some(("sector", sector)) => sector.parse().map(Self::Sector).map_err(|_| bad()),
            Some(("org", id)) => Uuid::parse_str(id).map(Self::Organisation).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for ConsentScope {
    type Error = UnknownCode;
    fn try_from(s: String) -> Result<Self, UnknownCode> {
        s.parse()
    }
}

impl From<ConsentScope> for String {
    fn from(c: ConsentScope) -> String {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_codes() {
        let id = Uuid::now_v7();
        for scope in [
            ConsentScope::Care,
            ConsentScope::Research,
            ConsentScope::Sector(Sector::Rehabilitation),
            ConsentScope::Organisation(id),
        ] {
            assert_eq!(scope.to_string().parse::<ConsentScope>().unwrap(), scope);
        }
        assert!("sector:nowhere".parse::<ConsentScope>().is_err());
        assert!("everything".parse::<ConsentScope>().is_err());
    }
}
