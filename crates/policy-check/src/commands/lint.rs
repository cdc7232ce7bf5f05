//! `policy-check lint`: IAM Access Analyzer's policy checks offline, with Access Analyzer's issue codes and
//! finding types, plus Cognito checks no other linter makes; reports as text, as Access Analyzer's
//! finding JSON, or as SARIF 2.1.0 for code-scanning tools.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::OnceLock;

use diag::codes;
use iam_policy::{Diagnostic, PolicyDocument, PolicyType, PrincipalKind, PrincipalValue};
use serde_json::{Value, json};

use crate::TypeArg;

/// Access Analyzer's check catalogue ("IAM policy validation check reference", AWS IAM User Guide;
/// `data/LICENSE-awsdocs-iam-user-guide.txt`).
const CATALOGUE: &str = include_str!("../../data/access-analyzer-checks.json");

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

/// Output formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LintFormat {
    /// Findings with source snippets.
    #[default]
    Human,
    /// Access Analyzer's `ValidatePolicy` findings (`findingType`, `issueCode`, `findingDetails`,
    /// `learnMoreLink`, `locations`), one JSON document per file.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

/// Finding types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
#[clap(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FindingType {
    /// An error: AWS refuses the policy.
    Error,
    /// A security warning: the policy grants more than it seems to.
    SecurityWarning,
    /// A warning: a policy that does not do what it seems to.
    Warning,
    /// A suggestion: a simpler or more precise way to write it.
    Suggestion,
}

impl FindingType {
    fn as_str(self) -> &'static str {
        match self {
            FindingType::Error => "ERROR",
            FindingType::SecurityWarning => "SECURITY_WARNING",
            FindingType::Warning => "WARNING",
            FindingType::Suggestion => "SUGGESTION",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "ERROR" => FindingType::Error,
            "SECURITY_WARNING" => FindingType::SecurityWarning,
            "WARNING" => FindingType::Warning,
            "SUGGESTION" => FindingType::Suggestion,
            _ => return None,
        })
    }
    fn sarif_level(self) -> &'static str {
        match self {
            FindingType::Error => "error",
            FindingType::SecurityWarning | FindingType::Warning => "warning",
            FindingType::Suggestion => "note",
        }
    }
}

/// `lint` arguments.
#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Policy type (as `validate --type`), or Access Analyzer's `--policy-type`.
    #[arg(long = "type", value_enum, default_value_t)]
    pub ty: TypeArg,
    /// Access Analyzer's `--validate-policy-resource-type` for resource policies
    /// (`AWS::S3::Bucket`, `AWS::IAM::AssumeRolePolicyDocument`, …): a role trust document is checked
    /// as a trust policy, any other as a resource policy.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(super::lint_checks::RESOURCE_TYPES.iter().map(|(n, _, _)| *n)))]
    pub resource_type: Option<String>,
    /// Finding types that fail the run (exit 1).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [FindingType::Error, FindingType::SecurityWarning])]
    pub fail_on: Vec<FindingType>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: LintFormat,
    /// Identity-pool configurations (`*.pool.json`, repeatable) for the Cognito checks that need
    /// them: the guest role's policies against the guest session policy (their files are linted too),
    /// and `${cognito-identity.amazonaws.com:sub}` in a policy no role of these pools uses.
    #[arg(long = "pool", value_name = "CONFIG")]
    pub pools: Vec<std::path::PathBuf>,
    /// An API Gateway API definition (as `apigw check --api`): with its authorizer's TTL above 0, each
    /// identity policy linted is checked as the authorizer's output, and the routes it does not allow
    /// (a cached 403 for the caller until the TTL ends) are a finding, `apigw::cache-coverage`.
    #[arg(long, value_name = "API")]
    pub api: Option<std::path::PathBuf>,
    /// Partition the policies are for (aws, aws-cn, aws-us-gov, …), as `validate --partition`: resource
    /// ARNs naming another are `INVALID_PARTITION`.
    #[arg(long)]
    pub partition: Option<String>,
    /// Findings to leave out, as `CODE` (an Access Analyzer issue code or ours, everywhere) or
    /// `FILE:CODE` (in files whose path ends with FILE); repeatable or comma-separated. Left-out findings
    /// neither print nor fail the run; the summary counts them.
    #[arg(long, value_delimiter = ',', value_name = "[FILE:]CODE")]
    pub ignore: Vec<String>,
    /// The account id, for an OpenAPI export given to `--api`.
    #[arg(long, requires = "api")]
    pub account: Option<String>,
    /// Files, directories or glob patterns.
    #[arg(required = true)]
    pub paths: Vec<String>,
}

