//! proptest: an arbitrary policy prints and parses back to the same policy.

use iam_policy::Source;
use proptest::prelude::*;

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        ("[a-z0-9-]{1,12}", "[A-Za-z*?]{1,16}").prop_map(|(s, a)| format!("{s}:{a}")),
    ]
}

fn resource() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        ("[a-z]{2,6}", "[a-z0-9/*?._-]{0,20}", prop::bool::ANY).prop_map(|(svc, res, var)| {
            let v = if var { "${aws:username}" } else { "" };
            format!("arn:aws:{svc}:us-east-1:123456789012:{res}{v}")
        }),
        Just("arn:aws:sqs:*".to_string()),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    let string_val =
        "[a-zA-Z0-9 /*?\\\\\"é-]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap());
    prop_oneof![
        (
            prop::sample::select(vec![
                "StringEquals",
                "StringLike",
                "ForAnyValue:StringNotLike",
                "StringEqualsIgnoreCaseIfExists"
            ]),
            "[a-z:]{3,10}",
            prop::collection::vec(string_val, 1..3)
        )
            .prop_map(|(op, k, vs)| format!(r#""{op}": {{"{k}": [{}]}}"#, vs.join(","))),
        (-1000i64..1000, 0u32..100)
            .prop_map(|(a, b)| format!(r#""NumericLessThan": {{"s3:max-keys": "{a}.{b}"}}"#)),
        (0u32..30).prop_map(|d| format!(
            r#""DateGreaterThan": {{"aws:CurrentTime": "2020-01-{:02}T00:00:00Z"}}"#,
            d % 28 + 1
        )),
        prop::bool::ANY.prop_map(|b| format!(r#""Bool": {{"aws:SecureTransport": {b}}}"#)),
        (0u8..255, 0u8..33)
            .prop_map(|(a, p)| format!(r#""IpAddress": {{"aws:SourceIp": ["{a}.0.0.0/{p}"]}}"#)),
        Just(r#""Null": {"aws:TokenIssueTime": "true"}"#.to_string()),
    ]
}

fn statement() -> impl Strategy<Value = String> {
    (
        prop::option::of("[A-Za-z0-9]{1,8}"),
        prop::bool::ANY,
        prop::bool::ANY,
        prop::collection::vec(action(), 1..4),
        prop::bool::ANY,
        prop::collection::vec(resource(), 1..3),
        prop::collection::vec(condition(), 0..3),
    )
        .prop_map(
            |(sid, allow, not_action, actions, not_resource, resources, conds)| {
                let mut parts = Vec::new();
                if let Some(s) = sid {
                    parts.push(format!(r#""Sid": "{s}""#));
                }
                parts.push(format!(
                    r#""Effect": "{}""#,
                    if allow { "Allow" } else { "Deny" }
                ));
                let list = |v: &[String]| {
                    if v.len() == 1 {
                        serde_json::to_string(&v[0]).unwrap()
                    } else {
                        serde_json::to_string(v).unwrap()
                    }
                };
                parts.push(format!(
                    r#""{}": {}"#,
                    if not_action { "NotAction" } else { "Action" },
                    list(&actions)
                ));
                parts.push(format!(
                    r#""{}": {}"#,
                    if not_resource {
                        "NotResource"
                    } else {
                        "Resource"
                    },
                    list(&resources)
                ));
                let mut seen = std::collections::HashSet::new();
                let conds: Vec<_> = conds
                    .into_iter()
                    .filter(|c| seen.insert(c.split('"').nth(1).unwrap().to_string()))
                    .collect();
                if !conds.is_empty() {
                    parts.push(format!(r#""Condition": {{{}}}"#, conds.join(",")));
                }
                format!("{{{}}}", parts.join(","))
            },
        )
}

fn policy() -> impl Strategy<Value = String> {
    (prop::collection::vec(statement(), 1..4), prop::bool::ANY).prop_map(|(stmts, array)| {
        let mut stmts: Vec<String> = stmts
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.replacen(r#""Sid": ""#, &format!(r#""Sid": "S{i}"#), 1))
            .collect();
        if array || stmts.len() > 1 {
            format!(
                r#"{{"Version": "2012-10-17", "Statement": [{}]}}"#,
                stmts.join(",")
            )
        } else {
            format!(
                r#"{{"Version": "2012-10-17", "Statement": {}}}"#,
                stmts.remove(0)
            )
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn print_then_parse_gives_the_same_policy(text in policy()) {
        let doc = iam_policy::parse(&Source::new("gen.json", text.as_str()))
            .unwrap_or_else(|e| panic!("generated policy did not parse: {e}\n{text}"));
        let printed = doc.to_string();
        let again = iam_policy::parse(&Source::new("printed.json", printed.as_str()))
            .unwrap_or_else(|e| panic!("printed policy did not parse: {e}\n{printed}"));
        prop_assert_eq!(&doc, &again);
        prop_assert_eq!(printed, again.to_string());
    }
}
