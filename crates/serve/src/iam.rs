//! IAM's policy simulator over the AWS Query protocol (form-encoded `Action=…&Version=2010-05-08`, XML
//! answers in IAM's namespace): `SimulateCustomPolicy` and `GetContextKeysForCustomPolicy`, decided by
//! policy-check's IAM engine with positions from its spans. Beyond AWS: a role trust policy given as
//! `ResourcePolicy` is evaluated for `sts:AssumeRoleWithWebIdentity` (AWS's simulator discards it), with
//! the caller `cognito-identity.amazonaws.com` unless `CallerArn` says otherwise.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::json;

use authz_core::{Context, Decision, Layer, Request};
use iam_eval::{Authorizer, PolicySet, Verdict};
use iam_policy::{PolicyDocument, PolicyType, Source, ValidateOptions};

const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The principals `SimulatePrincipalPolicy` can name (`--iam CONFIG`): users and roles with their
/// identity policies, permissions boundary and (roles) trust policy, read and validated when loaded.
///
/// ```json
/// {"principals": [{"arn": "arn:aws:iam::123456789012:role/Cognito_Auth",
///                  "policies": ["row-level.json"], "boundary": "boundary.json", "trust": "trust.json"}]}
/// ```
///
/// Paths are relative to the configuration file.
#[derive(Debug, Default)]
pub struct IamConfig {
    principals: BTreeMap<String, Principal>,
}

#[derive(Debug)]
struct Principal {
    kind: &'static str,
    /// (policy name, text).
    policies: Vec<(String, String)>,
    boundary: Option<(String, String)>,
    /// A role's trust policy: the resource policy of `sts:AssumeRole*` simulations that give none.
    trust: Option<String>,
}

/// The configuration file as written: `{"principals": [{"arn", "policies", "boundary", "trust"}]}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    principals: Vec<PrincipalEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalEntry {
    arn: String,
    #[serde(default)]
    policies: Vec<String>,
    #[serde(default)]
    boundary: Option<String>,
    #[serde(default)]
    trust: Option<String>,
}

impl IamConfig {
    /// Reads a configuration file (read once; a syntax mistake, a duplicate key, an unknown field or a
    /// wrong type is an error at its line and column); every policy must be valid for its type.
    pub fn from_file(path: &std::path::Path) -> Result<Self, crate::ServeError> {
        use crate::ServeError;
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ServeError::Read {
            path: name.clone(),
            reason: e.to_string(),
        })?;
        let at = |span: diag::Span| {
            let (l, c) = diag::Source::new(name.as_str(), text.as_str()).line_col(span.start);
            format!("{name}:{l}:{c}")
        };
        let mut diags = Vec::new();
        let tree = diag::json::read(&text, &mut diags);
        if let Some(d) = diags.iter().find(|d| d.is_error()) {
            return Err(ServeError::Config {
                at: at(d.span),
                message: d.message.clone(),
                code: d.code,
            });
        }
        let tree = tree.ok_or_else(|| ServeError::Config {
            at: name.clone(),
            message: "holds no JSON value".into(),
            code: diag::codes::JSON_EMPTY,
        })?;
        let file: ConfigFile = diag::de::from_value(&tree).map_err(|e| ServeError::Config {
            at: at(e.span.unwrap_or(tree.span)),
            message: e.message,
            code: diag::codes::JSON_SHAPE,
        })?;
        let base = path.parent().unwrap_or(std::path::Path::new("."));
        let mut principals = BTreeMap::new();
        for (i, p) in file.principals.iter().enumerate() {
            let what = format!("{name}: principals[{i}]");
            let arn = p.arn.as_str();
            let kind = if arn.contains(":user/") {
                "user"
            } else if arn.contains(":role/") {
                "role"
            } else {
                return Err(ServeError::Config {
                    at: what,
                    message: format!("`{arn}` is not a user or role ARN"),
                    code: diag::codes::SERVE_CONFIG,
                });
            };
            let load = |rel: &str, ty: PolicyType| -> Result<(String, String), ServeError> {
                let path = base.join(rel);
                let text = std::fs::read_to_string(&path).map_err(|e| ServeError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?;
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or(rel)
                    .to_string();
                read(stem.clone(), "", &text, ty).map_err(|e| ServeError::Config {
                    at: what.clone(),
                    message: e.message,
                    code: diag::codes::SERVE_CONFIG,
                })?;
                Ok((stem, text))
            };
            let policies = p
                .policies
                .iter()
                .map(|r| load(r, PolicyType::Identity))
                .collect::<Result<Vec<_>, _>>()?;
            let boundary = p
                .boundary
                .as_deref()
                .map(|r| load(r, PolicyType::Boundary))
                .transpose()?;
            let trust = p
                .trust
                .as_deref()
                .map(|t| load(t, PolicyType::Trust).map(|(_, text)| text))
                .transpose()?;
            principals.insert(
                arn.to_string(),
                Principal {
                    kind,
                    policies,
                    boundary,
                    trust,
                },
            );
        }
        Ok(Self { principals })
    }
}