/// What the catalogue says about one issue code.
struct Check {
    finding_type: FindingType,
    title: String,
    link: String,
    details: String,
}

/// Access Analyzer's message for a check, as its catalogue gives it (with any `{{placeholders}}`).
pub(crate) fn catalogue_details(code: &str) -> Option<&'static str> {
    catalogue().get(code).map(|c| c.details.as_str())
}

fn catalogue() -> &'static BTreeMap<String, Check> {
    static C: OnceLock<BTreeMap<String, Check>> = OnceLock::new();
    C.get_or_init(|| {
        let v: Value = serde_json::from_str(CATALOGUE).unwrap_or(Value::Null);
        let mut m = BTreeMap::new();
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
            m.entry(code.to_string()).or_insert(Check {
                finding_type: ty,
                title: field("title").unwrap_or(code).to_string(),
                link: field("learnMoreLink").unwrap_or("").to_string(),
                details: field("findingDetails").unwrap_or("").to_string(),
            });
        }
        m
    })
}

/// One finding, located.
struct Finding {
    finding_type: FindingType,
    issue_code: String,
    /// Our code for it (`iam::unknown-action` for Access Analyzer's `INVALID_ACTION`).
    code: &'static str,
    title: String,
    details: String,
    link: String,
    /// Where: the first location is the finding's own; Access Analyzer gives more for some checks (the
    /// covered actions of a `REDUNDANT_ACTION`, the `Resource` of a `PASS_ROLE_WITH_STAR_IN_RESOURCE`).
    locations: Vec<Loc>,
}

/// One location: the path into the document and the span, twice: `start`/`end` as editors count (line
/// and column from 1, column in characters, byte offset) and `aws_start`/`aws_end` as Access Analyzer's
/// `Position` defines it (line from 1, column from 0, offset from 0; both counted in UTF-16 code units,
/// as the service's Java strings and SARIF's default `columnKind` count them).
struct Loc {
    path: Vec<Value>,
    start: (usize, usize, usize),
    end: (usize, usize, usize),
    aws_start: (usize, usize, usize),
    aws_end: (usize, usize, usize),
    /// The line the location starts on, printable and cut at 120 characters.
    snippet: String,
}

/// The most findings `lint` lists per file ([`codes::LINT_TRUNCATED`] counts the rest).
pub const MAX_FINDINGS_PER_FILE: usize = 1000;

/// Access Analyzer's `Position`s in one file: line from 1, column from 0, offset from 0, the last two
/// in UTF-16 code units. Built once per file (line starts, and UTF-16 counts every 256 bytes), so each
/// position costs a bisection and a scan of at most 256 bytes, whatever the file's size.
struct AwsPositions<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    /// UTF-16 units before byte `256 * i` (at a character boundary at or before it: see `units_at`).
    checkpoints: Vec<(usize, usize)>,
}

