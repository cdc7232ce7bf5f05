//! IAM Access Analyzer's policy validation (`ValidatePolicy`), offline: the grammar and service-reference
//! checks of [`iam_policy::validate`] plus the checks of [`CHECKS`], reported as Access Analyzer reports
//! them ([`Finding`]: `findingType`, `issueCode`, `findingDetails`, `learnMoreLink`, `locations` with
//! `path` and `span`), with Access Analyzer's issue codes, finding types, messages and positions.
//!
//! One call validates one policy:
//!
//! ```
//! use iam_lint::{FindingType, Options, PolicyType, validate};
//!
//! let policy = r#"{
//!   "Version": "2012-10-17",
//!   "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]
//! }"#;
//! let findings = validate(policy, PolicyType::Identity, None, &Options::default());
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].issue_code, "PASS_ROLE_WITH_STAR_IN_RESOURCE");
//! assert_eq!(findings[0].finding_type, FindingType::SecurityWarning);
//! // Access Analyzer's location: line from 1, column from 0.
//! assert_eq!(findings[0].locations[0].span.start.line, 3);
//! // The JSON Access Analyzer's API answers with.
//! let json = serde_json::to_value(&findings[0]).unwrap();
//! assert_eq!(json["locations"][0]["path"][0], serde_json::json!({"value": "Statement"}));
//! ```
//!
//! Checks that need more than the policy (the Cognito checks beside `identity-pool`, API Gateway's cache
//! check beside `apigw`) are passed to [`lint`] as [`Extra`] functions; rendering (text, JSON, SARIF,
//! JUnit) is the caller's.

mod catalogue;
mod checks;
mod finding;

pub use catalogue::{Entry, FindingType, codes, lookup};
pub use checks::{CHECKS, Check};
pub use finding::{Finding, Location, PathElement, Position, Span};
pub use iam_policy::PolicyType;

use iam_policy::{Diagnostic, PolicyDocument};

/// The resource types Access Analyzer's `ValidatePolicy` takes (`validatePolicyResourceType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResourceType {
    /// `AWS::S3::Bucket`
    S3Bucket,
    /// `AWS::S3::AccessPoint`
    S3AccessPoint,
    /// `AWS::S3::MultiRegionAccessPoint`
    S3MultiRegionAccessPoint,
    /// `AWS::S3ObjectLambda::AccessPoint`
    S3ObjectLambdaAccessPoint,
    /// `AWS::IAM::AssumeRolePolicyDocument`: a role trust policy.
    AssumeRolePolicyDocument,
    /// `AWS::DynamoDB::Table`
    DynamoDbTable,
}

impl ResourceType {
    /// All six, in the API's order.
    pub const ALL: [ResourceType; 6] = [
        ResourceType::S3Bucket,
        ResourceType::S3AccessPoint,
        ResourceType::S3MultiRegionAccessPoint,
        ResourceType::S3ObjectLambdaAccessPoint,
        ResourceType::AssumeRolePolicyDocument,
        ResourceType::DynamoDbTable,
    ];

    /// The CloudFormation-style name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::S3Bucket => "AWS::S3::Bucket",
            ResourceType::S3AccessPoint => "AWS::S3::AccessPoint",
            ResourceType::S3MultiRegionAccessPoint => "AWS::S3::MultiRegionAccessPoint",
            ResourceType::S3ObjectLambdaAccessPoint => "AWS::S3ObjectLambda::AccessPoint",
            ResourceType::AssumeRolePolicyDocument => "AWS::IAM::AssumeRolePolicyDocument",
            ResourceType::DynamoDbTable => "AWS::DynamoDB::Table",
        }
    }

    /// From the API's name (exact case, as the API takes it).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The service prefixes whose actions and ARNs a policy on this type may name.
    pub(crate) fn services(self) -> &'static [&'static str] {
        match self {
            ResourceType::DynamoDbTable => &["dynamodb"],
            ResourceType::AssumeRolePolicyDocument => &["sts"],
            ResourceType::S3ObjectLambdaAccessPoint => &["s3-object-lambda"],
            _ => &["s3"],
        }
    }

    /// The size quota of its resource policy, characters excluding whitespace, where documented (20 KB
    /// for S3 bucket and DynamoDB resource policies).
    pub(crate) fn quota(self) -> Option<usize> {
        match self {
            ResourceType::DynamoDbTable | ResourceType::S3Bucket => Some(20 * 1024),
            _ => None,
        }
    }

    /// The policy type a resource policy on this type is checked as: a trust policy for
    /// `AWS::IAM::AssumeRolePolicyDocument`, a resource policy otherwise.
    pub fn policy_type(self) -> PolicyType {
        match self {
            ResourceType::AssumeRolePolicyDocument => PolicyType::Trust,
            _ => PolicyType::Resource,
        }
    }
}

impl std::fmt::Display for ResourceType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Access Analyzer's `PolicyType` name as ours: `IDENTITY_POLICY`, `RESOURCE_POLICY`,
/// `SERVICE_CONTROL_POLICY`, `RESOURCE_CONTROL_POLICY`.
pub fn policy_type_from_aws(s: &str) -> Option<PolicyType> {
    Some(match s {
        "IDENTITY_POLICY" => PolicyType::Identity,
        "RESOURCE_POLICY" => PolicyType::Resource,
        "SERVICE_CONTROL_POLICY" => PolicyType::Scp,
        "RESOURCE_CONTROL_POLICY" => PolicyType::Rcp,
        _ => return None,
    })
}

