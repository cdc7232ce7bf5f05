//! Expanding file arguments: files, directories (recursively, `*.json`) and glob patterns.

use crate::Failure;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Whether a directory walk should enter `dir`: each real directory once, whatever symbolic links lead
/// to it (two links to `..` would otherwise make the walk endless).
fn first_visit(dir: &Path, visited: &mut HashSet<PathBuf>) -> bool {
    match std::fs::canonicalize(dir) {
        Ok(real) => visited.insert(real),
        Err(_) => false,
    }
}

/// Expands paths, directories and globs into a sorted list of files. Directories contribute their
/// `*.json` files except test suites (`*.suite.json`), identity-pool configurations (`*.pool.json`),
/// API Gateway API definitions (`*.api.json`), request files (`*.request(s).json`), Terraform plans
/// (`*.tfplan.json`) and CloudFormation templates as `cdk synth` names them (`*.template.json`).
pub fn expand_paths(args: &[String]) -> Result<Vec<PathBuf>, Failure> {
    Ok(expand_with_stores(args)?.0)
}

/// Like [`expand_paths`], and also lists the Cedar policy stores met (directories holding `*.cedar`
/// files). In a store directory the store's own configuration (`schema.json`, `links.json`,
/// `identity-source.json`, `entities.json`) is not an IAM policy; any other `*.json` there still is.
pub fn expand_with_stores(args: &[String]) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Failure> {
    let mut stores = Vec::new();
    let mut out = Vec::new();
    let mut visited = HashSet::new();
    for a in args {
        let p = Path::new(a);
        if a == "-" {
            // Standard input, read when the file is.
            out.push(p.to_path_buf());
        } else if p.is_dir() {
            walk(p, &mut out, &mut stores, &mut visited)
                .map_err(|e| format!("cannot read directory `{a}`: {e}"))?;
        } else if p.exists() {
            out.push(p.to_path_buf());
        } else if a.contains(['*', '?', '[']) {
            let matches = glob::glob(a).map_err(|e| format!("bad glob pattern `{a}`: {e}"))?;
            let mut n = 0;
            for m in matches {
                let m = m.map_err(|e| format!("cannot read `{a}`: {e}"))?;
                if m.is_dir() {
                    walk(&m, &mut out, &mut stores, &mut visited)
                        .map_err(|e| format!("cannot read directory `{}`: {e}", m.display()))?;
                } else {
                    out.push(m);
                }
                n += 1;
            }
            if n == 0 {
                return Err(Failure::from(format!("no files match `{a}`")));
            }
        } else {
            return Err(Failure::from(format!("`{a}` does not exist")));
        }
    }
    Ok((out, stores))
}

/// Whether a file in a directory walk is a policy (not a suite, request or config file).
pub fn is_policy_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".json")
        && !name.ends_with(".suite.json")
        && !name.ends_with(".pool.json")
        && !name.ends_with(".api.json")
        && !name.ends_with(".requests.json")
        && !name.ends_with(".request.json")
        && !name.ends_with(".tfplan.json")
        && !name.ends_with(".template.json")
}

/// The JSON files a Cedar policy store directory reads as its configuration.
fn is_store_config(p: &Path) -> bool {
    matches!(
        p.file_name().and_then(|n| n.to_str()),
        Some(
            "schema.json"
                | "links.json"
                | "identity-source.json"
                | "entities.json"
                | "policy-store.json"
        )
    )
}

/// A directory entry: its path, and whether it is a directory (following symbolic links).
struct Entry {
    path: PathBuf,
    is_dir: bool,
}

/// The entries of a directory, sorted. Whether an entry is a directory comes from the directory listing
/// itself (no `stat` per file, which was one system call for each of thousands of suites); only symbolic
/// links and entries whose type the listing does not give are looked up.
fn sorted_entries(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = std::fs::read_dir(dir)?
        .filter_map(|e| {
            let e = e.ok()?;
            let path = e.path();
            let is_dir = match e.file_type() {
                Ok(t) if t.is_dir() => true,
                Ok(t) if t.is_file() => false,
                _ => path.is_dir(),
            };
            Some(Entry { path, is_dir })
        })
        .collect();
    // Every entry is `dir` joined with one file name (no separator in it), so comparing the whole
    // strings orders them as comparing paths component by component does, without splitting each path
    // into components at every comparison (which was most of a 12,600-suite walk).
    entries.sort_unstable_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
    Ok(entries)
}

/// Collects, recursively and sorted, the files below `dir` whose file name satisfies `keep`.
/// Each real directory is entered once, whatever symbolic links lead to it.
pub fn walk_matching(
    dir: &Path,
    keep: &dyn Fn(&std::ffi::OsStr) -> bool,
    out: &mut Vec<PathBuf>,
) -> std::io::Result<()> {
    walk_matching_once(dir, keep, out, &mut HashSet::new())
}

fn walk_matching_once(
    dir: &Path,
    keep: &dyn Fn(&std::ffi::OsStr) -> bool,
    out: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
) -> std::io::Result<()> {
    if !first_visit(dir, visited) {
        return Ok(());
    }
    for Entry { path: p, is_dir } in sorted_entries(dir)? {
        if is_dir {
            walk_matching_once(&p, keep, out, visited)?;
        } else if p.file_name().is_some_and(keep) {
            out.push(p);
        }
    }
    Ok(())
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    stores: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
) -> std::io::Result<()> {
    if !first_visit(dir, visited) {
        return Ok(());
    }
    let entries = sorted_entries(dir)?;
    let is_store = entries
        .iter()
        .any(|e| e.path.extension().and_then(|e| e.to_str()) == Some("cedar"));
    if is_store {
        stores.push(dir.to_path_buf());
    }
    for Entry { path: p, is_dir } in entries {
        if is_dir {
            walk(&p, out, stores, visited)?;
        } else if is_policy_file(&p) && !(is_store && is_store_config(&p)) {
            out.push(p);
        }
    }
    Ok(())
}