impl<'a> AwsPositions<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        let mut checkpoints = vec![(0, 0)];
        let mut units = 0;
        let mut next = 256;
        for (i, c) in text.char_indices() {
            if i >= next {
                checkpoints.push((i, units));
                next = i + 256;
            }
            units += c.len_utf16();
            if c == '\n' {
                line_starts.push(i + 1);
            }
        }
        Self {
            text,
            line_starts,
            checkpoints,
        }
    }

    /// UTF-16 units before byte `byte` (a character boundary).
    fn units_at(&self, byte: usize) -> usize {
        let k = self.checkpoints.partition_point(|(b, _)| *b <= byte);
        let (b, u) = self
            .checkpoints
            .get(k.saturating_sub(1))
            .copied()
            .unwrap_or((0, 0));
        u + self
            .text
            .get(b..byte)
            .map_or(0, |s| s.chars().map(char::len_utf16).sum::<usize>())
    }

    /// The line holding byte `byte`, printable and cut at 120 characters (no scan of the lines before).
    fn line_text(&self, byte: usize) -> String {
        let line = self
            .line_starts
            .partition_point(|s| *s <= byte.min(self.text.len()));
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let rest = self.text.get(start..).unwrap_or("");
        let end = rest.char_indices().nth(480).map_or(rest.len(), |(i, _)| i);
        let head = rest.get(..end).unwrap_or("").lines().next().unwrap_or("");
        diag::printable(head).chars().take(120).collect()
    }

    fn at(&self, byte: usize) -> (usize, usize, usize) {
        let mut byte = byte.min(self.text.len());
        // A span may end inside a character (a replaced invalid byte): count up to its start.
        while byte > 0 && !self.text.is_char_boundary(byte) {
            byte -= 1;
        }
        let line = self.line_starts.partition_point(|s| *s <= byte);
        let start = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let offset = self.units_at(byte);
        (
            line.max(1),
            offset - self.units_at(start).min(offset),
            offset,
        )
    }
}

/// The path into the document Access Analyzer gives (`[{"value": "Statement"}, {"index": 0}, …]`): the
/// members and indexes leading to the innermost value that holds the span.
fn json_path(root: Option<&diag::json::Value>, start: usize, end: usize) -> Vec<Value> {
    let mut path = Vec::new();
    let mut at = root;
    let holds = |s: diag::Span| s.start <= start && end <= s.end;
    while let Some(v) = at {
        at = None;
        match &v.kind {
            diag::json::Kind::Object(members) => {
                for m in members {
                    // A member's name itself is a `key` step, as Access Analyzer writes it for a
                    // condition key.
                    if holds(m.key_span) {
                        path.push(json!({"key": m.key}));
                        break;
                    }
                    if holds(m.value.span) {
                        path.push(json!({"value": m.key}));
                        at = Some(&m.value);
                        break;
                    }
                }
            }
            diag::json::Kind::Array(items) => {
                // Items are in document order: the one holding the span is found by bisection, so a
                // finding on each of n items costs n log n, not n².
                let i = items.partition_point(|x| x.span.end < start);
                if let Some(item) = items.get(i).filter(|x| holds(x.span)) {
                    path.push(json!({"index": i}));
                    at = Some(item);
                }
            }
            _ => {}
        }
    }
    path
}

/// The Cognito checks: trust policies for identity pools. (`amr` tested without `ForAnyValue:` is
/// Access Analyzer's `MISSING_QUALIFIER`, which `validate` already reports from the service reference.)
fn cognito_checks(doc: &PolicyDocument) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in &doc.statements {
        let federated_cognito = s.principal.as_ref().is_some_and(|p| match &p.value {
            PrincipalValue::Map(entries) => entries.iter().any(|e| {
                e.kind == PrincipalKind::Federated
                    && e.values
                        .iter()
                        .any(|v| v.value == "cognito-identity.amazonaws.com")
            }),
            PrincipalValue::Any => false,
        });
        let allows = s.effect.value == iam_policy::Effect::Allow;
        let has_aud = s.conditions.iter().any(|c| {
            c.key
                .value
                .eq_ignore_ascii_case("cognito-identity.amazonaws.com:aud")
        });
        if federated_cognito && allows && !has_aud {
            out.push(
                Diagnostic::warning(
                    codes::COGNITO_TRUST_WITHOUT_AUD,
                    s.span,
                    "this trust policy lets any Cognito identity pool assume the role: it has no condition on `cognito-identity.amazonaws.com:aud`",
                )
                .help("add \"StringEquals\": {\"cognito-identity.amazonaws.com:aud\": \"<identity pool id>\"}"),
            );
        }
        let has_amr = s.conditions.iter().any(|c| {
            c.key
                .value
                .eq_ignore_ascii_case("cognito-identity.amazonaws.com:amr")
        });
        let web_identity = s.action.as_ref().is_some_and(|a| {
            !a.negated
                && a.items.iter().any(|p| {
                    p.service.as_deref().is_none_or(|svc| svc == "sts")
                        && iam_policy::catalog::glob(&p.action, "assumerolewithwebidentity")
                })
        });
        if federated_cognito && allows && web_identity && !has_amr {
            out.push(
                Diagnostic::warning(
                    codes::COGNITO_TRUST_WITHOUT_AMR,
                    s.span,
                    "this trust policy does not test `cognito-identity.amazonaws.com:amr`: with the basic (classic) flow, the pool's unauthenticated identities can assume the role with their OpenID token",
                )
                .help("add \"ForAnyValue:StringLike\": {\"cognito-identity.amazonaws.com:amr\": \"authenticated\"} (or \"unauthenticated\" for the guest role)"),
            );
        }
    }
    out
}

