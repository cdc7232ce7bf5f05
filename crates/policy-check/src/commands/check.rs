//! `check`: AWS's custom policy checks (`CheckNoNewAccess`, `CheckAccessNotGranted`,
//! `CheckNoPublicAccess`) answered offline by `iam-reason`, with witness requests; and `solver`, which
//! installs and finds the SMT solver they use.

use crate::Failure;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use iam_policy::PolicyType;
use iam_reason::{Answer, Checker, PolicyKind, Solver, Verdict};

use crate::Format;

/// `check` subcommands.
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Does NEW allow any request EXISTING does not? (AWS's CheckNoNewAccess.)
    NoNewAccess {
        /// The policy as it is.
        #[arg(
            long,
            required_unless_present = "template",
            conflicts_with = "template"
        )]
        existing: Option<PathBuf>,
        /// The policy as proposed.
        #[arg(
            long,
            required_unless_present = "template",
            conflicts_with = "template"
        )]
        new: Option<PathBuf>,
        /// A CloudFormation/SAM template or Terraform plan as proposed: each of its policies is compared
        /// with the policy of the same resource and property in `--existing-template`.
        #[arg(long, requires = "existing_template")]
        template: Option<PathBuf>,
        /// The same template as it is (another git revision, `git show main:stack.yaml > old.yaml`).
        #[arg(long = "existing-template", requires = "template")]
        existing_template: Option<PathBuf>,
        /// What templates are resolved with.
        #[command(flatten)]
        template_input: super::template::TemplateInput,
        /// Identity or resource policies (a trust policy is a resource policy).
        #[arg(long = "type", value_enum, default_value_t = KindArg::Identity)]
        kind: KindArg,
        /// Options every check takes.
        #[command(flatten)]
        common: CheckOptions,
    },
    /// Can POLICY ever allow these actions / resources? (AWS's CheckAccessNotGranted.)
    AccessNotGranted {
        /// The policy.
        policy: PathBuf,
        /// An action (`service:Action`, wildcards allowed); repeatable. Alone: on any resource.
        #[arg(long = "action")]
        actions: Vec<String>,
        /// A resource ARN (wildcards allowed); repeatable. Alone: any action on it.
        #[arg(long = "resource")]
        resources: Vec<String>,
        /// Identity or resource policy.
        #[arg(long = "type", value_enum, default_value_t = KindArg::Identity)]
        kind: KindArg,
        /// Options every check takes.
        #[command(flatten)]
        common: CheckOptions,
    },
    /// Do two Cedar policy stores (directories with a schema) decide every request alike?
    CedarEquivalent {
        /// One store.
        old: PathBuf,
        /// The other.
        new: PathBuf,
        /// Options of the Cedar checks.
        #[command(flatten)]
        cedar: CedarOptions,
    },
    /// Does the NEW Cedar store allow no more than OLD (every request NEW allows, OLD allows)?
    CedarImplies {
        /// The store as it is.
        #[arg(long)]
        existing: PathBuf,
        /// The store as proposed.
        #[arg(long)]
        new: PathBuf,
        /// Options of the Cedar checks.
        #[command(flatten)]
        cedar: CedarOptions,
    },
    /// Does the Cedar store deny every request?
    CedarAlwaysDenies {
        /// The store.
        store: PathBuf,
        /// Options of the Cedar checks.
        #[command(flatten)]
        cedar: CedarOptions,
    },
    /// Can no policy of the Cedar store ever error (overflow, a missing attribute, …)?
    CedarNeverErrors {
        /// The store.
        store: PathBuf,
        /// Options of the Cedar checks.
        #[command(flatten)]
        cedar: CedarOptions,
    },
    /// Can anyone outside the zone of trust use POLICY? (AWS's CheckNoPublicAccess.)
    NoPublicAccess {
        /// The resource policy (or role trust policy).
        policy: PathBuf,
        /// AWS's resource type (AWS::S3::Bucket, AWS::SQS::Queue, AWS::IAM::AssumeRolePolicyDocument, …).
        #[arg(long = "resource-type")]
        resource_type: String,
        /// Options every check takes.
        #[command(flatten)]
        common: CheckOptions,
    },
}

/// `diff` arguments.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The policy as it is.
    old: PathBuf,
    /// The policy as proposed.
    new: PathBuf,
    /// Identity or resource policies.
    #[arg(long = "type", value_enum, default_value_t = KindArg::Identity)]
    kind: KindArg,
    /// Options every check takes.
    #[command(flatten)]
    common: CheckOptions,
}

