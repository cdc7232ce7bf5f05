//! The cedar CLI's `run-tests` format, so tests written for `cedar run-tests --policies P --tests T
//! [--schema S]` run unchanged under `policy-check test T --policies P [--schema S]`.
//!
//! A tests file is a JSON array of cases: `{"name"?, "request": {"principal", "action", "resource",
//! "context"?}, "entities": [...], "decision": "allow" | "deny", "reason": [policy ids], "num_errors":
//! n}`. A case passes when the decision matches, every policy named in `reason` is among the determining
//! policies (a subset, as the cedar CLI checks it), and exactly `num_errors` policies failed to evaluate.
//! Policy ids are the cedar CLI's: an `@id("…")` annotation, otherwise `policy0`, `policy1`, … in file
//! order (Cedar text) or the set's own ids (Cedar's JSON policy format, `--policy-format json` or a
//! `.json` file). With a schema, the policies are validated strictly first (an invalid policy set is an error of
//! the run, not a failure of every case), and the requests, contexts and entities are checked against it.

use crate::Failure;
use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request, Schema,
};
use serde_json::Value;

use crate::suite::CaseResult;

use crate::input::StrictValue;

/// One case as the cedar CLI writes it, decoded as it is read (an unknown field, a wrong type or a
/// missing one is a `json::shape` error at its line and column).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseDef {
    name: Option<String>,
    request: RequestDef,
    entities: StrictValue,
    decision: DecisionDef,
    /// The policy ids expected to determine the decision.
    reason: Vec<String>,
    /// The number of policies expected to fail to evaluate.
    num_errors: usize,
}

/// `request`: entity uids written as Cedar text (`User::"alice"`), and a context.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestDef {
    principal: String,
    action: String,
    resource: String,
    context: Option<StrictValue>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum DecisionDef {
    Allow,
    Deny,
}

fn text(path: &Path) -> Result<(String, String), Failure> {
    let name = crate::display_name(path);
    let bytes = crate::read_file(path)?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{name}: not UTF-8"))?;
    Ok((name, text))
}

/// The policies (and schema) given on the command line, read, parsed and validated once for every
/// `run-tests` file (they were read again for each file).
pub struct CedarPolicies {
    set: PolicySet,
    schema: Option<Schema>,
}

impl CedarPolicies {
    /// Reads the policies (Cedar text, or Cedar's JSON format when `json`) and the schema they are
    /// validated against.
    pub fn load(policies: &Path, json: bool, schema: Option<&Path>) -> Result<Self, Failure> {
        let (pname, ptext) = text(policies)?;
        let set = if json {
            cedar_bridge::cli_policy_set_json(&pname, &ptext)
        } else {
            cedar_bridge::cli_policy_set(&pname, &ptext)
        }?;
        let schema = match schema {
            Some(p) => {
                let (sname, stext) = text(p)?;
                let s = cedar_bridge::schema_file(&sname, &stext)?;
                cedar_bridge::validate_cli_policies(&set, &s, &pname, &ptext)
                    .map_err(|e| Failure::from(e).at(&pname))?;
                Some(s)
            }
            None => None,
        };
        Ok(Self { set, schema })
    }
}

/// Runs one `run-tests` file against the policies (and schema) given on the command line.
pub fn run_cedar_tests(tests: &Path, policies: &CedarPolicies) -> Result<Vec<CaseResult>, Failure> {
    let CedarPolicies { set, schema } = policies;
    let (name, body) = text(tests)?;
    let suite: std::sync::Arc<str> = name.as_str().into();
    let authorizer = Authorizer::new();
    let one = |i: usize, c: CaseDef| -> Result<CaseResult, Failure> {
        let case_name = c.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
        let what = format!("{name}: case `{case_name}`");
        let case = parse_case(c, schema.as_ref()).map_err(|e| e.at(&what))?;
        Ok(run_case(&authorizer, set, &case, &suite, &case_name))
    };
    let not_array = || {
        Failure::from(format!(
            "{name}: a cedar `run-tests` file is a JSON array of test cases"
        ))
    };
    let empty = || {
        Failure::from(format!(
            "{name}: no test cases (an empty file would pass without testing anything)"
        ))
    };
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if body.len() < PARALLEL_BYTES || workers <= 1 {
        // Small files (most): read whole, run here (files themselves run side by side).
        let mut cases = Vec::new();
        match crate::input::json_array_stream(&name, &body, &mut |_, c: CaseDef| {
            cases.push(c);
            true
        })? {
            None => return Err(not_array()),
            Some(0) => return Err(empty()),
            Some(_) => {}
        }
        return cases
            .into_iter()
            .enumerate()
            .map(|(i, c)| one(i, c))
            .collect();
    }
    // A large file: cases are read one at a time and handed to the cores as they come, so they never all
    // exist at once (a whole 10,000-case file as a JSON tree outweighed the cedar CLI's memory) and the
    // reading overlaps the deciding. Results are put back in the file's order; the first error in that
    // order is reported.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, CaseDef)>(256);
    // Only the workers hold the receiving end: should they all stop, sending fails and reading stops
    // (it can never wait on a full channel nobody empties).
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let (read, done) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (rx, one) = (std::sync::Arc::clone(&rx), &one);
                scope.spawn(move || {
                    let mut out = Vec::new();
                    while let Ok(Ok((i, c))) = rx.lock().map(|r| r.recv()) {
                        out.push((i, one(i, c)));
                    }
                    out
                })
            })
            .collect();
        drop(rx);
        let read = crate::input::json_array_stream(&name, &body, &mut |i, c: CaseDef| {
            tx.send((i, c)).is_ok()
        });
        drop(tx);
        let done: Vec<_> = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Failure::from("a test worker panicked"))
            })
            .collect();
        (read, done)
    });
    match read? {
        None => return Err(not_array()),
        Some(0) => return Err(empty()),
        Some(_) => {}
    }
    let mut all = Vec::new();
    for d in done {
        all.extend(d?);
    }
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