/// What the given identity pools say about policy files (paths canonicalised).
#[derive(Default)]
struct Pools {
    /// Every permission policy file a role of the pools uses.
    used: std::collections::BTreeSet<std::path::PathBuf>,
    /// The permission policy files of guest roles (canonical path → the path as the configuration
    /// leads to it, for messages).
    guest: BTreeMap<std::path::PathBuf, std::path::PathBuf>,
    /// Trust policy files of roles (not the guest role) that a pool's guests can assume with the basic
    /// flow (canonical path → the path shown, the role and the pool).
    guest_assumable: BTreeMap<std::path::PathBuf, (std::path::PathBuf, String, String)>,
}

fn load_pools(paths: &[std::path::PathBuf]) -> Result<Pools, String> {
    let mut pools = Pools::default();
    for p in paths {
        let v = crate::input::read_json(p)?;
        let config: identity_pool::PoolConfig =
            serde_json::from_value(v).map_err(|e| format!("{}: {e}", p.display()))?;
        let base = p.parent().unwrap_or(std::path::Path::new("."));
        // The loaded pool decides which roles its guests can assume.
        let pool = crate::input::load_pool(p)?;
        for (arn, role) in &config.roles {
            let guest_role = config.unauthenticated_role.as_deref() == Some(arn.as_str());
            if !guest_role
                && pool.guest_can_assume(arn)
                && let Some(rel) = role.trust.as_str()
            {
                let shown = base.join(rel);
                let full = shown.canonicalize().unwrap_or_else(|_| shown.clone());
                pools
                    .guest_assumable
                    .insert(full, (shown, arn.clone(), config.identity_pool_id.clone()));
            }
            let guest = config.unauthenticated_role.as_deref() == Some(arn.as_str())
                && config.allow_unauthenticated;
            for policy in &role.policies {
                // Inline policies have no file to report on.
                let Some(rel) = policy.as_str() else { continue };
                let shown = base.join(rel);
                let full = shown.canonicalize().unwrap_or_else(|_| shown.clone());
                if guest {
                    pools.guest.insert(full.clone(), shown);
                }
                pools.used.insert(full);
            }
        }
    }
    Ok(pools)
}

