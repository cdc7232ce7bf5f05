//! Validation per policy type, one rule per case: the rule's code must appear (and only where it should).

use iam_policy::{PolicyType, ValidateOptions};

fn codes(ty: PolicyType, doc: &str) -> Vec<&'static str> {
    let c = iam_policy::check("t.json", doc.as_bytes(), ty, &ValidateOptions::default());
    c.diagnostics.iter().map(|d| d.code).collect()
}

fn stmt(body: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{{{body}}}]}}"#)
}

macro_rules! has {
    ($name:ident, $ty:expr, $body:expr, $code:expr) => {
        #[test]
        fn $name() {
            let got = codes($ty, &stmt($body));
            assert!(got.contains(&$code), "expected {} in {:?}", $code, got);
        }
    };
}

macro_rules! clean {
    ($name:ident, $ty:expr, $body:expr) => {
        #[test]
        fn $name() {
            let got = codes($ty, &stmt($body));
            assert!(got.is_empty(), "expected no diagnostic, got {:?}", got);
        }
    };
}

const TRUST: &str = r#""Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity""#;
const RES: &str = r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/R"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*""#;

clean!(trust_ok, PolicyType::Trust, TRUST);
has!(
    trust_resource_forbidden,
    PolicyType::Trust,
    &format!(r#"{TRUST},"Resource":"*""#),
    "iam::resource-forbidden"
);
has!(
    trust_notprincipal_forbidden,
    PolicyType::Trust,
    r#""Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole""#,
    "iam::notprincipal-forbidden"
);
has!(
    trust_non_sts_action_warns,
    PolicyType::Trust,
    r#""Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"s3:GetObject""#,
    "iam::trust-action"
);
clean!(resource_ok, PolicyType::Resource, RES);
has!(
    resource_principal_wildcard_in_arn,
    PolicyType::Resource,
    r#""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"},"Action":"s3:GetObject","Resource":"*""#,
    "iam::principal-wildcard"
);
has!(
    resource_allow_notprincipal_warns,
    PolicyType::Resource,
    r#""Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/Bob"},"Action":"s3:GetObject","Resource":"*""#,
    "iam::allow-notprincipal"
);
clean!(
    resource_apigw_short_form,
    PolicyType::Resource,
    r#""Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/stage/GET/pets""#
);
has!(
    identity_apigw_short_form_is_not_an_arn,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"execute-api:Invoke","Resource":"execute-api:/stage/GET/pets""#,
    "iam::arn-format"
);
has!(
    scp_principal_forbidden,
    PolicyType::Scp,
    RES,
    "iam::principal-forbidden"
);
has!(
    session_missing_resource,
    PolicyType::Session,
    r#""Effect":"Allow","Action":"s3:GetObject""#,
    "iam::missing-resource"
);
clean!(
    rcp_deny_ok,
    PolicyType::Rcp,
    r#""Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-1"}}"#
);
clean!(
    rcp_full_access_ok,
    PolicyType::Rcp,
    r#""Effect":"Allow","Principal":"*","Action":"*","Resource":"*""#
);
has!(
    rcp_other_allow,
    PolicyType::Rcp,
    r#""Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*""#,
    "iam::rcp-allow"
);
has!(
    rcp_named_principal,
    PolicyType::Rcp,
    r#""Effect":"Deny","Principal":{"AWS":"123456789012"},"Action":"s3:*","Resource":"*""#,
    "iam::rcp-principal"
);
has!(
    rcp_notaction,
    PolicyType::Rcp,
    r#""Effect":"Deny","Principal":"*","NotAction":"s3:*","Resource":"*""#,
    "iam::rcp-notaction"
);
has!(
    sid_characters_warn,
    PolicyType::Identity,
    r#""Sid":"has-dash","Effect":"Allow","Action":"s3:*","Resource":"*""#,
    "iam::sid-characters"
);
has!(
    bool_two_values,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":["true","false"]}}"#,
    "iam::bool-multiple"
);
has!(
    bad_date,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"yesterday"}}"#,
    "iam::type-date"
);
has!(
    bad_cidr,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}"#,
    "iam::type-ip"
);
has!(
    host_bits_warn,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.1/8"}}"#,
    "iam::ip-host-bits"
);
has!(
    bad_base64,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"BinaryEquals":{"k:k":"%%%"}}"#,
    "iam::type-binary"
);
has!(
    arn_value_too_short,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns"}}"#,
    "iam::arn-value"
);
has!(
    star_in_string_equals_warns,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"home/*"}}"#,
    "iam::wildcard-without-like"
);
has!(
    forallvalues_null_warns,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForAllValues:Null":{"k:k":"true"}}"#,
    "iam::null-with-qualifier"
);
has!(
    variable_of_multivalued_key,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"k:k":"${aws:TagKeys}"}}"#,
    "iam::variable-multivalued"
);
has!(
    unknown_element_did_you_mean,
    PolicyType::Identity,
    r#""effect":"Allow","Action":"s3:*","Resource":"*""#,
    "iam::unknown-element"
);
has!(
    s3_arn_with_region,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:us-east-1::bucket/key""#,
    "iam::arn-region-not-allowed"
);
clean!(
    s3_access_point_with_region,
    PolicyType::Identity,
    r#""Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:us-east-1:123456789012:accesspoint/ap""#
);

