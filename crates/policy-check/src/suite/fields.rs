//! The policies a suite or an IAM case names, loaded by type from their spanned nodes (paths relative to
//! the suite, inline documents located on the suite's lines).

use std::path::Path;

use iam_policy::{PolicyDocument, PolicyType};

use crate::Failure;
use crate::policies::*;
use crate::suite::{IamCase, SuiteDef};

/// Where a suite's values were read: the suite file's source and the spanned nodes of the suite object and
/// of the case, so that inline policies are built from the suite's own text (not written out and read
/// again) and located on the suite's lines.
#[derive(Clone, Copy)]
pub(crate) struct Nodes<'a> {
    /// The suite file.
    pub source: &'a diag::Source,
    /// The suite object.
    pub suite: &'a diag::json::Value,
    /// The case object (`None` for the suite's shared policies).
    pub case: Option<&'a diag::json::Value>,
}

/// The value of `key` in a spanned object.
pub(crate) fn member<'a>(
    obj: Option<&'a diag::json::Value>,
    key: &str,
) -> Option<&'a diag::json::Value> {
    match &obj?.kind {
        diag::json::Kind::Object(members) => members
            .iter()
            .rev()
            .find(|m| m.key == key)
            .map(|m| &m.value),
        _ => None,
    }
}

/// The policies of a policy key's node: a path, an inline document, or a list of those. Paths are
/// relative to `base`; inline documents are read from their nodes, located on the suite's lines.
pub(crate) fn policy_list(
    src: &diag::Source,
    node: &diag::json::Value,
    base: &Path,
    ty: PolicyType,
    what: &str,
) -> Result<Vec<PolicyDocument>, Failure> {
    use diag::json::Kind;
    let one = |n: &diag::json::Value, i: usize| -> Result<PolicyDocument, Failure> {
        match &n.kind {
            Kind::String(p) => load_policy(&base.join(p), ty),
            Kind::Object(_) => load_policy_node(&format!("{what}[{i}] (inline)"), src, n, ty),
            _ => Err(crate::input::shape_error(
                src.name(),
                src.text(),
                n.span,
                format!("`{what}`: a policy is a path or an inline document"),
            )),
        }
    };
    match &node.kind {
        Kind::Array(items) => items.iter().enumerate().map(|(i, n)| one(n, i)).collect(),
        _ => Ok(vec![one(node, 0)?]),
    }
}

/// SCPs or RCPs: a list of levels (each a policy list), or one level.
pub(crate) fn levels(
    src: &diag::Source,
    node: &diag::json::Value,
    base: &Path,
    ty: PolicyType,
    what: &str,
) -> Result<Vec<Vec<PolicyDocument>>, Failure> {
    let diag::json::Kind::Array(items) = &node.kind else {
        return Ok(vec![policy_list(src, node, base, ty, what)?]);
    };
    items
        .iter()
        .enumerate()
        .map(|(i, n)| policy_list(src, n, base, ty, &format!("{what}[{i}]")))
        .collect()
}

/// The resource-side policy of an object (by its node): its node, whether it is declared a trust policy,
/// and its key; both keys in one place is ambiguous.
fn resource_side<'n>(
    node: Option<&'n diag::json::Value>,
    at: &str,
) -> Result<Option<(&'n diag::json::Value, bool, &'static str)>, Failure> {
    match (member(node, "resource"), member(node, "trust")) {
        (Some(_), Some(_)) => Err(Failure::from(format!(
            "{at} has both `resource` and `trust`: a request has one resource-side policy"
        ))),
        (r, t) => Ok(r
            .map(|v| (v, false, "resource"))
            .or(t.map(|v| (v, true, "trust")))),
    }
}

/// The policies of an IAM case: each key the case gives, else the suite's (read from their nodes), then
/// what `identity_of`/`resource_of` name in the suite's template.
pub(crate) fn files_for(
    suite: &SuiteDef,
    case: Option<&IamCase>,
    base: &Path,
    nodes: Nodes<'_>,
) -> Result<PolicyFiles, Failure> {
    let src = nodes.source;
    let get = |k: &str| member(nodes.case, k).or_else(|| member(Some(nodes.suite), k));
    let mut f = PolicyFiles::default();
    if let Some(n) = get("identity") {
        f.identity = policy_list(src, n, base, PolicyType::Identity, "identity")?;
    }
    // The resource-side policy: `trust` declares a role trust policy, `resource` a resource-based one
    // (detected as a trust policy when it only validates as one). The case's own key wins over the
    // suite's; both keys in one place is ambiguous.
    let side = match resource_side(nodes.case, "the case")? {
        Some(s) => Some(s),
        None => resource_side(Some(nodes.suite), "the suite")?,
    };
    match side {
        Some((n, true, _)) => {
            f.resource = policy_list(src, n, base, PolicyType::Trust, "trust")?
                .into_iter()
                .next();
            f.resource_type = Some(TypeChoice {
                ty: PolicyType::Trust,
                declared: Some("`trust:`"),
            });
        }
        Some((n, false, _)) => {
            // A trust policy fails as a resource policy (no `Resource`): retry with that type.
            let (docs, ty) = match policy_list(src, n, base, PolicyType::Resource, "resource") {
                Ok(d) => (d, PolicyType::Resource),
                Err(_) => (
                    policy_list(src, n, base, PolicyType::Trust, "resource")?,
                    PolicyType::Trust,
                ),
            };
            f.resource = docs.into_iter().next();
            f.resource_type = Some(TypeChoice { ty, declared: None });
        }
        None => {}
    }
    if let Some(n) = get("boundaries") {
        f.boundary = policy_list(src, n, base, PolicyType::Boundary, "boundaries")?;
    }
    if let Some(n) = get("session") {
        f.session = policy_list(src, n, base, PolicyType::Session, "session")?;
    }
    if let Some(n) = get("scps") {
        f.scps = levels(src, n, base, PolicyType::Scp, "scps")?;
    }
    if let Some(n) = get("rcps") {
        f.rcps = levels(src, n, base, PolicyType::Rcp, "rcps")?;
    }
    let resource_of = case
        .and_then(|c| c.resource_of.as_deref())
        .or(suite.resource_of.as_deref());
    if f.resource.is_some() && resource_of.is_some() {
        return Err(Failure::from(
            "both a resource-side policy (`resource`/`trust`) and `resource_of`: a request has one"
                .to_string(),
        ));
    }
    super::template::iam_policies(suite, case, base, &mut f)?;
    Ok(f)
}
