//! `policy-check eval` and `policy-check test`.

use std::io::Write;

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {}

/// Arguments of `test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {}

pub(crate) fn run_eval(
    _a: &EvalArgs,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, String> {
    Err("eval is not available yet".into())
}

pub(crate) fn run_test(
    _a: &TestArgs,
    _out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, String> {
    Err("test is not available yet".into())
}