/// A Query-protocol error: `Sender` errors are 400.
pub(crate) struct QueryError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl QueryError {
    pub(crate) fn invalid(m: impl Into<String>) -> Self {
        Self {
            code: "InvalidInput",
            message: m.into(),
        }
    }

    /// AWS's XML error body.
    pub(crate) fn xml(&self, request_id: &str) -> String {
        format!(
            r#"<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"#,
            self.code,
            esc(&self.message)
        )
    }
}

/// XML-escapes `s`, replacing the characters XML 1.0 cannot carry (controls) with U+FFFD.
pub(crate) fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(xml_unsafe) {
        let clean: String = s
            .chars()
            .map(|c| if xml_unsafe(c) { '\u{fffd}' } else { c })
            .collect();
        return std::borrow::Cow::Owned(quick_xml::escape::escape(&clean).into_owned());
    }
    quick_xml::escape::escape(s)
}

/// The form's parameters.
struct Params(BTreeMap<String, String>);

/// The parameters each action takes, with list members written `NAME.member.N` (N from 1, no gaps, no
/// leading zeros) and nested members after them, as the Query protocol serializes them.
fn takes(action: &str, shape: &str) -> bool {
    const SIMULATE: &[&str] = &[
        "PolicyInputList.member.N",
        "PermissionsBoundaryPolicyInputList.member.N",
        "ActionNames.member.N",
        "ResourceArns.member.N",
        "ResourcePolicy",
        "ResourceOwner",
        "CallerArn",
        "ContextEntries.member.N.ContextKeyName",
        "ContextEntries.member.N.ContextKeyType",
        "ContextEntries.member.N.ContextKeyValues.member.N",
        "ResourceHandlingOption",
        "MaxItems",
        "Marker",
    ];
    // The principal forms take the custom forms' parameters and `PolicySourceArn`.
    let principal = shape == "PolicySourceArn";
    match action {
        "SimulateCustomPolicy" => SIMULATE.contains(&shape),
        "SimulatePrincipalPolicy" => principal || SIMULATE.contains(&shape),
        "GetContextKeysForCustomPolicy" => shape == "PolicyInputList.member.N",
        "GetContextKeysForPrincipalPolicy" => principal || shape == "PolicyInputList.member.N",
        _ => false,
    }
}

