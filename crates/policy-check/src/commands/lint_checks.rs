//! Access Analyzer checks that `lint` decides beyond what `validate` reports: `iam:PassRole` and
//! `iam:CreateServiceLinkedRole` granted too widely, OIDC principals without conditions, redundant actions
//! and statements, empty conditions and Sids, deprecated keys, policy size quotas. Each is a diagnostic with the
//! registered code `lint::check` and Access Analyzer's issue code.

use diag::codes;
use iam_policy::catalog::glob;
use iam_policy::{
    Diagnostic, Effect, PolicyDocument, PolicyType, PrincipalKind, PrincipalValue, Statement,
};

/// The identity-policy size quota (managed policies), characters excluding whitespace.
const IDENTITY_QUOTA: usize = 6_144;
/// The default role trust policy quota, characters excluding whitespace.
const TRUST_QUOTA: usize = 2_048;

fn finding(aws: &'static str, span: diag::Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::warning(codes::LINT_CHECK, span, message).aws(aws)
}

/// How a statement's `Action` / `NotAction` reaches an action: named, by a wildcard, or not at all.
#[derive(PartialEq, Eq)]
enum Reach {
    Named,
    Wildcard,
    Excluded,
}

fn reach(s: &Statement, action: &str) -> Reach {
    let Some(a) = &s.action else {
        return Reach::Excluded;
    };
    let (service, name) = action.split_once(':').unwrap_or(("", action));
    let matches = |p: &iam_policy::ActionPattern| match &p.service {
        None => true,
        Some(svc) => glob(svc, service) && glob(&p.action, name),
    };
    if a.negated {
        // NotAction reaches every action it does not list.
        return if a.items.iter().any(matches) {
            Reach::Excluded
        } else {
            Reach::Wildcard
        };
    }
    if a.items
        .iter()
        .any(|p| p.service.as_deref() == Some(service) && p.action == name)
    {
        Reach::Named
    } else if a.items.iter().any(matches) {
        Reach::Wildcard
    } else {
        Reach::Excluded
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
    let not_action = s.action.as_ref().is_some_and(|a| a.negated);
    let (star_resource, not_resource) = match &s.resource {
        Some(b) if b.negated => (false, true),
        Some(b) => (b.items.iter().any(|p| p.raw.contains('*')), false),
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
    out.push(finding(
        aws,
        s.span,
        format!("this statement allows `{action}` on more resources than intended ({aws})"),
    ));
}

/// Characters excluding whitespace outside strings (what IAM counts against its quotas).
fn size_without_whitespace(text: &str) -> usize {
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

/// The checks for one document of type `ty`.
pub(crate) fn checks(doc: &PolicyDocument, ty: PolicyType, text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in &doc.statements {
        wide_grant(s, "iam:passrole", "PASS_ROLE", &mut out);
        wide_grant(s, "iam:createservicelinkedrole", "CREATE_SLR", &mut out);
        // Empty `Action` / `Resource` arrays are refused by `validate` (`iam::empty-list`).
        if s.has_condition_element && s.conditions.is_empty() {
            out.push(finding(
                "EMPTY_OBJECT_CONDITION",
                s.span,
                "this statement's condition block is empty",
            ));
        }
        if let Some(sid) = &s.sid
            && sid.value.is_empty()
        {
            out.push(finding(
                "EMPTY_SID_VALUE",
                sid.span,
                "the Sid is an empty string",
            ));
        }
        for c in &s.conditions {
            if c.key.value.eq_ignore_ascii_case("aws:ARN") {
                out.push(finding(
                    "DEPRECATED_GLOBAL_CONDITION_KEY",
                    c.key.span,
                    "`aws:ARN` is deprecated: use `aws:PrincipalArn`",
                ));
            }
        }
        // An OIDC provider trusted with no condition at all.
        let oidc = s.principal.as_ref().is_some_and(|p| match &p.value {
            PrincipalValue::Map(entries) => entries.iter().any(|e| {
                e.kind == PrincipalKind::Federated
                    && e.values
                        .iter()
                        .any(|v| !v.value.contains(":saml-provider/"))
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
        // Actions a wildcard of the same statement already covers.
        if let Some(a) = &s.action
            && !a.negated
        {
            let redundant: Vec<&iam_policy::ActionPattern> = a
                .items
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    a.items.iter().enumerate().any(|(j, q)| {
                        j != *i
                            && q.raw.contains(['*', '?'])
                            && !q.raw.eq_ignore_ascii_case(&p.raw)
                            && match (&q.service, &p.service) {
                                (None, _) => true,
                                (Some(qs), Some(ps)) => glob(qs, ps) && glob(&q.action, &p.action),
                                (Some(_), None) => false,
                            }
                    })
                })
                .map(|(_, p)| p)
                .collect();
            for p in redundant {
                out.push(finding(
                    "REDUNDANT_ACTION",
                    p.span,
                    format!(
                        "`{}` is redundant: a wildcard in the same statement covers it",
                        p.raw
                    ),
                ));
            }
        }
    }
    // Statements identical but for their Sid.
    let mut single = PolicyDocument {
        statements: Vec::new(),
        ..doc.clone()
    };
    let printed: Vec<String> = doc
        .statements
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.sid = None;
            single.statements = vec![s];
            single.to_string()
        })
        .collect();
    for (i, p) in printed.iter().enumerate() {
        if printed.get(..i).is_some_and(|earlier| earlier.contains(p))
            && let Some(s) = doc.statements.get(i)
        {
            out.push(finding(
                "REDUNDANT_STATEMENT",
                s.span,
                "this statement repeats an earlier one and grants nothing more",
            ));
        }
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
            format!("{size} characters excluding whitespace exceed the {q}-character quota"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes_of(text: &str, ty: PolicyType) -> Vec<&'static str> {
        let (_, doc, _) = iam_policy::parse_bytes("p.json", text.as_bytes());
        checks(&doc.unwrap(), ty, text)
            .iter()
            .filter_map(|d| d.aws_code)
            .collect()
    }

    fn stmt(body: &str) -> String {
        format!(r#"{{"Version": "2012-10-17", "Statement": [{body}]}}"#)
    }

    #[test]
    fn each_check_fires_and_stays_quiet() {
        let id = PolicyType::Identity;
        let cases: &[(&str, &[&str])] = &[
            (
                r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}"#,
                &["PASS_ROLE_WITH_STAR_IN_RESOURCE"],
            ),
            (
                r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/app"}"#,
                &[],
            ),
            (
                r#"{"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}"#,
                &[],
            ),
            (
                r#"{"Effect": "Allow", "Action": "iam:Pass*", "Resource": "arn:aws:iam::123456789012:role/*"}"#,
                &["PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE"],
            ),
            (
                r#"{"Effect": "Allow", "Action": "iam:PassRole", "NotResource": "arn:aws:iam::123456789012:role/x"}"#,
                &["PASS_ROLE_WITH_NOT_RESOURCE"],
            ),
            (
                r#"{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}"#,
                &[
                    "PASS_ROLE_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
                    "CREATE_SLR_WITH_STAR_IN_RESOURCE_AND_NOT_ACTION",
                ],
            ),
            (
                r#"{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}"#,
                &[],
            ),
            (
                r#"{"Effect": "Allow", "Action": "iam:CreateServiceLinkedRole", "Resource": "*"}"#,
                &["CREATE_SLR_WITH_STAR_IN_RESOURCE"],
            ),
            (
                r#"{"Effect": "Allow", "Action": ["s3:GetObject", "s3:Get*"], "Resource": "arn:aws:s3:::b/*"}"#,
                &["REDUNDANT_ACTION"],
            ),
            (
                r#"{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}"#,
                &[],
            ),
            (
                r#"{"Sid": "", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {}}"#,
                &["EMPTY_OBJECT_CONDITION", "EMPTY_SID_VALUE"],
            ),
            (
                r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"ArnEquals": {"aws:ARN": "arn:aws:iam::1:role/r"}}}"#,
                &["DEPRECATED_GLOBAL_CONDITION_KEY"],
            ),
            (
                r#"{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}, {"Sid": "B", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#,
                &["REDUNDANT_STATEMENT"],
            ),
        ];
        for (body, want) in cases {
            assert_eq!(codes_of(&stmt(body), id), *want, "{body}");
        }
        let oidc = r#"{"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}"#;
        assert_eq!(
            codes_of(&stmt(oidc), PolicyType::Trust),
            ["MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL"]
        );
        let saml = r#"{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/corp"}, "Action": "sts:AssumeRoleWithSAML"}"#;
        assert!(codes_of(&stmt(saml), PolicyType::Trust).is_empty());
        // Size quotas count characters outside whitespace.
        let long = stmt(&format!(
            r#"{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["{}"]}}"#,
            vec!["arn:aws:s3:::bucket-name-long/*"; 200].join(r#"", ""#)
        ));
        assert!(codes_of(&long, id).contains(&"POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA"));
        assert_eq!(size_without_whitespace(r#"{ "a b" : 1 }"#), 9);
    }
}
