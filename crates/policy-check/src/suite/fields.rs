//! The suite format: which fields a suite and each kind of case may have, and the policies a suite or
//! case names, loaded by type.

use std::path::Path;

use iam_policy::{PolicyDocument, PolicyType};
use serde_json::Value;

use crate::Failure;
use crate::policies::*;

/// Where a suite's values were read: the suite file's source and the spanned nodes of the suite object and
/// of the case, so that inline policies are built from the suite's own text (not written out and read
/// again) and located on the suite's lines.
#[derive(Clone, Copy, Default)]
pub(crate) struct Nodes<'a> {
    /// The suite file.
    pub source: Option<&'a diag::Source>,
    /// The suite object.
    pub suite: Option<&'a diag::json::Value>,
    /// The case object.
    pub case: Option<&'a diag::json::Value>,
}

/// The suite's fields as a JSON value, converted straight from the spanned tree. Inline policy documents
/// (objects under a policy key of the suite or of a case) become empty objects: they are built from
/// their spanned nodes ([`Nodes`]), so copying them into a second tree would be work thrown away. Paths,
/// and values of the wrong kind (reported with their text), are kept.
pub(crate) fn suite_value(tree: &diag::json::Value) -> Result<Value, (diag::Span, String)> {
    use diag::json::Kind;
    type Out = Result<Value, (diag::Span, String)>;
    fn placeholder(n: &diag::json::Value) -> Out {
        Ok(match &n.kind {
            Kind::Object(_) => Value::Object(serde_json::Map::new()),
            Kind::Array(items) => {
                Value::Array(items.iter().map(placeholder).collect::<Result<_, _>>()?)
            }
            _ => value(n, &|_| false)?,
        })
    }
    fn value(n: &diag::json::Value, policies_under: &dyn Fn(usize) -> bool) -> Out {
        value_at(n, policies_under, 0)
    }
    // `policies_under(depth)`: whether an object at this depth holds policy keys (the suite at 0, a
    // case at 2: `cases` → array → case).
    fn value_at(
        n: &diag::json::Value,
        policies_under: &dyn Fn(usize) -> bool,
        depth: usize,
    ) -> Out {
        Ok(match &n.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Number(s) => Value::Number(
                crate::input::json_number(s)
                    .ok_or_else(|| (n.span, format!("the number {s} is out of range")))?,
            ),
            Kind::String(s) => Value::String(s.clone()),
            Kind::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| value_at(i, policies_under, depth + 1))
                    .collect::<Result<_, _>>()?,
            ),
            Kind::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|m| {
                        let v = if policies_under(depth) && POLICY_KEYS.contains(&m.key.as_str()) {
                            placeholder(&m.value)?
                        } else if depth == 0 && m.key != "cases" {
                            value(&m.value, &|_| false)?
                        } else {
                            value_at(&m.value, policies_under, depth + 1)?
                        };
                        Ok((m.key.clone(), v))
                    })
                    .collect::<Result<_, (diag::Span, String)>>()?,
            ),
        })
    }
    value(tree, &|depth| depth == 0 || depth == 2)
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

/// The `i`th item of a spanned array.
fn item(node: Option<&diag::json::Value>, i: usize) -> Option<&diag::json::Value> {
    match &node?.kind {
        diag::json::Kind::Array(items) => items.get(i),
        _ => None,
    }
}

/// A value read from a suite, with its spanned node when known.
type At<'a> = (Option<&'a diag::Source>, Option<&'a diag::json::Value>);

pub(crate) fn policy_list(
    v: &Value,
    (src, node): At<'_>,
    base: &Path,
    ty: PolicyType,
    what: &str,
) -> Result<Vec<PolicyDocument>, Failure> {
    let one =
        |x: &Value, n: Option<&diag::json::Value>, i: usize| -> Result<PolicyDocument, Failure> {
            let name = || format!("{what}[{i}] (inline)");
            match (x, src, n) {
                (Value::String(p), _, _) => load_policy(&base.join(p), ty),
                (Value::Object(_), Some(src), Some(n)) => load_policy_node(&name(), src, n, ty),
                // Suites keep inline documents only as their nodes (`suite_value`): without the node
                // there is nothing to read, and an empty stand-in must never be taken for the policy.
                (Value::Object(_), _, _) => Err(Failure::from(format!(
                    "{}: the inline policy was not found in the suite's text (please report)",
                    name()
                ))),
                (other, _, _) => Err(Failure::from(format!(
                    "{what}: a policy is a path or an inline document, found {other}"
                ))),
            }
        };
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, x)| one(x, item(node, i), i))
            .collect(),
        x => Ok(vec![one(x, node, 0)?]),
    }
}

