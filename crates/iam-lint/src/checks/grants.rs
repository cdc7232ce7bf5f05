//! Access Analyzer checks on what a statement grants and to whom: `iam:PassRole` and
//! `iam:CreateServiceLinkedRole` on too many resources, service principals with no source condition,
//! OIDC principals with no condition at all, empty condition blocks and Sids.

use iam_policy::catalog::glob;
use iam_policy::{Diagnostic, Effect, PrincipalKind, PrincipalValue, Statement};

use super::{Ctx, Reach, finding, finding_at, reach};

pub(super) fn pass_role(s: &Statement, _cx: &Ctx, out: &mut Vec<Diagnostic>) {
    wide_grant(s, "iam:passrole", "PASS_ROLE", out);
}

pub(super) fn create_slr(s: &Statement, _cx: &Ctx, out: &mut Vec<Diagnostic>) {
    wide_grant(s, "iam:createservicelinkedrole", "CREATE_SLR", out);
}

/// A `Condition` element with no block in it. (Empty `Action` / `Resource` arrays are refused by
/// `validate`, `iam::empty-list`.)
pub(super) fn empty_condition(s: &Statement, _cx: &Ctx, out: &mut Vec<Diagnostic>) {
    if s.has_condition_element && s.conditions.is_empty() {
        out.push(finding(
            "EMPTY_OBJECT_CONDITION",
            s.span,
            "this statement's condition block is empty",
        ));
    }
}

pub(super) fn empty_sid(s: &Statement, _cx: &Ctx, out: &mut Vec<Diagnostic>) {
    if let Some(sid) = &s.sid
        && sid.value.is_empty()
    {
        out.push(finding(
            "EMPTY_SID_VALUE",
            sid.span,
            "the Sid is an empty string",
        ));
    }
}

/// A service principal granted access in a resource policy with no source condition.
pub(super) fn service_principal_source(s: &Statement, cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let service_principal = s.principal.as_ref().is_some_and(|p| {
        !p.negated
            && match &p.value {
                PrincipalValue::Map(entries) => {
                    entries.iter().any(|e| e.kind == PrincipalKind::Service)
                }
                PrincipalValue::Any => false,
            }
    });
    let has_source = s.conditions.iter().any(|c| {
        [
            "aws:SourceArn",
            "aws:SourceAccount",
            "aws:SourceOrgID",
            "aws:SourceOrgPaths",
        ]
        .iter()
        .any(|k| c.key.value.eq_ignore_ascii_case(k))
    });
    if cx.ty == iam_policy::PolicyType::Resource
        && s.effect.value == Effect::Allow
        && service_principal
        && !has_source
    {
        out.push(finding(
            "RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL",
            s.principal.as_ref().map_or(s.span, |p| p.span),
            "a service principal is granted access with no source: add aws:SourceArn or aws:SourceAccount so only your resources' requests qualify",
        ));
    }
}

/// An OIDC provider trusted with no condition at all.
pub(super) fn oidc_without_condition(s: &Statement, _cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let oidc = s.principal.as_ref().is_some_and(|p| match &p.value {
        PrincipalValue::Map(entries) => entries.iter().any(|e| {
            // GitHub's provider has a check of its own (MISSING_GITHUB_REPO_CONDITION_KEY).
            e.kind == PrincipalKind::Federated
                && e.values.iter().any(|v| {
                    !v.value.contains(":saml-provider/")
                        && !v.value.ends_with("token.actions.githubusercontent.com")
                })
        }),
        PrincipalValue::Any => false,
    });
    if oidc
        && s.effect.value == Effect::Allow
        && s.conditions.is_empty()
        && reach(s, "sts:assumerolewithwebidentity") != Reach::Excluded
    {
        out.push(finding(
            "MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL",
            s.span,
            "an OpenID Connect principal is trusted with no condition: any of its tokens can assume the role",
        ));
    }
}

