//! Access Analyzer's check catalogue ("IAM policy validation check reference", AWS IAM User Guide;
//! `data/LICENSE-awsdocs-iam-user-guide.txt`): per issue code, its finding type, title, learn-more link
//! and message.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

const CATALOGUE: &str = include_str!("../data/access-analyzer-checks.json");

/// Access Analyzer checks added after the catalogue's documentation snapshot, with the finding type AWS
/// gives them (seen in its findings for AWS managed policies).
const NEWER: &[(&str, FindingType, &str)] = &[
    (
        "STRING_LIKE_OPERATOR_WITH_ARN_CONDITION_KEYS",
        FindingType::SecurityWarning,
        "String like operator with ARN condition keys",
    ),
    (
        "EQUIVALENT_TO_NULL_FALSE",
        FindingType::Suggestion,
        "Equivalent to null false",
    ),
];

/// Access Analyzer's finding types (`ValidatePolicyFindingType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingType {
    /// An error: AWS refuses the policy, or part of it does nothing.
    Error,
    /// A security warning: the policy grants more than it seems to.
    SecurityWarning,
    /// A warning: a policy that does not do what it seems to.
    Warning,
    /// A suggestion: a simpler or more precise way to write it.
    Suggestion,
}

impl FindingType {
    /// All four, most severe first.
    pub const ALL: [FindingType; 4] = [
        FindingType::Error,
        FindingType::SecurityWarning,
        FindingType::Warning,
        FindingType::Suggestion,
    ];

    /// Access Analyzer's name (`SECURITY_WARNING`).
    pub fn as_str(self) -> &'static str {
        match self {
            FindingType::Error => "ERROR",
            FindingType::SecurityWarning => "SECURITY_WARNING",
            FindingType::Warning => "WARNING",
            FindingType::Suggestion => "SUGGESTION",
        }
    }

    /// From Access Analyzer's name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for FindingType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the catalogue says about one issue code.
#[derive(Debug)]
pub struct Entry {
    /// Its finding type.
    pub finding_type: FindingType,
    /// Its title ("Pass role with star in resource").
    pub title: String,
    /// Its learn-more link into the check reference.
    pub link: String,
    /// Its message, with any `{{placeholders}}`.
    pub details: String,
}

fn table() -> &'static HashMap<String, Entry> {
    static C: OnceLock<HashMap<String, Entry>> = OnceLock::new();
    C.get_or_init(|| {
        let v: Value = serde_json::from_str(CATALOGUE).unwrap_or(Value::Null);
        let mut m = HashMap::new();
        let checks = v
            .get("checks")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for c in checks {
            let field = |k: &str| c.get(k).and_then(Value::as_str);
            let (Some(code), Some(ty)) = (
                field("issueCode"),
                field("findingType").and_then(FindingType::parse),
            ) else {
                continue;
            };
            // Three codes appear twice with different messages; the first entry stands.
            m.entry(code.to_string()).or_insert(Entry {
                finding_type: ty,
                title: field("title").unwrap_or(code).to_string(),
                link: field("learnMoreLink").unwrap_or("").to_string(),
                details: field("findingDetails").unwrap_or("").to_string(),
            });
        }
        for (code, ty, title) in NEWER {
            m.entry((*code).to_string()).or_insert_with(|| Entry {
                finding_type: *ty,
                title: (*title).to_string(),
                link: format!(
                    "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-{}-{}",
                    ty.as_str().to_ascii_lowercase().replace('_', "-"),
                    code.to_ascii_lowercase().replace('_', "-")
                ),
                details: String::new(),
            });
        }
        m
    })
}

/// The catalogue's entry for an Access Analyzer issue code.
pub fn lookup(code: &str) -> Option<&'static Entry> {
    table().get(code)
}

/// Every Access Analyzer issue code the catalogue knows (its 135 plus the newer ones), sorted.
pub fn codes() -> Vec<&'static str> {
    let mut v: Vec<&str> = table().keys().map(String::as_str).collect();
    v.sort_unstable();
    v
}

/// Access Analyzer's message for a check, as its catalogue gives it (with any `{{placeholders}}`).
pub(crate) fn details(code: &str) -> Option<&'static str> {
    lookup(code)
        .map(|c| c.details.as_str())
        .filter(|d| !d.is_empty())
}
