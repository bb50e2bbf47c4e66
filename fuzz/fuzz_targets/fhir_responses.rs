//! Any bytes as a FHIR QuestionnaireResponse or Bundle to import: read or refused.
#![no_main]

libfuzzer_sys::fuzz_target!(init: {
    // The XLSX reader's panics are caught and answered as a damaged file; keep the standard hook
    // so that only an uncaught panic counts as a crash.
    let _ = std::panic::take_hook();
}, |data: &[u8]| {
    hamroh_interop::fuzzing::fhir_responses(data);
});
