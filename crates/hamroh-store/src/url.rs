//! The `--db` URL: `sqlite://PATH` or `postgres://...`, parsed once.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::StoreError;

#[derive(Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A SQLite file. `sqlite://hamroh.db` is relative to the working directory;
    /// `sqlite:///var/lib/hamroh.db` is absolute.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, kept whole for the driver.
    Postgres(String),
}

impl FromStr for DbUrl {
    type Err = StoreError;

    fn from_str(url: &str) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::InvalidUrl(format!("{}: {why}", redact(url)));
        if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(bad("no file path after sqlite://"));
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let rest = url.split_once("://").map(|(_, r)| r).unwrap_or_default();
            if rest.is_empty() || rest.starts_with('/') && rest.len() == 1 {
                return Err(bad("no host or database after postgres://"));
            }
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err(bad("expected sqlite://PATH or postgres://USER@HOST/DATABASE"))
        }
    }
}

impl DbUrl {
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Hides a password in a URL so that it can be shown in errors and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_owned(),
    };
    match tail {
        Some(t) => format!("{scheme}://{authority}/{t}"),
        None => format!("{scheme}://{authority}"),
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string())
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "sqlite://{}", p.display()),
            Self::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_backends_and_rejects_others() {
        assert_eq!("sqlite://hamroh.db".parse::<DbUrl>().unwrap(), DbUrl::Sqlite("hamroh.db".into()));
        assert_eq!("sqlite:///var/lib/h.db".parse::<DbUrl>().unwrap(), DbUrl::Sqlite("/var/lib/h.db".into()));
        assert!(matches!("postgres://u@localhost/h".parse::<DbUrl>().unwrap(), DbUrl::Postgres(_)));
        for bad in ["mysql://x/y", "hamroh.db", "sqlite://", "postgres://", ""] {
            assert!(bad.parse::<DbUrl>().is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_show() {
        let url: DbUrl = "postgres://hamroh:s3cret@db:5432/hamroh".parse().unwrap();
        assert_eq!(url.to_string(), "postgres://hamroh:***@db:5432/hamroh");
        assert!(!format!("{url:?}").contains("s3cret"));
        let err = "postgresql-x://a:s3cret@h/d".parse::<DbUrl>().unwrap_err();
        assert!(!err.to_string().contains("s3cret"));
    }
}
