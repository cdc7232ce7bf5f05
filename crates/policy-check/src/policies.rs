//! Loading IAM policies from files or inline JSON, by type, and compiling them into an `Authorizer`.

use std::path::Path;

use authz_core::Layer;
use iam_eval::{Authorizer, PolicySet, ResourceKind};
use iam_policy::{PolicyDocument, PolicyType};

use crate::Failure;

/// Loads one policy file as `ty`: parse + validate; any error refuses it (fail closed).
pub fn load_policy(path: &Path, ty: PolicyType) -> Result<PolicyDocument, Failure> {
    let bytes = crate::read_file(path)?;
    load_policy_text(&path.display().to_string(), &bytes, ty)
}

/// Parses and validates a policy text; renders the errors when it is refused. The failure's code is the
/// first error's.
pub fn load_policy_text(
    name: &str,
    bytes: &[u8],
    ty: PolicyType,
) -> Result<PolicyDocument, Failure> {
    accept(name, iam_policy::check_for_evaluation(name, bytes, ty), ty)
}

/// An inline policy: a node of a file already read (a test suite), located on that file's lines.
pub fn load_policy_node(
    name: &str,
    src: &diag::Source,
    node: &diag::json::Value,
    ty: PolicyType,
) -> Result<PolicyDocument, Failure> {
    accept(
        name,
        iam_policy::check_node_for_evaluation(src, node, ty),
        ty,
    )
}

/// The document of a checked policy, its accepted findings kept as warnings; the first error refuses it.
fn accept(name: &str, c: iam_policy::Checked, ty: PolicyType) -> Result<PolicyDocument, Failure> {
    // What AWS stores and evaluates anyway is decided, and said once as a warning.
    for d in c
        .diagnostics
        .iter()
        .filter(|d| !d.is_error() && accepted_code(d.code, ty))
    {
        let text = crate::report::render(d, &c.source, 100);
        ACCEPTED.with(|a| a.borrow_mut().push(text));
    }
    let mut errors = c.diagnostics.iter().filter(|d| d.is_error()).peekable();
    if let Some(first) = errors.peek() {
        let code = first.code;
        let mut s = format!("policy `{name}` is invalid as {ty} policy:\n");
        let cap = crate::commands::validate::MAX_RENDERED_PER_FILE;
        let mut more = 0usize;
        for (i, d) in errors.enumerate() {
            if i < cap {
                s.push_str(&crate::report::render(d, &c.source, 100));
            } else {
                more += 1;
            }
        }
        if more > 0 {
            s.push_str(&format!(
                "… and {more} more error(s) (`validate --format json` lists all)\n"
            ));
        }
        return Err(Failure::new(code, s.trim_end()));
    }
    c.document
        .ok_or_else(|| Failure::from(format!("policy `{name}` could not be read")))
}

/// Findings on policies that were evaluated anyway: AWS stores such policies and decides requests
/// against them, so the engines do too; the commands print them as warnings ([`take_accepted`]). A
/// condition key that does not exist is one: the decision that follows (a `ForAllValues:` test on a
/// misspelt key holds, most others fail) is AWS's, and the typo is said next to it.
fn accepted_code(code: &str, ty: PolicyType) -> bool {
    iam_policy::evaluated_anyway(code, ty)
        || code == iam_policy::codes::IAM_VARIABLE_MULTIVALUED
        || code == iam_policy::codes::IAM_UNKNOWN_CONDITION_KEY
}

