//! Adversarial inputs beyond random bytes: pathological wildcards (linear, counted in steps, never
//! timed), deep and wide JSON, numbers and dates at their limits, Unicode in every string position,
//! oversized tokens and claim sets, and the documented resource limits, each with its error.

use authz_core::{Context, Decision, Layer, Request};
use iam_eval::PolicySet;
use iam_policy::{PolicyType, Source, ValidateOptions};
use serde_json::json;

fn set(text: &str) -> PolicySet {
    let doc = iam_policy::parse(&Source::new("adv.json", text)).unwrap_or_else(|e| panic!("{e}"));
    PolicySet::compile(Layer::Identity, [doc]).unwrap()
}

fn codes(text: &str) -> Vec<&'static str> {
    iam_policy::check(
        "adv.json",
        text.as_bytes(),
        PolicyType::Identity,
        &ValidateOptions::default(),
    )
    .diagnostics
    .iter()
    .map(|d| d.code)
    .collect()
}

fn allow_with_condition(cond: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{cond}}}}}"#
    )
}

fn decide(policy: &PolicySet, ctx: &Context) -> Decision {
    policy
        .evaluate(&Request::new("s3:GetObject", "arn:aws:s3:::b/k").context(ctx))
        .decision
}

/// Matching cost grows linearly with the value for a fixed pattern, however many stars it has.
#[test]
fn wildcards_are_linear_in_the_value() {
    for stars in [2usize, 8, 32] {
        let pattern = format!("{}b", "*a".repeat(stars));
        let mut last = 0;
        for n in [10_000usize, 100_000] {
            let value = "a".repeat(n);
            let (matched, steps) = iam_eval::wildcard_match_steps(&pattern, &value).unwrap();
            assert!(!matched);
            // Ten times the value: at most about ten times the steps, independent of the star count.
            assert!(
                steps <= 4 * n as u64,
                "{stars} stars, {n} bytes: {steps} steps"
            );
            if last > 0 {
                assert!(steps <= 11 * last, "not linear: {last} → {steps}");
            }
            last = steps;
        }
    }
    // The same pattern through a whole evaluation, on a 1 MB resource and a 1 MB condition value.
    let hostile = "*a".repeat(30) + "b";
    let policy = set(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{hostile}"}},{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{{"StringLike":{{"s3:prefix":"{hostile}"}}}}}}]}}"#
    ));
    let big = "a".repeat(1 << 20);
    let mut ctx = Context::new();
    ctx.insert("s3:prefix", big.as_str());
    let resource = format!("arn:aws:s3:::{big}");
    let d = policy
        .evaluate(&Request::new("s3:GetObject", &resource).context(&ctx))
        .decision;
    assert_eq!(d, Decision::ImplicitDeny);
}

/// Wide documents: many statements, a huge action list, a condition with many keys, all within the
/// size limit, parse and evaluate.
#[test]
fn wide_json_parses_and_evaluates() {
    let actions: Vec<String> = (0..50_000).map(|i| format!("s3:Get{i}*")).collect();
    let text = json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": actions, "Resource": "*"}})
        .to_string();
    let p = set(&text);
    assert_eq!(decide(&p, &Context::new()), Decision::ImplicitDeny);
    let stmts: Vec<_> = (0..5_000)
        .map(|i| json!({"Sid": format!("S{i}"), "Effect": "Allow", "Action": format!("s3:Put{i}"), "Resource": "*"}))
        .collect();
    let p = set(&json!({"Version": "2012-10-17", "Statement": stmts}).to_string());
    assert_eq!(p.len(), 5_000);
    let d = p.evaluate(&Request::new("s3:Put4999", "*")).decision;
    assert_eq!(d, Decision::Allow);
    let keys: serde_json::Map<String, serde_json::Value> = (0..10_000)
        .map(|i| (format!("aws:PrincipalTag/k{i}"), json!("v")))
        .collect();
    let p = set(&allow_with_condition(
        &json!({"StringEquals": keys}).to_string(),
    ));
    let mut ctx = Context::new();
    for i in 0..10_000 {
        ctx.insert(&format!("aws:PrincipalTag/k{i}"), "v");
    }
    assert_eq!(decide(&p, &ctx), Decision::Allow);
    ctx.insert("aws:PrincipalTag/k9999", "w");
    assert_eq!(decide(&p, &ctx), Decision::ImplicitDeny);
}

