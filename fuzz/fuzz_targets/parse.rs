//! Fuzz target `parse`: see `fuzz_targets::parse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_targets::parse(data);
});
