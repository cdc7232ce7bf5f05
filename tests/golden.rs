//! Golden diagnostics for the malformed corpus and the seeds' broken policies.
//! `UPDATE_GOLDEN=1` rewrites the `.stderr` files; otherwise they must match.

use iam_policy::{PolicyType, ValidateOptions};

use crate::root;

struct Case {
    name: String,
    ty: PolicyType,
    partition: Option<String>,
    expect: Option<(String, usize, usize)>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(root().join("fixtures/malformed/expect.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let expect = match f[3] {
                "ok" => None,
                e => {
                    let p: Vec<&str> = e.split(' ').collect();
                    let (line, col) = p[2].split_once(':').unwrap();
                    Some((
                        p[1].to_string(),
                        line.parse().unwrap(),
                        col.parse().unwrap(),
                    ))
                }
            };
            Case {
                name: f[0].to_string(),
                ty: f[1].parse().unwrap(),
                partition: (f[2] != "-").then(|| f[2].to_string()),
                expect,
            }
        })
        .collect()
}

#[test]
fn malformed_corpus_and_seeds() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let cases = cases();
    assert!(cases.len() >= 29, "expect.tsv lists {} cases", cases.len());
    let mut failures = Vec::new();
    for c in &cases {
        let path = root()
            .join("fixtures/malformed")
            .join(format!("{}.json", c.name));
        let bytes = std::fs::read(&path).unwrap();
        let display = path.strip_prefix(root()).unwrap().display().to_string();
        let opts = ValidateOptions {
            partition: c.partition.clone(),
        };
        let checked = iam_policy::check(&display, &bytes, c.ty, &opts);
        let errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect();
        match &c.expect {
            None => {
                if !errors.is_empty() {
                    failures.push(format!(
                        "{}: expected to be accepted, got {:?}",
                        c.name, errors[0].message
                    ));
                }
            }
            Some((code, line, col)) => {
                let hit = errors.iter().any(|d| {
                    d.code == code && checked.source.line_col(d.span.start) == (*line, *col)
                });
                if !hit {
                    let got: Vec<_> = errors
                        .iter()
                        .map(|d| {
                            format!("{} at {:?}", d.code, checked.source.line_col(d.span.start))
                        })
                        .collect();
                    failures.push(format!(
                        "{}: expected {code} at {line}:{col}, got {got:?}",
                        c.name
                    ));
                }
            }
        }
        // Golden rendering: every diagnostic, no colour, width 80.
        let mut rendered = String::new();
        for d in &checked.diagnostics {
            rendered.push_str(&policy_check::report::render(d, &checked.source, 80));
        }
        let base = c.name.rsplit('/').next().unwrap();
        let golden = root()
            .join("fixtures/errors")
            .join(format!("{}.stderr", base.trim_start_matches("../")));
        if update {
            std::fs::write(&golden, &rendered).unwrap();
        } else {
            let want = std::fs::read_to_string(&golden).unwrap_or_default();
            if want != rendered {
                failures.push(format!(
                    "{}: rendering differs from {}:\n{rendered}",
                    c.name,
                    golden.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn duplicate_statement_names_both_positions() {
    let path = root().join("fixtures/errors/seed-001-conditional-access-two-statements.json");
    let bytes = std::fs::read(&path).unwrap();
    let c = iam_policy::check(
        "seed-001",
        &bytes,
        PolicyType::Identity,
        &ValidateOptions::default(),
    );
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code == "json::duplicate-key")
        .unwrap();
    assert!(d.message.contains("Statement"));
    assert_eq!(c.source.line_col(d.span.start), (10, 4));
    assert_eq!(d.related.len(), 1);
    assert_eq!(c.source.line_col(d.related[0].0.start), (3, 4));
}
