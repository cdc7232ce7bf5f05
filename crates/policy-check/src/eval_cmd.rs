//! `policy-check eval` and `policy-check test`: requests, suites, policy loading.

use std::io::Write;
use std::path::{Path, PathBuf};

use authz_core::{Context, ContextValue, Decision, Layer, Request};
use iam_eval::{Authorizer, Explanation, PolicySet, Verdict};
use iam_policy::{PolicyDocument, PolicyType, Source, ValidateOptions};
use serde_json::Value;

use crate::Format;

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Identity-based policies of the principal.
    #[arg(long = "policy", value_name = "FILE")]
    pub policies: Vec<PathBuf>,
    /// The resource's resource-based policy (or a role's trust policy).
    #[arg(long = "resource-policy", value_name = "FILE")]
    pub resource_policy: Option<PathBuf>,
    /// Permissions boundary.
    #[arg(long = "boundary", value_name = "FILE")]
    pub boundaries: Vec<PathBuf>,
    /// Service control policies, one per organization level from the root down.
    #[arg(long = "scp", value_name = "FILE")]
    pub scps: Vec<PathBuf>,
    /// Resource control policies, one per organization level from the root down.
    #[arg(long = "rcp", value_name = "FILE")]
    pub rcps: Vec<PathBuf>,
    /// Session policy.
    #[arg(long = "session-policy", value_name = "FILE")]
    pub session: Option<PathBuf>,
    /// Request file: one JSON request, a JSON array of requests, or JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub request: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

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

/// A request as read from JSON, owning its strings.
#[derive(Debug, Clone)]
pub struct OwnedRequest {
    /// Principal ARN, service, provider, or `None` (anonymous).
    pub principal: Option<String>,
    /// `service:Action`.
    pub action: String,
    /// Resource ARN.
    pub resource: String,
    /// Resource account.
    pub resource_account: Option<String>,
    /// The principal has a permissions boundary.
    pub has_boundary: bool,
    /// The IAM user behind a federated-user session.
    pub session_issuer: Option<String>,
    /// Context.
    pub context: Context,
}

impl OwnedRequest {
    /// Borrows it as a [`Request`].
    pub fn as_request(&self) -> Request<'_> {
        Request {
            principal: self.principal.as_deref(),
            action: &self.action,
            resource: &self.resource,
            resource_account: self.resource_account.as_deref(),
            has_boundary: self.has_boundary,
            session_issuer: self.session_issuer.as_deref(),
            context: &self.context,
        }
    }
}

const REQUEST_FIELDS: &[&str] = &[
    "principal",
    "action",
    "resource",
    "context",
    "resource_account",
    "principal_has_boundary",
    "session_issuer",
    "expect",
    "sid",
    "name",
];

/// Reads a request object. Errors name the field.
pub fn request_from_json(v: &Value, what: &str) -> Result<OwnedRequest, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{what}: a request must be a JSON object"))?;
    for k in obj.keys() {
        if !REQUEST_FIELDS.contains(&k.as_str()) {
            return Err(format!(
                "{what}: unknown field `{k}` (fields: principal, action, resource, context, resource_account, principal_has_boundary, session_issuer)"
            ));
        }
    }
    let string = |k: &str, required: bool| -> Result<Option<String>, String> {
        match obj.get(k) {
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(format!("{what}: missing field `{k}`")),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(format!(
                "{what}: field `{k}` must be a string, found {other}"
            )),
        }
    };
    let action = string("action", true)?.unwrap_or_default();
    if !action.contains(':') || action.contains(['*', '?']) {
        return Err(format!(
            "{what}: field `action` must be one concrete service:Action, found `{action}`"
        ));
    }
    let resource = string("resource", true)?.unwrap_or_default();
    if resource.is_empty() {
        return Err(format!("{what}: field `resource` is empty"));
    }
    let mut context = Context::new();
    if let Some(c) = obj.get("context") {
        let c = c
            .as_object()
            .ok_or_else(|| format!("{what}: field `context` must be an object"))?;
        for (k, v) in c {
            let scalar = |x: &Value| -> Result<String, String> {
                match x {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    Value::Bool(b) => Ok(b.to_string()),
                    other => Err(format!(
                        "{what}: context key `{k}` has an unsupported value {other}"
                    )),
                }
            };
            let cv = match v {
                Value::Array(items) => {
                    ContextValue::multi(items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?)
                }
                other => ContextValue::single(scalar(other)?),
            };
            context.insert_value(k, cv);
        }
    }
    let has_boundary = match obj.get("principal_has_boundary") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(format!(
                "{what}: field `principal_has_boundary` must be a boolean, found {other}"
            ));
        }
    };
    Ok(OwnedRequest {
        principal: string("principal", false)?,
        action,
        resource,
        resource_account: string("resource_account", false)?,
        has_boundary,
        session_issuer: string("session_issuer", false)?,
        context,
    })
}

