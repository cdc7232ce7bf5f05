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
