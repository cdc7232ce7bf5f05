//! Proves that evaluating allocates nothing: a counting global allocator (this test binary only) counts
//! allocations made by the current thread around `evaluate`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use authz_core::{Context, Decision, Layer, Request};
use iam_eval::PolicySet;
use iam_policy::Source;

struct Counting;

thread_local! {
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = COUNT.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = COUNT.with(Cell::get);
    let r = f();
    (r, COUNT.with(Cell::get) - before)
}

fn set(path: &str) -> PolicySet {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap();
    PolicySet::compile(
        Layer::Identity,
        [iam_policy::parse(&Source::new(path, text.as_str())).unwrap()],
    )
    .unwrap()
}

#[test]
fn the_counter_counts() {
    let (v, n) = allocations(|| vec![1u8; 10]);
    assert_eq!(v.len(), 10);
    assert_eq!(n, 1, "one vec, one allocation");
}

#[test]
fn cognito_dynamodb_evaluate_allocates_nothing() {
    let set = set("policies/cognito-groups-dynamodb/row-level.json");
    let sub = "us-east-1:11111111-aaaa-4aaa-8aaa-111111111111";
    let mut ctx = Context::new();
    ctx.insert("cognito-identity.amazonaws.com:sub", sub);
    ctx.insert_multi("dynamodb:LeadingKeys", [sub]);
    let req = Request::new(
        "dynamodb:GetItem",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
    )
    .context(&ctx);
    let _ = set.evaluate(&req); // warm any lazy statics
    let (out, n) = allocations(|| set.evaluate(&req));
    assert_eq!(out.decision, Decision::Allow);
    assert_eq!(n, 0, "evaluate allocated {n} times");
    // The deny path and a traced-free explanation-less evaluation of other shapes allocate nothing either.
    let other = Request::new(
        "dynamodb:Scan",
        "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
    )
    .context(&ctx);
    let (out, n) = allocations(|| set.evaluate(&other));
    assert_eq!(out.decision, Decision::ImplicitDeny);
    assert_eq!(n, 0);
    // A prepared request (action folded and split once) allocates nothing and decides the same; one
    // whose action was replaced after preparing is decided on the new action.
    let get_item = authz_core::Action::new("DynamoDB:GetItem");
    let prepared = Request::for_action(
        &get_item,
        "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
    )
    .context(&ctx);
    let (out, n) = allocations(|| set.evaluate(&prepared));
    assert_eq!(out.decision, Decision::Allow);
    assert_eq!(n, 0);
    let mut replaced = prepared;
    replaced.action = "dynamodb:Scan";
    assert_eq!(set.evaluate(&replaced).decision, Decision::ImplicitDeny);
}

