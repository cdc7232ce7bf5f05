//! `policy-check lint`: IAM Access Analyzer's policy checks offline (`iam_lint`), with Access Analyzer's
//! issue codes and finding types, plus Cognito checks no other linter makes (`identity_pool::lint`) and
//! API Gateway's cache check (`apigw::Api::cache_coverage`); arguments in, one `iam_lint::lint` call a
//! file, one report out (`crate::report::lint`).

use crate::Failure;
use std::io::Write;

use iam_lint::{FindingType, PolicyType};

use super::lint_pools::{Pools, load_pools, pool_checks};
use crate::TypeArg;

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

/// Finding types, as `--fail-on` takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
#[clap(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FailOn {
    /// An error: AWS refuses the policy.
    Error,
    /// A security warning: the policy grants more than it seems to.
    SecurityWarning,
    /// A warning: a policy that does not do what it seems to.
    Warning,
    /// A suggestion: a simpler or more precise way to write it.
    Suggestion,
}

impl From<FailOn> for FindingType {
    fn from(f: FailOn) -> Self {
        match f {
            FailOn::Error => FindingType::Error,
            FailOn::SecurityWarning => FindingType::SecurityWarning,
            FailOn::Warning => FindingType::Warning,
            FailOn::Suggestion => FindingType::Suggestion,
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
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(iam_lint::ResourceType::ALL.map(iam_lint::ResourceType::as_str)))]
    pub resource_type: Option<String>,
    /// Finding types that fail the run (exit 1).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [FailOn::Error, FailOn::SecurityWarning])]
    pub fail_on: Vec<FailOn>,
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
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(iam_policy::PARTITIONS))]
    pub partition: Option<String>,
    /// Findings to leave out, as `CODE` (an Access Analyzer issue code or ours, everywhere) or
    /// `FILE:CODE` (in files whose path ends with FILE); repeatable or comma-separated. Left-out findings
    /// neither print nor fail the run; the summary counts them.
    #[arg(long, value_delimiter = ',', value_name = "[FILE:]CODE")]
    pub ignore: Vec<String>,
    /// The account id, for an OpenAPI export given to `--api`.
    #[arg(long, requires = "api")]
    pub account: Option<String>,
    /// CloudFormation or SAM templates (JSON or YAML, repeatable): every policy they hold is linted
    /// as its type (trust, identity, resource, SCP, RCP) after the template is resolved, and each
    /// finding points at the template's own line and column.
    #[arg(long = "template", value_name = "TEMPLATE")]
    pub templates: Vec<std::path::PathBuf>,
    /// What templates are resolved with.
    #[command(flatten)]
    pub template_input: super::template::TemplateInput,
    /// Files, directories or glob patterns.
    #[arg(required_unless_present = "templates")]
    pub paths: Vec<String>,
}

/// What the linted files and templates add up to: the findings of the failing types, those left out by
/// `--ignore`, and the SARIF log being built.
#[derive(Default)]
struct Tally {
    failing: usize,
    left_out: usize,
    sarif: crate::report::lint::Sarif,
}

impl Tally {
    /// One file's (or template's) findings: `--ignore` applied, counted, and written in the format
    /// asked for (human text with the progress bar, if any, lifted so lines never mix with it).
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        a: &LintArgs,
        fail_on: &[FindingType],
        name: &str,
        mut findings: Vec<iam_lint::Finding>,
        pb: Option<&indicatif::ProgressBar>,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> Result<(), Failure> {
        let before = findings.len();
        findings.retain(|x| {
            !ignored(&a.ignore, name, &x.issue_code) && !ignored(&a.ignore, name, x.code)
        });
        self.left_out += before - findings.len();
        self.failing += findings
            .iter()
            .filter(|x| fail_on.contains(&x.finding_type))
            .count();
        match a.format {
            LintFormat::Human => {
                let text = crate::report::lint::text(name, &findings);
                match pb {
                    Some(pb) => pb.suspend(|| err.write_all(text.as_bytes())),
                    None => err.write_all(text.as_bytes()),
                }
                .map_err(|e| format!("cannot write: {e}"))?;
            }
            LintFormat::Json => {
                let _ = writeln!(out, "{}", crate::report::lint::json(name, &findings));
            }
            LintFormat::Sarif => self.sarif.add(name, &findings),
        }
        Ok(())
    }
}

