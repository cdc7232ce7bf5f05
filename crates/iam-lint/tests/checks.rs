//! The check table, check by check: each check alone on a policy that triggers it and on one that does
//! not (`fixtures/lint/checks.json`), and the cases each check was written for.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use diag::codes;
use iam_lint::{CHECKS, PolicyType, ResourceType, run_check};
use serde_json::Value;

/// The codes every check of the table raises on `text` (ours where Access Analyzer has none), sorted.
fn codes_of(text: &str, ty: PolicyType) -> Vec<&'static str> {
    let mut v: Vec<&str> = CHECKS
        .iter()
        .flat_map(|c| run_check(c, text, ty, None).unwrap())
        .collect();
    v.sort_unstable();
    v
}

/// Each check of the table, alone, on the fixture's triggering policy for each code it lists: the code
/// comes out; on the fixture's quiet policy: it does not. Every code of the table has a fixture case.
#[test]
fn each_check_alone_fires_and_stays_quiet() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/lint/checks.json"
    );
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = spec["cases"].as_array().unwrap();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap(),
    };
    let (mut fired, mut missing) = (0, Vec::new());
    for check in CHECKS {
        for code in check.codes {
            let Some(case) = cases.iter().find(|c| c["code"] == *code) else {
                missing.push(*code);
                continue;
            };
            let ty = match case["type"].as_str().unwrap() {
                "identity" => PolicyType::Identity,
                "resource" => PolicyType::Resource,
                "trust" => PolicyType::Trust,
                "scp" => PolicyType::Scp,
                "rcp" => PolicyType::Rcp,
                "boundary" => PolicyType::Boundary,
                other => panic!("{code}: type {other}"),
            };
            let rt = case["resource_type"].as_str().and_then(ResourceType::parse);
            let ty = rt.map_or(ty, ResourceType::policy_type);
            let on = run_check(check, &text(&case["fires"]), ty, rt).unwrap();
            assert!(
                on.contains(code),
                "{}: {code} does not fire: {on:?}",
                check.name
            );
            let off = run_check(check, &text(&case["quiet"]), ty, rt).unwrap();
            assert!(
                !off.contains(code),
                "{}: {code} fires on the quiet policy",
                check.name
            );
            fired += 1;
        }
    }
    assert!(
        missing.is_empty(),
        "codes of the table without a fixture case: {missing:?}"
    );
    assert!(fired >= 60, "{fired} codes checked");
}

/// Every code of the table is Access Analyzer's, and no two checks raise the same one.
#[test]
fn table_codes_are_access_analyzers_and_distinct() {
    let mut seen = std::collections::HashSet::new();
    for c in CHECKS {
        for code in c.codes {
            assert!(
                iam_lint::lookup(code).is_some(),
                "{}: {code} is not in the catalogue",
                c.name
            );
            assert!(seen.insert(*code), "{code} is raised by two checks");
        }
    }
}

/// One policy of one statement.
fn stmt(body: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": [{body}]}}"#)
}

#[test]
fn the_cases_each_check_was_written_for() {
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
            r#"{"Effect": "Allow", "Action": "iam:Pass*", "Resource": "*"}"#,
            &["PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE"],
        ),
        (
            r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/app-*"}"#,
            &[],
        ),
        (
            r#"{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}"#,
            &[],
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
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::b/k"]}"#,
            &["REDUNDANT_RESOURCE"],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::c/k"]}"#,
            &[],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"}}}"#,
            &["STRING_LIKE_OPERATOR_WITH_ARN_CONDITION_KEYS"],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:t"}, "StringLike": {"s3:prefix": "home/*"}}}"#,
            &[],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:ViaAWSService": "true"}}}"#,
            &["TYPE_MISMATCH"],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"Bool": {"aws:ViaAWSService": "true"}, "NumericLessThan": {"s3:max-keys": "10"}, "StringEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:1:t"}, "Null": {"aws:SourceIp": "false"}}}"#,
            &[],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceIp": "10.0.0.1"}}}"#,
            &["TYPE_MISMATCH"],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": ["10.1.0.0/16", "192.168.1.1"]}}}"#,
            &["PRIVATE_IP_ADDRESS"],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": ["10.1.0.0/16", "203.0.113.0/24"]}}}"#,
            &["PRIVATE_IP_ADDRESS_SUBSET"],
        ),
        (
            r#"{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*", "Condition": {"NotIpAddress": {"aws:SourceIp": "172.16.0.0/12"}}}"#,
            &["PRIVATE_NOT_IP_ADDRESS"],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24", "aws:VpcSourceIp": "10.0.0.0/8"}}}"#,
            &["MISSING_PAIRED_CONDITION_KEYS"],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"NumericLessThanEquals": {"s3:max-keys": ["10", "20"]}}}"#,
            &["REDUNDANT_CONDITION_VALUE_NUM"],
        ),
        (
            r#"{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}}}"#,
            &[],
        ),
        (
            r#"{"Effect": "Allow", "Action": ["s3:GetObject", "s3:getobject"], "Resource": ["arn:aws:s3:::c/k", "arn:aws:s3:::c/k"]}"#,
            &["REDUNDANT_ACTION", "REDUNDANT_RESOURCE"],
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
        let mut want = want.to_vec();
        want.sort_unstable();
        assert_eq!(codes_of(&stmt(body), id), want, "{body}");
    }
    let svc = r#"{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/*"}"#;
    assert_eq!(
        codes_of(&stmt(svc), PolicyType::Resource),
        ["RESTRICT_ACCESS_TO_SERVICE_PRINCIPAL"]
    );
    let scoped = r#"{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::logs/*", "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}"#;
    assert!(codes_of(&stmt(scoped), PolicyType::Resource).is_empty());
    let trust = r#"{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}"#;
    assert!(
        codes_of(&stmt(trust), PolicyType::Trust).is_empty(),
        "a role trust policy for a service is how services assume roles"
    );
    let oidc = r#"{"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}"#;
    assert_eq!(
        codes_of(&stmt(oidc), PolicyType::Trust),
        ["MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL"]
    );
    let saml = r#"{"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:saml-provider/corp"}, "Action": "sts:AssumeRoleWithSAML"}"#;
    assert!(codes_of(&stmt(saml), PolicyType::Trust).is_empty());
    // Size quotas count characters outside whitespace: above 6,144 a policy cannot be a customer
    // managed policy (ours), above 10,240 Access Analyzer's quota.
    let sized = |n: usize| {
        let text = stmt(&format!(
            r#"{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["{}"]}}"#,
            (0..n)
                .map(|i| format!("arn:aws:s3:::bucket-name-long-{i:04}/*"))
                .collect::<Vec<_>>()
                .join(r#"", ""#)
        ));
        codes_of(&text, id)
    };
    // Nested wildcards: one group, the widest (`*redshift*` covers `…/*` and what that covers).
    let nested = stmt(
        r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::redshift-downloads", "arn:aws:s3:::redshift-downloads/*", "arn:aws:s3:::*redshift*", "arn:aws:s3:::*redshift*/*"]}"#,
    );
    assert_eq!(codes_of(&nested, id), ["REDUNDANT_RESOURCE"]);
    assert!(sized(100).is_empty());
    assert_eq!(sized(200), [codes::LINT_MANAGED_POLICY_SIZE]);
    assert_eq!(sized(400), ["POLICY_SIZE_EXCEEDS_IDENTITY_POLICY_QUOTA"]);
}
