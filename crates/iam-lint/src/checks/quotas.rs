//! Access Analyzer checks on a policy's size and ARNs, and the checks that need the resource type a
//! resource policy is attached to (`validatePolicyResourceType`).

use diag::codes;
use iam_policy::{Diagnostic, PolicyType, Statement};

use super::{Ctx, finding};

/// The identity-policy size quota Access Analyzer applies ("10240 character maximum for inline and
/// managed policies", in its findings), characters excluding whitespace.
const IDENTITY_QUOTA: usize = 10_240;
/// IAM's quota for a customer managed policy, characters excluding whitespace.
const MANAGED_QUOTA: usize = 6_144;
/// The default role trust policy quota, characters excluding whitespace.
const TRUST_QUOTA: usize = 2_048;
/// The SCP size quota, every character counted.
const SCP_QUOTA: usize = 5_120;
use iam_policy::PARTITIONS;

/// Part `i` of a resource ARN (1 partition, 2 service, …) when it is written literally.
fn arn_part(p: &iam_policy::ResourcePattern, i: usize) -> Option<String> {
    match &p.kind {
        iam_policy::ResourceKind::Arn(arn) => arn
            .segments
            .get(i)
            .and_then(iam_policy::Template::as_literal),
        iam_policy::ResourceKind::Any => None,
    }
}

/// A partition AWS does not have (`arn:amazon:s3:::b`): the resource matches nothing.
pub(super) fn partition(s: &Statement, _cx: &Ctx, out: &mut Vec<Diagnostic>) {
    for p in s.resource.iter().flat_map(|r| r.items.iter()) {
        if let Some(part) = arn_part(p, 1)
            && !PARTITIONS.contains(&part.as_str())
        {
            out.push(finding(
                "INVALID_PARTITION",
                p.span,
                format!(
                    "The resource ARN {} names the partition {part}, which AWS does not have. Use the supported values: {}",
                    p.raw,
                    PARTITIONS.join(", ")
                ),
            ));
        }
    }
}

/// The size quotas: SCPs count every character, whitespace included (AWS Organizations, "SCP syntax");
/// identity and trust policies count characters outside whitespace.
pub(super) fn size(cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let (doc, ty, text) = (cx.doc, cx.ty, cx.text);
    if ty == PolicyType::Scp && text.chars().count() > SCP_QUOTA {
        out.push(finding(
            "POLICY_SIZE_EXCEEDS_SCP_QUOTA",
            doc.span,
            format!(
                "The {} characters in the service control policy (SCP) exceed the {SCP_QUOTA} character maximum for SCPs.",
                text.chars().count()
            ),
        ));
    }
    let size = size_without_whitespace(text);
    let quota = match ty {
        PolicyType::Identity | PolicyType::Boundary => {
            Some(("POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA", IDENTITY_QUOTA))
        }
        PolicyType::Trust => Some(("POLICY_SIZE_EXCEEDS_ROLE_TRUST_POLICY_QUOTA", TRUST_QUOTA)),
        _ => None,
    };
    if let Some((aws, q)) = quota
        && size > q
    {
        out.push(finding(
            aws,
            doc.span,
            format!(
                "The {size} characters in the policy, excluding whitespace, exceed the {q} character maximum. We recommend that you use multiple granular policies."
            ),
        ));
    } else if matches!(ty, PolicyType::Identity | PolicyType::Boundary) && size > MANAGED_QUOTA {
        out.push(
            Diagnostic::warning(
                codes::LINT_MANAGED_POLICY_SIZE,
                doc.span,
                format!(
                    "{size} characters excluding whitespace: too large for a customer managed policy ({MANAGED_QUOTA}); it fits only inline in a role (up to {IDENTITY_QUOTA} for all of the role's inline policies)"
                ),
            )
            .help("split it into several managed policies"),
        );
    }
}

/// Actions of another service than the resource type's.
pub(super) fn resource_type_actions(s: &Statement, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(rt) = cx.resource_type else { return };
    let Some(a) = s.action.as_ref().filter(|a| !a.negated) else {
        return;
    };
    for p in &a.items {
        if let Some(svc) = &p.service
            && !rt.services().contains(&svc.as_str())
        {
            out.push(finding(
                "UNSUPPORTED_ACTION_IN_POLICY",
                p.span,
                format!(
                    "The action {} is not supported for the resource-based policy attached to the resource type {rt}.",
                    p.raw
                ),
            ));
        }
    }
}

/// Resources of another service than the one the policy is attached to.
pub(super) fn resource_type_arns(s: &Statement, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(rt) = cx
        .resource_type
        .filter(|rt| *rt != crate::ResourceType::AssumeRolePolicyDocument)
    else {
        return;
    };
    let Some(r) = s.resource.as_ref().filter(|r| !r.negated) else {
        return;
    };
    for p in &r.items {
        if let Some(svc) = arn_part(p, 2)
            && !rt.services().contains(&svc.as_str())
        {
            out.push(finding(
                "UNSUPPORTED_RESOURCE_ARN_IN_POLICY",
                p.span,
                format!(
                    "The resource ARN {} is not supported for the resource-based policy attached to the resource type {rt}.",
                    p.raw
                ),
            ));
        }
    }
}

/// The reference's example: `s3:ResourceAccount` is for identity policies, not the S3 resource's own
/// policy.
pub(super) fn resource_type_keys(s: &Statement, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(rt) = cx
        .resource_type
        .filter(|rt| rt.as_str().starts_with("AWS::S3::"))
    else {
        return;
    };
    for c in &s.conditions {
        if c.key.value.eq_ignore_ascii_case("s3:ResourceAccount") {
            out.push(finding(
                "IRRELEVANT_CONDITION_KEY_IN_POLICY",
                c.key.span,
                format!(
                    "The condition key {} is not relevant for the {rt} policy. Use this key in an identity-based policy to govern access to this resource.",
                    c.key.value
                ),
            ));
        }
    }
}

/// The resource type's own size quota.
pub(super) fn resource_type_size(cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some((rt, q)) = cx.resource_type.and_then(|rt| rt.quota().map(|q| (rt, q))) else {
        return;
    };
    let size = size_without_whitespace(cx.text);
    if size > q {
        out.push(finding(
            "POLICY_SIZE_EXCEEDS_RESOURCE_POLICY_QUOTA",
            cx.doc.span,
            format!(
                "The {size} characters in the resource policy exceed the {q} character maximum for {rt} policies."
            ),
        ));
    }
}

/// Characters excluding whitespace outside strings (what IAM counts against its quotas).
pub(crate) fn size_without_whitespace(text: &str) -> usize {
    let mut n = 0;
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            n += 1;
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            n += 1;
            in_string = c == '"';
        }
    }
    n
}

#[cfg(test)]
mod tests {
    #[test]
    fn whitespace_outside_strings_is_not_counted() {
        assert_eq!(super::size_without_whitespace(r#"{ "a b" : 1 }"#), 9);
    }
}
