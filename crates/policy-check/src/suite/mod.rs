//! The suite format: one file, many cases; IAM cases here, identity-pool and Cedar cases in their modules.

pub mod apigw;
pub mod cedar;
pub mod cedar_tests;
mod expect;
mod fields;
pub mod iam;
pub mod pool;
mod template;
use std::path::{Path, PathBuf};

use iam_eval::Authorizer;
use serde_json::Value;

use crate::Failure;

pub(crate) use expect::*;
pub(crate) use fields::*;

impl CaseResult {
    fn new(
        suite: &str,
        name: &str,
        expect: String,
        actual: String,
        pass: bool,
        detail: String,
    ) -> Self {
        Self {
            suite: suite.to_string(),
            name: name.to_string(),
            expect,
            actual,
            pass,
            detail,
        }
    }
}

/// One case being run: its suite, its own object, the suite's folder and its names for messages.
pub(crate) struct Case<'a> {
    /// The suite object (suite-level fields).
    pub suite: &'a serde_json::Map<String, Value>,
    /// The case object.
    pub obj: &'a serde_json::Map<String, Value>,
    /// The suite's folder: paths in the suite are relative to it.
    pub base: &'a Path,
    /// The suite file's name.
    pub name: &'a str,
    /// The case's name.
    pub case_name: &'a str,
    /// `suite: case `name``, for error messages.
    pub what: &'a str,
    /// What the suite's cases share, prepared at first use.
    pub prepared: &'a std::cell::RefCell<Prepared>,
}

/// A suite's engines, prepared once and shared by its cases: its identity pool and its Cedar stores (by
/// the `cedar_store` value naming each). A failure is kept too (without the case's name), so every case
/// reports it.
#[derive(Default)]
pub(crate) struct Prepared {
    /// The suite's `identity_pool`.
    pub pool: Option<Result<std::rc::Rc<identity_pool::IdentityPool>, Failure>>,
    /// The suite's ID-token verifier (`token_verifier`), its keys read once.
    pub verifier: Option<Result<std::rc::Rc<cognito::Verifier>, crate::Failure>>,
    /// Stores and the directory their relative paths start from, by their `cedar_store` value.
    pub stores: std::collections::HashMap<
        String,
        Result<std::rc::Rc<(cedar_bridge::PolicyStore, PathBuf)>, Failure>,
    >,
}

/// The result of one suite case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Suite file.
    pub suite: String,
    /// Case name.
    pub name: String,
    /// Expected decision (or `Error`).
    pub expect: String,
    /// Actual decision (or `Error`).
    pub actual: String,
    /// Whether it passed.
    pub pass: bool,
    /// Explanation of a failure.
    pub detail: String,
}

/// Runs one suite file.
pub fn run_suite(path: &Path) -> Result<Vec<CaseResult>, Failure> {
    let text = String::from_utf8(crate::read_file(path)?)
        .map_err(|_| format!("{}: not UTF-8", path.display()))?;
    let name = path.display().to_string();
    let suite: Value = crate::input::json_text(&name, &text)?;
    if suite.is_array() {
        return Err(Failure::from(format!(
            "{name}: a JSON array is the cedar CLI's `run-tests` format: give its policies with `--policies FILE` (and `--schema FILE`)"
        )));
    }
    let suite = suite
        .as_object()
        .ok_or_else(|| format!("{name}: a suite is a JSON object"))?;
    for k in suite.keys() {
        if !POLICY_KEYS.contains(&k.as_str()) && !SUITE_FIELDS.contains(&k.as_str()) {
            return Err(Failure::from(format!("{name}: unknown suite field `{k}`")));
        }
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let cases = suite
        .get("cases")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{name}: missing `cases` array"))?;
    if cases.is_empty() {
        return Err(Failure::from(format!(
            "{name}: the suite has no cases (an empty suite would pass without testing anything)"
        )));
    }
    let mut out = Vec::new();
    let mut shared: Option<Result<Authorizer, Failure>> = None;
    let mut gateway: Option<apigw::Gateway> = None;
    let prepared = std::cell::RefCell::new(Prepared::default());
    for (i, c) in cases.iter().enumerate() {
        let what = format!("{name}: case #{}", i + 1);
        let obj = c
            .as_object()
            .ok_or_else(|| format!("{what}: a case is a JSON object"))?;
        let case_name = obj
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)")
            .to_string();
        let what = format!("{name}: case `{case_name}`");
        let (kind, allowed, policies_ok) = if obj.contains_key("http_request") {
            ("an API Gateway case", APIGW_CASE_FIELDS, false)
        } else if obj.contains_key("avp_request") {
            ("a Cedar case", CEDAR_CASE_FIELDS, false)
        } else if ["claims", "token", "guest"]
            .iter()
            .any(|k| obj.contains_key(*k))
        {
            ("an identity-pool case", POOL_CASE_FIELDS, false)
        } else {
            ("an IAM case", IAM_CASE_FIELDS, true)
        };
        for k in obj.keys() {
            let policy_key = policies_ok && POLICY_KEYS.contains(&k.as_str());
            if !policy_key && !allowed.contains(&k.as_str()) {
                return Err(Failure::from(format!(
                    "{what}: unknown field `{k}` for {kind} (fields: {})",
                    allowed.join(", ")
                )));
            }
        }
        let case = Case {
            suite,
            obj,
            base,
            name: &name,
            case_name: &case_name,
            what: &what,
            prepared: &prepared,
        };
        if obj.contains_key("http_request") {
            let gw = match &mut gateway {
                Some(g) => g,
                None => gateway.insert(apigw::gateway(suite, base).map_err(|e| e.at(&name))?),
            };
            out.push(apigw::apigw_case(&case, gw)?);
            continue;
        }
        if obj.contains_key("expect") == obj.contains_key("expect_error") {
            return Err(Failure::from(format!(
                "{what}: give exactly one of `expect` and `expect_error`"
            )));
        }
        if obj.contains_key("avp_request") {
            out.push(cedar::cedar_case(&case)?);
            continue;
        }
        if ["claims", "token", "guest"]
            .iter()
            .any(|k| obj.contains_key(*k))
        {
            out.push(pool::pool_case(&case)?);
            continue;
        }
        out.push(iam::iam_case(&case, &mut shared)?);
    }
    Ok(out)
}

