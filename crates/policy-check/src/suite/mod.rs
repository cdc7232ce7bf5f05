//! The suite format: one file, many cases; IAM cases here, identity-pool and Cedar cases in their modules.

pub mod apigw;
pub mod cedar;
pub mod iam;
pub mod pool;
use std::path::{Path, PathBuf};

use authz_core::Decision;
use iam_eval::Authorizer;
use iam_policy::{PolicyDocument, PolicyType};
use serde_json::Value;

use crate::Failure;
use crate::policies::*;

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
}

/// The decision a case expects (`expect`).
pub(crate) fn expected_decision(
    obj: &serde_json::Map<String, Value>,
    what: &str,
) -> Result<Decision, String> {
    obj.get("expect")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: missing `expect` (Allow, ExplicitDeny or ImplicitDeny)"))?
        .parse()
        .map_err(|e| format!("{what}: {e}"))
}

/// The error a case expects (`expect_error`), if it expects one.
pub(crate) fn expected_error<'o>(
    obj: &'o serde_json::Map<String, Value>,
    what: &str,
) -> Result<Option<&'o str>, String> {
    match obj.get("expect_error") {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "{what}: `expect_error` must be an error code string, found {other}"
        )),
    }
}

/// The row of a case that expects the error `want`: `got` is the failure (`Err`), or what was decided
/// instead (`Ok`). The case passes when `want` is exactly the failure's registered code or its AWS error
/// name. A failure without a code (a file the CLI could not read) leaves the expectation uncheckable: an
/// error, not a failed case.
pub(crate) fn error_row(
    (name, case_name): (&str, &str),
    want: &str,
    got: Result<String, Failure>,
    what: &str,
) -> Result<CaseResult, String> {
    let (actual, pass, detail) = match got {
        Err(f) if f.code.is_none() => return Err(format!("{what}: {f}")),
        Err(f) if f.is(want) => (format!("Error {want}"), true, String::new()),
        Err(f) => (
            format!("Error {}", f.code.unwrap_or_default()),
            false,
            f.message,
        ),
        Ok(decided) => ("accepted".to_string(), false, decided),
    };
    Ok(CaseResult::new(
        name,
        case_name,
        format!("Error {want}"),
        actual,
        pass,
        detail,
    ))
}

/// Compares a case's expectations with what happened: the decision, then each optional field the case
/// states (`sid`, `role`, `determining`). Every stated field is checked; each one that is stated shows in
/// both the expected and the actual column, so a failing row says what differed.
struct Compare {
    expect: String,
    actual: String,
    pass: bool,
    detail: String,
}

impl Compare {
    /// Compares the shared result of any engine with a case: the decision, then `sid` (the deciding
    /// statement's `Sid`) and `determining` (the determining policies, in any order) when the case states
    /// them. Which fields a kind of case may state is checked when the suite is read.
    fn answer(
        obj: &serde_json::Map<String, Value>,
        expect: Decision,
        answer: &authz_core::Answer,
        what: &str,
    ) -> Result<Self, String> {
        let mut c = Self {
            expect: expect.to_string(),
            actual: answer.decision.to_string(),
            pass: expect == answer.decision,
            detail: String::new(),
        };
        match obj.get("sid") {
            None => {}
            Some(Value::String(want)) => c.field("Sid", want, answer.sid()),
            Some(other) => return Err(format!("{what}: `sid` must be a string, found {other}")),
        }
        match obj.get("determining") {
            None => {}
            Some(Value::Array(want)) => {
                let mut want: Vec<&str> = want
                    .iter()
                    .map(|v| {
                        v.as_str().ok_or_else(|| {
                            format!("{what}: `determining` lists policy ids (strings)")
                        })
                    })
                    .collect::<Result<_, _>>()?;
                want.sort_unstable();
                let mut got: Vec<&str> = answer
                    .determining
                    .iter()
                    .map(|d| d.policy.as_str())
                    .collect();
                got.sort_unstable();
                c.field("determining", &want.join(", "), Some(&got.join(", ")));
            }
            Some(other) => {
                return Err(format!(
                    "{what}: `determining` must be an array of policy ids, found {other}"
                ));
            }
        }
        Ok(c)
    }

