//! Expanding file arguments: files, directories (recursively, `*.json`) and glob patterns.

use std::path::{Path, PathBuf};

/// Expands paths, directories and globs into a sorted list of files. Directories contribute their
/// `*.json` files except test suites (`*.suite.json`), identity-pool configurations (`*.pool.json`)
/// and request files (`*.request(s).json`).
pub fn expand_paths(args: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for a in args {
        let p = Path::new(a);
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("cannot read directory `{a}`: {e}"))?;
        } else if p.exists() {
            out.push(p.to_path_buf());
        } else if a.contains(['*', '?', '[']) {
            let matches = glob::glob(a).map_err(|e| format!("bad glob pattern `{a}`: {e}"))?;
            let mut n = 0;
            for m in matches {
                let m = m.map_err(|e| format!("cannot read `{a}`: {e}"))?;
                if m.is_dir() {
                    walk(&m, &mut out)
                        .map_err(|e| format!("cannot read directory `{}`: {e}", m.display()))?;
                } else {
                    out.push(m);
                }
                n += 1;
            }
            if n == 0 {
                return Err(format!("no files match `{a}`"));
            }
        } else {
            return Err(format!("`{a}` does not exist"));
        }
    }
    Ok(out)
}

/// Whether a file in a directory walk is a policy (not a suite, request or config file).
pub fn is_policy_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".json")
        && !name.ends_with(".suite.json")
        && !name.ends_with(".pool.json")
        && !name.ends_with(".requests.json")
        && !name.ends_with(".request.json")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if is_policy_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}