#[test]
fn partition_option() {
    let doc = stmt(r#""Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b""#);
    let cn = ValidateOptions {
        partition: Some("aws-cn".into()),
    };
    let c = iam_policy::check("t.json", doc.as_bytes(), PolicyType::Identity, &cn);
    assert!(c.diagnostics.iter().any(|d| d.code == "iam::arn-partition"));
    let aws = ValidateOptions {
        partition: Some("aws".into()),
    };
    assert!(!iam_policy::check("t.json", doc.as_bytes(), PolicyType::Identity, &aws).has_errors());
}

#[test]
fn did_you_mean_names_the_element() {
    let c = iam_policy::check(
        "t.json",
        stmt(r#""effect":"Allow","Action":"s3:*","Resource":"*""#).as_bytes(),
        PolicyType::Identity,
        &ValidateOptions::default(),
    );
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code == "iam::unknown-element")
        .unwrap();
    assert!(d.help.as_deref().unwrap_or("").contains("`Effect`"));
}

fn warnings(doc: &str) -> Vec<(String, Option<String>, String)> {
    let c = iam_policy::check(
        "typo.json",
        doc.as_bytes(),
        iam_policy::PolicyType::Identity,
        &iam_policy::ValidateOptions::default(),
    );
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    c.diagnostics
        .iter()
        .map(|d| {
            (
                d.code.to_string(),
                d.aws_code.map(str::to_string),
                format!("{} {}", d.message, d.help.clone().unwrap_or_default()),
            )
        })
        .collect()
}

fn cstmt(action: &str, condition: &str) -> String {
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": {action}, "Resource": "*", "Condition": {condition}}}]}}"#
    )
}