/// Finds suite files: given files, `*.suite.json` under directories, glob matches.
pub fn find_suites(args: &[String]) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for a in args {
        let p = Path::new(a);
        if a == "-" {
            // A suite on standard input; its relative paths are relative to the working directory.
            out.push(p.to_path_buf());
        } else if p.is_dir() {
            crate::files::walk_matching(
                p,
                &|f| f.to_str().is_some_and(|n| n.ends_with(".suite.json")),
                &mut out,
            )
            .map_err(|e| format!("cannot read directory `{a}`: {e}"))?;
        } else if p.exists() {
            out.push(p.to_path_buf());
        } else {
            let mut n = 0;
            for m in glob::glob(a).map_err(|e| format!("bad glob pattern `{a}`: {e}"))? {
                out.push(m.map_err(|e| Failure::from(e.to_string()))?);
                n += 1;
            }
            if n == 0 {
                return Err(Failure::from(format!("`{a}` does not exist")));
            }
        }
    }
    if out.is_empty() {
        return Err("no test suites found (suites are *.suite.json)".into());
    }
    Ok(out)
}

/// Runs suites and returns their results (for tests and embedding).
pub fn run_suites(args: &[String]) -> Result<Vec<CaseResult>, Failure> {
    run_all(&find_suites(args)?)
}

/// Runs suites on every core, in chunks, and returns their results in the order of `suites`. The first
/// error (in that order) wins, as it would running them one by one.
pub fn run_all(suites: &[PathBuf]) -> Result<Vec<CaseResult>, Failure> {
    run_all_with(suites, None)
}

/// [`run_all`], advancing `progress` once per suite.
pub(crate) fn run_all_with(
    suites: &[PathBuf],
    progress: Option<&indicatif::ProgressBar>,
) -> Result<Vec<CaseResult>, Failure> {
    let tick = || {
        if let Some(p) = progress {
            p.inc(1);
        }
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(suites.len().max(1));
    if workers <= 1 || suites.len() < 8 {
        let mut v = Vec::new();
        for s in suites {
            v.extend(run_suite(s)?);
            tick();
        }
        return Ok(v);
    }
    let chunk = suites.len().div_ceil(workers);
    type Part = Result<(Vec<CaseResult>, Vec<String>), Failure>;
    let parts: Vec<Part> = std::thread::scope(|scope| {
        let handles: Vec<_> = suites
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut v = Vec::new();
                    for s in part {
                        v.extend(run_suite(s)?);
                        tick();
                    }
                    Ok((v, crate::policies::take_accepted()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Failure::from("a suite worker panicked")))
            })
            .collect()
    });
    let mut v = Vec::with_capacity(
        parts
            .iter()
            .map(|p| p.as_ref().map_or(0, |p| p.0.len()))
            .sum(),
    );
    for p in parts {
        let (results, accepted) = p?;
        v.extend(results);
        // The workers' warnings on accepted policies, handed to this thread's list for the command.
        crate::policies::keep_accepted(accepted);
    }
    Ok(v)
}
