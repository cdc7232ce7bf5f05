//! The reasoning's costs, whole checks (the solver is a process; each check starts one): a typical
//! Cognito pair (row-level DynamoDB with and without its `dynamodb:LeadingKeys` condition), AWS's
//! `ReadOnlyAccess` against `ViewOnlyAccess` (thousands of actions, both directions), and
//! `access_not_granted` for 5 actions on a 20-statement policy (granted and not). Prints the solver's
//! share of each. Z3: `POLICY_CHECK_Z3`, `PATH`, or the one `policy-check solver install` makes
//! (installed here when missing).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{Criterion, criterion_group, criterion_main};
use iam_policy::{PolicyDocument, Source};
use iam_reason::{Checker, PolicyKind, Solver};

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn parse(name: &str, text: &str) -> PolicyDocument {
    iam_policy::parse(&Source::new(name, text.to_string())).unwrap()
}

fn managed(name: &str) -> PolicyDocument {
    let lines =
        std::fs::read_to_string(root().join("fixtures/aws-managed/policies.jsonl")).unwrap();
    for l in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["name"] == name {
            return parse(name, v["text"].as_str().unwrap());
        }
    }
    panic!("{name} is not bundled")
}

fn twenty() -> PolicyDocument {
    let mut sts = Vec::new();
    for i in 0..20 {
        let effect = if i % 5 == 0 { "Deny" } else { "Allow" };
        let action = if i % 2 == 1 {
            "s3:GetObject"
        } else {
            "s3:GetBucket*"
        };
        let other = if i % 3 == 0 {
            "dynamodb:GetItem"
        } else {
            "dynamodb:Query"
        };
        let resource = if i % 2 == 1 {
            format!("arn:aws:s3:::bucket{i}/${{aws:username}}/*")
        } else {
            format!("arn:aws:dynamodb:us-east-1:123456789012:table/T{i}")
        };
        let cond = if i % 4 == 0 {
            format!(r#","Condition":{{"StringEquals":{{"aws:PrincipalTag/team":"t{i}"}}}}"#)
        } else {
            String::new()
        };
        sts.push(format!(
            r#"{{"Sid":"S{i}","Effect":"{effect}","Action":["{action}","{other}"],"Resource":"{resource}"{cond}}}"#
        ));
    }
    parse(
        "twenty.json",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            sts.join(",")
        ),
    )
}

fn solver() -> Solver {
    Solver::find().unwrap_or_else(|_| Solver::at(iam_reason::install().unwrap()))
}

fn bench(c: &mut Criterion) {
    let checker = Checker::new(solver());
    let fx = |n: &str| {
        parse(
            n,
            &std::fs::read_to_string(root().join("fixtures/check").join(n)).unwrap(),
        )
    };
    let (own, all) = (fx("rows-own.json"), fx("rows-all.json"));
    let (ro, vo) = (managed("ReadOnlyAccess"), managed("ViewOnlyAccess"));
    let p20 = twenty();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let not_granted = s(&[
        "s3:PutObject",
        "s3:DeleteObject",
        "dynamodb:DeleteItem",
        "dynamodb:PutItem",
        "sqs:SendMessage",
    ]);
    let granted = s(&[
        "s3:GetObject",
        "s3:PutObject",
        "dynamodb:Query",
        "dynamodb:DeleteItem",
        "sqs:SendMessage",
    ]);
    // The solver's share, once per check.
    for (name, a) in [
        (
            "cognito row-level, new access",
            checker
                .no_new_access(&own, &all, PolicyKind::Identity)
                .unwrap(),
        ),
        (
            "cognito row-level, none",
            checker
                .no_new_access(&all, &own, PolicyKind::Identity)
                .unwrap(),
        ),
        (
            "ViewOnlyAccess over ReadOnlyAccess",
            checker
                .no_new_access(&ro, &vo, PolicyKind::Identity)
                .unwrap(),
        ),
        (
            "ReadOnlyAccess over ViewOnlyAccess",
            checker
                .no_new_access(&vo, &ro, PolicyKind::Identity)
                .unwrap(),
        ),
        (
            "5 actions not granted, 20 statements",
            checker
                .access_not_granted(&p20, &not_granted, &[], PolicyKind::Identity)
                .unwrap(),
        ),
        (
            "5 actions, some granted, 20 statements",
            checker
                .access_not_granted(&p20, &granted, &[], PolicyKind::Identity)
                .unwrap(),
        ),
    ] {
        eprintln!(
            "{name}: {} in {:?}, {} queries, solver {:?} ({:.0}%)",
            a.verdict.as_str(),
            a.total_time,
            a.queries,
            a.solver_time,
            100.0 * a.solver_time.as_secs_f64() / a.total_time.as_secs_f64().max(1e-9)
        );
    }
    let mut g = c.benchmark_group("reason");
    g.sample_size(10);
    g.bench_function("no_new_access/cognito-row-level-fail", |b| {
        b.iter(|| {
            checker
                .no_new_access(&own, &all, PolicyKind::Identity)
                .unwrap()
        })
    });
    g.bench_function("no_new_access/cognito-row-level-pass", |b| {
        b.iter(|| {
            checker
                .no_new_access(&all, &own, PolicyKind::Identity)
                .unwrap()
        })
    });
    g.bench_function("no_new_access/readonly-vs-viewonly", |b| {
        b.iter(|| {
            checker
                .no_new_access(&ro, &vo, PolicyKind::Identity)
                .unwrap()
        })
    });
    g.bench_function("no_new_access/viewonly-vs-readonly", |b| {
        b.iter(|| {
            checker
                .no_new_access(&vo, &ro, PolicyKind::Identity)
                .unwrap()
        })
    });
    g.bench_function("access_not_granted/5-actions-20-statements-pass", |b| {
        b.iter(|| {
            checker
                .access_not_granted(&p20, &not_granted, &[], PolicyKind::Identity)
                .unwrap()
        })
    });
    g.bench_function("access_not_granted/5-actions-20-statements-fail", |b| {
        b.iter(|| {
            checker
                .access_not_granted(&p20, &granted, &[], PolicyKind::Identity)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
