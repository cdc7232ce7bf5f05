//! Fuzz target `token`: see `fuzz_targets::token`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_targets::token(data);
});
