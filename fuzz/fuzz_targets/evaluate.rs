//! Fuzz target `evaluate`: see `fuzz_targets::evaluate`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_targets::evaluate(data);
});