/// The pool-aware Cognito checks for one file.
fn pool_checks(
    path: &std::path::Path,
    doc: &PolicyDocument,
    text: &str,
    pools: &Pools,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let full = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if let Some((_, role, pool)) = pools.guest_assumable.get(&full) {
        out.push(
            Diagnostic::warning(
                codes::COGNITO_GUEST_ASSUMES_ROLE,
                doc.span,
                format!(
                    "unauthenticated identities of {pool} can assume `{role}`, which is not the pool's guest role: the pool allows the basic flow and this trust policy accepts a guest's OpenID token (`amr` `unauthenticated`)"
                ),
            )
            .help("require \"ForAnyValue:StringLike\": {\"cognito-identity.amazonaws.com:amr\": \"authenticated\"}, or turn the basic flow off (AllowClassicFlow false)"),
        );
    }
    // The sub variable where no identity-pool credentials can ever carry it.
    let var = "${cognito-identity.amazonaws.com:sub}";
    if !pools.used.contains(&full)
        && let Some(at) = text.to_ascii_lowercase().find(var)
    {
        out.push(
            Diagnostic::warning(
                codes::COGNITO_SUB_VARIABLE_UNUSED,
                diag::Span::new(at, at + var.len()),
                "no role of the given identity pools uses this policy, so `${cognito-identity.amazonaws.com:sub}` never resolves and what it guards matches nothing",
            )
            .help("attach the policy to the pool's role, or check the pool configuration"),
        );
    }
    if pools.guest.contains_key(&full) {
        let session: PolicyDocument = match iam_policy::parse_bytes(
            "session",
            identity_pool::GUEST_SESSION_POLICY.as_bytes(),
        ) {
            (_, Some(d), _) => d,
            _ => return out,
        };
        let allowed: Vec<&iam_policy::ActionPattern> = session
            .statements
            .iter()
            .filter(|s| s.effect.value == iam_policy::Effect::Allow)
            .filter_map(|s| s.action.as_ref())
            .flat_map(|a| a.items.iter())
            .collect();
        for s in doc
            .statements
            .iter()
            .filter(|s| s.effect.value == iam_policy::Effect::Allow)
        {
            let Some(a) = s.action.as_ref().filter(|a| !a.negated) else {
                continue;
            };
            for p in &a.items {
                let (Some(svc), name) = (&p.service, &p.action) else {
                    continue;
                };
                let reachable = if p.raw.contains(['*', '?']) {
                    // A wildcard: reachable if the session policy allows anything of its service.
                    allowed.iter().any(|q| {
                        q.service
                            .as_deref()
                            .is_none_or(|qs| iam_policy::catalog::glob(qs, svc))
                    })
                } else {
                    allowed.iter().any(|q| match &q.service {
                        None => true,
                        Some(qs) => {
                            iam_policy::catalog::glob(qs, svc)
                                && iam_policy::catalog::glob(&q.action, name)
                        }
                    })
                };
                if !reachable {
                    out.push(
                        Diagnostic::warning(
                            codes::COGNITO_UNAUTH_BEYOND_SESSION_POLICY,
                            p.span,
                            format!(
                                "`{}` is allowed to the guest role, but the guest session policy Cognito applies to unauthenticated identities never allows it",
                                p.raw
                            ),
                        )
                        .help("guests cannot use it in the enhanced flow: remove it, or use the basic flow on purpose"),
                    );
                }
            }
        }
    }
    out
}

/// The API Gateway cache check: the routes a policy returned for one request does not allow, though the
/// cache answers every route with it until the TTL ends.
fn cache_coverage(api: &apigw::Api, doc: &PolicyDocument) -> Option<Diagnostic> {
    let ttl = api.authorizer.ttl;
    if ttl == 0 {
        return None;
    }
    let uncovered = match api.uncovered(std::slice::from_ref(doc)) {
        Ok(u) => u,
        // A policy that does not compile already has its own errors.
        Err(_) => return None,
    };
    if uncovered.is_empty() {
        return None;
    }
    // One entry per route and answer, its verbs together (an `ANY` route stands for seven).
    let mut grouped: Vec<(&str, authz_core::Decision, Vec<&str>, &str)> = Vec::new();
    for u in &uncovered {
        match grouped
            .iter_mut()
            .find(|(r, d, _, _)| *r == u.route && *d == u.decision)
        {
            Some((_, _, verbs, _)) => verbs.push(&u.verb),
            None => grouped.push((&u.route, u.decision, vec![&u.verb], &u.method_arn)),
        }
    }
    let routes: Vec<String> = grouped
        .iter()
        .map(|(route, decision, verbs, arn)| {
            format!("{route} [{}] (e.g. {arn}): {decision}", verbs.join(", "))
        })
        .collect();
    Some(
        Diagnostic::warning(
            codes::APIGW_CACHE_COVERAGE,
            doc.span,
            format!(
                "returned by the authorizer (TTL {ttl} s), this policy answers every route for the caller, but it does not allow: {}",
                routes.join("; ")
            ),
        )
        .help("if the authorizer builds its policy from the methodArn, return one that covers every route, or set the TTL to 0"),
    )
}