thread_local! {
    static ACCEPTED: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The warnings on accepted policies loaded on this thread since the last call, each once.
pub fn take_accepted() -> Vec<String> {
    let mut v = ACCEPTED.with(|a| std::mem::take(&mut *a.borrow_mut()));
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
    v
}

/// Adds warnings taken on another thread to this thread's list.
pub(crate) fn keep_accepted(v: Vec<String>) {
    ACCEPTED.with(|a| a.borrow_mut().extend(v));
}

/// Writes [`take_accepted`]'s warnings to `err`.
pub(crate) fn print_accepted(err: &mut dyn std::io::Write) {
    for w in take_accepted() {
        let _ = write!(err, "{w}");
        let _ = writeln!(
            err,
            "  (AWS stores and evaluates this policy: the request is decided)"
        );
    }
}

/// The policies of an evaluation, by layer, before compiling.
#[derive(Debug, Default, Clone)]
pub struct PolicyFiles {
    /// Identity policies.
    pub identity: Vec<PolicyDocument>,
    /// Resource policy.
    pub resource: Option<PolicyDocument>,
    /// How the resource policy was read: its type and why (declared by the user or detected).
    pub resource_type: Option<TypeChoice>,
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
    pub fn compile(self) -> Result<Authorizer, Failure> {
        let c =
            |l, d: Vec<PolicyDocument>| PolicySet::compile(l, d).map_err(|e| Failure::coded(&e));
        let resource_is_trust = self
            .resource_type
            .is_some_and(|t| t.ty == PolicyType::Trust);
        let mut a = Authorizer::new(c(Layer::Identity, self.identity)?);
        a.resource = self
            .resource
            .map(|d| c(Layer::Resource, vec![d]))
            .transpose()?;
        if resource_is_trust {
            a.resource_kind = ResourceKind::Trust { role: None };
        }
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

/// Guesses a document's type from its statements (`--type auto`): no `Principal` anywhere is an
/// identity policy; a trust policy when every statement names only `sts:` actions and none has a
/// `Resource` / `NotResource` (IAM refuses those elements in a trust policy, so a policy with one is a
/// resource-based policy whatever its actions); otherwise a resource-based policy.
pub fn infer_type(doc: &PolicyDocument) -> PolicyType {
    doc.guess_type()
}

/// A resource policy's type and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeChoice {
    /// The type it was read and evaluated as.
    pub ty: PolicyType,
    /// `Some(how)` when the user declared it (`--trust-policy`, `trust:`); `None` when detected.
    pub declared: Option<&'static str>,
}

impl TypeChoice {
    /// The resource-policy type of a document as detected ([`infer_type`], never identity).
    pub fn detect(doc: Option<&PolicyDocument>) -> TypeChoice {
        let ty = match doc.map(infer_type) {
            Some(PolicyType::Trust) => PolicyType::Trust,
            _ => PolicyType::Resource,
        };
        TypeChoice { ty, declared: None }
    }

    /// Which type the resource policy was evaluated as, why, and whether the trust rule ("the trust
    /// policy must name the principal") governs this request: for the explanation.
    pub fn explain(&self, req: &authz_core::Request<'_>) -> TypeNote {
        let why = match (self.declared, self.ty) {
            (Some(how), _) => format!("declared with {how}"),
            (None, PolicyType::Trust) => {
                "detected: every statement names only `sts:` actions and has no `Resource`".into()
            }
            (None, _) => "detected: it has a `Principal` and is not a trust policy".into(),
        };
        let trust_rule = (self.ty == PolicyType::Trust).then(|| {
            let k = ResourceKind::Trust { role: None };
            if k.requires_naming(req) {
                (true, format!("{} on a role is a role assumption: the trust policy must name the principal", req.action))
            } else {
                (false, format!("{} on {} is not a role assumption: decided as with a resource-based policy", req.action, req.resource))
            }
        });
        TypeNote {
            ty: self.ty,
            why,
            trust_rule,
        }
    }
}

/// The explanation of a resource policy's type for one request.
#[derive(Debug, Clone)]
pub struct TypeNote {
    /// The type used.
    pub ty: PolicyType,
    /// Why that type.
    pub why: String,
    /// For a trust policy: whether its rule governed the request, and why.
    pub trust_rule: Option<(bool, String)>,
}

impl TypeNote {
    /// One line for the human explanation.
    pub fn line(&self) -> String {
        let mut s = format!("resource policy read as {} policy ({})", self.ty, self.why);
        if let Some((_, why)) = &self.trust_rule {
            s.push_str("; ");
            s.push_str(why);
        }
        s
    }

    /// The JSON form.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "type": self.ty.as_str(),
            "why": self.why,
            "trust_rule_applies": self.trust_rule.as_ref().map(|t| t.0),
        })
    }
}
