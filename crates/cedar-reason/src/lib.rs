//! Semantic checks of Cedar policy sets, offline: **equivalent** (the two sets decide every request
//! alike), **implies** ("the new set allows no more than the old one"), **always denies**, **never
//! errors** — each over every request environment of the schema, proven by `cedar-policy-symcc` (Cedar's
//! Lean-verified symbolic compiler) with the cvc5 solver it documents, or refuted with a counterexample:
//! a request and entities, replayed through Cedar's own `Authorizer` before it is shown, and rendered as
//! a Verified Permissions `IsAuthorized` request.
//!
//! ```no_run
//! use std::str::FromStr;
//! use cedar_policy::{PolicySet, Schema};
//! use cedar_reason::{Cvc5, Property, check};
//!
//! let (schema, _) = Schema::from_cedarschema_str(r#"
//!     entity User; entity Photo { owner: User };
//!     action view appliesTo { principal: [User], resource: [Photo] };
//! "#).unwrap();
//! let old = PolicySet::from_str(r#"permit(principal, action, resource) when { resource.owner == principal };"#).unwrap();
//! let new = PolicySet::from_str(r#"permit(principal, action, resource);"#).unwrap();
//! let answer = check(Property::Implies, &schema, &new, Some(&old), &Cvc5::find().unwrap()).unwrap();
//! assert!(!answer.holds);
//! println!("{}", answer.counterexamples[0].avp_request);
//! ```
//!
//! The solver: cvc5 1.3.1 (the version `cedar-policy-symcc` documents). PyPI's `cvc5` wheel carries the
//! library, not the executable; [`Cvc5::install`] puts it in a virtual environment with a thin SMT-LIB
//! front end of our own (`cvc5_shim.py`: cvc5's own `InputParser` runs each command). `CVC5` (the
//! variable `cedar-policy-symcc` reads) or `POLICY_CHECK_CVC5` name another executable.

#![deny(missing_docs)]

use std::path::{Path, PathBuf};

use cedar_policy::{Authorizer, Decision, Entities, PolicySet, Request, Schema};
use cedar_policy_symcc::solver::LocalSolver;
use cedar_policy_symcc::{CedarSymCompiler, CompiledPolicy, CompiledPolicySet};
use diag::codes;

/// The cvc5 release `cedar-policy-symcc` documents.
pub const CVC5_PACKAGE: &str = "cvc5==1.3.1";

/// The front end installed as the `cvc5` executable.
const SHIM: &str = include_str!("cvc5_shim.py");

/// Errors.
#[derive(Debug, thiserror::Error)]
pub enum CedarReasonError {
    /// `reason::solver`: no cvc5, or it failed.
    #[error("{0}")]
    Solver(String),
    /// `reason::input`: the policies or schema cannot be reasoned about (not valid for the schema).
    #[error("{0}")]
    Input(String),
}

impl diag::Coded for CedarReasonError {
    fn code(&self) -> &'static str {
        match self {
            CedarReasonError::Solver(_) => codes::REASON_SOLVER,
            CedarReasonError::Input(_) => codes::REASON_INPUT,
        }
    }
}

/// The cvc5 executable.
#[derive(Clone, Debug)]
pub struct Cvc5 {
    path: PathBuf,
}

/// Where [`Cvc5::install`] installs (`$POLICY_CHECK_HOME/cvc5`, else `~/.cache/policy-check/cvc5`).
pub fn install_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("POLICY_CHECK_HOME") {
        return Some(PathBuf::from(h).join("cvc5"));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("policy-check").join("cvc5"))
}

