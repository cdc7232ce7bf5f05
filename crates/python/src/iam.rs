//! `PolicySet`: IAM policies in every layer, compiled once; `evaluate(request)` decides as `policy-check
//! eval` does (the same loading, type detection and evaluator) and returns an `Answer`.

use std::path::Path;
use std::sync::Arc;

use authz_core::{Decision, Outcome};
use diag::codes;
use iam_eval::Authorizer;
use iam_policy::{PolicyDocument, PolicyType};
use policy_check::input::OwnedRequest;
use policy_check::policies::{PolicyFiles, TypeChoice, load_policy_text};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use crate::errors::{At, argument, error};

/// A policy that does not load: the first error the parser or the validator reports, located.
fn load(name: &str, text: &[u8], ty: PolicyType) -> PyResult<PolicyDocument> {
    load_policy_text(name, text, ty).map_err(|f| {
        let (source, doc, mut diags) = iam_policy::parse_bytes(name, text);
        if let Some(d) = &doc {
            diags.extend(iam_policy::validate(d, ty, &Default::default()));
        }
        let first = diags.iter().find(|d| d.is_error());
        let at = At {
            file: Some(name.to_string()),
            line: first.map(|d| source.line_col(d.span.start).0),
            column: first.map(|d| source.line_col(d.span.start).1),
            aws_code: f.aws_code,
        };
        let code = first.map_or(f.code.unwrap_or(codes::EVAL_COMPILE), |d| d.code);
        let message = first.map_or(f.message, |d| d.message.clone());
        error(code, message, &at)
    })
}

/// The policies of each layer, as texts with names.
struct Inputs {
    identity: Vec<(String, Vec<u8>)>,
    resource: Option<(String, Vec<u8>)>,
    trust: Option<(String, Vec<u8>)>,
    boundary: Vec<(String, Vec<u8>)>,
    scps: Vec<Vec<(String, Vec<u8>)>>,
    rcps: Vec<Vec<(String, Vec<u8>)>>,
    session: Option<(String, Vec<u8>)>,
}

fn compile(i: Inputs) -> PyResult<Authorizer> {
    let mut files = PolicyFiles::default();
    for (n, t) in &i.identity {
        files.identity.push(load(n, t, PolicyType::Identity)?);
    }
    if let Some((n, t)) = &i.resource {
        let (_, doc, _) = iam_policy::parse_bytes(n, t);
        let choice = TypeChoice::detect(doc.as_ref());
        files.resource = Some(load(n, t, choice.ty)?);
        files.resource_type = Some(choice);
    }
    if let Some((n, t)) = &i.trust {
        if files.resource.is_some() {
            return Err(argument("give `resource` or `trust`, not both"));
        }
        files.resource = Some(load(n, t, PolicyType::Trust)?);
        files.resource_type = Some(TypeChoice {
            ty: PolicyType::Trust,
            declared: Some("trust="),
        });
    }
    for (n, t) in &i.boundary {
        files.boundary.push(load(n, t, PolicyType::Boundary)?);
    }
    if let Some((n, t)) = &i.session {
        files.session.push(load(n, t, PolicyType::Session)?);
    }
    for level in &i.scps {
        files.scps.push(
            level
                .iter()
                .map(|(n, t)| load(n, t, PolicyType::Scp))
                .collect::<PyResult<_>>()?,
        );
    }
    for level in &i.rcps {
        files.rcps.push(
            level
                .iter()
                .map(|(n, t)| load(n, t, PolicyType::Rcp))
                .collect::<PyResult<_>>()?,
        );
    }
    // Warnings `eval` prints (a 2008 Version accepted, …) are not errors here either.
    let _ = policy_check::policies::take_accepted();
    files.compile().map_err(|f| {
        error(
            f.code.unwrap_or(codes::EVAL_COMPILE),
            f.message,
            &At::default(),
        )
    })
}

/// IAM's decisions, as the Python `Decision` enum's members (looked up once).
fn decision_member(py: Python<'_>, d: Decision) -> PyResult<Py<PyAny>> {
    static MEMBERS: PyOnceLock<[Py<PyAny>; 3]> = PyOnceLock::new();
    let m = MEMBERS.get_or_try_init(py, || -> PyResult<_> {
        let e = py.import("policy_check._types")?.getattr("Decision")?;
        Ok([
            e.getattr("ALLOW")?.unbind(),
            e.getattr("EXPLICIT_DENY")?.unbind(),
            e.getattr("IMPLICIT_DENY")?.unbind(),
        ])
    })?;
    let [allow, explicit, implicit] = m;
    Ok(match d {
        Decision::Allow => allow,
        Decision::ExplicitDeny => explicit,
        Decision::ImplicitDeny => implicit,
    }
    .clone_ref(py))
}