/// Typos that would make a policy grant or block nothing, or turn a condition into "always true", are
/// flagged with Access Analyzer's codes, from the service reference shipped in the repository.
#[test]
fn typos_against_the_service_reference() {
    let w = warnings(&cstmt(r#""s3:GetObjekt""#, "{}"));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, "iam::unknown-action");
    assert_eq!(w[0].1.as_deref(), Some("INVALID_ACTION"));
    assert!(w[0].2.contains("did you mean `s3:GetObject`"), "{w:?}");
    let w = warnings(&cstmt(r#""s3:Frobnicate*""#, "{}"));
    assert_eq!(w[0].0, "iam::unknown-action");
    let w = warnings(&cstmt(r#""s4:GetObject""#, "{}"));
    assert_eq!(w[0].0, "iam::unknown-service");
    // Real actions and wildcards that match are quiet; so is `*`.
    assert!(
        warnings(&cstmt(
            r#"["s3:getobject", "s3:Get*", "dynamodb:*", "*"]"#,
            "{}"
        ))
        .is_empty()
    );

    let w = warnings(&cstmt(
        r#""s3:GetObject""#,
        r#"{"StringEquals": {"aws:SourceIpp": "1.2.3.4"}}"#,
    ));
    assert_eq!(w[0].0, "iam::unknown-condition-key");
    assert_eq!(w[0].1.as_deref(), Some("INVALID_GLOBAL_CONDITION_KEY"));
    let w = warnings(&cstmt(
        r#""s3:ListBucket""#,
        r#"{"StringLike": {"s3:prefixx": "home/"}}"#,
    ));
    assert_eq!(w[0].0, "iam::unknown-condition-key");
    assert_eq!(w[0].1.as_deref(), Some("INVALID_SERVICE_CONDITION_KEY"));
    let w = warnings(&cstmt(
        r#""ec2:RunInstances""#,
        r#"{"StringLike": {"s3:prefix": "home/"}}"#,
    ));
    assert_eq!(w[0].0, "iam::condition-key-service");
    // Global keys, provider keys and the statement's own service keys are quiet.
    assert!(warnings(&cstmt(
        r#""s3:ListBucket""#,
        r#"{"StringLike": {"s3:prefix": "home/", "aws:PrincipalTag/team": "a", "cognito-identity.amazonaws.com:sub": "x"}}"#,
    ))
    .is_empty());
}

/// `ForAllValues:` in an Allow is true when the key is absent: flagged unless `Null: false` requires it.
#[test]
fn forallvalues_allow_on_a_key_that_can_be_absent() {
    let w = warnings(&cstmt(
        r#""dynamodb:GetItem""#,
        r#"{"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:userid}"]}}"#,
    ));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].0, "iam::forallvalues-absent-key");
    assert!(w[0].2.contains("\"Null\""), "{w:?}");
    // Misspelled: both the unknown key and the always-true ForAllValues are flagged.
    let w = warnings(&cstmt(
        r#""dynamodb:GetItem""#,
        r#"{"ForAllValues:StringEquals": {"dynamodb:LeadingKey": ["${aws:userid}"]}}"#,
    ));
    let codes: Vec<&str> = w.iter().map(|x| x.0.as_str()).collect();
    assert!(codes.contains(&"iam::unknown-condition-key"), "{w:?}");
    assert!(codes.contains(&"iam::forallvalues-absent-key"), "{w:?}");
    // Guarded by Null: false, or in a Deny: quiet.
    assert!(warnings(&cstmt(
        r#""dynamodb:GetItem""#,
        r#"{"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:userid}"]}, "Null": {"dynamodb:LeadingKeys": "false"}}"#,
    ))
    .is_empty());
    let deny = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["a"]}}}]}"#;
    assert!(warnings(deny).is_empty());
}

/// An engine about to evaluate a policy gets its errors and the warnings that change a decision (an
/// unknown condition key), not `validate`'s advice (an unknown action, `ForAllValues:` without `Null`,
/// a key of another service): the same document, checked both ways, differs by exactly those.
#[test]
fn evaluation_skips_advice_but_keeps_what_decides() {
    use iam_policy::codes::*;
    let doc = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":["s3:GetObjekt","dynamodb:GetItem"],"Resource":"*",
         "Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["a"]},
                      "StringEquals":{"aws:PrincipalTagg/team":"x","ec2:InstanceType":"t3.micro"}}}]}"#;
    let full = codes(PolicyType::Identity, doc);
    let eval: Vec<&str> =
        iam_policy::check_for_evaluation("t.json", doc.as_bytes(), PolicyType::Identity)
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect();
    for advice in [
        IAM_UNKNOWN_ACTION,
        IAM_FORALLVALUES_ABSENT_KEY,
        IAM_CONDITION_KEY_SERVICE,
    ] {
        assert!(full.contains(&advice), "validate gives {advice}: {full:?}");
        assert!(
            !eval.contains(&advice),
            "evaluation skips {advice}: {eval:?}"
        );
    }
    assert!(eval.contains(&IAM_UNKNOWN_CONDITION_KEY), "{eval:?}");
    // Errors are still found: a Resource in a trust policy, `Version` required for variables in an RCP.
    let bad = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Resource":"*"}]}"#;
    let c = iam_policy::check_for_evaluation("t.json", bad.as_bytes(), PolicyType::Trust);
    assert!(c.has_errors(), "{:?}", c.diagnostics);
}