/// Options of the Cedar checks.
#[derive(Debug, Args)]
pub struct CedarOptions {
    /// Output format (json: `holds`, `environments`, and each counterexample as a Verified Permissions
    /// request).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// The cvc5 executable (default: $POLICY_CHECK_CVC5, $CVC5, `cvc5` on PATH, then
    /// `policy-check solver install`'s).
    #[arg(long, value_name = "PATH")]
    cvc5: Option<PathBuf>,
}

/// `solver` subcommands.
#[derive(Debug, Subcommand)]
pub enum SolverCommand {
    /// Install Z3 (PyPI's z3-solver, which carries the binary) into ~/.cache/policy-check/z3 and cvc5
    /// 1.3.1 (PyPI's cvc5 behind our SMT-LIB front end) into ~/.cache/policy-check/cvc5 (or under
    /// $POLICY_CHECK_HOME) with python3's venv and pip; does nothing when they are there.
    Install,
    /// Print the solver `check` would use.
    Path,
}

/// Identity or resource policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Identity-based policies.
    Identity,
    /// Resource-based policies and role trust policies.
    Resource,
}

/// Options every check takes.
#[derive(Debug, Args)]
pub struct CheckOptions {
    /// Output format (json: AWS's response shape plus `witnesses`, each a request `eval --request` takes).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
    /// Only count actions the bundled service reference lists (AWS's checks count any action).
    #[arg(long)]
    precise: bool,
    /// Exit 0 rather than 1 when the answer is UNKNOWN.
    #[arg(long)]
    unknown_ok: bool,
    /// Seconds the solver may take per query.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// The Z3 binary (default: $POLICY_CHECK_Z3, `z3` on PATH, then `policy-check solver install`'s).
    #[arg(long, value_name = "PATH")]
    solver: Option<PathBuf>,
}

fn load(path: &Path, ty: PolicyType) -> Result<iam_policy::PolicyDocument, Failure> {
    crate::policies::load_policy(path, ty)
}

fn checker(o: &CheckOptions) -> Result<Checker, Failure> {
    let solver = match &o.solver {
        Some(p) if p.is_file() => Solver::at(p),
        Some(p) => {
            return Err(Failure::from(format!(
                "the solver {} is not a file [{}]",
                p.display(),
                diag::codes::REASON_SOLVER
            )));
        }
        None => Solver::find().map_err(|e| format!("{} [{}]", e, e.code()))?,
    }
    .with_timeout(Duration::from_secs(o.timeout.max(1)));
    Ok(Checker::new(solver).precise(o.precise))
}

fn store(dir: &Path) -> Result<(cedar_policy::Schema, cedar_policy::PolicySet), Failure> {
    let files = cedar_bridge::StoreFiles::from_dir(dir)?;
    let store = cedar_bridge::PolicyStore::from_files(&files)?;
    let schema = store.schema().cloned().ok_or_else(|| {
        format!(
            "store `{}` has no schema (schema.cedarschema or schema.json): the Cedar checks reason over the schema's requests [{}]",
            dir.display(),
            diag::codes::REASON_INPUT
        )
    })?;
    Ok((schema, store.policies().clone()))
}