/// Numbers with thousands of digits compare exactly; dates at the ends of the calendar and epoch values
/// past i64 are refused in policies and never match as request values.
#[test]
fn numbers_and_dates_at_the_limits() {
    let big = format!("1{}", "0".repeat(5_000));
    let p = set(&allow_with_condition(&format!(
        r#"{{"NumericEquals": {{"s3:max-keys": "{big}"}}}}"#
    )));
    let mut ctx = Context::new();
    ctx.insert("s3:max-keys", big.as_str());
    assert_eq!(decide(&p, &ctx), Decision::Allow);
    ctx.insert("s3:max-keys", format!("{big}1").as_str());
    assert_eq!(decide(&p, &ctx), Decision::ImplicitDeny);
    ctx.insert("s3:max-keys", "1e5000");
    assert_eq!(decide(&p, &ctx), Decision::ImplicitDeny);
    let p = set(&allow_with_condition(
        r#"{"NumericLessThan": {"s3:max-keys": "-99999999999999999999999999999.5"}}"#,
    ));
    ctx.insert("s3:max-keys", "-99999999999999999999999999999.6");
    assert_eq!(decide(&p, &ctx), Decision::Allow);

    let p = set(&allow_with_condition(
        r#"{"DateLessThan": {"aws:CurrentTime": "9999-12-31T23:59:59Z"}, "DateGreaterThan": {"aws:EpochTime": "0000-01-01"}}"#,
    ));
    let mut ctx = Context::new();
    ctx.insert("aws:CurrentTime", "9999-12-31T23:59:58Z");
    ctx.insert("aws:EpochTime", "0");
    assert_eq!(decide(&p, &ctx), Decision::Allow);
    for bad in [
        "99999999999999999999999",
        "10000-01-01",
        "2024-02-30",
        "2024-13-01",
        "-1",
    ] {
        ctx.insert("aws:CurrentTime", bad);
        assert_eq!(decide(&p, &ctx), Decision::ImplicitDeny, "{bad}");
    }
    for bad in [
        "99999999999999999999999",
        "2024-02-30",
        "2024-01-01T25:00:00Z",
    ] {
        let c = codes(&allow_with_condition(&format!(
            r#"{{"DateEquals": {{"aws:CurrentTime": "{bad}"}}}}"#
        )));
        assert!(c.contains(&"iam::type-date"), "{bad}: {c:?}");
    }
}

/// Unicode anywhere: confusable letters never match their Latin look-alikes, key names fold ASCII case
/// only, combining marks and NUL are compared as written.
#[test]
fn unicode_in_every_position() {
    // Cyrillic `а` (U+0430) in a bucket name is another bucket.
    let p = set(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}}"#,
    );
    let d = p
        .evaluate(&Request::new("s3:GetObject", "arn:aws:s3:::phоtos/x"))
        .decision;
    assert_eq!(d, Decision::ImplicitDeny);
    // Key names are case-insensitive in ASCII only: a dotted capital I is another key.
    let p = set(&allow_with_condition(
        r#"{"StringEquals": {"aws:SourceIdentity": "alice"}}"#,
    ));
    let mut ctx = Context::new();
    ctx.insert("AWS:SOURCEİDENTITY", "alice");
    assert_eq!(decide(&p, &ctx), Decision::ImplicitDeny);
    let mut ctx = Context::new();
    ctx.insert("AWS:SOURCEIDENTITY", "alice");
    assert_eq!(decide(&p, &ctx), Decision::Allow);
    // Combining marks: é precomposed and e + U+0301 are different strings to StringEquals.
    let p = set(&allow_with_condition(
        r#"{"StringEquals": {"aws:username": "caf\u00e9"}}"#,
    ));
    let mut ctx = Context::new();
    ctx.insert("aws:username", "cafe\u{301}");
    assert_eq!(decide(&p, &ctx), Decision::ImplicitDeny);
    ctx.insert("aws:username", "caf\u{e9}");
    assert_eq!(decide(&p, &ctx), Decision::Allow);
    // NUL in a policy value (escaped) and in a request value: compared as written.
    let p = set(&allow_with_condition(
        r#"{"StringLike": {"aws:username": "a\u0000*"}}"#,
    ));
    let mut ctx = Context::new();
    ctx.insert("aws:username", "a\0b");
    assert_eq!(decide(&p, &ctx), Decision::Allow);
    ctx.insert("aws:username", "a");
    assert_eq!(decide(&p, &ctx), Decision::ImplicitDeny);
    // Unicode in Sid, actions, keys and resources is parsed and located, never a panic.
    for text in [
        r#"{"Version":"2012-10-17","Statement":{"Sid":"Ünïcödé","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GétObject","Resource":"*"}}"#,
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ѕ3:GetObject","Resource":"*"}}"#,
        "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"s3:Get\u{200b}Object\",\"Resource\":\"*\"}}",
    ] {
        let c = iam_policy::check(
            "u.json",
            text.as_bytes(),
            PolicyType::Identity,
            &ValidateOptions::default(),
        );
        for d in &c.diagnostics {
            assert!(d.span.end <= text.len());
        }
    }
}