/// Characters XML 1.0 cannot carry, even escaped.
fn xml_unsafe(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

impl Params {
    /// Refuses what IAM refuses and what would otherwise be dropped without a word: a parameter the
    /// action does not take (a misspelt name), a list index that is not 1, 2, 3, … in order (`member.0`,
    /// `member.02`, or `member.3` without `member.2`), and values XML cannot carry back.
    fn check(&self, action: &str) -> Result<(), QueryError> {
        // List prefixes (borrowed from the keys) and the member numbers seen under each.
        let mut lists: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        let mut shape = String::new();
        for (k, v) in &self.0 {
            if k == "Action" || k == "Version" {
                continue;
            }
            // Bytes first (the common, clean case costs one pass over the bytes); characters only
            // when a control byte or U+FFFE / U+FFFF's lead byte is present.
            let suspicious = |t: &str| {
                t.bytes()
                    .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0xEF)
            };
            // Policy documents go to the JSON reader, which refuses control characters itself; every
            // other value could be echoed.
            let policy = k.starts_with("PolicyInputList.")
                || k.starts_with("PermissionsBoundaryPolicyInputList.")
                || k == "ResourcePolicy";
            let bad = if suspicious(k) || (!policy && suspicious(v)) {
                k.chars().chain(v.chars()).find(|c| xml_unsafe(*c))
            } else {
                None
            };
            if let Some(c) = bad {
                return Err(QueryError::invalid(format!(
                    "parameter `{}` holds the control character U+{:04X}",
                    k.escape_debug(),
                    u32::from(c)
                )));
            }
            // The key with every `member.<index>` written `member.N`, each index checked (one pass
            // over the key's segments; the list prefix is a slice of the key).
            shape.clear();
            let mut offset = 0usize;
            let mut after_member: Option<usize> = None;
            for seg in k.split('.') {
                if !shape.is_empty() {
                    shape.push('.');
                }
                if let Some(prefix_end) = after_member.take() {
                    let ok = !seg.is_empty()
                        && seg.bytes().all(|b| b.is_ascii_digit())
                        && !seg.starts_with('0');
                    let n = seg.parse::<u64>().ok().filter(|_| ok).ok_or_else(|| {
                        QueryError::invalid(format!(
                            "`{k}`: list members are numbered 1, 2, 3, …; `{seg}` is not such a number"
                        ))
                    })?;
                    lists
                        .entry(k.get(..prefix_end).unwrap_or(""))
                        .or_default()
                        .push(n);
                    shape.push('N');
                } else {
                    shape.push_str(seg);
                    if seg == "member" {
                        after_member = Some(offset + seg.len());
                    }
                }
                offset += seg.len() + 1;
            }
            if after_member.is_some() {
                return Err(QueryError::invalid(format!(
                    "`{k}`: list members are numbered 1, 2, 3, …; the number is missing"
                )));
            }
            if !takes(action, &shape) {
                return Err(QueryError::invalid(format!(
                    "`{k}` is not a parameter of {action}"
                )));
            }
        }
        for (prefix, mut idx) in lists {
            idx.sort_unstable();
            idx.dedup();
            if idx.iter().enumerate().any(|(i, n)| *n != i as u64 + 1) {
                return Err(QueryError::invalid(format!(
                    "`{prefix}` members must be numbered 1 to {} without gaps; found {}",
                    idx.len(),
                    idx.iter()
                        .map(u64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(())
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
    /// `prefix.member.1`, `prefix.member.2`, … in order (a gap ends the list).
    fn list(&self, prefix: &str) -> Vec<&str> {
        (1..)
            .map_while(|i| self.get(&format!("{prefix}.member.{i}")))
            .collect()
    }
}

/// Handles one Query request; returns the XML body.
pub(crate) fn handle(
    body: &[u8],
    request_id: &str,
    config: Option<&IamConfig>,
    account: &str,
) -> Result<String, QueryError> {
    let mut map = BTreeMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if map.insert(k.to_string(), v.to_string()).is_some() {
            return Err(QueryError::invalid(format!(
                "parameter `{k}` is given twice"
            )));
        }
    }
    let action = map.get("Action").map_or("", String::as_str);
    if super::account::serves(action) {
        let version = map.get("Version").map(String::as_str);
        return super::account::handle(action, version, &map, account, request_id);
    }
    let p = Params(map);
    let action = p.get("Action").unwrap_or("");
    if p.get("Version") != Some("2010-05-08") {
        return Err(QueryError::invalid("`Version` must be 2010-05-08"));
    }
    p.check(action)?;
    match action {
        "SimulateCustomPolicy" => {
            let identity = inputs(&p, "PolicyInputList", "IAM Policy", PolicyType::Identity)?;
            simulate_xml(
                &p,
                identity,
                Vec::new(),
                None,
                "SimulateCustomPolicy",
                request_id,
            )
        }
        "SimulatePrincipalPolicy" => {
            let principal = principal(&p, config)?;
            let identity = principal_identity(&p, principal)?;
            let boundary = principal
                .boundary
                .iter()
                .map(|(n, t)| {
                    read(
                        n.clone(),
                        "PermissionsBoundaryPolicy",
                        t,
                        PolicyType::Boundary,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            let trust = principal.trust.as_deref();
            simulate_xml(
                &p,
                identity,
                boundary,
                trust,
                "SimulatePrincipalPolicy",
                request_id,
            )
        }
        "GetContextKeysForCustomPolicy" => {
            let identity = inputs(&p, "PolicyInputList", "IAM Policy", PolicyType::Identity)?;
            context_keys(identity, "GetContextKeysForCustomPolicy", request_id)
        }
        "GetContextKeysForPrincipalPolicy" => {
            let principal = principal(&p, config)?;
            let identity = principal_identity(&p, principal)?;
            context_keys(identity, "GetContextKeysForPrincipalPolicy", request_id)
        }
        other => Err(QueryError {
            code: "InvalidAction",
            message: format!("`{other}` is not an action this endpoint serves"),
        }),
    }
}

/// The principal `PolicySourceArn` names, from the `--iam` configuration.
fn principal<'c>(p: &Params, config: Option<&'c IamConfig>) -> Result<&'c Principal, QueryError> {
    let arn = p
        .get("PolicySourceArn")
        .ok_or_else(|| QueryError::invalid("`PolicySourceArn` is required"))?;
    config
        .and_then(|c| c.principals.get(arn))
        .ok_or_else(|| QueryError {
            code: "NoSuchEntity",
            message: format!("no principal `{arn}` (principals come from `serve --iam CONFIG`)"),
        })
}

/// A principal's identity policies (named by their file), then the request's `PolicyInputList`.
fn principal_identity(p: &Params, principal: &Principal) -> Result<Vec<Input>, QueryError> {
    let mut identity = principal
        .policies
        .iter()
        .map(|(n, t)| read(n.clone(), principal.kind, t, PolicyType::Identity))
        .collect::<Result<Vec<_>, _>>()?;
    identity.extend(inputs(
        p,
        "PolicyInputList",
        "IAM Policy",
        PolicyType::Identity,
    )?);
    Ok(identity)
}

/// A policy input as read: its id for `SourcePolicyId`, its source, its document.
struct Input {
    id: String,
    kind: &'static str,
    source: Source,
    doc: PolicyDocument,
}

fn read(id: String, kind: &'static str, text: &str, ty: PolicyType) -> Result<Input, QueryError> {
    let c = iam_policy::check_for_evaluation(&id, text.as_bytes(), ty);
    if let Some(d) = c.diagnostics.iter().find(|d| d.is_error()) {
        let (l, col) = c.source.line_col(d.span.start);
        return Err(QueryError {
            code: "MalformedPolicyDocument",
            message: format!("{id}: {l}:{col}: {} [{}]", d.message, d.code),
        });
    }
    let doc = c
        .document
        .ok_or_else(|| QueryError::invalid(format!("{id} could not be read")))?;
    Ok(Input {
        id,
        kind,
        source: c.source,
        doc,
    })
}

fn inputs(
    p: &Params,
    list: &str,
    kind: &'static str,
    ty: PolicyType,
) -> Result<Vec<Input>, QueryError> {
    p.list(list)
        .into_iter()
        .enumerate()
        .map(|(i, t)| read(format!("{list}.{}", i + 1), kind, t, ty))
        .collect()
}

/// Whether `v` is a value of the simulator's context type `ty` (`string`, `numeric`, `boolean`, `ip`,
/// `binary`, `date`): a value that is not would make a condition quietly not match.
fn value_of_type(ty: &str, v: &str) -> bool {
    match ty {
        "numeric" => {
            let digits = v.strip_prefix('-').unwrap_or(v);
            let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
            !int.is_empty()
                && !frac.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        "boolean" => v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false"),
        "ip" => v.parse::<std::net::IpAddr>().is_ok() || v.parse::<ipnet::IpNet>().is_ok(),
        "binary" => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode(v).is_ok()
        }
        "date" => {
            let epoch = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
            let iso = v.len() >= 4
                && v.get(..4)
                    .is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit()))
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-:.+".contains(&b));
            epoch || iso
        }
        _ => true,
    }
}

/// The request context from `ContextEntries`.
fn context(p: &Params) -> Result<Context, QueryError> {
    let mut ctx = Context::new();
    for i in 1.. {
        let base = format!("ContextEntries.member.{i}");
        let Some(name) = p.get(&format!("{base}.ContextKeyName")) else {
            break;
        };
        let ty = p.get(&format!("{base}.ContextKeyType")).unwrap_or("string");
        let values = p.list(&format!("{base}.ContextKeyValues"));
        let known = [
            "string",
            "stringList",
            "numeric",
            "numericList",
            "boolean",
            "booleanList",
            "ip",
            "ipList",
            "binary",
            "binaryList",
            "date",
            "dateList",
        ];
        if !known.contains(&ty) {
            return Err(QueryError::invalid(format!(
                "ContextKeyType `{ty}` of `{name}` is not one of {}",
                known.join(", ")
            )));
        }
        let base = ty.strip_suffix("List").unwrap_or(ty);
        if let Some(bad) = values.iter().find(|v| !value_of_type(base, v)) {
            return Err(QueryError::invalid(format!(
                "the value `{bad}` of `{name}` is not of its declared type {ty}"
            )));
        }
        if ty.ends_with("List") {
            ctx.insert_multi(name, values);
        } else {
            match values.as_slice() {
                [one] => {
                    ctx.insert(name, *one);
                }
                _ => {
                    return Err(QueryError::invalid(format!(
                        "`{name}` is of type {ty}: give exactly one value"
                    )));
                }
            }
        }
    }
    Ok(ctx)
}

/// One page of a simulation: the results from `start`, at most `max` of them (`None`: all).
#[derive(Clone, Copy)]
struct Page {
    start: usize,
    max: Option<usize>,
}

/// The default and largest `MaxItems` (IAM API reference: 1 to 1,000; without it, 100).
const DEFAULT_MAX_ITEMS: usize = 100;
const LARGEST_MAX_ITEMS: usize = 1000;

/// The page a request asks for: `MaxItems` (1 to 1,000, default 100) from `Marker` (an opaque token
/// this server handed out).
fn page_of(p: &Params) -> Result<Page, QueryError> {
    let max = match p.get("MaxItems") {
        None => DEFAULT_MAX_ITEMS,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=LARGEST_MAX_ITEMS).contains(n))
            .ok_or_else(|| {
                QueryError::invalid(format!(
                    "`MaxItems` must be a whole number from 1 to {LARGEST_MAX_ITEMS}, not `{m}`"
                ))
            })?,
    };
    let start = match p.get("Marker") {
        None => 0,
        Some(m) => m
            .strip_prefix("pc1.")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                QueryError::invalid(format!("`Marker` `{m}` is not a marker this server issued"))
            })?,
    };
    Ok(Page {
        start,
        max: Some(max),
    })
}

fn simulate(
    p: &Params,
    identity: Vec<Input>,
    boundary: Vec<Input>,
    trust: Option<&str>,
) -> Result<Vec<serde_json::Value>, QueryError> {
    simulate_page(
        p,
        identity,
        boundary,
        trust,
        Page {
            start: 0,
            max: None,
        },
    )
    .map(|(r, _)| r)
}

/// A simulation's results for one page, and the marker of the next page when there is one. Only the
/// page's (action, resource) pairs are decided: the work and the memory are one page's, whatever the
/// product of `ActionNames` and `ResourceArns`.
fn simulate_page(
    p: &Params,
    identity: Vec<Input>,
    mut boundary: Vec<Input>,
    trust: Option<&str>,
    page: Page,
) -> Result<(Vec<serde_json::Value>, Option<String>), QueryError> {
    if identity.is_empty() {
        return Err(QueryError::invalid(
            "no identity policy: give `PolicyInputList` (or a principal with policies)",
        ));
    }
    boundary.extend(inputs(
        p,
        "PermissionsBoundaryPolicyInputList",
        "IAM Policy",
        PolicyType::Boundary,
    )?);
    let resource = match p.get("ResourcePolicy").or(trust) {
        None => None,
        Some(t) => {
            // A trust policy (only `sts:` actions) is read as one and evaluated as one.
            let probe = iam_policy::check(
                "ResourcePolicy",
                t.as_bytes(),
                PolicyType::Resource,
                &ValidateOptions::default(),
            );
            let ty = match &probe.document {
                Some(d) if d.looks_like_trust() => PolicyType::Trust,
                _ => PolicyType::Resource,
            };
            Some(read("ResourcePolicy".into(), "Resource Policy", t, ty)?)
        }
    };
    let actions = p.list("ActionNames");
    if actions.is_empty() {
        return Err(QueryError::invalid("`ActionNames` is required"));
    }
    let mut resources = p.list("ResourceArns");
    if resources.is_empty() {
        resources.push("*");
    }
    // Individual resources, as opposed to `*` given or left out.
    let individual = resources.iter().any(|r| *r != "*");
    let ctx = context(p)?;
    let compile = |l: Layer, v: &[Input]| {
        PolicySet::compile(l, v.iter().map(|i| i.doc.clone()))
            .map_err(|e| QueryError::invalid(e.to_string()))
    };
    let mut auth = Authorizer::new(compile(Layer::Identity, &identity)?);
    if !boundary.is_empty() {
        auth.boundary = Some(compile(Layer::Boundary, &boundary)?);
    }
    // Only the "must name the principal" rule depends on it, and only for role assumptions.
    let trust = resource.as_ref().is_some_and(|r| r.doc.looks_like_trust());
    if let Some(r) = &resource {
        auth.resource = Some(compile(Layer::Resource, std::slice::from_ref(r))?);
        if trust {
            auth.resource_kind = iam_eval::ResourceKind::Trust { role: None };
        }
    }
    let owner = p.get("ResourceOwner").map(|o| {
        // An account id or an ARN naming one.
        o.split(':').nth(4).filter(|a| !a.is_empty()).unwrap_or(o)
    });
    // Context keys as the policies spell them (the engine compares them in lower case): AWS lists
    // missing values by the key's name in the policy.
    let spelled: std::collections::HashMap<String, String> = identity
        .iter()
        .chain(boundary.iter())
        .chain(resource.iter())
        .flat_map(|i| i.doc.statements.iter())
        .flat_map(|s| s.conditions.iter())
        .map(|c| (c.key.value.to_ascii_lowercase(), c.key.value.clone()))
        .collect();
    let spell = |missing: &[String]| -> Vec<String> {
        missing
            .iter()
            .map(|k| spelled.get(k).cloned().unwrap_or_else(|| k.clone()))
            .collect()
    };
    let mut results = Vec::new();
    let total = actions.len().saturating_mul(resources.len());
    if page.start > total {
        return Err(QueryError::invalid(
            "`Marker` is past the end of the results",
        ));
    }
    let end = page
        .max
        .map_or(total, |m| page.start.saturating_add(m).min(total));
    let per_action = resources.len().max(1);
    for index in page.start..end {
        let (Some(action), Some(res)) = (
            actions.get(index / per_action),
            resources.get(index % per_action),
        ) else {
            break;
        };
        let web_identity = trust && action.eq_ignore_ascii_case("sts:AssumeRoleWithWebIdentity");
        let caller = p
            .get("CallerArn")
            .or(web_identity.then_some("cognito-identity.amazonaws.com"))
            .or(p.get("PolicySourceArn"));
        {
            let mut req = Request::new(action, res).context(&ctx);
            req.principal = caller;
            req.resource_account = owner;
            let ex = auth.explain(&req);
            let decision = match ex.outcome.decision {
                Decision::Allow => "allowed",
                Decision::ExplicitDeny => "explicitDeny",
                Decision::ImplicitDeny => "implicitDeny",
            };
            // The statements that applied with the decision's effect (the deny ones for a deny).
            let want_deny = ex.outcome.decision == Decision::ExplicitDeny;
            let mut matched = Vec::new();
            for s in ex.statements.iter().filter(|s| {
                s.verdict == Verdict::Applies
                    && (s.effect == iam_policy::Effect::Deny) == want_deny
                    && ex.outcome.decision != Decision::ImplicitDeny
            }) {
                let input = match s.at.layer {
                    Layer::Identity => identity.get(s.at.policy as usize),
                    Layer::Boundary => boundary.get(s.at.policy as usize),
                    Layer::Resource => resource.as_ref(),
                    _ => None,
                };
                let Some(input) = input else { continue };
                let Some(st) = input.doc.statements.get(s.at.statement as usize) else {
                    continue;
                };
                let (l1, c1) = input.source.line_col(st.span.start);
                let (l2, c2) = input.source.line_col(st.span.end);
                matched.push(json!({
                    "SourcePolicyId": input.id,
                    "SourcePolicyType": input.kind,
                    "StartPosition": {"Line": l1, "Column": c1},
                    "EndPosition": {"Line": l2, "Column": c2},
                }));
            }
            // As the IAM API reference describes the result: with individual resources, the missing
            // context values and the per-resource decision go under `ResourceSpecificResults` and
            // `EvalDecisionDetails` is present but empty (same account); with `*`, neither appears and
            // the missing values are the result's own.
            let mut r = if individual {
                json!({
                    "EvalActionName": action,
                    "EvalResourceName": res,
                    "EvalDecision": decision,
                    "MatchedStatements": matched,
                    "MissingContextValues": [],
                    "EvalDecisionDetails": {},
                    "ResourceSpecificResults": [{
                        "EvalResourceName": res,
                        "EvalResourceDecision": decision,
                        "MatchedStatements": matched,
                        "MissingContextValues": spell(&ex.missing_context),
                    }],
                })
            } else {
                json!({
                    "EvalActionName": action,
                    "EvalResourceName": res,
                    "EvalDecision": decision,
                    "MatchedStatements": matched,
                    "MissingContextValues": spell(&ex.missing_context),
                })
            };
            if let Some(o) = r.as_object_mut() {
                if auth.boundary.is_some() {
                    let allowed = ex.outcome.blocked_by != Some(Layer::Boundary);
                    o.insert(
                        "PermissionsBoundaryDecisionDetail".into(),
                        json!({"AllowedByPermissionsBoundary": allowed}),
                    );
                }
                o.insert(
                    "OrganizationsDecisionDetail".into(),
                    json!({"AllowedByOrganizations": true}),
                );
            }
            results.push(r);
        }
    }
    let next = (end < total).then(|| format!("pc1.{end}"));
    Ok((results, next))
}

/// Writes a result the way the Query protocol serializes it: members as elements, lists as `member`
/// elements, scalars as text.
fn xml_of(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                let _ = write!(out, "<{k}>");
                xml_of(x, out);
                let _ = write!(out, "</{k}>");
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                out.push_str("<member>");
                xml_of(x, out);
                out.push_str("</member>");
            }
        }
        serde_json::Value::String(t) => out.push_str(&esc(t)),
        serde_json::Value::Null => {}
        other => out.push_str(&other.to_string()),
    }
}

