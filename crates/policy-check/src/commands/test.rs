//! `policy-check test`: run policy unit-test suites.

use std::io::Write;

use crate::Format;
use crate::suite::*;

/// Arguments of `test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Suite files, directories (searched for `*.suite.json`) or glob patterns.
    #[arg(required = true)]
    pub suites: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub(crate) fn run_test(
    a: &TestArgs,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, String> {
    let results = run_all(&find_suites(&a.suites)?)?;
    let failed = results.iter().filter(|r| !r.pass).count();
    match a.format {
        Format::Json => {
            for r in &results {
                let v = serde_json::json!({"suite": r.suite, "name": r.name, "expect": r.expect, "actual": r.actual, "pass": r.pass, "detail": (!r.detail.is_empty()).then_some(&r.detail)});
                let _ = writeln!(out, "{v}");
            }
        }
        Format::Human => {
            let w = results
                .iter()
                .map(|r| r.name.chars().count())
                .max()
                .unwrap_or(4)
                .clamp(4, 60);
            let mut current = "";
            for r in &results {
                if r.suite != current {
                    let _ = writeln!(out, "{}", r.suite);
                    current = &r.suite;
                }
                let mark = if r.pass { "PASS" } else { "FAIL" };
                let _ = writeln!(
                    out,
                    "  {mark}  {:<w$}  expect {:<13} got {}",
                    r.name, r.expect, r.actual
                );
                if !r.pass {
                    for line in r.detail.lines() {
                        let _ = writeln!(out, "          {line}");
                    }
                }
            }
            let _ = writeln!(out, "{} passed, {} failed", results.len() - failed, failed);
        }
    }
    Ok(if failed > 0 { 2 } else { 0 })
}