/// Reads a request file: one object, an array, or JSON Lines.
pub fn read_requests(path: &Path) -> Result<Vec<(Value, OwnedRequest)>, String> {
    let text = String::from_utf8(crate::read_file(path)?)
        .map_err(|_| format!("{}: not UTF-8", path.display()))?;
    let name = path.display();
    let values: Vec<Value> = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(items)) => items,
        Ok(v) => vec![v],
        Err(first) => {
            let mut out = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                out.push(serde_json::from_str(line).map_err(|e| {
                    if i == 0 {
                        format!("{name}: {first}")
                    } else {
                        format!("{name}:{}: {e}", i + 1)
                    }
                })?);
            }
            out
        }
    };
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let r = request_from_json(&v, &format!("{name}: request #{}", i + 1))?;
            Ok((v, r))
        })
        .collect()
}

/// Loads one policy file as `ty`: parse + validate; any error refuses it (fail closed).
pub fn load_policy(path: &Path, ty: PolicyType) -> Result<PolicyDocument, String> {
    let bytes = crate::read_file(path)?;
    load_policy_text(&path.display().to_string(), &bytes, ty)
}

/// Parses and validates a policy text; renders the errors when it is refused.
pub fn load_policy_text(
    name: &str,
    bytes: &[u8],
    ty: PolicyType,
) -> Result<PolicyDocument, String> {
    let c = iam_policy::check(name, bytes, ty, &ValidateOptions::default());
    if c.has_errors() {
        let mut s = format!("policy `{name}` is invalid as {ty} policy:\n");
        for d in c.diagnostics.iter().filter(|d| d.is_error()) {
            s.push_str(&crate::validate_cmd::render(d, &c.source, 100));
        }
        return Err(s.trim_end().to_string());
    }
    c.document
        .ok_or_else(|| format!("policy `{name}` could not be read"))
}

/// The policies of an evaluation, by layer, before compiling.
#[derive(Debug, Default, Clone)]
pub struct PolicyFiles {
    /// Identity policies.
    pub identity: Vec<PolicyDocument>,
    /// Resource policy.
    pub resource: Option<PolicyDocument>,
    /// Boundaries (pooled).
    pub boundary: Vec<PolicyDocument>,
    /// Session policies (pooled).
    pub session: Vec<PolicyDocument>,
    /// SCP levels.
    pub scps: Vec<Vec<PolicyDocument>>,
    /// RCP levels.
    pub rcps: Vec<Vec<PolicyDocument>>,
}

impl PolicyFiles {
    /// Compiles everything into an [`Authorizer`].
    pub fn compile(self) -> Result<Authorizer, String> {
        let c = |l, d: Vec<PolicyDocument>| PolicySet::compile(l, d).map_err(|e| e.to_string());
        let resource_is_trust = self.resource.as_ref().is_some_and(|d| {
            d.statements.iter().all(|s| {
                s.action
                    .as_ref()
                    .is_some_and(|a| a.items.iter().all(|i| i.service.as_deref() == Some("sts")))
            })
        });
        let mut a = Authorizer::new(c(Layer::Identity, self.identity)?);
        a.resource = self
            .resource
            .map(|d| c(Layer::Resource, vec![d]))
            .transpose()?;
        a.resource_policy_required = resource_is_trust;
        a.boundary = (!self.boundary.is_empty())
            .then(|| c(Layer::Boundary, self.boundary))
            .transpose()?;
        a.session = (!self.session.is_empty())
            .then(|| c(Layer::Session, self.session))
            .transpose()?;
        for (i, level) in self.scps.into_iter().enumerate() {
            a.scps
                .push(c(Layer::Scp(u8::try_from(i).unwrap_or(u8::MAX)), level)?);
        }
        for (i, level) in self.rcps.into_iter().enumerate() {
            a.rcps
                .push(c(Layer::Rcp(u8::try_from(i).unwrap_or(u8::MAX)), level)?);
        }
        Ok(a)
    }
}