/// Findings for one file.
fn lint_file(
    path: &std::path::Path,
    name: &str,
    bytes: &[u8],
    a: &LintArgs,
    pools: Option<&Pools>,
    api: Option<&apigw::Api>,
) -> (diag::Source, Vec<Finding>) {
    let (source, doc, mut diags) = iam_policy::parse_bytes(name, bytes);
    let ty = match (&a.resource_type, crate::policies::to_type(a.ty)) {
        (Some(rt), _) if rt == "AWS::IAM::AssumeRolePolicyDocument" => Some(PolicyType::Trust),
        (Some(_), _) => Some(PolicyType::Resource),
        (None, t) => t,
    };
    if let Some(doc) = &doc {
        let t = ty.unwrap_or_else(|| crate::policies::infer_type(doc));
        diags.extend(iam_policy::validate(
            doc,
            t,
            &iam_policy::ValidateOptions {
                partition: a.partition.clone(),
            },
        ));
        diags.extend(cognito_checks(doc));
        diags.extend(super::lint_checks::checks(doc, t, source.text()));
        diags.extend(super::lint_principals::checks(doc, t));
        diags.extend(super::lint_conditions::checks(doc));
        if let Some(rt) = &a.resource_type {
            diags.extend(super::lint_checks::resource_type_checks(
                doc,
                rt,
                source.text(),
            ));
        }
        // Resource policies may repeat a Sid: Access Analyzer recommends unique ones there.
        if t == PolicyType::Resource {
            for d in &mut diags {
                if d.code == codes::IAM_DUPLICATE_SID {
                    d.aws_code = Some("UNIQUE_SIDS_RECOMMENDED");
                }
            }
        }
        if let Some(pools) = pools {
            diags.extend(pool_checks(path, doc, source.text(), pools));
        }
        if let Some(api) = api
            && t == PolicyType::Identity
        {
            diags.extend(cache_coverage(api, doc));
        }
    }
    // A file with a vast number of findings (a generated policy, a hostile one) lists the first
    // MAX_FINDINGS_PER_FILE and counts the rest: memory and output stay proportional to what is shown.
    if diags.len() > MAX_FINDINGS_PER_FILE {
        let rest = diags.len() - MAX_FINDINGS_PER_FILE;
        diags.truncate(MAX_FINDINGS_PER_FILE);
        diags.push(Diagnostic::warning(
            codes::LINT_TRUNCATED,
            diag::Span::new(0, 0),
            format!("{rest} more finding(s) in this file are not listed (the first {MAX_FINDINGS_PER_FILE} are)"),
        ));
    }
    let mut ignored = Vec::new();
    let tree = diag::json::read(source.text(), &mut ignored);
    let positions = AwsPositions::new(source.text());
    let findings = diags
        .iter()
        .map(|d| {
            let known = d.aws_code.and_then(|c| catalogue().get(c).map(|k| (c, k)));
            let newer = d
                .aws_code
                .and_then(|c| NEWER.iter().find(|(code, _, _)| *code == c));
            let (finding_type, issue_code, title, link) = match (known, newer) {
                (Some((c, k)), _) => (
                    k.finding_type,
                    c.to_string(),
                    k.title.clone(),
                    k.link.clone(),
                ),
                (None, Some((c, ty, title))) => (
                    *ty,
                    (*c).to_string(),
                    (*title).to_string(),
                    format!(
                        "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-{}-{}",
                        ty.as_str().to_ascii_lowercase().replace('_', "-"),
                        c.to_ascii_lowercase().replace('_', "-")
                    ),
                ),
                (None, None) => {
                    let ty = if d.is_error() {
                        FindingType::Error
                    } else if d.code == codes::COGNITO_TRUST_WITHOUT_AUD
                        || d.code == codes::COGNITO_TRUST_WITHOUT_AMR
                        || d.code == codes::COGNITO_GUEST_ASSUMES_ROLE
                        || d.code == codes::IAM_FORALLVALUES_ABSENT_KEY
                    {
                        // Both grant more than the policy seems to.
                        FindingType::SecurityWarning
                    } else {
                        FindingType::Warning
                    };
                    (ty, d.code.to_string(), d.code.to_string(), String::new())
                }
            };
            let pos = |o: usize| {
                let (l, c) = source.line_col(o);
                (l, c, o)
            };
            Finding {
                finding_type,
                issue_code,
                code: d.code,
                title,
                details: d.message.clone(),
                link,
                locations: std::iter::once(d.span)
                    .chain(
                        // Access Analyzer's extra locations, for the checks `lint` adds.
                        d.related
                            .iter()
                            .filter(|_| d.code == codes::LINT_CHECK)
                            .map(|(s, _)| *s),
                    )
                    .map(|s| Loc {
                        path: json_path(tree.as_ref(), s.start, s.end),
                        start: pos(s.start),
                        end: pos(s.end),
                        aws_start: positions.at(s.start),
                        aws_end: positions.at(s.end),
                        snippet: positions.line_text(s.start),
                    })
                    .collect(),
            }
        })
        .collect();
    (source, findings)
}