    /// Checks one stated field.
    fn field(&mut self, label: &str, want: &str, got: Option<&str>) {
        let got_s = got.unwrap_or("none");
        self.expect.push_str(&format!(", {label} {want}"));
        self.actual.push_str(&format!(", {label} {got_s}"));
        if got != Some(want) {
            self.pass = false;
            self.detail
                .push_str(&format!("expected {label} `{want}`, got `{got_s}`\n"));
        }
    }
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

pub(crate) fn policy_list(
    v: &Value,
    base: &Path,
    ty: PolicyType,
    what: &str,
) -> Result<Vec<PolicyDocument>, Failure> {
    let one = |x: &Value, i: usize| -> Result<PolicyDocument, Failure> {
        match x {
            Value::String(p) => load_policy(&base.join(p), ty),
            Value::Object(_) => {
                let text = serde_json::to_string_pretty(x).map_err(|e| e.to_string())?;
                load_policy_text(&format!("{what}[{i}] (inline)"), text.as_bytes(), ty)
            }
            other => Err(Failure::from(format!(
                "{what}: a policy is a path or an inline document, found {other}"
            ))),
        }
    };
    match v {
        Value::Array(items) => items.iter().enumerate().map(|(i, x)| one(x, i)).collect(),
        x => Ok(vec![one(x, 0)?]),
    }
}

pub(crate) fn levels(
    v: &Value,
    base: &Path,
    ty: PolicyType,
    what: &str,
) -> Result<Vec<Vec<PolicyDocument>>, Failure> {
    let Value::Array(items) = v else {
        return Ok(vec![policy_list(v, base, ty, what)?]);
    };
    items
        .iter()
        .enumerate()
        .map(|(i, x)| policy_list(x, base, ty, &format!("{what}[{i}]")))
        .collect()
}

pub(crate) const SUITE_FIELDS: &[&str] = &[
    "name",
    "description",
    "cases",
    "identity_pool",
    "token_verifier",
    "cedar_store",
    "apigw",
];

/// Fields of an API Gateway case.
pub(crate) const APIGW_CASE_FIELDS: &[&str] = &[
    "name",
    "description",
    "http_request",
    "now",
    "expect_status",
    "sid",
    "cache_hit",
    "function_called",
];

/// Fields of an IAM case (besides the policy keys).
pub(crate) const IAM_CASE_FIELDS: &[&str] = &[
    "name",
    "description",
    "request",
    "expect",
    "sid",
    "expect_error",
];

/// Fields of an identity-pool case.
pub(crate) const POOL_CASE_FIELDS: &[&str] = &[
    "name",
    "description",
    "request",
    "expect",
    "sid",
    "expect_error",
    "claims",
    "token",
    "guest",
    "custom_role_arn",
    "basic_flow_role",
    "role",
    "now",
];

/// Fields of a Cedar case.
pub(crate) const CEDAR_CASE_FIELDS: &[&str] = &[
    "name",
    "description",
    "expect",
    "expect_error",
    "cedar_store",
    "avp_request",
    "identity_claims",
    "access_claims",
    "determining",
    "now",
];

pub(crate) const POLICY_KEYS: &[&str] = &[
    "identity",
    "resource",
    "boundaries",
    "scps",
    "rcps",
    "session",
];

pub(crate) fn files_for(
    suite: &serde_json::Map<String, Value>,
    case: &serde_json::Map<String, Value>,
    base: &Path,
) -> Result<PolicyFiles, Failure> {
    let get = |k: &str| case.get(k).or_else(|| suite.get(k));
    let mut f = PolicyFiles::default();
    if let Some(v) = get("identity") {
        f.identity = policy_list(v, base, PolicyType::Identity, "identity")?;
    }
    if let Some(v) = get("resource") {
        let docs = policy_list(v, base, PolicyType::Resource, "resource");
        // A trust policy is a resource policy of type trust: retry with that type.
        let docs = match docs {
            Ok(d) => d,
            Err(_) => policy_list(v, base, PolicyType::Trust, "resource")?,
        };
        f.resource = docs.into_iter().next();
    }
    if let Some(v) = get("boundaries") {
        f.boundary = policy_list(v, base, PolicyType::Boundary, "boundaries")?;
    }
    if let Some(v) = get("session") {
        f.session = policy_list(v, base, PolicyType::Session, "session")?;
    }
    if let Some(v) = get("scps") {
        f.scps = levels(v, base, PolicyType::Scp, "scps")?;
    }
    if let Some(v) = get("rcps") {
        f.rcps = levels(v, base, PolicyType::Rcp, "rcps")?;
    }
    Ok(f)
}

/// Runs one suite file.
pub fn run_suite(path: &Path) -> Result<Vec<CaseResult>, String> {
    let text = String::from_utf8(crate::read_file(path)?)
        .map_err(|_| format!("{}: not UTF-8", path.display()))?;
    let name = path.display().to_string();
    let suite: Value = crate::input::json_text(&name, &text)?;
    let suite = suite
        .as_object()
        .ok_or_else(|| format!("{name}: a suite is a JSON object"))?;
    for k in suite.keys() {
        if !POLICY_KEYS.contains(&k.as_str()) && !SUITE_FIELDS.contains(&k.as_str()) {
            return Err(format!("{name}: unknown suite field `{k}`"));
        }
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let cases = suite
        .get("cases")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{name}: missing `cases` array"))?;
    if cases.is_empty() {
        return Err(format!(
            "{name}: the suite has no cases (an empty suite would pass without testing anything)"
        ));
    }
    let mut out = Vec::new();
    let mut shared: Option<Result<Authorizer, Failure>> = None;
    let mut gateway: Option<apigw::Gateway> = None;
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
                return Err(format!(
                    "{what}: unknown field `{k}` for {kind} (fields: {})",
                    allowed.join(", ")
                ));
            }
        }
        if obj.contains_key("http_request") {
            let case = Case {
                suite,
                obj,
                base,
                name: &name,
                case_name: &case_name,
                what: &what,
            };
            let gw = match &mut gateway {
                Some(g) => g,
                None => {
                    gateway.insert(apigw::gateway(suite, base).map_err(|e| format!("{name}: {e}"))?)
                }
            };
            out.push(apigw::apigw_case(&case, gw)?);
            continue;
        }
        if obj.contains_key("expect") == obj.contains_key("expect_error") {
            return Err(format!(
                "{what}: give exactly one of `expect` and `expect_error`"
            ));
        }
        let case = Case {
            suite,
            obj,
            base,
            name: &name,
            case_name: &case_name,
            what: &what,
        };
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
pub fn find_suites(args: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for a in args {
        let p = Path::new(a);
        if p.is_dir() {
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
                out.push(m.map_err(|e| e.to_string())?);
                n += 1;
            }
            if n == 0 {
                return Err(format!("`{a}` does not exist"));
            }
        }
    }
    if out.is_empty() {
        return Err("no test suites found (suites are *.suite.json)".into());
    }
    Ok(out)
}

/// Runs suites and returns their results (for tests and embedding).
pub fn run_suites(args: &[String]) -> Result<Vec<CaseResult>, String> {
    run_all(&find_suites(args)?)
}

/// Runs suites on every core, in chunks, and returns their results in the order of `suites`. The first
/// error (in that order) wins, as it would running them one by one.
pub fn run_all(suites: &[PathBuf]) -> Result<Vec<CaseResult>, String> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(suites.len().max(1));
    if workers <= 1 || suites.len() < 8 {
        let mut v = Vec::new();
        for s in suites {
            v.extend(run_suite(s)?);
        }
        return Ok(v);
    }
    let chunk = suites.len().div_ceil(workers);
    let parts: Vec<Result<Vec<CaseResult>, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = suites
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut v = Vec::new();
                    for s in part {
                        v.extend(run_suite(s)?);
                    }
                    Ok(v)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a suite worker panicked".to_string()))
            })
            .collect()
    });
    let mut v = Vec::with_capacity(parts.iter().map(|p| p.as_ref().map_or(0, Vec::len)).sum());
    for p in parts {
        v.extend(p?);
    }
    Ok(v)
}