/// A decision as JSON.
pub fn outcome_json(auth: &Authorizer, ex: &Explanation) -> Value {
    let o = ex.outcome;
    let decided = o.decided_by.and_then(|at| auth.statement(at)).map(|i| {
        let (file, line, column) = i.location();
        serde_json::json!({"policy": file, "sid": i.sid(), "statement": i.at.statement, "line": line, "column": column})
    });
    let statements: Vec<Value> = ex
        .statements
        .iter()
        .map(|s| {
            serde_json::json!({
                "statement": s.label,
                "sid": s.sid,
                "effect": s.effect.as_str(),
                "applies": s.verdict == Verdict::Applies,
                "reason": reason(s),
            })
        })
        .collect();
    serde_json::json!({
        "decision": o.decision.as_str(),
        "decided_by": decided,
        "blocked_by": o.blocked_by.map(|l| l.to_string()),
        "statements": statements,
        "missing_context": ex.missing_context,
    })
}

/// Why a statement did or did not apply, in words.
pub fn reason(s: &iam_eval::StatementExplanation) -> String {
    match &s.verdict {
        Verdict::Applies => "applies".into(),
        Verdict::ActionNotMatched => "action not matched".into(),
        Verdict::ResourceNotMatched => "resource not matched".into(),
        Verdict::PrincipalNotMatched => "principal not matched".into(),
        Verdict::ConditionFailed(i) => match s.conditions.get(*i) {
            Some(c) => {
                let req = match &c.request_values {
                    None => "absent".to_string(),
                    Some(v) => format!("{v:?}"),
                };
                let mut r = format!(
                    "condition {} `{}` failed: policy {:?}, request {req}",
                    c.operator, c.key, c.policy_values
                );
                if let Some(n) = &c.note {
                    r.push_str(&format!(" ({n})"));
                }
                r
            }
            None => "condition failed".into(),
        },
    }
}

/// Human-readable explanation.
pub fn explain_text(auth: &Authorizer, ex: &Explanation) -> String {
    let o = ex.outcome;
    let mut s = format!("decision: {}", o.decision);
    if let Some(i) = o.decided_by.and_then(|at| auth.statement(at)) {
        s.push_str(&format!(" by {}", i.label()));
    } else if let Some(l) = o.blocked_by {
        s.push_str(&format!(" (no allow from the {l})"));
    }
    s.push('\n');
    s.push_str(&statements_text(ex));
    s
}

/// The per-statement lines of an explanation (and the missing context keys), without the decision line.
pub fn statements_text(ex: &Explanation) -> String {
    let mut s = String::new();
    for st in &ex.statements {
        let mark = if st.verdict == Verdict::Applies {
            "✓"
        } else {
            "✗"
        };
        s.push_str(&format!(
            "  {mark} {} {}: {}\n",
            st.effect.as_str(),
            st.label,
            reason(st)
        ));
    }
    if !ex.missing_context.is_empty() {
        s.push_str(&format!(
            "  missing context keys: {}\n",
            ex.missing_context.join(", ")
        ));
    }
    s
}