/// Oversized tokens are refused by size before any decoding; a token with an enormous claim set just
/// under the limit is refused by its signature; enormous claim sets map into Cedar without trouble.
#[test]
fn tokens_with_enormous_headers_and_claims() {
    use base64::Engine as _;
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let v = crate::test_verifier(cognito::TokenUse::Id);
    let header: serde_json::Map<String, serde_json::Value> =
        (0..20_000).map(|i| (format!("h{i}"), json!(i))).collect();
    let huge = format!("{}.{}.sig", b64(&json!(header)), b64(&json!({"sub": "x"})));
    let e = v.verify_at(&huge, 1_700_000_000).unwrap_err();
    assert_eq!(e.code(), "token::too-large");
    let e = v
        .verify_at(&"a".repeat(cognito::MAX_TOKEN_BYTES + 1), 1_700_000_000)
        .unwrap_err();
    assert_eq!(e.code(), "token::too-large");
    let claims: serde_json::Map<String, serde_json::Value> = (0..400)
        .map(|i| (format!("custom:c{i}"), json!("v")))
        .collect();
    let near = format!(
        "{}.{}.{}",
        b64(&json!({"alg": "RS256", "kid": "test-key-1"})),
        b64(&json!(claims)),
        "A".repeat(342)
    );
    assert!(near.len() <= cognito::MAX_TOKEN_BYTES, "{}", near.len());
    assert!(v.verify_at(&near, 1_700_000_000).is_err());
    // 10,000 claims into the Cedar mapping.
    let src =
        cedar_bridge::claims::IdentitySource::cognito("us-east-1_Example", "User", Some("Group"));
    let mut many: serde_json::Map<String, serde_json::Value> = (0..10_000)
        .map(|i| (format!("custom:c{i}"), json!(format!("v{i}"))))
        .collect();
    many.insert("sub".into(), json!("s"));
    let attrs = cedar_bridge::claims::principal_attrs(&src, &many, None, &mut Vec::new()).unwrap();
    assert_eq!(attrs["custom"].as_object().map(|o| o.len()), Some(10_000));
}

/// Every limit the README documents is enforced, with its error.
#[test]
fn documented_limits_are_enforced() {
    // Documents above 8 MiB.
    let mut text = String::from(r#"{"Version":"2012-10-17","Statement":["#);
    while text.len() <= iam_policy::MAX_DOCUMENT_BYTES {
        text.push_str(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},"#);
    }
    assert!(codes(&text).contains(&"iam::too-large"));
    // Nesting deeper than 64 levels.
    let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(codes(&nested(65)).contains(&"json::too-deep"));
    assert!(!codes(&nested(64)).contains(&"json::too-deep"));
    // Tokens above 16 KiB.
    assert_eq!(cognito::MAX_TOKEN_BYTES, 16 * 1024);
    // Batches of 1 to 30 requests and at most 99 transitive parents: see tests/cedar.rs
    // (authorize_cli_formats_and_exit_codes, avp_request_contract); the constants are the documented ones.
    assert_eq!(cedar_bridge::avp::MAX_TRANSITIVE_PARENTS, 99);
}
