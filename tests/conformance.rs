//! Where policy-check used to differ from AWS (issue "Agree with AWS where it still differs"): a policy's
//! detected type never changes a decision outside role assumptions; policies AWS stores are evaluated,
//! not refused. Each rule is checked against a model written from AWS's documentation, not from the
//! engine's code.

use authz_core::{Decision, Layer, NoTrace, Request};
use iam_eval::{Authorizer, PolicySet, ResourceKind, is_role_assumption};
use iam_policy::Source;
use proptest::prelude::*;

use crate::cli::run;

const A: &str = "111122223333";
const USER: &str = "arn:aws:iam::111122223333:user/alice";
const ROLE: &str = "arn:aws:iam::111122223333:role/app";
const BUCKET: &str = "arn:aws:s3:::photos";

fn set(layer: Layer, text: &str) -> PolicySet {
    let doc = iam_policy::parse(&Source::new("p.json", text)).unwrap();
    PolicySet::compile(layer, [doc]).unwrap()
}

fn authorizer(identity: &str, resource: &str, kind: ResourceKind) -> Authorizer {
    let mut a = Authorizer::new(set(Layer::Identity, identity));
    a.resource = Some(set(Layer::Resource, resource));
    a.resource_kind = kind;
    a
}

fn tmp(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("pc-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The issue's own example: a bucket policy that names only `sts:` actions does not make an identity
/// policy's same-account `s3:PutBucketTagging` fail, whatever type the text suggests.
#[test]
fn bucket_policy_with_sts_actions_does_not_block_other_services() {
    let identity = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutBucketTagging","Resource":"arn:aws:s3:::photos"}}"#;
    for bucket_policy in [
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:*","Resource":"arn:aws:s3:::photos"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:*"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"NotAction":"sts:AssumeRole"}}"#,
    ] {
        // Every kind the library offers: the decision of a non-assumption request is the same.
        for kind in [
            ResourceKind::Resource,
            ResourceKind::Trust { role: None },
            ResourceKind::Trust {
                role: Some(ROLE.into()),
            },
        ] {
            let a = authorizer(identity, bucket_policy, kind.clone());
            let req = Request::new("s3:PutBucketTagging", BUCKET).principal(USER);
            assert_eq!(
                a.evaluate(&req).decision,
                Decision::Allow,
                "{kind:?}: {bucket_policy}"
            );
        }
        // And through the CLI, which detects the type and says which it used and why.
        let id = tmp("tagging.identity.json", identity);
        let rp = tmp("sts-only.bucket.json", bucket_policy);
        let rq = tmp(
            "tagging.request.json",
            &format!(
                r#"{{"principal":"{USER}","action":"s3:PutBucketTagging","resource":"{BUCKET}"}}"#
            ),
        );
        let (code, out, err) = run(&[
            "eval",
            "--policy",
            &id,
            "--resource-policy",
            &rp,
            "--request",
            &rq,
        ]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("resource policy read as"), "{out}");
        if !bucket_policy.contains("\"Resource\"") {
            assert!(
                out.contains("is not a role assumption: decided as with a resource-based policy"),
                "{out}"
            );
        }
    }
}