pub(crate) fn run_eval(
    a: &EvalArgs,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, String> {
    let mut files = PolicyFiles::default();
    for p in &a.policies {
        files.identity.push(load_policy(p, PolicyType::Identity)?);
    }
    if let Some(p) = &a.resource_policy {
        let bytes = crate::read_file(p)?;
        let name = p.display().to_string();
        let (_, doc, _) = iam_policy::parse_bytes(&name, &bytes);
        let ty = doc
            .as_ref()
            .map_or(PolicyType::Resource, crate::validate_cmd::infer_type);
        let ty = if ty == PolicyType::Identity {
            PolicyType::Resource
        } else {
            ty
        };
        files.resource = Some(load_policy_text(&name, &bytes, ty)?);
    }
    for p in &a.boundaries {
        files.boundary.push(load_policy(p, PolicyType::Boundary)?);
    }
    if let Some(p) = &a.session {
        files.session.push(load_policy(p, PolicyType::Session)?);
    }
    for p in &a.scps {
        files.scps.push(vec![load_policy(p, PolicyType::Scp)?]);
    }
    for p in &a.rcps {
        files.rcps.push(vec![load_policy(p, PolicyType::Rcp)?]);
    }
    let requests = read_requests(&a.request)?;
    if requests.is_empty() {
        return Err(format!("{}: no requests", a.request.display()));
    }
    let auth = files.compile()?;
    let mut any_deny = false;
    for (_, r) in &requests {
        let ex = auth.explain(&r.as_request());
        any_deny |= ex.outcome.decision.is_deny();
        match a.format {
            Format::Json => {
                let mut v = outcome_json(&auth, &ex);
                if let Some(o) = v.as_object_mut() {
                    o.insert("request".into(), serde_json::json!({"action": r.action, "resource": r.resource, "principal": r.principal}));
                }
                let _ = writeln!(out, "{v}");
            }
            Format::Human => {
                let _ = writeln!(
                    out,
                    "{} {} on {}",
                    r.principal.as_deref().unwrap_or("(anonymous)"),
                    r.action,
                    r.resource
                );
                let _ = write!(out, "{}", explain_text(&auth, &ex));
            }
        }
    }
    Ok(if any_deny { 2 } else { 0 })
}

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
    fn new(expect: Decision, actual: Decision) -> Self {
        Self {
            expect: expect.to_string(),
            actual: actual.to_string(),
            pass: expect == actual,
            detail: String::new(),
        }
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

    /// The deciding statement's `Sid`, when the case states one.
    fn sid(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        got: Option<&str>,
        what: &str,
    ) -> Result<(), String> {
        match obj.get("sid") {
            None => Ok(()),
            Some(Value::String(want)) => {
                self.field("Sid", want, got);
                Ok(())
            }
            Some(other) => Err(format!("{what}: `sid` must be a string, found {other}")),
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

fn policy_list(
    v: &Value,
    base: &Path,
    ty: PolicyType,
    what: &str,
) -> Result<Vec<PolicyDocument>, String> {
    let one = |x: &Value, i: usize| -> Result<PolicyDocument, String> {
        match x {
            Value::String(p) => load_policy(&base.join(p), ty),
            Value::Object(_) => {
                let text = serde_json::to_string_pretty(x).map_err(|e| e.to_string())?;
                load_policy_text(&format!("{what}[{i}] (inline)"), text.as_bytes(), ty)
            }
            other => Err(format!(
                "{what}: a policy is a path or an inline document, found {other}"
            )),
        }
    };
    match v {
        Value::Array(items) => items.iter().enumerate().map(|(i, x)| one(x, i)).collect(),
        x => Ok(vec![one(x, 0)?]),
    }
}

fn levels(
    v: &Value,
    base: &Path,
    ty: PolicyType,
    what: &str,
) -> Result<Vec<Vec<PolicyDocument>>, String> {
    let Value::Array(items) = v else {
        return Ok(vec![policy_list(v, base, ty, what)?]);
    };
    items
        .iter()
        .enumerate()
        .map(|(i, x)| policy_list(x, base, ty, &format!("{what}[{i}]")))
        .collect()
}

const SUITE_FIELDS: &[&str] = &[
    "name",
    "description",
    "cases",
    "identity_pool",
    "token_verifier",
    "cedar_store",
];
/// Fields of an IAM case (besides the policy keys).
const IAM_CASE_FIELDS: &[&str] = &[
    "name",
    "description",
    "request",
    "expect",
    "sid",
    "expect_error",
];
/// Fields of an identity-pool case.
const POOL_CASE_FIELDS: &[&str] = &[
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
const CEDAR_CASE_FIELDS: &[&str] = &[
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
const POLICY_KEYS: &[&str] = &[
    "identity",
    "resource",
    "boundaries",
    "scps",
    "rcps",
    "session",
];

fn files_for(
    suite: &serde_json::Map<String, Value>,
    case: &serde_json::Map<String, Value>,
    base: &Path,
) -> Result<PolicyFiles, String> {
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
    let suite: Value = serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
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
    let mut shared: Option<Result<Authorizer, String>> = None;
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
        let (kind, allowed, policies_ok) = if obj.contains_key("avp_request") {
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
        if obj.contains_key("expect") == obj.contains_key("expect_error") {
            return Err(format!(
                "{what}: give exactly one of `expect` and `expect_error`"
            ));
        }
        if obj.contains_key("avp_request") {
            out.push(cedar_case(suite, obj, base, &name, &case_name, &what)?);
            continue;
        }
        if ["claims", "token", "guest"]
            .iter()
            .any(|k| obj.contains_key(*k))
        {
            out.push(pool_case(suite, obj, base, &name, &case_name, &what)?);
            continue;
        }
        let own_policies = POLICY_KEYS.iter().any(|k| obj.contains_key(*k));
        let auth = if own_policies {
            files_for(suite, obj, base).and_then(PolicyFiles::compile)
        } else {
            shared
                .get_or_insert_with(|| {
                    files_for(suite, &serde_json::Map::new(), base).and_then(PolicyFiles::compile)
                })
                .clone()
        };
        let mk = |expect: String, actual: String, pass: bool, detail: String| {
            CaseResult::new(&name, &case_name, expect, actual, pass, detail)
        };
        if let Some(code) = obj.get("expect_error") {
            let code = code.as_str().ok_or_else(|| {
                format!("{what}: `expect_error` must be a diagnostic code string")
            })?;
            if let Err(e) = &auth
                && e.starts_with("cannot read")
            {
                return Err(format!("{what}: {e}"));
            }
            let r = match &auth {
                Err(e) if e.contains(code) => mk(
                    format!("Error {code}"),
                    format!("Error {code}"),
                    true,
                    String::new(),
                ),
                Err(e) => mk(format!("Error {code}"), "Error".into(), false, e.clone()),
                Ok(_) => mk(
                    format!("Error {code}"),
                    "accepted".into(),
                    false,
                    "the policies were accepted".into(),
                ),
            };
            out.push(r);
            continue;
        }
        let expect: Decision = obj
            .get("expect")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                format!("{what}: missing `expect` (Allow, ExplicitDeny or ImplicitDeny)")
            })?
            .parse()
            .map_err(|e| format!("{what}: {e}"))?;
        let req = request_from_json(
            obj.get("request")
                .ok_or_else(|| format!("{what}: missing `request`"))?,
            &what,
        )?;
        // Policies that cannot be loaded leave the expectation uncheckable: bad input, not a failed test.
        let auth = auth.map_err(|e| format!("{what}: {e}"))?;
        let ex = auth.explain(&req.as_request());
        let decided_sid = ex
            .outcome
            .decided_by
            .and_then(|at| auth.statement(at))
            .and_then(|i| i.sid().map(str::to_string));
        let mut cmp = Compare::new(expect, ex.outcome.decision);
        cmp.sid(obj, decided_sid.as_deref(), &what)?;
        let mut detail = cmp.detail;
        if !cmp.pass {
            detail.push_str(&explain_text(&auth, &ex));
        }
        out.push(mk(cmp.expect, cmp.actual, cmp.pass, detail));
    }
    Ok(out)
}

#[expect(
    clippy::indexing_slicing,
    reason = "serde_json::Value indexing by key yields Null, never panics"
)]
/// A Cedar case: an AVP request against a policy store; tokens are verified against the store's
/// identity source, or claims are given explicitly (`identity_claims` / `access_claims`, unverified).
fn cedar_case(
    suite: &serde_json::Map<String, Value>,
    obj: &serde_json::Map<String, Value>,
    base: &Path,
    name: &str,
    case_name: &str,
    what: &str,
) -> Result<CaseResult, String> {
    let store_rel = obj
        .get("cedar_store")
        .or_else(|| suite.get("cedar_store"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: `avp_request` needs a `cedar_store`"))?;
    let store_dir = base.join(store_rel);
    let store = cedar_bridge::PolicyStore::load(&store_dir).map_err(|e| format!("{what}: {e}"))?;
    let mut req = obj.get("avp_request").cloned().unwrap_or(Value::Null);
    if let Some(want) = obj.get("expect_error").and_then(Value::as_str) {
        crate::cedar_cmd::resolve_tokens(&mut req, base);
        let r = crate::cedar_cmd::run_request(
            &store,
            &store_dir,
            &req,
            None,
            obj.get("now").and_then(Value::as_i64),
            &cedar_bridge::avp::TokenClaims::default(),
        );
        let (actual, pass, detail) = match r {
            Err(e) => {
                let text = match e.exception() {
                    Some(x) => format!("{x}: {e}"),
                    None => e.to_string(),
                };
                if text.contains(want) {
                    (format!("Error {want}"), true, String::new())
                } else {
                    ("Error".to_string(), false, text)
                }
            }
            Ok((resp, _)) => ("accepted".to_string(), false, resp.to_string()),
        };
        return Ok(CaseResult::new(
            name,
            case_name,
            format!("Error {want}"),
            actual,
            pass,
            detail,
        ));
    }
    let expect: Decision = obj
        .get("expect")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: missing `expect`"))?
        .parse()
        .map_err(|e| format!("{what}: {e}"))?;
    crate::cedar_cmd::resolve_tokens(&mut req, base);
    let claims = cedar_bridge::avp::TokenClaims {
        identity: obj
            .get("identity_claims")
            .and_then(Value::as_object)
            .cloned(),
        access: obj.get("access_claims").and_then(Value::as_object).cloned(),
    };
    let mk = |actual: String, pass: bool, detail: String| {
        CaseResult::new(name, case_name, expect.to_string(), actual, pass, detail)
    };
    match crate::cedar_cmd::run_request(
        &store,
        &store_dir,
        &req,
        None,
        obj.get("now").and_then(Value::as_i64),
        &claims,
    ) {
        Ok((resp, decisions)) => {
            let actual = decisions.first().copied().unwrap_or(Decision::ImplicitDeny);
            let mut pass = actual == expect;
            let mut detail = String::new();
            if let Some(want) = obj.get("determining").and_then(Value::as_array) {
                let got: Vec<&Value> = resp["determiningPolicies"]
                    .as_array()
                    .map(|a| a.iter().map(|p| &p["policyId"]).collect())
                    .unwrap_or_default();
                let want: Vec<&Value> = want.iter().collect();
                if got != want {
                    pass = false;
                    detail.push_str(&format!(
                        "expected determining policies {want:?}, got {got:?}\n"
                    ));
                }
            }
            if !pass {
                detail.push_str(&resp.to_string());
            }
            Ok(mk(actual.to_string(), pass, detail))
        }
        // A refused token or a malformed request is an error, never a deny: the case states a decision
        // it cannot have.
        Err(e) => Ok(mk(
            match e.exception() {
                Some(x) => format!("Error {x}"),
                None => "Error".into(),
            },
            false,
            e.to_string(),
        )),
    }
}

/// A case decided through an identity pool: claims (unverified), a token (verified with the suite's
/// `token_verifier`), or a guest.
fn pool_case(
    suite: &serde_json::Map<String, Value>,
    obj: &serde_json::Map<String, Value>,
    base: &Path,
    name: &str,
    case_name: &str,
    what: &str,
) -> Result<CaseResult, String> {
    let pool_path = suite
        .get("identity_pool")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            format!("{what}: claims, token or guest need a suite-level `identity_pool`")
        })?;
    let pool =
        cognito::IdentityPool::load(&base.join(pool_path)).map_err(|e| format!("{what}: {e}"))?;
    let req = crate::cognito_cmd::pool_request(
        obj.get("request")
            .ok_or_else(|| format!("{what}: missing `request`"))?,
        what,
    )?;
    let verifier = suite.get("token_verifier");
    let verify = verifier.map(|v| {
        (
            v.get("jwks").and_then(Value::as_str).unwrap_or(""),
            v.get("user_pool_id").and_then(Value::as_str).unwrap_or(""),
            v.get("client_id").and_then(Value::as_str).unwrap_or(""),
        )
    });
    let token = match obj.get("token") {
        None => None,
        Some(Value::String(t)) => {
            // A token may be given inline or as a file next to the suite.
            let p = base.join(t);
            let looks_like_jwt = t.split('.').count() == 3 && !t.contains(['/', '\\']);
            if looks_like_jwt && !p.is_file() {
                Some(t.clone())
            } else {
                Some(
                    std::fs::read_to_string(&p)
                        .map(|s| s.trim().to_string())
                        .map_err(|e| {
                            format!("{what}: cannot read token file `{}`: {e}", p.display())
                        })?,
                )
            }
        }
        Some(other) => return Err(format!("{what}: `token` must be a string, found {other}")),
    };
    let at = obj.get("now").and_then(Value::as_i64);
    // Refusals before any policy is evaluated (a token that fails verification, a provider the pool does
    // not trust, a request that overrides the session's keys) are errors with a code, not decisions.
    let result =
        crate::cognito_cmd::claims_from(token.as_deref(), obj.get("claims"), verify, base, at)
            .and_then(|claims| {
                match obj.get("basic_flow_role").and_then(Value::as_str) {
                    Some(role) => pool.decide_basic(claims.as_ref(), role, &req),
                    None => pool.decide(
                        claims.as_ref(),
                        obj.get("custom_role_arn").and_then(Value::as_str),
                        &req,
                    ),
                }
                .map_err(|e| e.to_string())
            });
    if let Some(want) = obj.get("expect_error") {
        let want = want
            .as_str()
            .ok_or_else(|| format!("{what}: `expect_error` must be an error code string"))?;
        let (actual, pass, detail) = match &result {
            Err(e) if e.contains(want) => (format!("Error {want}"), true, String::new()),
            Err(e) => ("Error".to_string(), false, e.clone()),
            Ok(d) => (d.decision.to_string(), false, d.reason.clone()),
        };
        return Ok(CaseResult::new(
            name,
            case_name,
            format!("Error {want}"),
            actual,
            pass,
            detail,
        ));
    }
    let expect: Decision = obj
        .get("expect")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: missing `expect`"))?
        .parse()
        .map_err(|e| format!("{what}: {e}"))?;
    let d = match result {
        Ok(d) => d,
        Err(e) => {
            return Ok(CaseResult::new(
                name,
                case_name,
                expect.to_string(),
                "Error".into(),
                false,
                e,
            ));
        }
    };
    let mut cmp = Compare::new(expect, d.decision);
    let decided_sid = d.explanation.as_ref().and_then(|ex| {
        let at = ex.outcome.decided_by?;
        ex.statements
            .iter()
            .find(|s| s.at == at)
            .and_then(|s| s.sid.clone())
    });
    cmp.sid(obj, decided_sid.as_deref(), what)?;
    match obj.get("role") {
        None => {}
        Some(Value::String(want)) => {
            cmp.field("role", want, d.role.as_ref().map(|r| r.role_arn.as_str()));
        }
        Some(other) => {
            return Err(format!(
                "{what}: `role` must be a role ARN string, found {other}"
            ));
        }
    }
    let mut detail = cmp.detail;
    if !cmp.pass {
        detail.push_str(&crate::cognito_cmd::pool_decision_text(&req, &d));
    }
    Ok(CaseResult::new(
        name, case_name, cmp.expect, cmp.actual, cmp.pass, detail,
    ))
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

pub(crate) fn run_test(
    a: &TestArgs,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, String> {
    let suites = find_suites(&a.suites)?;
    let mut results = Vec::new();
    for s in &suites {
        results.extend(run_suite(s)?);
    }
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

/// Runs suites and returns their results (for tests and embedding).
pub fn run_suites(args: &[String]) -> Result<Vec<CaseResult>, String> {
    let mut v = Vec::new();
    for s in find_suites(args)? {
        v.extend(run_suite(&s)?);
    }
    Ok(v)
}

#[expect(dead_code, reason = "kept for callers that build a Source by hand")]
fn source(name: &str, text: &str) -> Source {
    Source::new(name, text)
}