/// A simulation as the Query protocol answers it.
fn simulate_xml(
    p: &Params,
    identity: Vec<Input>,
    boundary: Vec<Input>,
    trust: Option<&str>,
    op: &str,
    request_id: &str,
) -> Result<String, QueryError> {
    let (results, next) = simulate_page(p, identity, boundary, trust, page_of(p)?)?;
    let mut xml = match &next {
        Some(m) => format!(
            r#"<{op}Response xmlns="{NS}"><{op}Result><IsTruncated>true</IsTruncated><Marker>{}</Marker><EvaluationResults>"#,
            esc(m)
        ),
        None => format!(
            r#"<{op}Response xmlns="{NS}"><{op}Result><IsTruncated>false</IsTruncated><EvaluationResults>"#
        ),
    };
    xml_of(&serde_json::Value::Array(results), &mut xml);
    let _ = write!(
        xml,
        "</EvaluationResults></{op}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op}Response>"
    );
    Ok(xml)
}

/// `aws iam simulate-custom-policy --cli-input-json` → what that command prints (`EvaluationResults`,
/// `IsTruncated`), decided by policy-check: the same simulation the server answers.
pub fn simulate_custom_policy_json(
    input: &serde_json::Value,
) -> Result<serde_json::Value, crate::ServeError> {
    simulate_custom(input).map_err(|e| crate::ServeError::Aws {
        code: e.code,
        message: e.message,
    })
}