/// A trust policy governs role assumptions on its role: there it must name the principal even in the
/// same account (IAM User Guide, "Policy evaluation logic": role trust policies are the exception to
/// same-account identity-only grants).
#[test]
fn trust_rule_applies_to_role_assumptions_only() {
    let identity = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession","iam:GetRole"],"Resource":"*"}}"#;
    let silent = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
    let names = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":["sts:AssumeRole","sts:TagSession"]}}"#;
    let trust = ResourceKind::Trust {
        role: Some(ROLE.into()),
    };
    let d = |policy: &str, kind: &ResourceKind, action: &str, resource: &str| {
        authorizer(identity, policy, kind.clone())
            .evaluate(&Request::new(action, resource).principal(USER))
            .decision
    };
    // Assumption of the role: the trust policy must name alice.
    assert_eq!(
        d(silent, &trust, "sts:AssumeRole", ROLE),
        Decision::ImplicitDeny
    );
    assert_eq!(d(names, &trust, "sts:AssumeRole", ROLE), Decision::Allow);
    assert_eq!(
        d(silent, &trust, "sts:TagSession", ROLE),
        Decision::ImplicitDeny
    );
    // The same policy as a plain resource policy: the identity policy's same-account allow suffices.
    assert_eq!(
        d(silent, &ResourceKind::Resource, "sts:AssumeRole", ROLE),
        Decision::Allow
    );
    // Not an assumption (iam:GetRole on the role), or an assumption of another role: not this trust
    // policy's rule.
    assert_eq!(d(silent, &trust, "iam:GetRole", ROLE), Decision::Allow);
    assert_eq!(
        d(
            silent,
            &trust,
            "sts:AssumeRole",
            "arn:aws:iam::111122223333:role/other"
        ),
        Decision::Allow
    );
    // Without a known role, any role ARN is taken as the role; a non-role resource is not.
    let any_role = ResourceKind::Trust { role: None };
    assert_eq!(
        d(silent, &any_role, "sts:AssumeRole", ROLE),
        Decision::ImplicitDeny
    );
    assert_eq!(
        d(silent, &any_role, "sts:AssumeRole", BUCKET),
        Decision::Allow
    );
    // A key policy must name the principal for every request.
    assert_eq!(
        d(silent, &ResourceKind::KeyPolicy, "iam:GetRole", ROLE),
        Decision::ImplicitDeny
    );
    for a in [
        "sts:AssumeRole",
        "STS:assumerolewithwebidentity",
        "sts:AssumeRoleWithSAML",
        "sts:TagSession",
        "sts:SetSourceIdentity",
        "sts:SetContext",
    ] {
        assert!(is_role_assumption(a), "{a}");
    }
    for a in [
        "sts:GetCallerIdentity",
        "sts:AssumeRoot",
        "sts:GetFederationToken",
        "s3:AssumeRole",
        "AssumeRole",
    ] {
        assert!(!is_role_assumption(a), "{a}");
    }
}

/// `--trust-policy` and a suite's `trust:` declare the type; the explanation says so.
#[test]
fn declared_trust_type_is_explained() {
    let id = tmp(
        "assume.identity.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#,
    );
    let trust = tmp(
        "ec2.trust.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#,
    );
    let rq = tmp(
        "assume.request.json",
        &format!(r#"{{"principal":"{USER}","action":"sts:AssumeRole","resource":"{ROLE}"}}"#),
    );
    let (code, out, err) = run(&[
        "eval",
        "--policy",
        &id,
        "--trust-policy",
        &trust,
        "--request",
        &rq,
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("declared with --trust-policy"), "{out}");
    assert!(
        out.contains("the trust policy must name the principal"),
        "{out}"
    );
    let (_, json, _) = run(&[
        "eval",
        "--policy",
        &id,
        "--trust-policy",
        &trust,
        "--request",
        &rq,
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["resource_policy_type"]["type"], "trust");
    assert_eq!(v["resource_policy_type"]["trust_rule_applies"], true);
    // `--trust-policy` with `--resource-policy` is a usage error.
    let (code, _, _) = run(&[
        "eval",
        "--policy",
        &id,
        "--trust-policy",
        &trust,
        "--resource-policy",
        &trust,
        "--request",
        &rq,
    ]);
    assert_eq!(code, 1);
    // A suite's `trust:` declares the type; `resource` and `trust` side by side are refused.
    let suite = tmp(
        "trust.suite.json",
        &format!(
            r#"{{"identity": "assume.identity.json", "trust": "ec2.trust.json", "cases": [
                {{"name": "alice is not named", "request": {{"principal": "{USER}", "action": "sts:AssumeRole", "resource": "{ROLE}"}}, "expect": "ImplicitDeny"}},
                {{"name": "ec2 is", "request": {{"principal": "ec2.amazonaws.com", "action": "sts:AssumeRole", "resource": "{ROLE}"}}, "expect": "Allow"}}
            ]}}"#
        ),
    );
    let (code, out, err) = run(&["test", &suite]);
    assert_eq!(code, 0, "{out}{err}");
    let both = tmp(
        "both.suite.json",
        r#"{"identity": "assume.identity.json", "trust": "ec2.trust.json", "resource": "ec2.trust.json", "cases": [
            {"name": "x", "request": {"action": "sts:AssumeRole", "resource": "arn:aws:iam::111122223333:role/app"}, "expect": "Allow"}]}"#,
    );
    let (code, out, err) = run(&["test", &both]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("both `resource` and `trust`"), "{err}");
}

