//! Any bytes as a KoBoToolbox export read through a fixed mapping: checked and scored, or every
//! problem reported.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hamroh_interop::fuzzing::submissions(data);
});
