//! Golden cases of the IAM parser and validator, one folder each under `fixtures/golden/` (the input,
//! the type, the expected code and position, the expected rendering), run against the libraries.
//! `UPDATE_GOLDEN=1` rewrites the `expected.stderr` files; otherwise they must match.

use iam_policy::{PolicyType, ValidateOptions};

use crate::root;

struct Case {
    name: String,
    ty: PolicyType,
    partition: Option<String>,
    expect: Option<(String, usize, usize)>,
}

/// Reads `case.txt`: `TYPE<TAB>PARTITION<TAB>ok | error CODE LINE:COL` (comment lines start with `#`).
fn read_case(name: &str, text: &str) -> Case {
    let line = text
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .unwrap_or_else(|| panic!("{name}/case.txt has no case line"));
    let f: Vec<&str> = line.split('\t').collect();
    let [ty, partition, expected] = f.as_slice() else {
        panic!("{name}/case.txt: expected three tab-separated fields, got `{line}`");
    };
    let expect = match *expected {
        "ok" => None,
        e => {
            let p: Vec<&str> = e.split(' ').collect();
            let [_, code, at] = p.as_slice() else {
                panic!("{name}/case.txt: expected `error CODE LINE:COL`, got `{e}`");
            };
            let (line, col) = at.split_once(':').unwrap();
            Some((
                code.to_string(),
                line.parse().unwrap(),
                col.parse().unwrap(),
            ))
        }
    };
    Case {
        name: name.to_string(),
        ty: ty.parse().unwrap(),
        partition: (*partition != "-").then(|| partition.to_string()),
        expect,
    }
}

fn cases() -> Vec<Case> {
    let dir = root().join("fixtures/golden");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            read_case(
                n,
                &std::fs::read_to_string(dir.join(n).join("case.txt")).unwrap(),
            )
        })
        .collect()
}

#[test]
fn golden_cases() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let cases = cases();
    assert_eq!(cases.len(), 29, "golden case folders in fixtures/golden");
    let mut failures = Vec::new();
    for c in &cases {
        let folder = root().join("fixtures/golden").join(&c.name);
        let path = folder.join("policy.json");
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
        let golden = folder.join("expected.stderr");
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
    let path =
        root().join("fixtures/golden/seed-001-conditional-access-two-statements/policy.json");
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
        .find(|d| d.code == diag::codes::JSON_DUPLICATE_KEY)
        .unwrap();
    assert!(d.message.contains("Statement"));
    assert_eq!(c.source.line_col(d.span.start), (10, 4));
    assert_eq!(d.related.len(), 1);
    assert_eq!(c.source.line_col(d.related[0].0.start), (3, 4));
}