impl Cvc5 {
    /// The executable at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Cvc5 {
        Cvc5 { path: path.into() }
    }

    /// The executable in use.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `POLICY_CHECK_CVC5`, `CVC5`, `cvc5` on `PATH`, then the installed one.
    pub fn find() -> Result<Cvc5, CedarReasonError> {
        for var in ["POLICY_CHECK_CVC5", "CVC5"] {
            if let Some(p) = std::env::var_os(var) {
                let p = PathBuf::from(p);
                return if p.is_file() {
                    Ok(Cvc5::at(p))
                } else {
                    Err(CedarReasonError::Solver(format!(
                        "{var} names {}, which is not a file",
                        p.display()
                    )))
                };
            }
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let c = dir.join("cvc5");
                if c.is_file() {
                    return Ok(Cvc5::at(c));
                }
            }
        }
        if let Some(c) = install_dir()
            .map(|d| d.join("bin").join("cvc5"))
            .filter(|c| c.is_file())
        {
            return Ok(Cvc5::at(c));
        }
        Err(CedarReasonError::Solver(
            "no cvc5 found: run `policy-check solver install --cvc5` (PyPI's cvc5 1.3.1 into ~/.cache/policy-check/cvc5), or set CVC5".into(),
        ))
    }

    /// Installs cvc5 1.3.1 from PyPI with its SMT-LIB front end into `dir` (a virtual environment, made
    /// and locked by `iam_reason::pip_install`), unless it is there; returns the executable.
    pub fn install_into(dir: &Path) -> Result<Cvc5, CedarReasonError> {
        // The front end's version is part of what is installed: a changed shim reinstalls it.
        let package = CVC5_PACKAGE;
        let tagged = format!("{package} (front end {})", SHIM.len());
        let stamp = dir.join("policy-check-shim.txt");
        let bin = dir.join("bin").join("cvc5");
        let write_shim = |dir: &Path| -> std::io::Result<()> {
            std::fs::write(dir.join("cvc5_shim.py"), SHIM)?;
            let launcher = format!(
                "#!/bin/sh\nexec \"{}\" \"{}\" \"$@\"\n",
                dir.join("bin").join("python").display(),
                dir.join("cvc5_shim.py").display()
            );
            std::fs::write(dir.join("bin").join("cvc5"), launcher)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(
                    dir.join("bin").join("cvc5"),
                    std::fs::Permissions::from_mode(0o755),
                )?;
            }
            std::fs::write(dir.join("policy-check-shim.txt"), &tagged)
        };
        iam_reason::pip_install(dir, package, &write_shim)
            .map_err(|e| CedarReasonError::Solver(e.to_string()))?;
        if !(bin.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == tagged)) {
            write_shim(dir).map_err(|e| {
                CedarReasonError::Solver(format!("cannot write the cvc5 front end: {e}"))
            })?;
        }
        Ok(Cvc5::at(bin))
    }

    /// [`Cvc5::install_into`] the default [`install_dir`].
    pub fn install() -> Result<Cvc5, CedarReasonError> {
        let dir = install_dir().ok_or_else(|| {
            CedarReasonError::Solver(
                "no home directory: set POLICY_CHECK_HOME to install cvc5".into(),
            )
        })?;
        Cvc5::install_into(&dir)
    }

    fn solver(&self) -> Result<LocalSolver, CedarReasonError> {
        LocalSolver::from_command(tokio::process::Command::new(&self.path).args([
            "--lang",
            "smt",
            "--tlimit=60000",
        ]))
        .map_err(|e| CedarReasonError::Solver(format!("cannot start {}: {e}", self.path.display())))
    }
}

/// What to prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Property {
    /// The two sets decide every request alike.
    Equivalent,
    /// Every request the first set allows, the second allows too ("the new set allows no more").
    Implies,
    /// The set allows no request.
    AlwaysDenies,
    /// No policy of the set errors on any request.
    NeverErrors,
}

/// A request that refutes the property.
#[derive(Clone, Debug)]
pub struct Counterexample {
    /// The request environment (principal type, action, resource type).
    pub environment: String,
    /// The request.
    pub request: Request,
    /// The entities.
    pub entities: Entities,
    /// The policy it concerns (never-errors).
    pub policy: Option<String>,
    /// What Cedar's `Authorizer` answers for it, per set.
    pub decisions: Vec<&'static str>,
    /// The same as a Verified Permissions `IsAuthorized` request (`cedarJson` context and entities).
    pub avp_request: serde_json::Value,
}

/// An answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// Proven for every request environment.
    pub holds: bool,
    /// Request environments checked.
    pub environments: usize,
    /// One per environment that refutes it.
    pub counterexamples: Vec<Counterexample>,
}

fn decision(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "ALLOW",
        Decision::Deny => "DENY",
    }
}

fn avp(req: &Request, entities: &Entities) -> serde_json::Value {
    let uid = |u: Option<&cedar_policy::EntityUid>, t: &str, i: &str| {
        u.map(|u| serde_json::json!({t: u.type_name().to_string(), i: u.id().unescaped()}))
            .unwrap_or(serde_json::Value::Null)
    };
    let context = req
        .context()
        .and_then(|c| c.to_json_value().ok())
        .unwrap_or_else(|| serde_json::json!({}));
    let ents = entities
        .to_json_value()
        .unwrap_or_else(|_| serde_json::json!([]));
    serde_json::json!({
        "principal": uid(req.principal(), "entityType", "entityId"),
        "action": uid(req.action(), "actionType", "actionId"),
        "resource": uid(req.resource(), "entityType", "entityId"),
        "context": {"cedarJson": context.to_string()},
        "entities": {"cedarJson": ents.to_string()},
    })
}