// --- The property: the resource policy's kind never changes a decision of a non-assumption request,
// and for an assumption of the role it changes it only as the documented rule says.

fn stmt() -> impl Strategy<Value = String> {
    let effect = prop_oneof![Just("Allow"), Just("Deny")];
    let principal = prop_oneof![
        Just(r#""Principal":"*","#.to_string()),
        Just(format!(r#""Principal":{{"AWS":"{USER}"}},"#)),
        Just(format!(r#""Principal":{{"AWS":"{A}"}},"#)),
        Just(r#""Principal":{"Service":"ec2.amazonaws.com"},"#.to_string()),
        Just(r#""NotPrincipal":{"AWS":"arn:aws:iam::999999999999:root"},"#.to_string()),
    ];
    let action = prop_oneof![
        Just(r#""Action":"sts:*""#),
        Just(r#""Action":"sts:AssumeRole""#),
        Just(r#""Action":["sts:AssumeRole","sts:TagSession"]"#),
        Just(r#""NotAction":"sts:AssumeRole""#),
        Just(r#""Action":"s3:*""#),
        Just(r#""Action":"*""#),
    ];
    let resource = prop_oneof![
        Just(""),
        Just(r#","Resource":"*""#),
        Just(r#","Resource":"arn:aws:s3:::photos""#),
        Just(r#","Resource":"arn:aws:iam::111122223333:role/app""#),
    ];
    (effect, principal, action, resource)
        .prop_map(|(e, p, a, r)| format!(r#"{{"Effect":"{e}",{p}{a}{r}}}"#))
}

fn request() -> impl Strategy<Value = (&'static str, &'static str, &'static str)> {
    let principal = prop_oneof![
        Just(USER),
        Just("arn:aws:sts::111122223333:assumed-role/app/s1"),
        Just("arn:aws:iam::444455556666:user/bob"),
        Just("ec2.amazonaws.com"),
    ];
    let action = prop_oneof![
        Just("sts:AssumeRole"),
        Just("sts:TagSession"),
        Just("sts:AssumeRoleWithWebIdentity"),
        Just("sts:GetCallerIdentity"),
        Just("s3:PutBucketTagging"),
        Just("iam:GetRole"),
        Just("dynamodb:GetItem"),
    ];
    let resource = prop_oneof![Just(ROLE), Just(BUCKET), Just("*")];
    (principal, action, resource)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn resource_kind_never_changes_a_non_assumption_decision(
        stmts in prop::collection::vec(stmt(), 1..4),
        identity_allows in any::<bool>(),
        (principal, action, resource) in request(),
    ) {
        let text = format!(r#"{{"Version":"2012-10-17","Statement":[{}]}}"#, stmts.join(","));
        let identity = if identity_allows {
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#
        } else {
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:DescribeInstances","Resource":"*"}}"#
        };
        let req = Request::new(action, resource).principal(principal);
        let plain = authorizer(identity, &text, ResourceKind::Resource).evaluate(&req).decision;
        for kind in [ResourceKind::Trust { role: None }, ResourceKind::Trust { role: Some(ROLE.into()) }] {
            let got = authorizer(identity, &text, kind.clone()).evaluate(&req).decision;
            let assumption_of_role = is_role_assumption(action) && resource == ROLE;
            if !assumption_of_role {
                prop_assert_eq!(got, plain, "{:?} {} {} {}\n{}", kind, principal, action, resource, text);
            } else {
                // The model: an explicit deny stays; otherwise the trust policy must have an applicable
                // Allow that names the caller (a grant), or the answer is an implicit deny.
                let rs = set(Layer::Resource, &text).evaluate_layer_with(&req, &mut NoTrace);
                let named = matches!(rs.allow, Some((_, Some(_))));
                let want = match plain {
                    Decision::ExplicitDeny => Decision::ExplicitDeny,
                    d if named => d,
                    _ => Decision::ImplicitDeny,
                };
                prop_assert_eq!(got, want, "{:?} {} {} {}\n{}", kind, principal, action, resource, text);
            }
        }
    }
}

// --- Policies AWS stores are evaluated, not refused.

/// `"Version": "2008-10-17"` in an identity policy: AWS evaluates it with `${…}` as literal text (IAM
/// User Guide, "Policy variables": variables need 2012-10-17). `eval` decides and warns; `validate`
/// keeps its error (IAM's `CreatePolicy` refuses the version for managed policies).
#[test]
fn version_2008_identity_policy_is_evaluated_literally() {
    let policy = tmp(
        "v2008.identity.json",
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}}"#,
    );
    let literal = tmp(
        "literal.request.json",
        r#"{"action":"s3:GetObject","resource":"arn:aws:s3:::b/${aws:username}/x","context":{"aws:username":"alice"}}"#,
    );
    let alice = tmp(
        "alice.request.json",
        r#"{"action":"s3:GetObject","resource":"arn:aws:s3:::b/alice/x","context":{"aws:username":"alice"}}"#,
    );
    let (code, out, err) = run(&["eval", "--policy", &policy, "--request", &literal]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("iam::version-required"), "{err}");
    assert!(
        err.contains("AWS stores and evaluates this policy"),
        "{err}"
    );
    let (code, out, err) = run(&["eval", "--policy", &policy, "--request", &alice]);
    assert_eq!(code, 2, "{out}{err}");
    let (code, _, _) = run(&["validate", "--type", "identity", &policy]);
    assert_eq!(code, 1);
    // No Version at all is the same language.
    let none = tmp(
        "noversion.identity.json",
        r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}}"#,
    );
    let (code, out, err) = run(&["eval", "--policy", &none, "--request", &literal]);
    assert_eq!(code, 0, "{out}{err}");
    // An RCP still needs 2012-10-17 (Organizations, "RCP syntax").
    let rcp = tmp(
        "v2008.rcp.json",
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
    );
    let all = tmp(
        "all.identity.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
    );
    let (code, _, err) = run(&["eval", "--policy", &all, "--rcp", &rcp, "--request", &alice]);
    assert_eq!(code, 1, "{err}");
    // The suite runner decides the same way.
    let suite = tmp(
        "v2008.suite.json",
        r#"{"identity": "v2008.identity.json", "cases": [
            {"name": "literal", "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/${aws:username}/x", "context": {"aws:username": "alice"}}, "expect": "Allow"},
            {"name": "not substituted", "request": {"action": "s3:GetObject", "resource": "arn:aws:s3:::b/alice/x", "context": {"aws:username": "alice"}}, "expect": "ImplicitDeny"}]}"#,
    );
    let (code, out, err) = run(&["test", &suite]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("iam::version-required"), "{err}");
}

/// A documented multivalued key as a variable: AWS stores the policy and the element matches nothing.
#[test]
fn multivalued_variable_is_evaluated_as_matching_nothing() {
    let policy = tmp(
        "tagkeys.identity.json",
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:TagKeys}"}}"#,
    );
    let rq = tmp(
        "tagkeys.request.json",
        r#"{"action":"s3:GetObject","resource":"arn:aws:s3:::b/x","context":{"aws:TagKeys":"x"}}"#,
    );
    let (code, out, err) = run(&["eval", "--policy", &policy, "--request", &rq]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("iam::variable-multivalued"), "{err}");
    // `validate` reports it as a warning (no AWS validator refuses it): exit 0.
    let (code, out, err) = run(&["validate", "--type", "identity", &policy]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("iam::variable-multivalued"),
        "{out}{err}"
    );
}
