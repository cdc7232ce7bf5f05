//! Virtual environments with packages from PyPI, made once under the target directory and shared by the
//! tests that drive AWS's Python tools and the Python package (`tests/python.rs` includes this file).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A virtual environment under the target directory with `packages` installed (Python's venv and pip,
/// from the package registry), created on first use; the path of its executable `exe`. A failure to
/// install fails the test: nothing is skipped.
pub fn venv(name: &str, packages: &[&str], exe: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let bin = venv.join("bin").join(exe);
    // The packages installed, recorded once the install finished: a changed pin reinstalls.
    let stamp = venv.join("policy-check-packages.txt");
    let want = packages.join("\n");
    let ready = || bin.exists() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == want);
    if ready() {
        return bin;
    }
    // Tests run in parallel processes: one installs while the others wait (creating a directory is
    // atomic; a lock older than ten minutes is a crashed install and is taken over).
    let lock = venv.with_extension("lock");
    let started = std::time::Instant::now();
    while std::fs::create_dir(&lock).is_err() {
        if ready() {
            return bin;
        }
        let stale = std::fs::metadata(&lock)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|e| e.as_secs() > 600));
        if stale {
            let _ = std::fs::remove_dir(&lock);
        }
        assert!(
            started.elapsed().as_secs() < 900,
            "waited 15 minutes for another test to install {packages:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    if !ready() {
        let _ = std::fs::remove_dir_all(&venv);
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 is needed to install the AWS tools")
            .success();
        assert!(ok, "python3 -m venv failed");
        let ok = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(packages)
            .status()
            .expect("pip")
            .success();
        assert!(ok, "pip install {packages:?} failed");
        std::fs::write(&stamp, &want).unwrap();
    }
    let _ = std::fs::remove_dir(&lock);
    bin
}
