//! Criterion benches over the public APIs. Inputs are built outside `b.iter`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use iam_policy::{PolicyType, Source, ValidateOptions};

fn managed() -> Vec<(String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/aws-managed/policies.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some((
                v["name"].as_str()?.to_string(),
                v["text"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn parse_benches(c: &mut Criterion) {
    let all = managed();
    assert_eq!(all.len(), 1594);
    let sources: Vec<Source> = all
        .iter()
        .map(|(n, t)| Source::new(n.as_str(), t.as_str()))
        .collect();
    let opts = ValidateOptions::default();
    c.bench_function("parse/all-managed", |b| {
        b.iter(|| {
            let mut n = 0;
            for s in &sources {
                let (doc, diags) = iam_policy::parse_source(black_box(s));
                let doc = doc.unwrap_or_else(|| panic!("{}", s.name()));
                n += diags.len() + iam_policy::validate(&doc, PolicyType::Identity, &opts).len();
            }
            black_box(n)
        })
    });
}

criterion_group!(benches, parse_benches);
criterion_main!(benches);
