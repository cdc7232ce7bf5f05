//! The suite format: one file, many cases; IAM cases here, identity-pool and Cedar cases in their modules.

pub mod apigw;
pub mod cedar;
pub mod cedar_tests;
mod expect;
mod fields;
pub mod iam;
pub mod pool;
mod schema;
mod template;
use std::path::{Path, PathBuf};

use crate::Failure;
use iam_eval::Authorizer;

pub(crate) use expect::*;
pub(crate) use fields::*;
pub(crate) use schema::*;

impl CaseResult {
    fn new(
        suite: &std::sync::Arc<str>,
        name: &str,
        expect: String,
        actual: String,
        pass: bool,
        detail: String,
    ) -> Self {
        Self {
            suite: std::sync::Arc::clone(suite),
            name: name.to_string(),
            expect,
            actual,
            pass,
            detail,
        }
    }
}

/// One case being run: its suite, the suite's folder and its names for messages.
pub(crate) struct Case<'a> {
    /// The suite's own fields.
    pub suite: &'a SuiteDef,
    /// The suite's folder: paths in the suite are relative to it.
    pub base: &'a Path,
    /// The suite file's name.
    pub name: &'a std::sync::Arc<str>,
    /// The case's name.
    pub case_name: &'a str,
    /// `suite: case `name``, for error messages.
    pub what: &'a str,
    /// What the suite's cases share, prepared at first use.
    pub prepared: &'a std::cell::RefCell<Prepared>,
    /// Where the suite's and the case's values were read.
    pub nodes: fields::Nodes<'a>,
}

/// A suite's engines, prepared once and shared by its cases: its identity pool and its Cedar stores (by
/// the `cedar_store` value naming each). A failure is kept too (without the case's name), so every case
/// reports it.
#[derive(Default)]
pub(crate) struct Prepared {
    /// The suite's `identity_pool`.
    pub pool: Option<Result<std::rc::Rc<identity_pool::IdentityPool>, Failure>>,
    /// The suite's ID-token verifier (`token_verifier`), its keys read once.
    pub verifier: Option<Result<std::rc::Rc<cognito::Verifier>, crate::Failure>>,
    /// Stores and the directory their relative paths start from, by their `cedar_store` value.
    pub stores: std::collections::HashMap<
        String,
        Result<std::rc::Rc<(cedar_bridge::PolicyStore, PathBuf)>, Failure>,
    >,
}

/// The result of one suite case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Suite file (one string shared by the suite's cases).
    pub suite: std::sync::Arc<str>,
    /// Case name.
    pub name: String,
    /// Expected decision (or `Error`).
    pub expect: String,
    /// Actual decision (or `Error`).
    pub actual: String,
    /// Whether it passed.
    pub pass: bool,
    /// Explanation of a failure.
    pub detail: String,
}

/// Runs one suite file.
pub fn run_suite(path: &Path) -> Result<Vec<CaseResult>, Failure> {
    let text = String::from_utf8(crate::read_file(path)?)
        .map_err(|_| format!("{}: not UTF-8", path.display()))?;
    let name: std::sync::Arc<str> = path.display().to_string().into();
    // One read: the tree keeps positions (inline policies are built from it and located on the suite's
    // lines) and is decoded into the suite's types, every mistake located.
    let tree = crate::input::json_tree(&name, &text)?;
    if matches!(tree.kind, diag::json::Kind::Array(_)) {
        return Err(Failure::from(format!(
            "{name}: a JSON array is the cedar CLI's `run-tests` format: give its policies with `--policies FILE` (and `--schema FILE`)"
        )));
    }
    let source = diag::Source::new(&*name, text);
    let shape =
        |span: diag::Span, m: String| crate::input::shape_error(&name, source.text(), span, m);
    let suite: SuiteDef = diag::de::from_value(&tree).map_err(|e| {
        shape(
            e.span.unwrap_or(tree.span),
            format!("a suite: {}", e.message),
        )
    })?;
    let case_nodes = match fields::member(Some(&tree), "cases").map(|n| &n.kind) {
        Some(diag::json::Kind::Array(items)) => items.as_slice(),
        _ => &[],
    };
    if case_nodes.is_empty() {
        return Err(Failure::from(format!(
            "{name}: the suite has no cases (an empty suite would pass without testing anything)"
        )));
    }
    // Every case is decoded before any runs: a misspelt field in the last case stops the suite before
    // it starts a function or a solver.
    let defs: Vec<CaseDef> = case_nodes
        .iter()
        .map(|n| CaseDef::decode(n).map_err(|(span, m)| shape(span, m)))
        .collect::<Result<_, _>>()?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::with_capacity(defs.len());
    let mut shared: Option<Result<Authorizer, Failure>> = None;
    let mut gateway: Option<apigw::Gateway> = None;
    let prepared = std::cell::RefCell::new(Prepared::default());
    for (def, node) in defs.iter().zip(case_nodes) {
        let nodes = fields::Nodes {
            source: &source,
            suite: &tree,
            case: Some(node),
        };
        let case_name = def.name().unwrap_or("(unnamed)");
        let what = format!("{name}: case `{case_name}`");
        let case = Case {
            suite: &suite,
            base,
            name: &name,
            case_name,
            what: &what,
            prepared: &prepared,
            nodes,
        };
        let expects = |expect: &Option<String>, error: &Option<String>| {
            if expect.is_some() == error.is_some() {
                return Err(Failure::from(format!(
                    "{what}: give exactly one of `expect` and `expect_error`"
                )));
            }
            Ok(())
        };
        out.push(match def {
            CaseDef::Apigw(c) => {
                let gw = match &mut gateway {
                    Some(g) => g,
                    None => gateway.insert(apigw::gateway(&suite, base).map_err(|e| e.at(&name))?),
                };
                apigw::apigw_case(&case, c, gw)?
            }
            CaseDef::Cedar(c) => {
                expects(&c.expect, &c.expect_error)?;
                cedar::cedar_case(&case, c)?
            }
            CaseDef::Pool(c) => {
                expects(&c.expect, &c.expect_error)?;
                pool::pool_case(&case, c)?
            }
            CaseDef::Iam(c) => {
                expects(&c.expect, &c.expect_error)?;
                iam::iam_case(&case, c, &mut shared)?
            }
        });
    }
    Ok(out)
}

