//! Any bytes as a FHIR QuestionnaireResponse or Bundle to import: read or refused.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hamroh_interop::fuzzing::fhir_responses(data);
});
