//! Fuzz target `apigw`: see `fuzz_targets::apigw`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzz_targets::apigw(data);
});