/// A request dict (`principal`, `action`, `resource`, `context`, `resource_account`,
/// `principal_has_boundary`, `session_issuer`), read as `eval` reads a request file.
pub(crate) fn request(obj: &Bound<'_, PyAny>) -> PyResult<OwnedRequest> {
    if let Some(r) = plain_request(obj) {
        return Ok(r);
    }
    let v = crate::convert::json(obj, "the request")?;
    policy_check::input::request_from_json(&v, "request").map_err(|f| {
        error(
            f.code.unwrap_or(codes::PYTHON_REQUEST),
            f.message,
            &At::default(),
        )
    })
}

/// The common request read straight from the dict, without the JSON detour: `action` and `resource`
/// strings, an optional `principal` string and a `context` of strings and lists of strings. Anything else
/// (another field, a number or boolean in the context, a value that is not valid, a dict subclass with
/// its own lookups) is `None`, and the general reader decides it, with its errors: both give the same
/// request for what both read.
fn plain_request(obj: &Bound<'_, PyAny>) -> Option<OwnedRequest> {
    use pyo3::types::PyString;
    let d = obj.cast_exact::<PyDict>().ok()?;
    let text = |v: &Bound<'_, PyAny>| -> Option<String> {
        v.cast_exact::<PyString>()
            .ok()?
            .to_cow()
            .ok()
            .map(std::borrow::Cow::into_owned)
    };
    let (mut action, mut resource, mut principal) = (None, None, None);
    let mut context = authz_core::Context::new();
    for (k, v) in d.iter() {
        match &*k.cast_exact::<PyString>().ok()?.to_cow().ok()? {
            "action" => action = Some(text(&v)?),
            "resource" => resource = Some(text(&v)?),
            "principal" => principal = Some(text(&v)?),
            "context" => {
                for (ck, cv) in v.cast_exact::<PyDict>().ok()?.iter() {
                    let key = ck.cast_exact::<PyString>().ok()?;
                    let value = match cv.cast_exact::<PyList>() {
                        Ok(items) => authz_core::ContextValue::multi(
                            items.iter().map(|x| text(&x)).collect::<Option<Vec<_>>>()?,
                        ),
                        Err(_) => authz_core::ContextValue::single(text(&cv)?),
                    };
                    context.insert_value(&key.to_cow().ok()?, value);
                }
            }
            _ => return None,
        }
    }
    let (action, resource) = (action?, resource?);
    if !action.contains(':') || action.contains(['*', '?']) || resource.is_empty() {
        return None;
    }
    Some(OwnedRequest {
        principal,
        action: authz_core::Action::new(&action),
        resource,
        resource_account: None,
        has_boundary: false,
        session_issuer: None,
        context,
    })
}

/// IAM policies in every layer, compiled once (immutable; share it between threads).
#[pyclass(frozen, module = "policy_check._native")]
pub struct PolicySet {
    auth: Arc<Authorizer>,
}

fn read(path: &str) -> PyResult<(String, Vec<u8>)> {
    std::fs::read(Path::new(path))
        .map(|b| (path.to_string(), b))
        .map_err(|e| {
            error(
                codes::PYTHON_FILE,
                format!("cannot read: {e}"),
                &At {
                    file: Some(path.to_string()),
                    ..At::default()
                },
            )
        })
}

fn named(prefix: &str, texts: Vec<String>) -> Vec<(String, Vec<u8>)> {
    texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| (format!("{prefix}[{i}]"), t.into_bytes()))
        .collect()
}

#[pymethods]
impl PolicySet {
    /// From policy texts. Names in answers and errors are `identity[0]`, `resource`, `scps[1][0]`, ….
    #[staticmethod]
    #[pyo3(signature = (identity=Vec::new(), resource=None, trust=None, boundary=Vec::new(), scps=Vec::new(), rcps=Vec::new(), session=None))]
    #[allow(clippy::too_many_arguments)]
    fn from_json(
        py: Python<'_>,
        identity: Vec<String>,
        resource: Option<String>,
        trust: Option<String>,
        boundary: Vec<String>,
        scps: Vec<Vec<String>>,
        rcps: Vec<Vec<String>>,
        session: Option<String>,
    ) -> PyResult<Self> {
        let i = Inputs {
            identity: named("identity", identity),
            resource: resource.map(|t| ("resource".to_string(), t.into_bytes())),
            trust: trust.map(|t| ("trust".to_string(), t.into_bytes())),
            boundary: named("boundary", boundary),
            scps: scps
                .into_iter()
                .enumerate()
                .map(|(l, v)| named(&format!("scps[{l}]"), v))
                .collect(),
            rcps: rcps
                .into_iter()
                .enumerate()
                .map(|(l, v)| named(&format!("rcps[{l}]"), v))
                .collect(),
            session: session.map(|t| ("session".to_string(), t.into_bytes())),
        };
        let auth = py.detach(|| compile(i))?;
        Ok(Self {
            auth: Arc::new(auth),
        })
    }