/// Finds suite files: given files, `*.suite.json` under directories, glob matches.
pub fn find_suites(args: &[String]) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for a in args {
        let p = Path::new(a);
        if a == "-" {
            // A suite on standard input; its relative paths are relative to the working directory.
            out.push(p.to_path_buf());
        } else if p.is_dir() {
            crate::files::walk_matching(
                p,
                &|f| f.to_str().is_some_and(|n| n.ends_with(".suite.json")),
                &mut out,
            )
            .map_err(|e| format!("cannot read directory `{a}`: {e}"))?;
        } else if p.exists() {
            out.push(p.to_path_buf());
        } else {
            let mut n = 0;
            for m in glob::glob(a).map_err(|e| format!("bad glob pattern `{a}`: {e}"))? {
                out.push(m.map_err(|e| Failure::from(e.to_string()))?);
                n += 1;
            }
            if n == 0 {
                return Err(Failure::from(format!("`{a}` does not exist")));
            }
        }
    }
    if out.is_empty() {
        return Err("no test suites found (suites are *.suite.json)".into());
    }
    Ok(out)
}

/// Runs suites and returns their results (for tests and embedding).
pub fn run_suites(args: &[String]) -> Result<Vec<CaseResult>, Failure> {
    run_all(&find_suites(args)?)
}

/// Runs suites on every core, in chunks, and returns their results in the order of `suites`. The first
/// error (in that order) wins, as it would running them one by one.
pub fn run_all(suites: &[PathBuf]) -> Result<Vec<CaseResult>, Failure> {
    run_all_with(suites, None)
}

/// [`run_all`], advancing `progress` once per suite.
pub(crate) fn run_all_with(
    suites: &[PathBuf],
    progress: Option<&indicatif::ProgressBar>,
) -> Result<Vec<CaseResult>, Failure> {
    run_files(suites, progress, &|s| run_suite(s))
}

/// Runs `run` on every file, on every core (see [`run_all`]): suite files, or Cedar `run-tests` files.
pub(crate) fn run_files(
    suites: &[PathBuf],
    progress: Option<&indicatif::ProgressBar>,
    run: &(dyn Fn(&Path) -> Result<Vec<CaseResult>, Failure> + Sync),
) -> Result<Vec<CaseResult>, Failure> {
    let tick = || {
        if let Some(p) = progress {
            p.inc(1);
        }
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(suites.len().max(1));
    if workers <= 1 || suites.len() < 8 {
        let mut v = Vec::new();
        for s in suites {
            v.extend(run(s)?);
            tick();
        }
        return Ok(v);
    }
    // Suites are handed out in small batches as workers become free (fixed halves left one core idle while
    // the other finished a slower half). Each suite's results and warnings are kept under its index and
    // put back in order, so the output does not depend on scheduling; after an error, batches past it
    // are not started, and the first error in order is still the one reported.
    const BATCH: usize = 16;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let stop_at = std::sync::atomic::AtomicUsize::new(usize::MAX);
    type Done = (usize, Result<Vec<CaseResult>, Failure>, Vec<String>);
    let parts: Vec<Result<Vec<Done>, Failure>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    use std::sync::atomic::Ordering::Relaxed;
                    let mut done: Vec<Done> = Vec::new();
                    loop {
                        let start = next.fetch_add(BATCH, Relaxed);
                        if start >= suites.len() || start > stop_at.load(Relaxed) {
                            break;
                        }
                        for i in start..(start + BATCH).min(suites.len()) {
                            let Some(s) = suites.get(i) else { break };
                            let r = run(s);
                            if r.is_err() {
                                stop_at.fetch_min(i, Relaxed);
                            }
                            done.push((i, r, crate::policies::take_accepted()));
                            tick();
                        }
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| Failure::from("a suite worker panicked"))
            })
            .collect()
    });
    let mut all: Vec<Done> = Vec::with_capacity(suites.len());
    for p in parts {
        all.extend(p?);
    }
    all.sort_unstable_by_key(|d| d.0);
    let mut v = Vec::with_capacity(all.iter().map(|d| d.1.as_ref().map_or(0, Vec::len)).sum());
    for (_, results, accepted) in all {
        v.extend(results?);
        // The workers' warnings on accepted policies, handed to this thread's list for the command.
        crate::policies::keep_accepted(accepted);
    }
    Ok(v)
}
