//! Every file of the fuzz corpus (`fuzz/corpus/TARGET/`) through the code its fuzz target runs,
//! on every build: malformed files found by fuzzing stay answered, not crashed on.

use std::path::Path;

use hamroh_interop::fuzzing;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "{} crashes the {target} target", path.display());
        files += 1;
    }
    assert!(files > 0, "the {target} corpus is empty");
}

#[test]
fn the_sheet_corpus_is_read_or_refused() {
    replay("sheet", fuzzing::sheet);
}

#[test]
fn the_submissions_corpus_is_checked_or_refused() {
    replay("submissions", fuzzing::submissions);
}

#[test]
fn the_xlsform_corpus_converts_to_loadable_files_or_is_refused() {
    replay("xlsform", fuzzing::xlsform);
}

#[test]
fn the_fhir_corpus_is_read_or_refused() {
    replay("fhir_responses", fuzzing::fhir_responses);
}