#[test]
fn conditions_of_every_family_allocate_nothing() {
    let text = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/${aws:username}/*",
      "Condition":{
        "StringLike":{"s3:prefix":"home/${aws:username}/*"},
        "StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"Blue"},
        "NumericLessThan":{"s3:max-keys":"100"},
        "DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},
        "Bool":{"aws:SecureTransport":"true"},
        "IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},
        "ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012:*"},
        "BinaryEquals":{"k:bin":"aGVsbG8="},
        "Null":{"aws:TokenIssueTime":"true"},
        "ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}
      }}]}"#;
    let set = PolicySet::compile(
        Layer::Identity,
        [iam_policy::parse(&Source::new("all", text)).unwrap()],
    )
    .unwrap();
    let mut ctx = Context::new();
    ctx.insert("aws:username", "alice")
        .insert("s3:prefix", "home/alice/x")
        .insert("aws:PrincipalTag/team", "blue")
        .insert("s3:max-keys", "10.5")
        .insert("aws:CurrentTime", "2024-05-01T12:00:00.123Z")
        .insert("aws:SecureTransport", "true")
        .insert("aws:SourceIp", "10.1.2.3")
        .insert("aws:SourceArn", "arn:aws:sns:us-east-1:123456789012:topic")
        .insert("k:bin", "aGVsbG8=")
        .insert_multi("aws:TagKeys", ["b"]);
    let req = Request::new("s3:GetObject", "arn:aws:s3:::b/alice/k").context(&ctx);
    let _ = set.evaluate(&req);
    let (out, n) = allocations(|| set.evaluate(&req));
    assert_eq!(out.decision, Decision::Allow);
    assert_eq!(n, 0, "evaluate allocated {n} times");
}

/// A policy of one statement listing `n` items made by `item(i)` as its `Action` or `Resource`.
fn listing(n: usize, element: &str, item: impl Fn(usize) -> String) -> String {
    let items: Vec<String> = (0..n).map(|i| format!("\"{}\"", item(i))).collect();
    let (action, resource) = if element == "Action" {
        (format!("[{}]", items.join(",")), "\"*\"".to_string())
    } else {
        (
            "\"s3:GetObject\"".to_string(),
            format!("[{}]", items.join(",")),
        )
    };
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{action},"Resource":{resource}}}]}}"#
    )
}

/// Allocations of `f(n)` and of `f(2n)`: doubling the input at most a little more than doubles them
/// (2.3×), so the work grows linearly, whatever the machine's speed (no timing).
fn doubles_linearly(what: &str, n: usize, f: impl Fn(usize) -> usize) {
    let _ = f(8); // lazy tables (the catalogue, the service reference) built outside the count
    let ((), one) = allocations(|| {
        let _ = f(n);
    });
    let ((), two) = allocations(|| {
        let _ = f(2 * n);
    });
    assert!(one > 0, "{what}: nothing counted");
    assert!(
        two * 10 <= one * 23,
        "{what}: {one} allocations for {n}, {two} for {} (more than 2.3×)",
        2 * n
    );
}

/// `lint` (its library) on thousands of unknown actions, of actions covered by a wildcard, and of
/// resources; `validate`'s diagnostics for thousands of unknown actions.
#[test]
fn lint_and_validate_stay_linear() {
    let lint = |text: &str| {
        iam_lint::validate(
            text,
            iam_policy::PolicyType::Identity,
            None,
            &iam_lint::Options {
                max_findings: usize::MAX,
                ..Default::default()
            },
        )
        .len()
    };
    doubles_linearly("lint, unknown actions", 4000, |n| {
        lint(&listing(n, "Action", |i| format!("s3:NoSuchAction{i}")))
    });
    doubles_linearly("lint, actions under a wildcard", 4000, |n| {
        lint(&listing(n, "Action", |i| {
            if i == 0 {
                "s3:*".into()
            } else {
                format!("s3:Get{i}")
            }
        }))
    });
    doubles_linearly("lint, resources", 4000, |n| {
        lint(&listing(n, "Resource", |i| {
            format!("arn:aws:s3:::bucket-{i}/*")
        }))
    });
    doubles_linearly("validate, unknown actions", 4000, |n| {
        let text = listing(n, "Action", |i| format!("s3:NoSuchAction{i}"));
        let src = Source::new("p.json", text.as_str());
        let doc = iam_policy::parse(&src).unwrap();
        let diags =
            iam_policy::validate(&doc, iam_policy::PolicyType::Identity, &Default::default());
        // Rendered as `validate` prints them: the position of each.
        diags
            .iter()
            .map(|d| src.line_col(d.span.start).0)
            .sum::<usize>()
    });
}

/// Thousands of wildcard resources sharing a prefix: the redundancy check compares each wildcard with
/// the items it could cover, which is quadratic; it stops at its bound and says so, so the work done
/// for 4,000 and for 8,000 is the same bound.
#[test]
fn the_redundancy_check_is_bounded() {
    let policy = |n: usize| listing(n, "Resource", |i| format!("arn:aws:s3:::logs/*-{i}"));
    let findings = |n: usize| {
        iam_lint::validate(
            &policy(n),
            iam_policy::PolicyType::Identity,
            None,
            &Default::default(),
        )
    };
    let small = findings(100);
    assert!(
        small.iter().all(|f| f.issue_code != "lint::truncated"),
        "100 wildcards are checked in full"
    );
    let big = findings(4000);
    assert!(
        big.iter()
            .any(|f| f.issue_code == "lint::truncated" && f.details.contains("comparisons")),
        "the bound is said"
    );
    doubles_linearly("lint, wildcards sharing a prefix", 4000, |n| {
        findings(n).len()
    });
}
