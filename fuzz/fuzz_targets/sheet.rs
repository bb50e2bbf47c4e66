//! Any bytes given as a submissions file: read as CSV or XLSX, or refused with a reason.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hamroh_interop::fuzzing::sheet(data);
});
