//! Loading IAM policies from files or inline JSON, by type, and compiling them into an `Authorizer`.

use std::path::Path;

use authz_core::Layer;
use iam_eval::{Authorizer, PolicySet};
use iam_policy::{PolicyDocument, PolicyType, ValidateOptions};

use crate::{Failure, TypeArg};

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
    let c = iam_policy::check(name, bytes, ty, &ValidateOptions::default());
    let mut errors = c.diagnostics.iter().filter(|d| d.is_error()).peekable();
    if let Some(first) = errors.peek() {
        let code = first.code;
        let mut s = format!("policy `{name}` is invalid as {ty} policy:\n");
        for d in errors {
            s.push_str(&crate::report::render(d, &c.source, 100));
        }
        return Err(Failure::new(code, s.trim_end()));
    }
    c.document
        .ok_or_else(|| Failure::from(format!("policy `{name}` could not be read")))
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
    pub fn compile(self) -> Result<Authorizer, Failure> {
        let c =
            |l, d: Vec<PolicyDocument>| PolicySet::compile(l, d).map_err(|e| Failure::coded(&e));
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

/// Guesses a document's type from its statements (see [`TypeArg::Auto`]).
pub fn infer_type(doc: &PolicyDocument) -> PolicyType {
    let with_principal = doc
        .statements
        .iter()
        .filter(|s| s.principal.is_some())
        .count();
    if with_principal == 0 {
        return PolicyType::Identity;
    }
    let trust = doc.statements.iter().all(|s| {
        s.action
            .as_ref()
            .is_some_and(|a| a.items.iter().all(|i| i.service.as_deref() == Some("sts")))
    });
    if trust {
        PolicyType::Trust
    } else {
        PolicyType::Resource
    }
}

pub(crate) fn to_type(t: TypeArg) -> Option<PolicyType> {
    Some(match t {
        TypeArg::Auto => return None,
        TypeArg::Identity => PolicyType::Identity,
        TypeArg::Resource => PolicyType::Resource,
        TypeArg::Trust => PolicyType::Trust,
        TypeArg::Boundary => PolicyType::Boundary,
        TypeArg::Scp => PolicyType::Scp,
        TypeArg::Rcp => PolicyType::Rcp,
        TypeArg::Session => PolicyType::Session,
    })
}
