//! The checks against Z3 (PyPI's z3-solver, installed on first use under the target directory, or
//! `POLICY_CHECK_Z3`): every documented rule with a case that fails if the encoding breaks it, and
//! every witness replayed (the library replays them; these tests assert the verdicts and the witnesses'
//! contents).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../serve/tests/common/venv.rs"]
mod venv;

use iam_policy::{PolicyDocument, Source};
use iam_reason::{Answer, Checker, PolicyKind, Solver, Verdict, WitnessValue};

fn solver() -> Solver {
    if let Some(p) = std::env::var_os("POLICY_CHECK_Z3") {
        return Solver::at(p);
    }
    Solver::at(venv::venv("z3-venv", &[iam_reason::Z3_PACKAGE], "z3"))
}

fn checker() -> Checker {
    Checker::new(solver())
}

fn doc(name: &str, statements: &str) -> PolicyDocument {
    let text = format!(r#"{{"Version":"2012-10-17","Statement":{statements}}}"#);
    iam_policy::parse(&Source::new(name, text)).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn nna(old: &str, new: &str, kind: PolicyKind) -> Answer {
    checker()
        .no_new_access(&doc("old.json", old), &doc("new.json", new), kind)
        .unwrap()
}

fn ctx<'a>(a: &'a Answer, key: &str) -> Option<&'a WitnessValue> {
    a.witnesses
        .first()?
        .context
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

const PER_USER: &str = r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::notes/${aws:username}/*"}]"#;
const WHOLE_BUCKET: &str =
    r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::notes/*"}]"#;

#[test]
fn widening_a_per_user_prefix_is_new_access_and_narrowing_is_not() {
    let a = nna(PER_USER, WHOLE_BUCKET, PolicyKind::Identity);
    assert_eq!(a.verdict, Verdict::Fail, "{a:?}");
    let w = &a.witnesses[0];
    assert_eq!(w.action, "s3:GetObject");
    assert!(w.resource.starts_with("arn:aws:s3:::notes/"), "{w:?}");
    assert_eq!(a.reasons[0].statement_index, 0);
    let back = nna(WHOLE_BUCKET, PER_USER, PolicyKind::Identity);
    assert_eq!(back.verdict, Verdict::Pass, "{back:?}");
    assert!(back.witnesses.is_empty());
    let same = nna(PER_USER, PER_USER, PolicyKind::Identity);
    assert_eq!(same.verdict, Verdict::Pass);
}

#[test]
fn the_witness_for_a_variable_names_another_users_prefix() {
    // The new policy reads any prefix; the witness must put a user in the request whose name is not the
    // prefix it reads (else the old policy would allow it too).
    let a = nna(PER_USER, WHOLE_BUCKET, PolicyKind::Identity);
    let w = &a.witnesses[0];
    let user = match ctx(&a, "aws:username") {
        Some(WitnessValue::One(u)) => Some(u.clone()),
        _ => None,
    };
    if let Some(u) = user {
        assert!(
            !w.resource.starts_with(&format!("arn:aws:s3:::notes/{u}/")),
            "{w:?}"
        );
    }
}

const ROWS: &str = r#"[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
  "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["${cognito-identity.amazonaws.com:sub}"]}}}]"#;
const ROWS_NO_CONDITION: &str = r#"[{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query"],"Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/Notes"}]"#;

#[test]
fn dropping_the_row_level_condition_is_new_access_on_someone_elses_rows() {
    let a = nna(ROWS, ROWS_NO_CONDITION, PolicyKind::Identity);
    assert_eq!(a.verdict, Verdict::Fail, "{a:?}");
    let keys = ctx(&a, "dynamodb:LeadingKeys");
    let sub = ctx(&a, "cognito-identity.amazonaws.com:sub");
    // Some leading key differs from the caller's identity id (or the id is missing).
    match (keys, sub) {
        (Some(WitnessValue::Many(ks)), Some(WitnessValue::One(s))) => {
            assert!(ks.iter().any(|k| k != s), "{ks:?} {s}")
        }
        (Some(WitnessValue::One(k)), Some(WitnessValue::One(s))) => assert_ne!(k, s),
        _ => {}
    }
    assert_eq!(
        nna(ROWS_NO_CONDITION, ROWS, PolicyKind::Identity).verdict,
        Verdict::Pass
    );
}

#[test]
fn a_deny_that_removes_the_new_access_makes_it_pass() {
    let new = r#"[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
                  {"Effect":"Deny","NotAction":"s3:GetObject","Resource":"*"},
                  {"Effect":"Deny","Action":"*","NotResource":"arn:aws:s3:::notes/*"}]"#;
    assert_eq!(
        nna(WHOLE_BUCKET, new, PolicyKind::Identity).verdict,
        Verdict::Pass
    );
    let leaky = r#"[{"Effect":"Allow","Action":"s3:*","Resource":"*"},
                  {"Effect":"Deny","NotAction":"s3:Get*","Resource":"*"},
                  {"Effect":"Deny","Action":"*","NotResource":"arn:aws:s3:::notes/*"}]"#;
    let a = nna(WHOLE_BUCKET, leaky, PolicyKind::Identity);
    assert_eq!(a.verdict, Verdict::Fail);
    let w = &a.witnesses[0];
    assert!(w.action.to_ascii_lowercase().starts_with("s3:get"), "{w:?}");
    assert_ne!(w.action, "s3:GetObject");
}

#[test]
fn ip_numeric_date_and_bool_conditions() {
    let ip = |net: &str| {
        format!(
            r#"[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{"IpAddress":{{"aws:SourceIp":"{net}"}}}}}}]"#
        )
    };
    let a = nna(&ip("10.1.0.0/16"), &ip("10.0.0.0/8"), PolicyKind::Identity);
    assert_eq!(a.verdict, Verdict::Fail);
    let Some(WitnessValue::One(addr)) = ctx(&a, "aws:SourceIp") else {
        panic!("{a:?}")
    };
    let addr: std::net::Ipv4Addr = addr.parse().unwrap();
    assert_eq!(addr.octets()[0], 10);
    assert_ne!(addr.octets()[1], 1);
    assert_eq!(
        nna(&ip("10.0.0.0/8"), &ip("10.1.0.0/16"), PolicyKind::Identity).verdict,
        Verdict::Pass
    );

    let num = |op: &str, v: &str| {
        format!(
            r#"[{{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{{"{op}":{{"s3:max-keys":"{v}"}}}}}}]"#
        )
    };
    let a = nna(
        &num("NumericLessThanEquals", "10"),
        &num("NumericLessThan", "10.5"),
        PolicyKind::Identity,
    );
    assert_eq!(a.verdict, Verdict::Fail);
    let Some(WitnessValue::One(n)) = ctx(&a, "s3:max-keys") else {
        panic!("{a:?}")
    };
    let n: f64 = n.parse().unwrap();
    assert!(n > 10.0 && n < 10.5, "{n}");
    assert_eq!(
        nna(
            &num("NumericLessThan", "10.5"),
            &num("NumericLessThanEquals", "10"),
            PolicyKind::Identity
        )
        .verdict,
        Verdict::Pass
    );

    let date = |op: &str, v: &str| {
        format!(
            r#"[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{"{op}":{{"aws:CurrentTime":"{v}"}}}}}}]"#
        )
    };
    let a = nna(
        &date("DateLessThan", "2026-01-01T00:00:00Z"),
        &date("DateLessThan", "2027-01-01T00:00:00Z"),
        PolicyKind::Identity,
    );
    assert_eq!(a.verdict, Verdict::Fail);
    let Some(WitnessValue::One(t)) = ctx(&a, "aws:CurrentTime") else {
        panic!("{a:?}")
    };
    assert!(t.as_str() >= "2026-01-01" && t.as_str() < "2027", "{t}");

    let secure = r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]"#;
    let a = nna(secure, WHOLE_BUCKET, PolicyKind::Identity);
    assert_eq!(a.verdict, Verdict::Fail);
    // Any request without SecureTransport=true on notes/* is a witness.
    assert_eq!(
        nna(WHOLE_BUCKET, secure, PolicyKind::Identity).verdict,
        Verdict::Fail,
        "other resources than notes/*"
    );
}

#[test]
fn null_if_exists_and_set_operators() {
    let tagged = r#"[{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:ResourceTag/team":"blue"}}}]"#;
    let strict = r#"[{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"blue"}}}]"#;
    // IfExists allows the untagged instance: a witness without the key.
    let a = nna(strict, tagged, PolicyKind::Identity);
    assert_eq!(a.verdict, Verdict::Fail);
    assert!(ctx(&a, "aws:ResourceTag/team").is_none(), "{a:?}");
    assert_eq!(
        nna(tagged, strict, PolicyKind::Identity).verdict,
        Verdict::Pass
    );

    let must_have = r#"[{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"*","Condition":{"Null":{"aws:ResourceTag/team":"false"},"StringEqualsIfExists":{"aws:ResourceTag/team":"blue"}}}]"#;
    assert_eq!(
        nna(strict, must_have, PolicyKind::Identity).verdict,
        Verdict::Pass
    );

    let any_of = |vals: &str| {
        format!(
            r#"[{{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Principal":{{"Federated":"cognito-identity.amazonaws.com"}},"Condition":{{"ForAnyValue:StringLike":{{"cognito-identity.amazonaws.com:amr":{vals}}}}}}}]"#
        )
    };
    let a = nna(
        &any_of(r#"["authenticated"]"#),
        &any_of(r#"["authenticated","unauthenticated"]"#),
        PolicyKind::Resource,
    );
    assert_eq!(a.verdict, Verdict::Fail);
    match ctx(&a, "cognito-identity.amazonaws.com:amr") {
        Some(WitnessValue::Many(v)) => assert!(
            v.iter().any(|x| x == "unauthenticated") && !v.iter().any(|x| x == "authenticated"),
            "{v:?}"
        ),
        Some(WitnessValue::One(v)) => assert_eq!(v, "unauthenticated"),
        None => panic!("{a:?}"),
    }
    assert_eq!(
        nna(
            &any_of(r#"["authenticated","unauthenticated"]"#),
            &any_of(r#"["authenticated"]"#),
            PolicyKind::Resource
        )
        .verdict,
        Verdict::Pass
    );
}

#[test]
fn principals_in_resource_policies() {
    let to = |p: &str| {
        format!(
            r#"[{{"Effect":"Allow","Principal":{p},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:q"}}]"#
        )
    };
    let role = to(r#"{"AWS":"arn:aws:iam::444455556666:role/sender"}"#);
    let account = to(r#"{"AWS":"444455556666"}"#);
    let a = nna(&role, &account, PolicyKind::Resource);
    assert_eq!(a.verdict, Verdict::Fail, "{a:?}");
    let p = a.witnesses[0].principal.clone().unwrap_or_default();
    assert!(
        p.contains("444455556666") && !p.contains("role/sender"),
        "{p}"
    );
    assert_eq!(
        nna(&account, &role, PolicyKind::Resource).verdict,
        Verdict::Pass
    );
    let not_principal = r#"[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:q"}]"#;
    assert_eq!(
        nna(&account, not_principal, PolicyKind::Resource).verdict,
        Verdict::Fail
    );
}

#[test]
fn access_not_granted_follows_aws_three_forms() {
    let c = checker();
    let p = doc(
        "p.json",
        r#"[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::notes/*"},
            {"Effect":"Allow","Action":"dynamodb:Query","Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/Notes"},
            {"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::notes/locked/*"}]"#,
    );
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let k = PolicyKind::Identity;
    let a = c
        .access_not_granted(&p, &s(&["s3:DeleteObject"]), &[], k)
        .unwrap();
    assert_eq!(a.verdict, Verdict::Pass);
    let a = c
        .access_not_granted(&p, &s(&["s3:PutObject"]), &[], k)
        .unwrap();
    assert_eq!(a.verdict, Verdict::Fail, "{a:?}");
    assert!(
        !a.witnesses[0]
            .resource
            .starts_with("arn:aws:s3:::notes/locked/")
    );
    let a = c
        .access_not_granted(
            &p,
            &s(&["s3:PutObject"]),
            &s(&["arn:aws:s3:::notes/locked/*"]),
            k,
        )
        .unwrap();
    assert_eq!(a.verdict, Verdict::Pass, "the Deny covers it");
    let a = c
        .access_not_granted(&p, &[], &s(&["arn:aws:dynamodb:*:*:table/Notes"]), k)
        .unwrap();
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(a.witnesses[0].action, "dynamodb:Query");
    assert_eq!(a.reasons[0].statement_index, 1);
    let a = c
        .access_not_granted(&p, &s(&["s3:Get*"]), &s(&["arn:aws:s3:::other/*"]), k)
        .unwrap();
    assert_eq!(a.verdict, Verdict::Pass);
    assert!(c.access_not_granted(&p, &[], &[], k).is_err());
}

#[test]
fn public_access_and_the_conditions_that_restrict_it() {
    let c = checker();
    let bucket = |extra: &str| {
        doc(
            "bucket.json",
            &format!(
                r#"[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"{extra}}}]"#
            ),
        )
    };
    let t = "AWS::S3::Bucket";
    let a = c.no_public_access(&bucket(""), t).unwrap();
    assert_eq!(a.verdict, Verdict::Fail);
    assert_eq!(a.witnesses[0].action, "s3:GetObject");
    for restricted in [
        r#","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}"#,
        r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#,
        r#","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c"}}"#,
        r#","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        r#","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudfront::111122223333:distribution/E1"}}"#,
    ] {
        let a = c.no_public_access(&bucket(restricted), t).unwrap();
        assert_eq!(a.verdict, Verdict::Pass, "{restricted}: {a:?}");
    }
    for open in [
        r#","Condition":{"StringLike":{"aws:PrincipalOrgID":"o-*"}}"#,
        r#","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
        r#","Condition":{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}"#,
        r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#,
    ] {
        let a = c.no_public_access(&bucket(open), t).unwrap();
        assert_eq!(a.verdict, Verdict::Fail, "{open}: {a:?}");
    }
    let account = doc(
        "q.json",
        r#"[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sqs:*","Resource":"*"}]"#,
    );
    assert_eq!(
        c.no_public_access(&account, "AWS::SQS::Queue")
            .unwrap()
            .verdict,
        Verdict::Pass
    );
    let trust = |cond: &str| {
        doc(
            "trust.json",
            &format!(
                r#"[{{"Effect":"Allow","Principal":{{"Federated":"cognito-identity.amazonaws.com"}},"Action":"sts:AssumeRoleWithWebIdentity"{cond}}}]"#
            ),
        )
    };
    let tt = "AWS::IAM::AssumeRolePolicyDocument";
    assert_eq!(
        c.no_public_access(&trust(""), tt).unwrap().verdict,
        Verdict::Fail
    );
    let pinned = r#","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:12345678-aaaa-bbbb-cccc-123456789012"}}"#;
    assert_eq!(
        c.no_public_access(&trust(pinned), tt).unwrap().verdict,
        Verdict::Pass
    );
    assert!(c.no_public_access(&bucket(""), "AWS::Nope::Thing").is_err());
}

#[test]
fn what_the_encoding_does_not_cover_is_unknown_with_its_position() {
    let odd = "[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\",\n \"Condition\":{\"BinaryEquals\":{\"s3:x\":\"QUJD\"}}}]";
    let a = nna(WHOLE_BUCKET, odd, PolicyKind::Identity);
    assert_eq!(a.verdict, Verdict::Unknown, "{a:?}");
    assert!(a.unknown[0].starts_with("new.json:2:"), "{:?}", a.unknown);
    assert!(a.unknown[0].contains("BinaryEquals"));
    let both = r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*${aws:username}*"}]"#;
    let a = nna(WHOLE_BUCKET, both, PolicyKind::Identity);
    assert_eq!(a.verdict, Verdict::Unknown, "{a:?}");
}

#[test]
fn precise_mode_only_counts_listed_actions() {
    let star = r#"[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":"x"}}}]"#;
    let old = r#"[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]"#;
    let c = checker().precise(true);
    let a = c
        .no_new_access(
            &doc("o.json", old),
            &doc("n.json", star),
            PolicyKind::Identity,
        )
        .unwrap();
    assert_eq!(a.verdict, Verdict::Pass);
    assert_eq!(a.mode, "precise");
    let grows = r#"[{"Effect":"Allow","Action":["s3:*","sqs:SendMessage"],"Resource":"*"}]"#;
    let a = c
        .no_new_access(
            &doc("o.json", old),
            &doc("n.json", grows),
            PolicyKind::Identity,
        )
        .unwrap();
    assert_eq!(a.verdict, Verdict::Fail, "{a:?}");
    assert_eq!(a.witnesses[0].action, "sqs:SendMessage");
}

#[test]
fn precise_mode_keeps_each_action_to_its_resource_types() {
    // s3:GetObject works on objects; a grant on the bucket ARN gives it nothing real.
    let none = r#"[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::notes"}]"#;
    let bucket_only = r#"[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::notes"}]"#;
    let aws = checker()
        .no_new_access(
            &doc("o.json", none),
            &doc("n.json", bucket_only),
            PolicyKind::Identity,
        )
        .unwrap();
    assert_eq!(
        aws.verdict,
        Verdict::Fail,
        "AWS's default counts any action on any resource"
    );
    let precise = checker()
        .precise(true)
        .no_new_access(
            &doc("o.json", none),
            &doc("n.json", bucket_only),
            PolicyKind::Identity,
        )
        .unwrap();
    assert_eq!(precise.verdict, Verdict::Pass, "{precise:?}");
    // On objects it is real new access, with an object ARN as witness.
    let objects = r#"[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::notes","arn:aws:s3:::notes/*"]}]"#;
    let a = checker()
        .precise(true)
        .no_new_access(
            &doc("o.json", none),
            &doc("n.json", objects),
            PolicyKind::Identity,
        )
        .unwrap();
    assert_eq!(a.verdict, Verdict::Fail);
    assert!(
        a.witnesses[0].resource.starts_with("arn:aws:s3:::notes/"),
        "{:?}",
        a.witnesses[0]
    );
}

#[test]
fn a_check_past_its_query_budget_is_unknown_never_pass() {
    // Two action classes (GetObject and PutObject match different statements) need two queries.
    let old = r#"[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]"#;
    let new = r#"[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::a/*"},{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]"#;
    let c = checker().with_max_queries(0);
    let a = c
        .no_new_access(
            &doc("o.json", new),
            &doc("n.json", new),
            PolicyKind::Identity,
        )
        .unwrap();
    assert_eq!(a.verdict, Verdict::Unknown, "{a:?}");
    assert!(a.unknown[0].contains("solver queries"), "{:?}", a.unknown);
    // With the budget, the same question is decided.
    let a = checker()
        .with_max_queries(2)
        .no_new_access(
            &doc("o.json", new),
            &doc("n.json", new),
            PolicyKind::Identity,
        )
        .unwrap();
    assert_eq!(a.verdict, Verdict::Pass);
    let a = checker()
        .with_max_queries(1)
        .no_new_access(
            &doc("o.json", old),
            &doc("n.json", new),
            PolicyKind::Identity,
        )
        .unwrap();
    assert_eq!(
        a.verdict,
        Verdict::Fail,
        "a FAIL found within the budget stays a FAIL"
    );
}
