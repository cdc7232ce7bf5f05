//! Fuzz target `avp`: see `fuzz_targets::avp`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_targets::avp(data);
});