pub(crate) fn levels(
    v: &Value,
    (src, node): At<'_>,
    base: &Path,
    ty: PolicyType,
    what: &str,
) -> Result<Vec<Vec<PolicyDocument>>, Failure> {
    let Value::Array(items) = v else {
        return Ok(vec![policy_list(v, (src, node), base, ty, what)?]);
    };
    items
        .iter()
        .enumerate()
        .map(|(i, x)| policy_list(x, (src, item(node, i)), base, ty, &format!("{what}[{i}]")))
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
    "template",
    "identity_of",
    "resource_of",
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
    "context",
    "reason",
];

/// Fields of an IAM case (besides the policy keys).
pub(crate) const IAM_CASE_FIELDS: &[&str] = &[
    "name",
    "description",
    "request",
    "property",
    "expect",
    "sid",
    "expect_error",
    "identity_of",
    "resource_of",
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
    "trust",
    "boundaries",
    "scps",
    "rcps",
    "session",
];

/// A map's resource-side policy: `(value, declared trust)`; both keys in one place is ambiguous.
/// The resource-side policy of an object: its value, whether it is declared a trust policy, and its key.
fn resource_side<'m>(
    m: &'m serde_json::Map<String, Value>,
    at: &str,
) -> Result<Option<(&'m Value, bool, &'static str)>, Failure> {
    match (m.get("resource"), m.get("trust")) {
        (Some(_), Some(_)) => Err(Failure::from(format!(
            "{at} has both `resource` and `trust`: a request has one resource-side policy"
        ))),
        (r, t) => Ok(r
            .map(|v| (v, false, "resource"))
            .or(t.map(|v| (v, true, "trust")))),
    }
}

pub(crate) fn files_for(
    suite: &serde_json::Map<String, Value>,
    case: &serde_json::Map<String, Value>,
    base: &Path,
    nodes: Nodes<'_>,
) -> Result<PolicyFiles, Failure> {
    let get = |k: &str| {
        case.get(k)
            .map(|v| (v, (nodes.source, member(nodes.case, k))))
            .or_else(|| {
                suite
                    .get(k)
                    .map(|v| (v, (nodes.source, member(nodes.suite, k))))
            })
    };
    let mut f = PolicyFiles::default();
    if let Some((v, at)) = get("identity") {
        f.identity = policy_list(v, at, base, PolicyType::Identity, "identity")?;
    }
    // The resource-side policy: `trust` declares a role trust policy, `resource` a resource-based one
    // (detected as a trust policy when it only validates as one). The case's own key wins over the
    // suite's; both keys in one place is ambiguous.
    // The resource-side policy: `trust` declares a role trust policy, `resource` a resource-based one
    // (detected as a trust policy when it only validates as one). The case's own key wins.
    let side = match resource_side(case, "the case")? {
        Some((v, trust, k)) => Some((v, trust, (nodes.source, member(nodes.case, k)))),
        None => resource_side(suite, "the suite")?
            .map(|(v, trust, k)| (v, trust, (nodes.source, member(nodes.suite, k)))),
    };
    match side {
        Some((v, true, at)) => {
            f.resource = policy_list(v, at, base, PolicyType::Trust, "trust")?
                .into_iter()
                .next();
            f.resource_type = Some(TypeChoice {
                ty: PolicyType::Trust,
                declared: Some("`trust:`"),
            });
        }
        Some((v, false, at)) => {
            // A trust policy fails as a resource policy (no `Resource`): retry with that type.
            let (docs, ty) = match policy_list(v, at, base, PolicyType::Resource, "resource") {
                Ok(d) => (d, PolicyType::Resource),
                Err(_) => (
                    policy_list(v, at, base, PolicyType::Trust, "resource")?,
                    PolicyType::Trust,
                ),
            };
            f.resource = docs.into_iter().next();
            f.resource_type = Some(TypeChoice { ty, declared: None });
        }
        None => {}
    }
    if let Some((v, at)) = get("boundaries") {
        f.boundary = policy_list(v, at, base, PolicyType::Boundary, "boundaries")?;
    }
    if let Some((v, at)) = get("session") {
        f.session = policy_list(v, at, base, PolicyType::Session, "session")?;
    }
    if let Some((v, at)) = get("scps") {
        f.scps = levels(v, at, base, PolicyType::Scp, "scps")?;
    }
    if let Some((v, at)) = get("rcps") {
        f.rcps = levels(v, at, base, PolicyType::Rcp, "rcps")?;
    }
    if f.resource.is_some()
        && (case.contains_key("resource_of") || suite.contains_key("resource_of"))
    {
        return Err(Failure::from(
            "both a resource-side policy (`resource`/`trust`) and `resource_of`: a request has one"
                .to_string(),
        ));
    }
    super::template::iam_policies(suite, case, base, &mut f)?;
    Ok(f)
}