/// Proves `property` of `a` (and `b`: the second set of `Equivalent` and `Implies`) for every request
/// environment of `schema`.
pub fn check(
    property: Property,
    schema: &Schema,
    a: &PolicySet,
    b: Option<&PolicySet>,
    cvc5: &Cvc5,
) -> Result<Answer, CedarReasonError> {
    let needs_b = matches!(property, Property::Equivalent | Property::Implies);
    if needs_b != b.is_some() {
        return Err(CedarReasonError::Input(if needs_b {
            "this property compares two policy sets".into()
        } else {
            "this property takes one policy set".into()
        }));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| CedarReasonError::Solver(format!("cannot start the runtime: {e}")))?;
    rt.block_on(check_async(property, schema, a, b, cvc5))
}

async fn check_async(
    property: Property,
    schema: &Schema,
    a: &PolicySet,
    b: Option<&PolicySet>,
    cvc5: &Cvc5,
) -> Result<Answer, CedarReasonError> {
    let solver_err = |e: cedar_policy_symcc::err::Error| CedarReasonError::Solver(e.to_string());
    let mut compiler = CedarSymCompiler::new(cvc5.solver()?).map_err(solver_err)?;
    let authorizer = Authorizer::new();
    let mut answer = Answer {
        holds: true,
        environments: 0,
        counterexamples: Vec::new(),
    };
    for env in schema.request_envs() {
        answer.environments += 1;
        let name = format!("{}, {}, {}", env.principal(), env.action(), env.resource());
        let typed = |p: &PolicySet| {
            CompiledPolicySet::compile(p, &env, schema)
                .map_err(|e| CedarReasonError::Input(format!("{name}: {e}")))
        };
        let ta = typed(a)?;
        let mut found: Vec<(Option<String>, cedar_policy_symcc::Env)> = Vec::new();
        match (property, b) {
            (Property::Equivalent, Some(b)) => {
                let tb = typed(b)?;
                if let Some(cex) = compiler
                    .check_equivalent_with_counterexample_opt(&ta, &tb)
                    .await
                    .map_err(solver_err)?
                {
                    found.push((None, cex));
                }
            }
            (Property::Implies, Some(b)) => {
                let tb = typed(b)?;
                if let Some(cex) = compiler
                    .check_implies_with_counterexample_opt(&ta, &tb)
                    .await
                    .map_err(solver_err)?
                {
                    found.push((None, cex));
                }
            }
            (Property::AlwaysDenies, _) => {
                if let Some(cex) = compiler
                    .check_always_denies_with_counterexample_opt(&ta)
                    .await
                    .map_err(solver_err)?
                {
                    found.push((None, cex));
                }
            }
            (Property::NeverErrors, _) => {
                for p in a.policies() {
                    let wt = CompiledPolicy::compile(p, &env, schema).map_err(|e| {
                        CedarReasonError::Input(format!("{name}: policy {}: {e}", p.id()))
                    })?;
                    if let Some(cex) = compiler
                        .check_never_errors_with_counterexample_opt(&wt)
                        .await
                        .map_err(solver_err)?
                    {
                        found.push((Some(p.id().to_string()), cex));
                    }
                }
            }
            _ => {
                return Err(CedarReasonError::Input(
                    "this property compares two policy sets".into(),
                ));
            }
        }
        for (policy, cex) in found {
            // Replayed through Cedar's own authorizer: the counterexample must show the claimed difference.
            let ra = authorizer.is_authorized(&cex.request, a, &cex.entities);
            let mut decisions = vec![decision(ra.decision())];
            let ok = match (property, b) {
                (Property::Equivalent, Some(b)) => {
                    let rb = authorizer.is_authorized(&cex.request, b, &cex.entities);
                    decisions.push(decision(rb.decision()));
                    ra.decision() != rb.decision()
                }
                (Property::Implies, Some(b)) => {
                    let rb = authorizer.is_authorized(&cex.request, b, &cex.entities);
                    decisions.push(decision(rb.decision()));
                    ra.decision() == Decision::Allow && rb.decision() == Decision::Deny
                }
                (Property::AlwaysDenies, _) => ra.decision() == Decision::Allow,
                _ => ra.diagnostics().errors().next().is_some(),
            };
            if !ok {
                return Err(CedarReasonError::Solver(format!(
                    "{name}: a counterexample did not replay in Cedar's authorizer ({decisions:?}): please report this"
                )));
            }
            answer.holds = false;
            answer.counterexamples.push(Counterexample {
                environment: name.clone(),
                avp_request: avp(&cex.request, &cex.entities),
                request: cex.request,
                entities: cex.entities,
                policy,
                decisions,
            });
        }
    }
    Ok(answer)
}
