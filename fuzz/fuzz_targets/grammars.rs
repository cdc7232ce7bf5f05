//! Fuzz target `grammars`: see `fuzz_targets::grammars`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_targets::grammars(data);
});
