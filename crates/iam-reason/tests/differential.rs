//! PASS answers cross-checked against the concrete evaluator: random policy pairs over a small
//! vocabulary, and for every PASS, random requests over the same vocabulary must never be allowed by
//! the new policy and refused by the old one. (FAIL answers carry witnesses the library has already
//! replayed through `iam-eval`; this test also re-checks them.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../serve/tests/common/venv.rs"]
mod venv;

use authz_core::{Context, Decision, Layer, Request};
use iam_eval::PolicySet;
use iam_policy::Source;
use iam_reason::{Checker, PolicyKind, Solver, Verdict, WitnessValue};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
}

const ACTIONS: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:Get*",
    "s3:*",
    "sqs:SendMessage",
    "*",
];
const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:s3:::b/*",
    "arn:aws:s3:::b/${aws:username}/*",
    "arn:aws:s3:::b/x/*",
    "arn:aws:sqs:us-east-1:111122223333:q",
];
const CONDITIONS: &[&str] = &[
    "",
    r#","Condition":{"StringEquals":{"aws:username":"alice"}}"#,
    r#","Condition":{"StringLike":{"aws:username":"a*"}}"#,
    r#","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
    r#","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}"#,
    r#","Condition":{"Null":{"aws:username":"true"}}"#,
    r#","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["a"]}}"#,
    r#","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["a"]}}"#,
    r#","Condition":{"StringNotEqualsIfExists":{"aws:username":"bob"}}"#,
];

fn policy(rng: &mut Lcg) -> String {
    let n = 1 + rng.next() % 3;
    let mut sts = Vec::new();
    for _ in 0..n {
        let effect = if rng.next().is_multiple_of(4) {
            "Deny"
        } else {
            "Allow"
        };
        let action_key = if rng.next().is_multiple_of(6) {
            "NotAction"
        } else {
            "Action"
        };
        sts.push(format!(
            r#"{{"Effect":"{effect}","{action_key}":"{}","Resource":"{}"{}}}"#,
            rng.pick(ACTIONS),
            rng.pick(RESOURCES),
            rng.pick(CONDITIONS)
        ));
    }
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        sts.join(",")
    )
}

fn solver() -> Solver {
    if let Some(p) = std::env::var_os("POLICY_CHECK_Z3") {
        return Solver::at(p);
    }
    Solver::at(venv::venv("z3-venv", &[iam_reason::Z3_PACKAGE], "z3"))
}

#[test]
fn no_pass_is_contradicted_by_a_concrete_request() {
    let checker = Checker::new(solver());
    let mut rng = Lcg(0x5eed);
    let (mut pass, mut fail) = (0, 0);
    for round in 0..40 {
        let (old_text, new_text) = (policy(&mut rng), policy(&mut rng));
        let old = iam_policy::parse(&Source::new("old.json", old_text.clone())).unwrap();
        let new = iam_policy::parse(&Source::new("new.json", new_text.clone())).unwrap();
        let a = checker
            .no_new_access(&old, &new, PolicyKind::Identity)
            .unwrap();
        let old_set = PolicySet::compile(Layer::Identity, [old]).unwrap();
        let new_set = PolicySet::compile(Layer::Identity, [new]).unwrap();
        match a.verdict {
            Verdict::Pass => {
                pass += 1;
                for _ in 0..300 {
                    let mut ctx = Context::new();
                    match rng.next() % 4 {
                        0 => {}
                        1 => {
                            ctx.insert("aws:username", "alice");
                        }
                        2 => {
                            ctx.insert("aws:username", "bob");
                        }
                        _ => {
                            ctx.insert("aws:username", "ali");
                        }
                    }
                    match rng.next() % 3 {
                        0 => {}
                        1 => {
                            ctx.insert("aws:SourceIp", "10.1.2.3");
                        }
                        _ => {
                            ctx.insert("aws:SourceIp", "192.168.0.1");
                        }
                    }
                    match rng.next() % 4 {
                        0 => {}
                        1 => {
                            ctx.insert("s3:max-keys", "5");
                        }
                        2 => {
                            ctx.insert("s3:max-keys", "50");
                        }
                        _ => {
                            ctx.insert("s3:max-keys", "x");
                        }
                    }
                    match rng.next() % 5 {
                        0 => {}
                        1 => {
                            ctx.insert_multi("aws:TagKeys", ["a"]);
                        }
                        2 => {
                            ctx.insert_multi("aws:TagKeys", ["b"]);
                        }
                        3 => {
                            ctx.insert_multi("aws:TagKeys", ["a", "b"]);
                        }
                        _ => {
                            ctx.insert_multi("aws:TagKeys", Vec::<String>::new());
                        }
                    }
                    let action = rng.pick(&[
                        "s3:GetObject",
                        "s3:PutObject",
                        "s3:GetBucketAcl",
                        "sqs:SendMessage",
                        "ec2:RunInstances",
                    ]);
                    let resource = rng.pick(&[
                        "arn:aws:s3:::b/alice/f",
                        "arn:aws:s3:::b/bob/f",
                        "arn:aws:s3:::b/x/f",
                        "arn:aws:sqs:us-east-1:111122223333:q",
                        "arn:aws:s3:::c/f",
                    ]);
                    let req = Request::new(action, resource).context(&ctx);
                    let n = new_set.evaluate(&req).decision;
                    let o = old_set.evaluate(&req).decision;
                    assert!(
                        !(n == Decision::Allow && o != Decision::Allow),
                        "round {round}: PASS contradicted by {action} on {resource} with {ctx:?}\nold: {old_text}\nnew: {new_text}"
                    );
                }
            }
            Verdict::Fail => {
                fail += 1;
                for w in &a.witnesses {
                    let (ctx, req) = w.request_parts();
                    let req = req.context(&ctx);
                    assert_eq!(new_set.evaluate(&req).decision, Decision::Allow, "{w:?}");
                    assert_ne!(old_set.evaluate(&req).decision, Decision::Allow, "{w:?}");
                    for (_, v) in &w.context {
                        if let WitnessValue::Many(vs) = v {
                            assert!(vs.len() <= iam_reason::MAX_SLOTS);
                        }
                    }
                }
            }
            Verdict::Unknown => panic!(
                "round {round}: UNKNOWN {:?}\nold: {old_text}\nnew: {new_text}",
                a.unknown
            ),
        }
    }
    // Both kinds of answer were exercised.
    assert!(pass >= 5 && fail >= 5, "pass {pass}, fail {fail}");
}