fn simulate_custom(input: &serde_json::Value) -> Result<serde_json::Value, QueryError> {
    let o = input.as_object().ok_or_else(|| {
        QueryError::invalid("the input of simulate-custom-policy is a JSON object")
    })?;
    let known = [
        "PolicyInputList",
        "PermissionsBoundaryPolicyInputList",
        "ActionNames",
        "ResourceArns",
        "ResourcePolicy",
        "ResourceOwner",
        "CallerArn",
        "ContextEntries",
        "ResourceHandlingOption",
        "MaxItems",
        "Marker",
    ];
    if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(QueryError::invalid(format!(
            "`{k}` is not a parameter of simulate-custom-policy"
        )));
    }
    let mut map = BTreeMap::new();
    let strings = |k: &str| -> Result<Vec<String>, QueryError> {
        match o.get(k) {
            None => Ok(Vec::new()),
            Some(serde_json::Value::Array(a)) => a
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| QueryError::invalid(format!("`{k}` holds strings")))
                })
                .collect(),
            Some(_) => Err(QueryError::invalid(format!(
                "`{k}` must be a list of strings"
            ))),
        }
    };
    for list in [
        "PolicyInputList",
        "PermissionsBoundaryPolicyInputList",
        "ActionNames",
        "ResourceArns",
    ] {
        for (i, x) in strings(list)?.into_iter().enumerate() {
            map.insert(format!("{list}.member.{}", i + 1), x);
        }
    }
    for k in ["ResourcePolicy", "ResourceOwner", "CallerArn"] {
        match o.get(k) {
            None => {}
            Some(serde_json::Value::String(v)) => {
                map.insert(k.to_string(), v.clone());
            }
            Some(_) => return Err(QueryError::invalid(format!("`{k}` must be a string"))),
        }
    }
    let entries = match o.get("ContextEntries") {
        None => &[][..],
        Some(serde_json::Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(QueryError::invalid("`ContextEntries` must be a list")),
    };
    for (i, e) in entries.iter().enumerate() {
        let base = format!("ContextEntries.member.{}", i + 1);
        let name = e
            .get("ContextKeyName")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                QueryError::invalid(format!("ContextEntries[{i}] needs `ContextKeyName`"))
            })?;
        map.insert(format!("{base}.ContextKeyName"), name.to_string());
        if let Some(t) = e.get("ContextKeyType").and_then(serde_json::Value::as_str) {
            map.insert(format!("{base}.ContextKeyType"), t.to_string());
        }
        let values = e
            .get("ContextKeyValues")
            .and_then(serde_json::Value::as_array)
            .ok_or_else(|| {
                QueryError::invalid(format!(
                    "ContextEntries[{i}] needs `ContextKeyValues` (a list)"
                ))
            })?;
        for (j, v) in values.iter().enumerate() {
            let v = v.as_str().ok_or_else(|| {
                QueryError::invalid(format!(
                    "ContextEntries[{i}].ContextKeyValues holds strings"
                ))
            })?;
            map.insert(
                format!("{base}.ContextKeyValues.member.{}", j + 1),
                v.to_string(),
            );
        }
    }
    let p = Params(map);
    let identity = inputs(&p, "PolicyInputList", "IAM Policy", PolicyType::Identity)?;
    let results = simulate(&p, identity, Vec::new(), None)?;
    Ok(json!({"EvaluationResults": results, "IsTruncated": false}))
}

