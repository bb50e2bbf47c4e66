//! Any bytes as an XLSForm workbook: converted to an instrument file that loads, or refused.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    hamroh_interop::fuzzing::xlsform(data);
});
