//! Fuzz target `serve`: see `fuzz_targets::serve`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_targets::serve(data);
});