fn run_cedar(c: &CheckCommand, out: &mut dyn Write) -> Result<u8, Failure> {
    use cedar_reason::Property;
    let (name, property, a, b, o) = match c {
        CheckCommand::CedarEquivalent { old, new, cedar } => (
            "cedar-equivalent",
            Property::Equivalent,
            old,
            Some(new),
            cedar,
        ),
        CheckCommand::CedarImplies {
            existing,
            new,
            cedar,
        } => (
            "cedar-implies",
            Property::Implies,
            new,
            Some(existing),
            cedar,
        ),
        CheckCommand::CedarAlwaysDenies { store, cedar } => (
            "cedar-always-denies",
            Property::AlwaysDenies,
            store,
            None,
            cedar,
        ),
        CheckCommand::CedarNeverErrors { store, cedar } => (
            "cedar-never-errors",
            Property::NeverErrors,
            store,
            None,
            cedar,
        ),
        _ => return Err("not a Cedar check".into()),
    };
    let (schema, set_a) = store(a)?;
    let set_b = match b {
        Some(b) => Some(store(b)?.1),
        None => None,
    };
    let cvc5 = match &o.cvc5 {
        Some(p) => cedar_reason::Cvc5::at(p),
        None => {
            cedar_reason::Cvc5::find().map_err(|e| format!("{e} [{}]", diag::Coded::code(&e)))?
        }
    };
    let started = std::time::Instant::now();
    let answer = cedar_reason::check(property, &schema, &set_a, set_b.as_ref(), &cvc5)
        .map_err(|e| format!("{e} [{}]", diag::Coded::code(&e)))?;
    let w = |e: std::io::Error| format!("cannot write: {e}");
    if o.format == Format::Json {
        let v = serde_json::json!({
            "result": if answer.holds { "PASS" } else { "FAIL" },
            "environments": answer.environments,
            "counterexamples": answer.counterexamples.iter().map(|c| serde_json::json!({
                "environment": c.environment,
                "policy": c.policy,
                "decisions": c.decisions,
                "request": c.avp_request,
            })).collect::<Vec<_>>(),
        });
        print_json(&v, out)?;
    } else {
        writeln!(
            out,
            "{}  {name}  ({} request environments, {} ms)",
            if answer.holds { "PASS" } else { "FAIL" },
            answer.environments,
            started.elapsed().as_millis()
        )
        .map_err(w)?;
        for c in &answer.counterexamples {
            let policy = c
                .policy
                .as_deref()
                .map(|p| format!(" policy {p}:"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {}:{policy} decisions {}",
                diag::printable(&c.environment),
                c.decisions.join(" / ")
            )
            .map_err(w)?;
            writeln!(
                out,
                "    counterexample: {}",
                diag::printable(&c.avp_request.to_string())
            )
            .map_err(w)?;
        }
    }
    Ok(if answer.holds { 0 } else { 2 })
}

/// Runs `check`.
pub fn run(c: &CheckCommand, out: &mut dyn Write) -> Result<u8, Failure> {
    if matches!(
        c,
        CheckCommand::CedarEquivalent { .. }
            | CheckCommand::CedarImplies { .. }
            | CheckCommand::CedarAlwaysDenies { .. }
            | CheckCommand::CedarNeverErrors { .. }
    ) {
        return run_cedar(c, out);
    }
    let (name, answer, common, doc) = match c {
        CheckCommand::NoNewAccess {
            template: Some(t),
            existing_template: Some(old),
            common,
            template_input,
            ..
        } => return run_templates(old, t, template_input, common, out),
        CheckCommand::NoNewAccess {
            existing: Some(existing),
            new: Some(new),
            kind,
            common,
            ..
        } => {
            let ty = match kind {
                KindArg::Identity => PolicyType::Identity,
                KindArg::Resource => PolicyType::Resource,
            };
            let old = load(existing, ty)?;
            let new_doc = load(new, ty)?;
            let k = match kind {
                KindArg::Identity => PolicyKind::Identity,
                KindArg::Resource => PolicyKind::Resource,
            };
            let a = checker(common)?
                .no_new_access(&old, &new_doc, k)
                .map_err(|e| format!("{e} [{}]", e.code()))?;
            ("no-new-access", a, common, new_doc)
        }
        CheckCommand::AccessNotGranted {
            policy,
            actions,
            resources,
            kind,
            common,
        } => {
            let (ty, k) = match kind {
                KindArg::Identity => (PolicyType::Identity, PolicyKind::Identity),
                KindArg::Resource => (PolicyType::Resource, PolicyKind::Resource),
            };
            let doc = load(policy, ty)?;
            let a = checker(common)?
                .access_not_granted(&doc, actions, resources, k)
                .map_err(|e| format!("{e} [{}]", e.code()))?;
            ("access-not-granted", a, common, doc)
        }
        CheckCommand::NoPublicAccess {
            policy,
            resource_type,
            common,
        } => {
            let ty = if resource_type == "AWS::IAM::AssumeRolePolicyDocument" {
                PolicyType::Trust
            } else {
                PolicyType::Resource
            };
            let doc = load(policy, ty)?;
            let a = checker(common)?
                .no_public_access(&doc, resource_type)
                .map_err(|e| format!("{e} [{}]", e.code()))?;
            ("no-public-access", a, common, doc)
        }
        CheckCommand::NoNewAccess { .. } => {
            return Err("give --existing and --new, or --template and --existing-template".into());
        }
        _ => return run_cedar(c, out),
    };
    print(name, &answer, &doc, common.format, out)?;
    Ok(match answer.verdict {
        Verdict::Pass => 0,
        Verdict::Fail => 2,
        Verdict::Unknown if common.unknown_ok => 0,
        Verdict::Unknown => 1,
    })
}

/// AWS's response shape (`result`, `message`, `reasons`) plus `witnesses`, `mode` and `unknown`.
pub fn answer_json(a: &Answer) -> serde_json::Value {
    serde_json::json!({
        "result": a.verdict.as_str(),
        "message": a.message,
        "reasons": a.reasons,
        "witnesses": a.witnesses.iter().map(iam_reason::Witness::to_request).collect::<Vec<_>>(),
        "mode": a.mode,
        "unknown": a.unknown,
    })
}

fn print(
    name: &str,
    a: &Answer,
    doc: &iam_policy::PolicyDocument,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let w = |e: std::io::Error| format!("cannot write: {e}");
    if format == Format::Json {
        return print_json(&answer_json(a), out);
    }
    writeln!(
        out,
        "{}  {name}  (mode: {}; {} solver {} in {} ms, {} ms in all)",
        a.verdict.as_str(),
        a.mode,
        a.queries,
        if a.queries == 1 { "query" } else { "queries" },
        a.solver_time.as_millis(),
        a.total_time.as_millis()
    )
    .map_err(w)?;
    writeln!(out, "{}", diag::printable(&a.message)).map_err(w)?;
    statements(a, doc, out)
}

/// Each responsible statement with its position and witness, then the reasons for UNKNOWN.
fn statements(
    a: &Answer,
    doc: &iam_policy::PolicyDocument,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let w = |e: std::io::Error| format!("cannot write: {e}");
    for (r, wit) in a.reasons.iter().zip(a.witnesses.iter()) {
        let at = doc
            .statements
            .get(r.statement_index)
            .map(|s| {
                let (f, l, c) = doc.source.located(s.span.start);
                format!("{f}:{l}:{c}")
            })
            .unwrap_or_default();
        let sid = r
            .statement_id
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  statement {}{} at {}: {}",
            r.statement_index,
            diag::printable(&sid),
            diag::printable(&at),
            diag::printable(&r.description)
        )
        .map_err(w)?;
        let req = serde_json::to_string(&wit.to_request())?;
        writeln!(out, "    witness: {}", diag::printable(&req)).map_err(w)?;
    }
    for u in &a.unknown {
        writeln!(out, "  unknown: {}", diag::printable(u)).map_err(w)?;
    }
    Ok(())
}