/// The most findings listed per policy by default ([`diag::codes::LINT_TRUNCATED`] counts the rest).
pub const MAX_FINDINGS: usize = 1000;

/// Options.
#[derive(Clone, Debug)]
pub struct Options {
    /// The partition the policy is for (`aws`, `aws-cn`, …): ARNs naming another are
    /// `INVALID_PARTITION`. `None` accepts any of AWS's.
    pub partition: Option<String>,
    /// The most findings listed; a last finding (`lint::truncated`) counts the rest.
    pub max_findings: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            partition: None,
            max_findings: MAX_FINDINGS,
        }
    }
}

/// A check that needs more than the policy: given the document, the type it is checked as and its
/// text, it returns diagnostics (located in that text).
pub type Extra<'a> = &'a dyn Fn(&PolicyDocument, PolicyType, &str) -> Vec<Diagnostic>;

/// One policy, validated.
#[derive(Debug)]
pub struct Linted {
    /// The text, for rendering.
    pub source: diag::Source,
    /// The document, when it parsed.
    pub document: Option<PolicyDocument>,
    /// The type it was checked as.
    pub policy_type: Option<PolicyType>,
    /// The findings, in document order.
    pub findings: Vec<Finding>,
}

/// Validates one policy as Access Analyzer's `ValidatePolicy` does: `ty` as the API's `policyType`
/// ([`policy_type_from_aws`]; [`PolicyType::Trust`] for a role trust policy), `resource_type` as its
/// `validatePolicyResourceType` (which makes a resource policy a trust policy for
/// `AWS::IAM::AssumeRolePolicyDocument`).
pub fn validate(
    text: &str,
    ty: PolicyType,
    resource_type: Option<ResourceType>,
    options: &Options,
) -> Vec<Finding> {
    lint(
        "policy.json",
        text.as_bytes(),
        Some(ty),
        resource_type,
        options,
        &[],
    )
    .findings
}

/// Validates one file: `ty` `None` guesses the type ([`PolicyDocument::guess_type`]); `extra` adds
/// checks of the caller's.
pub fn lint(
    name: &str,
    bytes: &[u8],
    ty: Option<PolicyType>,
    resource_type: Option<ResourceType>,
    options: &Options,
    extra: &[Extra],
) -> Linted {
    let (source, doc, mut diags) = iam_policy::parse_bytes(name, bytes);
    let ty = match resource_type {
        // The resource type decides between a trust and a resource policy.
        Some(rt) if ty.is_none_or(|t| matches!(t, PolicyType::Resource | PolicyType::Trust)) => {
            Some(rt.policy_type())
        }
        _ => ty,
    };
    let mut checked_as = None;
    if let Some(doc) = &doc {
        let t = ty.unwrap_or_else(|| doc.guess_type());
        checked_as = Some(t);
        diags.extend(iam_policy::validate(
            doc,
            t,
            &iam_policy::ValidateOptions {
                partition: options.partition.clone(),
            },
        ));
        let cx = checks::Ctx {
            doc,
            ty: t,
            text: source.text(),
            resource_type,
        };
        checks::run(&cx, &mut diags);
        // Resource policies may repeat a Sid: Access Analyzer recommends unique ones there.
        if t == PolicyType::Resource {
            for d in &mut diags {
                if d.code == diag::codes::IAM_DUPLICATE_SID {
                    d.aws_code = Some("UNIQUE_SIDS_RECOMMENDED");
                }
            }
        }
        for f in extra {
            diags.extend(f(doc, t, source.text()));
        }
    }
    diags.sort_by_key(|d| d.span.start);
    // A text with a vast number of findings (a generated policy, a hostile one) lists the first
    // `max_findings` and counts the rest: memory and output stay proportional to what is shown.
    if diags.len() > options.max_findings {
        let rest = diags.len() - options.max_findings;
        diags.truncate(options.max_findings);
        diags.push(Diagnostic::warning(
            diag::codes::LINT_TRUNCATED,
            diag::Span::new(0, 0),
            format!(
                "{rest} more finding(s) in this file are not listed (the first {} are)",
                options.max_findings
            ),
        ));
    }
    let findings = finding::findings(source.text(), &diags);
    Linted {
        source,
        document: doc,
        policy_type: checked_as,
        findings,
    }
}

/// Runs one check of [`CHECKS`] alone on a policy (for tests of the check table): the Access Analyzer
/// issue codes it raises (our code where Access Analyzer has none). `None` when the policy does not
/// parse.
pub fn run_check(
    check: &Check,
    text: &str,
    ty: PolicyType,
    resource_type: Option<ResourceType>,
) -> Option<Vec<&'static str>> {
    let (source, doc, _) = iam_policy::parse_bytes("policy.json", text.as_bytes());
    let doc = doc?;
    let cx = checks::Ctx {
        doc: &doc,
        ty,
        text: source.text(),
        resource_type,
    };
    let mut out = Vec::new();
    checks::run_one(check, &cx, &mut out);
    Some(out.iter().map(|d| d.aws_code.unwrap_or(d.code)).collect())
}