fn context_keys(identity: Vec<Input>, op: &str, request_id: &str) -> Result<String, QueryError> {
    if identity.is_empty() {
        return Err(QueryError::invalid("`PolicyInputList` is required"));
    }
    // Condition keys, and the keys of policy variables, each once (first spelling), in order.
    let mut keys: Vec<String> = Vec::new();
    let mut add = |k: &str| {
        if !keys.iter().any(|x| x.eq_ignore_ascii_case(k)) {
            keys.push(k.to_string());
        }
    };
    for i in &identity {
        let text = i.source.text();
        for s in &i.doc.statements {
            for c in &s.conditions {
                add(&c.key.value);
            }
        }
        let mut rest = text;
        while let Some(at) = rest.find("${") {
            let after = rest.get(at + 2..).unwrap_or("");
            let Some(end) = after.find('}') else { break };
            let inner = after.get(..end).unwrap_or("");
            let key = inner.split(',').next().unwrap_or("").trim();
            if key.contains(':') {
                add(key);
            }
            rest = after.get(end..).unwrap_or("");
        }
    }
    let mut xml = format!(r#"<{op}Response xmlns="{NS}"><{op}Result><ContextKeyNames>"#);
    for k in &keys {
        let _ = write!(xml, "<member>{}</member>", esc(k));
    }
    let _ = write!(
        xml,
        "</ContextKeyNames></{op}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op}Response>"
    );
    Ok(xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--iam` files are read once and decoded in the same pass: a misspelled field, a wrong type, a
    /// duplicate key and a truncated file are refused with the file's line and column and a code.
    #[test]
    fn iam_config_mistakes_are_located() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/serve");
        let good = std::fs::read_to_string(root.join("iam.json")).unwrap_or_default();
        assert!(IamConfig::from_file(&root.join("iam.json")).is_ok());
        let dir = std::env::temp_dir().join(format!("serve-iam-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let cases = [
            (
                good.replacen("\"policies\"", "\"polices\"", 1),
                "unknown field `polices`",
                diag::codes::JSON_SHAPE,
            ),
            (
                good.replacen(
                    "\"boundary\": \"boundary-no-scan.json\"",
                    "\"boundary\": 1",
                    1,
                ),
                "invalid type",
                diag::codes::JSON_SHAPE,
            ),
            (
                good.replacen("\"arn\"", "\"arn\": \"x\", \"arn\"", 1),
                "duplicate key",
                diag::codes::JSON_DUPLICATE_KEY,
            ),
            (
                good.get(..good.len() / 2).unwrap_or_default().to_string(),
                "",
                "json::",
            ),
        ];
        for (i, (text, says, code)) in cases.iter().enumerate() {
            assert_ne!(text, &good);
            // Each mistake is refused before any policy path is followed.
            let f = dir.join(format!("iam-bad-{i}-{}.json", std::process::id()));
            std::fs::write(&f, text).unwrap_or_default();
            let e = IamConfig::from_file(&f)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            let _ = std::fs::remove_file(&f);
            assert!(e.contains(says) && e.contains(code), "case {i}: {e}");
            assert!(
                e.contains(&format!("iam-bad-{i}-{}.json:", std::process::id())),
                "case {i}: {e}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The result's shape as the IAM API reference describes it: with individual resources, missing
    /// context values and the per-resource decision are under `ResourceSpecificResults` and
    /// `EvalDecisionDetails` is present and empty; with `*` (given or left out), the missing values are
    /// the result's own and neither member appears.
    #[test]
    fn resource_specific_results_only_for_individual_resources() {
        let policy = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "blue"}}}]}"#;
        let run = |resources: Option<Vec<&str>>| {
            let mut input = json!({"PolicyInputList": [policy], "ActionNames": ["s3:GetObject"]});
            if let Some(r) = resources {
                input["ResourceArns"] = json!(r);
            }
            simulate_custom_policy_json(&input).unwrap()["EvaluationResults"][0].clone()
        };
        let one = run(Some(vec!["arn:aws:s3:::amzn-s3-demo-bucket/a.txt"]));
        assert_eq!(one["MissingContextValues"], json!([]));
        assert_eq!(one["EvalDecisionDetails"], json!({}));
        let specific = &one["ResourceSpecificResults"][0];
        assert_eq!(
            specific["EvalResourceName"],
            "arn:aws:s3:::amzn-s3-demo-bucket/a.txt"
        );
        assert_eq!(specific["EvalResourceDecision"], "implicitDeny");
        assert_eq!(
            specific["MissingContextValues"],
            json!(["aws:PrincipalTag/team"])
        );
        for star in [None, Some(vec!["*"])] {
            let all = run(star);
            assert_eq!(
                all["MissingContextValues"],
                json!(["aws:PrincipalTag/team"])
            );
            assert!(all.get("ResourceSpecificResults").is_none(), "{all}");
            assert!(all.get("EvalDecisionDetails").is_none(), "{all}");
        }
    }
}