    /// From policy files (names in answers are the paths, as the CLI's).
    #[staticmethod]
    #[pyo3(signature = (identity=Vec::new(), resource=None, trust=None, boundary=Vec::new(), scps=Vec::new(), rcps=Vec::new(), session=None))]
    #[allow(clippy::too_many_arguments)]
    fn from_files(
        py: Python<'_>,
        identity: Vec<String>,
        resource: Option<String>,
        trust: Option<String>,
        boundary: Vec<String>,
        scps: Vec<Vec<String>>,
        rcps: Vec<Vec<String>>,
        session: Option<String>,
    ) -> PyResult<Self> {
        let many = |v: Vec<String>| v.iter().map(|p| read(p)).collect::<PyResult<Vec<_>>>();
        let i = Inputs {
            identity: many(identity)?,
            resource: resource.as_deref().map(read).transpose()?,
            trust: trust.as_deref().map(read).transpose()?,
            boundary: many(boundary)?,
            scps: scps.into_iter().map(many).collect::<PyResult<_>>()?,
            rcps: rcps.into_iter().map(many).collect::<PyResult<_>>()?,
            session: session.as_deref().map(read).transpose()?,
        };
        let auth = py.detach(|| compile(i))?;
        Ok(Self {
            auth: Arc::new(auth),
        })
    }

    /// Decides one request (a dict as `policy-check eval` reads: `action`, `resource`, optional
    /// `principal`, `context`, …). The GIL is released while deciding.
    fn evaluate(&self, py: Python<'_>, request: &Bound<'_, PyAny>) -> PyResult<Answer> {
        let req = request_of(request)?;
        let auth = &self.auth;
        let outcome = py.detach(|| auth.evaluate(&req.as_request()));
        Ok(Answer {
            decision: decision_member(py, outcome.decision)?,
            outcome,
            auth: self.auth.clone(),
            request: req,
        })
    }
}

fn request_of(obj: &Bound<'_, PyAny>) -> PyResult<OwnedRequest> {
    request(obj)
}

/// One decision: `decision` (a `Decision`), what decided it (`determining`), and `explain()`.
#[pyclass(frozen, module = "policy_check._native")]
pub struct Answer {
    decision: Py<PyAny>,
    outcome: Outcome,
    auth: Arc<Authorizer>,
    request: OwnedRequest,
}

#[pymethods]
impl Answer {
    /// `Decision.ALLOW`, `Decision.EXPLICIT_DENY` or `Decision.IMPLICIT_DENY`.
    #[getter]
    fn decision(&self, py: Python<'_>) -> Py<PyAny> {
        self.decision.clone_ref(py)
    }

    /// The statement that decided (the denying one, or an allowing one): a list of at most one dict with
    /// `layer`, `policy`, `sid`, `statement` (index), `line` and `column` (from 1).
    #[getter]
    fn determining<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        if let Some(info) = self
            .outcome
            .decided_by
            .and_then(|at| self.auth.statement(at))
        {
            let d = info.determining();
            let (line, column) = info.document.source.line_col(info.statement.span.start);
            let dict = PyDict::new(py);
            dict.set_item("layer", d.layer.to_string())?;
            dict.set_item("policy", d.policy)?;
            dict.set_item("sid", d.sid)?;
            dict.set_item("statement", d.statement)?;
            dict.set_item("line", line)?;
            dict.set_item("column", column)?;
            list.append(dict)?;
        }
        Ok(list)
    }

    /// For an implicit deny, the layer that did not allow.
    #[getter]
    fn blocked_by(&self) -> Option<String> {
        self.outcome.blocked_by.map(|l| l.to_string())
    }

    /// Why, statement by statement, as `policy-check eval` prints it.
    fn explain(&self, py: Python<'_>) -> String {
        let (auth, req) = (&self.auth, &self.request);
        py.detach(|| policy_check::report::explain_text(auth, &auth.explain(&req.as_request())))
    }

    fn __repr__(&self) -> String {
        format!("Answer(decision={})", self.outcome.decision)
    }
}
