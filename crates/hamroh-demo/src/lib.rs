//! Deterministic synthetic data that looks like the population Hamroh serves: returned labour
//! migrants, mostly men aged 18 to 60, mostly back from Russia, construction first among sectors,
//! some with work injuries, screened over time in district primary care.
//!
//! The same configuration (people, seed, as-of date) always gives the same records. Names are
//! random combinations of common Tajik given names and surnames; no demo record is a real person,
//! and every demo organisation's name ends in "(demo)".

mod directory;
mod people;
mod pick;

pub use directory::{DemoDirectory, DemoLogin, directory};
pub use people::{DemoConfig, DemoPeople, FEMALE_GIVEN_NAMES, MALE_GIVEN_NAMES};
