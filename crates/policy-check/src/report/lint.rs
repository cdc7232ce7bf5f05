//! `lint`'s findings rendered: text with the line they point at, Access Analyzer's finding JSON (one
//! document per file), and SARIF 2.1.0 for code-scanning tools.

use std::collections::BTreeMap;

use iam_lint::{Finding, FindingType, Location};
use serde_json::{Value, json};

/// One file's findings as text lines (`file:line:column: TYPE CODE: message`, the learn-more link, the
/// line).
pub fn text(name: &str, findings: &[Finding]) -> String {
    let mut text = String::new();
    for x in findings {
        let Some(at) = x.locations.first() else {
            continue;
        };
        let more = if x.link.is_empty() {
            String::new()
        } else {
            format!("\n  learn more: {}", x.link)
        };
        let (line, column) = at.editor.0;
        // The message quotes the policy (actions, keys, ARNs): printable, as the snippet is.
        text.push_str(&format!(
            "{}:{line}:{column}: {} {}: {}{more}\n  | {}\n",
            diag::printable(name),
            x.finding_type,
            x.issue_code,
            diag::printable(&x.details),
            at.snippet,
        ));
    }
    text
}

/// One file's findings as Access Analyzer's `ValidatePolicy` findings, plus the file's name and, beyond
/// Access Analyzer's shape, the line of each finding's own location (`snippet`).
pub fn json(name: &str, findings: &[Finding]) -> Value {
    let list: Vec<Value> = findings
        .iter()
        .map(|x| {
            let mut v = serde_json::to_value(x).unwrap_or(Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "snippet".into(),
                    json!(x.locations.first().map(|at| at.snippet.clone())),
                );
            }
            v
        })
        .collect();
    json!({"file": name, "findings": list})
}

/// A file name as a SARIF `artifactLocation.uri` (a relative URI reference, RFC 3986): `\\` becomes
/// `/`, and every byte outside the unreserved characters and `/` is percent-encoded, so `#`, `?`, `%`
/// and spaces in a name point at that file, not elsewhere.
fn sarif_uri(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sarif_location(uri: &str, x: &Location) -> Value {
    let ((start_line, start_column), (end_line, end_column)) = x.editor;
    json!({"physicalLocation": {
    "artifactLocation": {"uri": uri},
    "region": {
        "startLine": start_line, "startColumn": start_column,
        "endLine": end_line, "endColumn": end_column,
        "charOffset": x.span.start.offset,
        "charLength": x.span.end.offset.saturating_sub(x.span.start.offset),
    }}})
}

fn sarif_level(t: FindingType) -> &'static str {
    match t {
        FindingType::Error => "error",
        FindingType::SecurityWarning | FindingType::Warning => "warning",
        FindingType::Suggestion => "note",
    }
}

/// A SARIF 2.1.0 log built file by file.
#[derive(Default)]
pub struct Sarif {
    results: Vec<Value>,
    rules: BTreeMap<String, (String, String, FindingType)>,
}

impl Sarif {
    /// Adds one file's findings.
    pub fn add(&mut self, name: &str, findings: &[Finding]) {
        let uri = sarif_uri(name);
        for x in findings {
            let Some(at) = x.locations.first() else {
                continue;
            };
            self.rules.entry(x.issue_code.clone()).or_insert((
                x.title.clone(),
                x.link.clone(),
                x.finding_type,
            ));
            self.results.push(json!({
                "ruleId": x.issue_code,
                "level": sarif_level(x.finding_type),
                "message": {"text": x.details},
                "locations": [sarif_location(&uri, at)],
                "relatedLocations": x.locations.iter().skip(1).enumerate().map(|(i, l)| {
                    let mut v = sarif_location(&uri, l);
                    if let Some(o) = v.as_object_mut() {
                        o.insert("id".into(), json!(i + 1));
                    }
                    v
                }).collect::<Vec<_>>(),
                "properties": {"findingType": x.finding_type.as_str(), "path": at.path},
            }));
        }
    }

    /// The log.
    pub fn finish(mut self) -> Value {
        let ids: Vec<&String> = self.rules.keys().collect();
        for r in &mut self.results {
            let idx = ids
                .iter()
                .position(|id| Some(id.as_str()) == r["ruleId"].as_str());
            if let (Some(o), Some(i)) = (r.as_object_mut(), idx) {
                o.insert("ruleIndex".into(), json!(i));
            }
        }
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|(id, (title, link, ty))| {
                let mut r = json!({
                    "id": id,
                    "shortDescription": {"text": title},
                    "defaultConfiguration": {"level": sarif_level(*ty)},
                    "properties": {"findingType": ty.as_str()},
                });
                if let (false, Some(o)) = (link.is_empty(), r.as_object_mut()) {
                    o.insert("helpUri".into(), json!(link));
                }
                r
            })
            .collect();
        json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "policy-check",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
                    "rules": rules,
                }},
                "results": self.results,
            }],
        })
    }
}
