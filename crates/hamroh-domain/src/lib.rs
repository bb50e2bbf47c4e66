//! Hamroh's domain: the words the rest of the code uses, and the rules that need no I/O.
//! No async, no SQL, no HTTP here: everything is unit- and property-testable.

pub mod access;
pub mod code;
pub mod consent;
pub mod emergency;
pub mod geo;
pub mod instrument;
pub mod migration;
pub mod model;
pub mod names;
pub mod org;
pub mod pathway;
pub mod person;
pub mod record_update;
pub mod referral;
pub mod registration;
pub mod safety;
pub mod service;
pub mod wording;