/// The `PASS_ROLE_*` / `CREATE_SLR_*` family for one action.
fn wide_grant(s: &Statement, action: &str, prefix: &str, out: &mut Vec<Diagnostic>) {
    if s.effect.value != Effect::Allow {
        return;
    }
    let r = reach(s, action);
    if r == Reach::Excluded {
        return;
    }
    // As Access Analyzer decides it (checked against its findings for AWS managed policies): only a
    // bare `"*"` resource counts, and a condition naming where the role may go (`iam:PassedToService`)
    // or which service-linked role (`iam:AWSServiceName`) answers the concern.
    // As Access Analyzer decides it (its findings for AWS managed policies): an `…IfExists` or
    // negated test does not scope (`StringEqualsIfExists` on `iam:PassedToService` holds without the
    // key), nor does a wildcard value (`*a4b.amazonaws.com` names any number of services); naming the
    // resource the role goes with (`iam:AssociatedResourceArn`) does.
    let scoped = s.conditions.iter().any(|c| {
        let op = &c.operator.value;
        let key = &c.key.value;
        let named = (key.eq_ignore_ascii_case("iam:PassedToService")
            || key.eq_ignore_ascii_case("iam:AWSServiceName"))
            && !op.if_exists
            && !op.base.is_negated()
            && c.values.iter().all(|v| !v.raw.text().contains(['*', '?']));
        let associated =
            key.eq_ignore_ascii_case("iam:AssociatedResourceArn") && !op.base.is_negated();
        named || associated
    });
    if scoped {
        return;
    }
    let not_action = s.action.as_ref().is_some_and(|a| a.negated);
    let (star_resource, not_resource) = match &s.resource {
        Some(b) if b.negated => (false, true),
        Some(b) => (b.items.iter().any(|p| p.raw == "*"), false),
        None => (false, false),
    };
    let code = match (not_action, r == Reach::Named, star_resource, not_resource) {
        (true, _, _, true) => "WITH_NOT_ACTION_AND_NOT_RESOURCE",
        (true, _, true, _) => "WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
        (false, true, _, true) => "WITH_NOT_RESOURCE",
        (false, false, _, true) => "WITH_STAR_IN_ACTION_AND_NOT_RESOURCE",
        (false, true, true, _) => "WITH_STAR_IN_RESOURCE",
        (false, false, true, _) => "WITH_STAR_IN_ACTION_AND_RESOURCE",
        _ => return,
    };
    let aws: &'static str = match (prefix, code) {
        ("PASS_ROLE", "WITH_NOT_ACTION_AND_NOT_RESOURCE") => {
            "PASS_ROLE_WITH_NOT_ACTION_AND_NOT_RESOURCE"
        }
        ("PASS_ROLE", "WITH_STAR_IN_RESOURCE_AND_NOT_ACTION") => {
            "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION"
        }
        ("PASS_ROLE", "WITH_NOT_RESOURCE") => "PASS_ROLE_WITH_NOT_RESOURCE",
        ("PASS_ROLE", "WITH_STAR_IN_ACTION_AND_NOT_RESOURCE") => {
            "PASS_ROLE_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE"
        }
        ("PASS_ROLE", "WITH_STAR_IN_RESOURCE") => "PASS_ROLE_WITH_STAR_IN_RESOURCE",
        ("PASS_ROLE", _) => "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE",
        (_, "WITH_NOT_ACTION_AND_NOT_RESOURCE") => "CREATE_SLR_WITH_NOT_ACTION_AND_NOT_RESOURCE",
        (_, "WITH_STAR_IN_RESOURCE_AND_NOT_ACTION") => {
            "CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION"
        }
        (_, "WITH_NOT_RESOURCE") => "CREATE_SLR_WITH_NOT_RESOURCE",
        (_, "WITH_STAR_IN_ACTION_AND_NOT_RESOURCE") => {
            "CREATE_SLR_WITH_STAR_IN_ACTION_AND_NOT_RESOURCE"
        }
        (_, "WITH_STAR_IN_RESOURCE") => "CREATE_SLR_WITH_STAR_IN_RESOURCE",
        _ => "CREATE_SLR_WITH_STAR_IN_ACTION_AND_RESOURCE",
    };
    // Located, as Access Analyzer locates it, at the action item that reaches the action (or the
    // `NotAction` element) and at the resource that makes it wide (the `"*"` item or the element).
    let Some(a) = s.action.as_ref() else {
        return;
    };
    let (service, name) = action.split_once(':').unwrap_or(("", action));
    let at_action = if a.negated {
        a.span
    } else {
        a.items
            .iter()
            .find(|p| match &p.service {
                None => true,
                Some(svc) => glob(svc, service) && glob(&p.action, name),
            })
            .map_or(a.span, |p| p.span)
    };
    let at_resource = s.resource.as_ref().map(|r| {
        if r.negated || !r.array {
            r.span
        } else {
            r.items
                .iter()
                .find(|p| p.raw == "*")
                .map_or(r.span, |p| p.span)
        }
    });
    out.push(finding_at(
        aws,
        std::iter::once(at_action).chain(at_resource).collect(),
        crate::catalogue::details(aws)
            .unwrap_or("this statement allows the action on more resources than intended"),
    ));
}