/// A template's policies, linted, with each location moved from the resolved policy into the
/// template: its line and column, its snippet, its bytes and Access Analyzer's `span` there (the
/// `path` stays the path inside the policy, as `ValidatePolicy` gives it).
fn lint_template(
    path: &std::path::Path,
    input: &super::template::TemplateInput,
    options: &iam_lint::Options,
    extra: &[iam_lint::Extra<'_>],
) -> Result<(String, Vec<iam_lint::Finding>), Failure> {
    let (t, found) = super::template::load(path, input)?;
    let text = t.source.text();
    let mut all = Vec::new();
    for p in &found.policies {
        let (rendered, map) = iac::render(&p.document);
        // Access Analyzer's resource types, as cfn-policy-validator passes them: bucket policies and
        // access point policies are checked for their resource, trust policies as trust policies.
        let resource_type = match (p.policy_type, p.resource_type.as_str()) {
            (PolicyType::Trust, _) => Some(iam_lint::ResourceType::AssumeRolePolicyDocument),
            (_, "AWS::S3::BucketPolicy") => Some(iam_lint::ResourceType::S3Bucket),
            (_, "AWS::S3::AccessPoint") => Some(iam_lint::ResourceType::S3AccessPoint),
            _ => None,
        };
        let mut findings = iam_lint::lint(
            &p.name(),
            rendered.as_bytes(),
            Some(p.policy_type),
            resource_type,
            options,
            extra,
        )
        .findings;
        for f in &mut findings {
            f.details = format!("{}: {}", p.name(), f.details);
            for at in &mut f.locations {
                let span = iac::locate(&map, at.bytes.start).unwrap_or(p.span);
                let (l, c) = t.line_col(span.start);
                let (el, ec) = t.line_col(span.end);
                at.editor = ((l, c), (el, ec));
                at.bytes = span;
                // Access Analyzer's positions, in the template (UTF-16 units, columns from 0).
                let pos = |byte: usize, line: usize| {
                    let before = text.get(..byte).unwrap_or(text);
                    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                    iam_lint::Position {
                        line,
                        column: before
                            .get(line_start..)
                            .unwrap_or("")
                            .encode_utf16()
                            .count(),
                        offset: before.encode_utf16().count(),
                    }
                };
                at.span = iam_lint::Span {
                    start: pos(span.start, l),
                    end: pos(span.end, el),
                };
                let line = text.lines().nth(l.saturating_sub(1)).unwrap_or("");
                at.snippet = diag::printable(line.trim_end()).chars().take(120).collect();
            }
        }
        all.extend(findings);
    }
    Ok((t.name.clone(), all))
}

/// The most findings `lint` lists per file ([`diag::codes::LINT_TRUNCATED`] counts the rest).
pub const MAX_FINDINGS_PER_FILE: usize = iam_lint::MAX_FINDINGS;

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
fn check_ignore_rules(rules: &[String]) -> Result<(), Failure> {
    for r in rules {
        let known =
            |c: &str| iam_lint::lookup(c).is_some() || diag::codes::ALL.iter().any(|k| k.code == c);
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
            return Err(Failure::from(format!(
                "--ignore `{r}`: no check has that code (Access Analyzer's issue codes such as REDUNDANT_ACTION, or ours such as iam::unknown-action)"
            )));
        }
    }
    Ok(())
}

/// Where the files to lint come from: the paths given, and with `--pool` the guest roles' files.
fn files_and_pools(a: &LintArgs) -> Result<(Vec<std::path::PathBuf>, Option<Pools>), Failure> {
    let mut files = crate::files::expand_paths(&a.paths)?;
    if files.is_empty() {
        return Err(Failure::from(format!(
            "no policy files found in {}",
            a.paths.join(", ")
        )));
    }
    if a.pools.is_empty() {
        return Ok((files, None));
    }
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
    Ok((files, Some(p)))
}

pub(crate) fn run(a: &LintArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Failure> {
    check_ignore_rules(&a.ignore)?;
    let (files, pools) = if a.paths.is_empty() {
        (Vec::new(), None)
    } else {
        files_and_pools(a)?
    };
    let api = a
        .api
        .as_ref()
        .map(|p| crate::gateway::load_api(p, a.account.as_deref()))
        .transpose()?;
    let resource_type = a
        .resource_type
        .as_deref()
        .and_then(iam_lint::ResourceType::parse);
    let options = iam_lint::Options {
        partition: a.partition.clone(),
        ..iam_lint::Options::default()
    };
    let fail_on: Vec<FindingType> = a.fail_on.iter().map(|&f| f.into()).collect();
    let cognito = |doc: &iam_policy::PolicyDocument, _: PolicyType, _: &str| {
        identity_pool::lint::trust_checks(doc)
    };
    let cache = |doc: &iam_policy::PolicyDocument, t: PolicyType, _: &str| {
        api.as_ref()
            .filter(|_| t == PolicyType::Identity)
            .and_then(|api| api.cache_coverage(doc))
            .into_iter()
            .collect()
    };
    let pb = crate::progress(files.len(), "files");
    let mut tally = Tally::default();
    for t in &a.templates {
        let extra: [iam_lint::Extra; 2] = [&cognito, &cache];
        let (name, findings) = lint_template(t, &a.template_input, &options, &extra)?;
        tally.add(a, &fail_on, &name, findings, pb.as_ref(), out, err)?;
    }
    for f in &files {
        let bytes = crate::read_file(f)?;
        let name = crate::display_name(f);
        let in_pools = |doc: &iam_policy::PolicyDocument, _: PolicyType, text: &str| {
            pools
                .as_ref()
                .map(|p| pool_checks(f, doc, text, p))
                .unwrap_or_default()
        };
        let extra: [iam_lint::Extra; 3] = [&cognito, &in_pools, &cache];
        let ty = a.ty.0;
        let findings = iam_lint::lint(&name, &bytes, ty, resource_type, &options, &extra).findings;
        if let Some(pb) = &pb {
            pb.inc(1);
        }
        tally.add(a, &fail_on, &name, findings, pb.as_ref(), out, err)?;
    }
    let Tally {
        failing,
        left_out,
        sarif,
    } = tally;
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    match a.format {
        LintFormat::Sarif => {
            let _ = writeln!(out, "{:#}", sarif.finish());
        }
        LintFormat::Human => {
            let _ = writeln!(
                err,
                "{} file(s) linted; {failing} finding(s) of the failing types ({}){}",
                files.len() + a.templates.len(),
                fail_on
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
        LintFormat::Json => {}
    }
    Ok(u8::from(failing > 0))
}