fn location(f: &Loc) -> Value {
    let p = |(line, column, offset): (usize, usize, usize)| json!({"line": line, "column": column, "offset": offset});
    json!({"path": f.path, "span": {"start": p(f.aws_start), "end": p(f.aws_end)}})
}

impl Finding {
    /// The finding's own location (`lint_file` puts it first).
    fn at(&self) -> Option<&Loc> {
        self.locations.first()
    }
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

fn sarif_location(uri: &str, x: &Loc) -> Value {
    json!({"physicalLocation": {
    "artifactLocation": {"uri": uri},
    "region": {
        "startLine": x.start.0, "startColumn": x.start.1,
        "endLine": x.end.0, "endColumn": x.end.1,
        "charOffset": x.aws_start.2, "charLength": x.aws_end.2.saturating_sub(x.aws_start.2),
    }}})
}

/// Whether `--ignore` leaves out a finding with `code` in the file shown as `name`: a rule is `CODE`, or
/// `FILE:CODE` for files whose path ends with FILE.
fn ignored(rules: &[String], name: &str, code: &str) -> bool {
    rules.iter().any(|r| {
        r == code
            || r.strip_suffix(code)
                .and_then(|f| f.strip_suffix(':'))
                .is_some_and(|f| !f.is_empty() && name.replace('\\', "/").ends_with(f))
    })
}

/// The code an `--ignore` rule names must exist (Access Analyzer's or ours): a misspelt one would leave
/// nothing out without a word.
fn check_ignore_rules(rules: &[String]) -> Result<(), String> {
    for r in rules {
        let known = |c: &str| {
            catalogue().contains_key(c)
                || NEWER.iter().any(|(n, _, _)| *n == c)
                || diag::codes::ALL.iter().any(|k| k.code == c)
        };
        // The code is the whole rule, or what follows the last `:` that is not part of `ns::name`.
        let ok = known(r)
            || r.char_indices()
                .filter(|&(i, ch)| {
                    ch == ':'
                        && r.get(i + 1..i + 2) != Some(":")
                        && (i == 0 || r.get(i - 1..i) != Some(":"))
                })
                .any(|(i, _)| r.get(i + 1..).is_some_and(known));
        if !ok {
            return Err(format!(
                "--ignore `{r}`: no check has that code (Access Analyzer's issue codes such as REDUNDANT_ACTION, or ours such as iam::unknown-action)"
            ));
        }
    }
    Ok(())
}

pub(crate) fn run(a: &LintArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, String> {
    check_ignore_rules(&a.ignore)?;
    let mut files = crate::files::expand_paths(&a.paths)?;
    if files.is_empty() {
        return Err(format!("no policy files found in {}", a.paths.join(", ")));
    }
    let pools = if a.pools.is_empty() {
        None
    } else {
        let p = load_pools(&a.pools)?;
        // The guest roles' policies are linted too, wherever they are.
        let given: std::collections::BTreeSet<_> = files
            .iter()
            .map(|f| f.canonicalize().unwrap_or_else(|_| f.clone()))
            .collect();
        files.extend(
            p.guest
                .iter()
                .filter(|(full, _)| !given.contains(*full))
                .map(|(_, shown)| shown.clone()),
        );
        files.extend(
            p.guest_assumable
                .iter()
                .filter(|(full, _)| !given.contains(*full))
                .map(|(_, (shown, _, _))| shown.clone()),
        );
        Some(p)
    };
    let api = a
        .api
        .as_ref()
        .map(|p| crate::gateway::load_api(p, a.account.as_deref()))
        .transpose()?;
    let pb = crate::progress(files.len(), "files");
    let mut failing = 0usize;
    let mut left_out = 0usize;
    let mut sarif_results = Vec::new();
    let mut rules: BTreeMap<String, (String, String, FindingType)> = BTreeMap::new();
    for f in &files {
        let bytes = crate::read_file(f)?;
        let name = crate::display_name(f);
        let (_source, mut findings) = lint_file(f, &name, &bytes, a, pools.as_ref(), api.as_ref());
        if let Some(pb) = &pb {
            pb.inc(1);
        }
        let before = findings.len();
        findings.retain(|x| {
            !ignored(&a.ignore, &name, &x.issue_code) && !ignored(&a.ignore, &name, x.code)
        });
        left_out += before - findings.len();
        failing += findings
            .iter()
            .filter(|x| a.fail_on.contains(&x.finding_type))
            .count();
        match a.format {
            LintFormat::Human => {
                let mut text = String::new();
                for x in &findings {
                    let Some(at) = x.at() else { continue };
                    let shown = at.snippet.clone();
                    let more = if x.link.is_empty() {
                        String::new()
                    } else {
                        format!("\n  learn more: {}", x.link)
                    };
                    text.push_str(&format!(
                        "{name}:{}:{}: {} {}: {}{more}\n  | {shown}\n",
                        at.start.0,
                        at.start.1,
                        x.finding_type.as_str(),
                        x.issue_code,
                        x.details,
                    ));
                }
                // Written with the progress bar (if any) lifted, so lines never mix with it.
                match &pb {
                    Some(pb) => pb.suspend(|| err.write_all(text.as_bytes())),
                    None => err.write_all(text.as_bytes()),
                }
                .map_err(|e| format!("cannot write: {e}"))?;
            }
            LintFormat::Json => {
                let list: Vec<Value> = findings
                    .iter()
                    .map(|x| {
                        json!({
                            "findingType": x.finding_type.as_str(),
                            "issueCode": x.issue_code,
                            "findingDetails": x.details,
                            "learnMoreLink": x.link,
                            "locations": x.locations.iter().map(location).collect::<Vec<_>>(),
                            // Beyond Access Analyzer's shape: the line of the finding's own location.
                            "snippet": x.at().map(|at| at.snippet.clone()),
                        })
                    })
                    .collect();
                let _ = writeln!(out, "{}", json!({"file": name, "findings": list}));
            }
            LintFormat::Sarif => {
                let uri = sarif_uri(&name);
                for x in &findings {
                    let Some(at) = x.at() else { continue };
                    rules.entry(x.issue_code.clone()).or_insert((
                        x.title.clone(),
                        x.link.clone(),
                        x.finding_type,
                    ));
                    sarif_results.push(json!({
                        "ruleId": x.issue_code,
                        "level": x.finding_type.sarif_level(),
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
        }
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if a.format == LintFormat::Sarif {
        let ids: Vec<&String> = rules.keys().collect();
        for r in &mut sarif_results {
            let idx = ids
                .iter()
                .position(|id| Some(id.as_str()) == r["ruleId"].as_str());
            if let (Some(o), Some(i)) = (r.as_object_mut(), idx) {
                o.insert("ruleIndex".into(), json!(i));
            }
        }
        let rules: Vec<Value> = rules
            .iter()
            .map(|(id, (title, link, ty))| {
                let mut r = json!({
                    "id": id,
                    "shortDescription": {"text": title},
                    "defaultConfiguration": {"level": ty.sarif_level()},
                    "properties": {"findingType": ty.as_str()},
                });
                if let (false, Some(o)) = (link.is_empty(), r.as_object_mut()) {
                    o.insert("helpUri".into(), json!(link));
                }
                r
            })
            .collect();
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "policy-check",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html",
                    "rules": rules,
                }},
                "results": sarif_results,
            }],
        });
        let _ = writeln!(out, "{doc:#}");
    }
    if a.format == LintFormat::Human {
        let _ = writeln!(
            err,
            "{} file(s) linted; {failing} finding(s) of the failing types ({}){}",
            files.len(),
            a.fail_on
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if left_out > 0 {
                format!("; {left_out} left out by --ignore")
            } else {
                String::new()
            }
        );
    }
    Ok(u8::from(failing > 0))
}
