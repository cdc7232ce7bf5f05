//! `policy-check test`: run policy unit-test suites.

use crate::Failure;
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
    /// Also write a JUnit XML report here (one test case per suite case; failures carry the expected
    /// and actual answers and the explanation).
    #[arg(long)]
    pub junit: Option<std::path::PathBuf>,
    /// Run the files as the cedar CLI's `run-tests` files (a JSON array of cases with `request`,
    /// `entities`, `decision`, `reason`, `num_errors`) against these Cedar policies.
    #[arg(long, value_name = "FILE")]
    pub policies: Option<std::path::PathBuf>,
    /// With `--policies`: the Cedar schema (`.cedarschema`, or `.json`); the policies are validated
    /// strictly against it, as `cedar run-tests --schema` does.
    #[arg(long, value_name = "FILE", requires = "policies")]
    pub schema: Option<std::path::PathBuf>,
    /// With `--policies`: the policies' format, Cedar text or Cedar's JSON policy format (as the cedar
    /// CLI's `--policy-format`); by default JSON for a `.json` file, Cedar text otherwise.
    #[arg(long, value_enum, requires = "policies")]
    pub policy_format: Option<PolicyFormat>,
}

/// Cedar policy formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyFormat {
    /// Cedar's policy language.
    Cedar,
    /// Cedar's JSON policy format.
    Json,
}

pub(crate) fn run_test(
    a: &TestArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Failure> {
    if a.policies.is_none() {
        // Suites' IAM policies read the Service Authorization Reference (a few milliseconds to load,
        // once): loaded on another core while the suites are found, not by a worker that the other
        // would wait for.
        std::thread::spawn(|| {
            iam_policy::catalog::catalog();
        });
    }
    let suites = find_suites(&a.suites)?;
    let pb = crate::progress(suites.len(), "suites");
    let results = match &a.policies {
        Some(policies) => {
            let json = match a.policy_format {
                Some(f) => f == PolicyFormat::Json,
                None => policies.extension().is_some_and(|e| e == "json"),
            };
            // Read, parsed and validated once; the files run on every core like suites.
            let loaded = crate::suite::cedar_tests::CedarPolicies::load(
                policies,
                json,
                a.schema.as_deref(),
            )?;
            crate::suite::run_files(&suites, pb.as_ref(), &|s| {
                crate::suite::cedar_tests::run_cedar_tests(s, &loaded)
            })?
        }
        None => crate::suite::run_all_with(&suites, pb.as_ref())?,
    };
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    crate::policies::print_accepted(err);
    let failed = results.iter().filter(|r| !r.pass).count();
    if let Some(path) = &a.junit {
        std::fs::write(path, junit(&results))
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    // One write per line was 42,000 system calls for 30,000 cases: the report is written through a buffer.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
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
            // Suite, case names and details are the user's text: control characters and bidi
            // overrides are shown escaped, never sent to the terminal.
            let p = diag::printable;
            for r in &results {
                if *r.suite != *current {
                    let _ = writeln!(out, "{}", p(&r.suite));
                    current = &r.suite;
                }
                let mark = if r.pass { "PASS" } else { "FAIL" };
                let _ = writeln!(
                    out,
                    "  {mark}  {:<w$}  expect {:<13} got {}",
                    p(&r.name),
                    p(&r.expect),
                    p(&r.actual)
                );
                if !r.pass {
                    for line in r.detail.lines() {
                        let _ = writeln!(out, "          {}", p(line));
                    }
                }
            }
            let _ = writeln!(out, "{} passed, {} failed", results.len() - failed, failed);
        }
    }
    let _ = out.flush();
    Ok(if failed > 0 { 2 } else { 0 })
}

/// The JUnit XML report: a `testsuite` per suite file, a `testcase` per case; a case whose answer was an
/// error where a decision was expected is an `error`, any other mismatch a `failure`.
fn junit(results: &[CaseResult]) -> String {
    // Control characters are not XML even when escaped: they are written as `\u{…}` first.
    let escape = |s: &str| quick_xml::escape::escape(diag::printable(s).as_ref()).into_owned();
    let mut suites: Vec<(&str, Vec<&CaseResult>)> = Vec::new();
    for r in results {
        match suites.last_mut() {
            Some((name, list)) if **name == *r.suite => list.push(r),
            _ => suites.push((&r.suite, vec![r])),
        }
    }
    let is_error =
        |r: &CaseResult| !r.pass && r.actual.starts_with("Error") && !r.expect.starts_with("Error");
    let count =
        |l: &[&CaseResult], f: &dyn Fn(&CaseResult) -> bool| l.iter().filter(|r| f(r)).count();
    let failure = |r: &CaseResult| !r.pass && !is_error(r);
    let all: Vec<&CaseResult> = results.iter().collect();
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"policy-check\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
        all.len(),
        count(&all, &failure),
        count(&all, &is_error)
    );
    for (name, list) in &suites {
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">\n",
            escape(name),
            list.len(),
            count(list, &failure),
            count(list, &is_error)
        ));
        for r in list {
            x.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(name),
                escape(r.name.as_str())
            ));
            if r.pass {
                x.push_str("/>\n");
                continue;
            }
            let tag = if is_error(r) { "error" } else { "failure" };
            let message = format!("expected {}, got {}", r.expect, r.actual);
            let body = format!("expected: {}\nactual: {}\n{}", r.expect, r.actual, r.detail);
            x.push_str(&format!(
                ">\n      <{tag} message=\"{}\">{}</{tag}>\n    </testcase>\n",
                escape(message.as_str()),
                escape(&body)
            ));
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}