/// The size from which a `run-tests` file's cases are read as a stream and shared among the cores.
const PARALLEL_BYTES: usize = 1 << 20;

struct TestCase {
    request: Request,
    entities: Entities,
    allow: bool,
    reason: Vec<String>,
    num_errors: usize,
}

fn uid(s: &str, k: &str) -> Result<EntityUid, Failure> {
    EntityUid::from_str(s)
        .map_err(|e| format!("failed to parse {k} `{s}`: {e}"))
        .map_err(Failure::from)
}

fn parse_case(c: CaseDef, schema: Option<&Schema>) -> Result<TestCase, Failure> {
    let CaseDef {
        request: req,
        entities,
        decision,
        reason,
        num_errors,
        ..
    } = c;
    let (principal, action, resource) = (
        uid(&req.principal, "principal")?,
        uid(&req.action, "action")?,
        uid(&req.resource, "resource")?,
    );
    let context_json = req
        .context
        .map_or_else(|| Value::Object(Default::default()), |c| c.0);
    // Shown when Cedar refuses it (the value itself goes to Cedar).
    let shown = context_json.to_string();
    let context = Context::from_json_value(context_json, schema.zip(Some(&action)))
        .map_err(|e| format!("failed to parse context `{shown}`: {e}"))?;
    let request = Request::new(principal, action, resource, context, schema)
        .map_err(|e| format!("failed to create request: {e}"))?;
    let entities_value = entities.0;
    // Cedar walks the hierarchy recursively: cycles and over-deep hierarchies are refused first.
    if let Some(list) = entities_value.as_array() {
        cedar_bridge::avp::check_entity_graph(list).map_err(|e| format!("entities: {e}"))?;
    }
    let entities = Entities::from_json_value(entities_value, schema)
        .map_err(|e| format!("failed to parse entities: {e}"))?;
    let allow = matches!(decision, DecisionDef::Allow);
    Ok(TestCase {
        request,
        entities,
        allow,
        reason,
        num_errors,
    })
}

fn run_case(
    authorizer: &Authorizer,
    set: &PolicySet,
    case: &TestCase,
    suite: &std::sync::Arc<str>,
    name: &str,
) -> CaseResult {
    let resp = authorizer.is_authorized(&case.request, set, &case.entities);
    let word = |allow: bool| if allow { "Allow" } else { "Deny" };
    let actual_allow = resp.decision() == Decision::Allow;
    let determining: BTreeSet<String> = resp
        .diagnostics()
        .reason()
        .map(ToString::to_string)
        .collect();
    let errors: Vec<String> = resp
        .diagnostics()
        .errors()
        .map(ToString::to_string)
        .collect();
    let mut problems = Vec::new();
    if actual_allow != case.allow {
        problems.push(format!(
            "expected {}, got {}",
            word(case.allow),
            word(actual_allow)
        ));
    } else {
        let missing: Vec<String> = case
            .reason
            .iter()
            .filter(|r| !determining.contains(*r))
            .map(|r| format!("`{r}`"))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("missing reason(s): {}", missing.join(", ")));
        }
        if errors.len() != case.num_errors {
            problems.push(format!(
                "expected {} error(s), but got {} runtime error(s){}",
                case.num_errors,
                errors.len(),
                if errors.is_empty() {
                    String::new()
                } else {
                    format!(": {}", errors.join(", "))
                }
            ));
        }
    }
    let why = if determining.is_empty() {
        "no policy applies".to_string()
    } else {
        format!(
            "determining: {}",
            determining.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    let pass = problems.is_empty();
    let detail = if pass {
        why
    } else {
        format!("{} ({why})", problems.join("; "))
    };
    CaseResult::new(
        suite,
        name,
        word(case.allow).to_string(),
        word(actual_allow).to_string(),
        pass,
        detail,
    )
}
