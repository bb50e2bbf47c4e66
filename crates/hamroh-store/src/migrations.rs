//! Embedded migrations, one folder per backend with the same file names (a test checks that).

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

macro_rules! migrations {
    ($dir:literal: $($version:literal $name:literal),+ $(,)?) => {
        Migrator::with_migrations(vec![$(
            Migration::new(
                $version,
                $name.into(),
                MigrationType::Simple,
                include_str!(concat!("../migrations/", $dir, "/", $name, ".sql")).into_sql_str(),
                false,
            )
        ),+])
    };
}

pub fn sqlite() -> Migrator {
    migrations!("sqlite": 1 "0001_init", 2 "0002_accounts", 3 "0003_clinical", 4 "0004_referrals", 5 "0005_outbox", 6 "0006_analytics", 7 "0007_indicator_cube", 8 "0008_idempotency", 9 "0009_imported_submissions", 10 "0010_idempotency_written", 11 "0011_cube_without_rowid", 12 "0012_search_indexes", 13 "0013_search_in_name_order", 14 "0014_idempotency_claim", 15 "0015_worklist_indexes", 16 "0016_covering_indexes", 17 "0017_unanswered", 18 "0018_care_consent", 19 "0019_request_digest_and_totp_enrolment", 20 "0020_safety_loop", 21 "0021_self_harm_unasked", 22 "0022_referral_answers", 23 "0023_partner_links", 24 "0024_record_changes", 25 "0025_directory_languages", 26 "0026_consent_mode", 27 "0027_held_registrations", 28 "0028_audit_shown", 29 "0029_releases", 30 "0030_release_generation", 31 "0031_answered_referrals_only", 32 "0032_bulk_load_steps", 33 "0033_waiting_flags_by_person", 34 "0034_waiting_flag_names", 35 "0035_release_layers", 36 "0036_earlier_release_layers", 37 "0037_flagged_screenings", 38 "0038_search_names_with_birth_year")
}

pub fn postgres() -> Migrator {
    migrations!("postgres": 1 "0001_init", 2 "0002_accounts", 3 "0003_clinical", 4 "0004_referrals", 5 "0005_outbox", 6 "0006_analytics", 7 "0007_indicator_cube", 8 "0008_idempotency", 9 "0009_imported_submissions", 10 "0010_idempotency_written", 11 "0011_cube_without_rowid", 12 "0012_search_indexes", 13 "0013_search_in_name_order", 14 "0014_idempotency_claim", 15 "0015_worklist_indexes", 16 "0016_covering_indexes", 17 "0017_unanswered", 18 "0018_care_consent", 19 "0019_request_digest_and_totp_enrolment", 20 "0020_safety_loop", 21 "0021_self_harm_unasked", 22 "0022_referral_answers", 23 "0023_partner_links", 24 "0024_record_changes", 25 "0025_directory_languages", 26 "0026_consent_mode", 27 "0027_held_registrations", 28 "0028_audit_shown", 29 "0029_releases", 30 "0030_release_generation", 31 "0031_answered_referrals_only", 32 "0032_bulk_load_steps", 33 "0033_waiting_flags_by_person", 34 "0034_waiting_flag_names", 35 "0035_release_layers", 36 "0036_earlier_release_layers", 37 "0037_flagged_screenings", 38 "0038_search_names_with_birth_year")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    fn names(dir: &str) -> BTreeSet<String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir);
        std::fs::read_dir(path).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn both_backends_have_the_same_migration_files() {
        assert_eq!(names("sqlite"), names("postgres"));
    }

    #[test]
    fn every_migration_file_is_embedded() {
        assert_eq!(super::sqlite().iter().count(), names("sqlite").len());
        assert_eq!(super::postgres().iter().count(), names("postgres").len());
    }
}