/// Runs `solver`.
pub fn run_solver(c: &SolverCommand, out: &mut dyn Write) -> Result<u8, Failure> {
    let w = |e: std::io::Error| format!("cannot write: {e}");
    match c {
        SolverCommand::Path => {
            let s = Solver::find().map_err(|e| format!("{e} [{}]", e.code()))?;
            writeln!(out, "z3: {}", s.path().display()).map_err(w)?;
            match cedar_reason::Cvc5::find() {
                Ok(c) => writeln!(out, "cvc5: {}", c.path().display()).map_err(w)?,
                Err(e) => writeln!(out, "cvc5: {e}").map_err(w)?,
            }
            Ok(0)
        }
        SolverCommand::Install => {
            let bin = iam_reason::install().map_err(|e| format!("{e} [{}]", e.code()))?;
            writeln!(out, "z3: {}", bin.display()).map_err(w)?;
            let c = cedar_reason::Cvc5::install()
                .map_err(|e| format!("{e} [{}]", diag::Coded::code(&e)))?;
            writeln!(out, "cvc5: {}", c.path().display()).map_err(w)?;
            Ok(0)
        }
    }
}

/// Runs `diff`: what NEW allows that OLD does not, and what OLD allows that NEW no longer does, each
/// grouped by the statement responsible, with one witness each. Exit 0 when they allow exactly the same
/// requests, 2 when they differ, 1 when that cannot be decided.
pub fn run_diff(a: &DiffArgs, out: &mut dyn Write) -> Result<u8, Failure> {
    let (ty, k) = match a.kind {
        KindArg::Identity => (PolicyType::Identity, PolicyKind::Identity),
        KindArg::Resource => (PolicyType::Resource, PolicyKind::Resource),
    };
    let old = load(&a.old, ty)?;
    let new = load(&a.new, ty)?;
    let c = checker(&a.common)?;
    let coded = |e: iam_reason::ReasonError| format!("{e} [{}]", e.code());
    let relabel = |mut a: Answer, label: &str| {
        for r in &mut a.reasons {
            if let Some(rest) = r.description.strip_prefix("New access: ") {
                r.description = format!("{label}: {rest}");
            }
        }
        a
    };
    let gained = relabel(
        c.no_new_access(&old, &new, k).map_err(coded)?,
        "Now allowed",
    );
    let lost = relabel(
        c.no_new_access(&new, &old, k).map_err(coded)?,
        "No longer allowed",
    );
    let w = |e: std::io::Error| format!("cannot write: {e}");
    if a.common.format == Format::Json {
        let v = serde_json::json!({
            "now_allowed": answer_json(&gained),
            "no_longer_allowed": answer_json(&lost),
        });
        print_json(&v, out)?;
    } else {
        for (title, ans, doc) in [
            ("now allowed", &gained, &new),
            ("no longer allowed", &lost, &old),
        ] {
            let n = ans.witnesses.len();
            let head = match ans.verdict {
                Verdict::Unknown => format!("{title}: UNKNOWN"),
                _ if n == 0 => format!("{title}: nothing"),
                _ => format!("{title}: {n} statement{}", if n == 1 { "" } else { "s" }),
            };
            writeln!(out, "{head}").map_err(w)?;
            statements(ans, doc, out)?;
        }
    }
    let unknown = gained.verdict == Verdict::Unknown || lost.verdict == Verdict::Unknown;
    let differ = gained.verdict == Verdict::Fail || lost.verdict == Verdict::Fail;
    Ok(if differ {
        2
    } else if unknown && !a.common.unknown_ok {
        1
    } else {
        0
    })
}

fn print_json(v: &serde_json::Value, out: &mut dyn Write) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(v)?;
    writeln!(out, "{text}")
        .map_err(|e| format!("cannot write: {e}"))
        .map_err(Failure::from)
}

/// `check no-new-access --template NEW --existing-template OLD`: every policy of NEW against the policy of
/// the same resource and property in OLD (a policy OLD does not have is new access whatever it allows);
/// exit 2 if any grants new access, 1 if any cannot be decided, else 0.
fn run_templates(
    old: &Path,
    new: &Path,
    input: &super::template::TemplateInput,
    common: &CheckOptions,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let (old_t, old_found) = super::template::load(old, input)?;
    let (new_t, new_found) = super::template::load(new, input)?;
    let checker = checker(common)?;
    // Positions (witnesses' statements, what cannot be decided) are the template's own lines.
    let parse =
        |t: &iac::Template, p: &iac::Policy| -> Result<iam_policy::PolicyDocument, Failure> {
            let name = format!("{}: {}", t.name, p.name());
            iam_policy::parse(&iac::policy_source(t, p, &name)).map_err(|e| {
                Failure::from(e).at(&format!("{name}: the resolved policy does not parse"))
            })
        };
    let nothing = iam_policy::parse(&iam_policy::Source::new(
        "(no policy)",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
    ))?;
    let w = |e: std::io::Error| format!("cannot write: {e}");
    let (mut fail, mut unknown, mut rows) = (0usize, 0usize, Vec::new());
    for p in &new_found.policies {
        let new_doc = parse(&new_t, p)?;
        let old_doc = match old_found.policies.iter().find(|o| o.name() == p.name()) {
            Some(o) => parse(&old_t, o)?,
            None => nothing.clone(),
        };
        let kind = match p.policy_type {
            PolicyType::Resource | PolicyType::Trust | PolicyType::Rcp => PolicyKind::Resource,
            _ => PolicyKind::Identity,
        };
        let a = checker
            .no_new_access(&old_doc, &new_doc, kind)
            .map_err(|e| format!("{}: {e} [{}]", p.name(), e.code()))?;
        fail += usize::from(a.verdict == Verdict::Fail);
        unknown += usize::from(a.verdict == Verdict::Unknown);
        rows.push((p.name(), a, new_doc));
    }
    if common.format == Format::Json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(name, a, _)| {
                let mut j = answer_json(a);
                if let Some(o) = j.as_object_mut() {
                    o.insert("policy".into(), name.clone().into());
                }
                j
            })
            .collect();
        print_json(&serde_json::Value::Array(v), out)?;
    } else {
        for (name, a, doc) in &rows {
            writeln!(out, "{}  {}", a.verdict.as_str(), diag::printable(name)).map_err(w)?;
            statements(a, doc, out)?;
        }
        writeln!(
            out,
            "{} policies: {} with new access, {} undecided (mode: {})",
            rows.len(),
            fail,
            unknown,
            if common.precise { "precise" } else { "aws" }
        )
        .map_err(w)?;
    }
    Ok(if fail > 0 {
        2
    } else if unknown > 0 && !common.unknown_ok {
        1
    } else {
        0
    })
}
