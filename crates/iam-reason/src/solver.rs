//! The SMT solver: Z3's own binary, driven over a pipe in SMT-LIB 2 (one process per check, queries
//! pushed and popped). Found through `POLICY_CHECK_Z3`, then `z3` on `PATH`, then the environment
//! `policy-check solver install` makes (`$POLICY_CHECK_HOME`, else `~/.cache/policy-check`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use crate::ReasonError;
use crate::smt::{Sexp, parse};

/// Where the solver is and how long one query may take.
#[derive(Clone, Debug)]
pub struct Solver {
    path: PathBuf,
    timeout: Duration,
}

/// The directory `policy-check solver install` installs into.
pub fn install_dir() -> Option<PathBuf> {
    if let Some(h) = std::env::var_os("POLICY_CHECK_HOME") {
        return Some(PathBuf::from(h).join("z3"));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("policy-check").join("z3"))
}

/// Installs Z3 (PyPI's z3-solver, which carries the binary) into [`install_dir`] with `python3`'s venv
/// and pip, unless it is there already; returns the binary. Idempotent, and safe to call from several
/// threads of one process (one installs, the others wait).
pub fn install() -> Result<PathBuf, ReasonError> {
    let dir = install_dir().ok_or_else(|| {
        ReasonError::Solver("no home directory: set POLICY_CHECK_HOME to install the solver".into())
    })?;
    pip_install(&dir, Z3_PACKAGE, &|_| Ok(()))?;
    Ok(dir.join("bin").join("z3"))
}

/// Makes `dir` a Python virtual environment (`python3 -m venv`) with `package` installed by pip, then
/// runs `finish` on it — unless that was done already with the same `stamp`-worthy package (recorded in
/// `dir/policy-check-package.txt` once everything succeeded). Several threads and processes may call
/// this at once: one installs (creating `dir.lock` is atomic), the others wait for it; a lock older than
/// ten minutes is a crashed install and is taken over.
pub fn pip_install(
    dir: &Path,
    package: &str,
    finish: &dyn Fn(&Path) -> std::io::Result<()>,
) -> Result<(), ReasonError> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let stamp = dir.join("policy-check-package.txt");
    let ready = || std::fs::read_to_string(&stamp).is_ok_and(|s| s == package);
    if ready() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| ReasonError::Solver(format!("cannot create {}: {e}", parent.display())))?;
    }
    let lock = dir.with_extension("lock");
    let started = std::time::Instant::now();
    while std::fs::create_dir(&lock).is_err() {
        if ready() {
            return Ok(());
        }
        let stale = std::fs::metadata(&lock)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|e| e.as_secs() > 600));
        if stale {
            let _ = std::fs::remove_dir(&lock);
        }
        if started.elapsed().as_secs() > 900 {
            return Err(ReasonError::Solver(format!(
                "waited 15 minutes for another install ({})",
                lock.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let result = if ready() {
        Ok(())
    } else {
        install_locked(dir, package, finish, &stamp)
    };
    let _ = std::fs::remove_dir(&lock);
    result
}

fn install_locked(
    dir: &Path,
    package: &str,
    finish: &dyn Fn(&Path) -> std::io::Result<()>,
    stamp: &Path,
) -> Result<(), ReasonError> {
    let run = |cmd: &mut Command| -> Result<(), ReasonError> {
        let st = cmd
            .stdout(Stdio::null())
            .status()
            .map_err(|e| ReasonError::Solver(format!("cannot run {cmd:?}: {e}")))?;
        if st.success() {
            Ok(())
        } else {
            Err(ReasonError::Solver(format!("{cmd:?} failed ({st})")))
        }
    };
    if !dir.join("bin").join("pip").exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(dir))?;
    }
    run(Command::new(dir.join("bin").join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        package,
    ]))?;
    finish(dir).map_err(|e| {
        ReasonError::Solver(format!(
            "cannot finish the install in {}: {e}",
            dir.display()
        ))
    })?;
    std::fs::write(stamp, package).map_err(|e| ReasonError::Solver(e.to_string()))?;
    Ok(())
}

/// The Z3 release `policy-check solver install` installs (PyPI's `z3-solver` wheel carries the binary).
pub const Z3_PACKAGE: &str = "z3-solver==4.15.4.0";

impl Solver {
    /// The solver binary at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Solver {
        Solver {
            path: path.into(),
            timeout: Duration::from_secs(30),
        }
    }

    /// Finds Z3: `POLICY_CHECK_Z3`, `z3` on `PATH`, or the installed environment.
    pub fn find() -> Result<Solver, ReasonError> {
        if let Some(p) = std::env::var_os("POLICY_CHECK_Z3") {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(Solver::at(p))
            } else {
                Err(ReasonError::Solver(format!(
                    "POLICY_CHECK_Z3 names {}, which is not a file",
                    p.display()
                )))
            };
        }
        if let Some(paths) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&paths) {
                let c = dir.join("z3");
                if c.is_file() {
                    return Ok(Solver::at(c));
                }
            }
        }
        if let Some(d) = install_dir() {
            let c = d.join("bin").join("z3");
            if c.is_file() {
                return Ok(Solver::at(c));
            }
        }
        Err(ReasonError::Solver(
            "no Z3 found: run `policy-check solver install` (PyPI's z3-solver into ~/.cache/policy-check/z3), install Debian's z3, or set POLICY_CHECK_Z3".into(),
        ))
    }

    /// Limits each query to `t` (the answer is UNKNOWN past it).
    pub fn with_timeout(mut self, t: Duration) -> Solver {
        self.timeout = t;
        self
    }

    /// The binary.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn start(&self) -> Result<Session, ReasonError> {
        let mut child = Command::new(&self.path)
            .args(["-in", "-smt2"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                ReasonError::Solver(format!("cannot start {}: {e}", self.path.display()))
            })?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| ReasonError::Solver("no pipe to the solver".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ReasonError::Solver("no pipe from the solver".into()))?;
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut s = Session {
            child,
            stdin,
            lines: rx,
            timeout: self.timeout,
            spent: Duration::ZERO,
        };
        s.send(&s.preamble())?;
        Ok(s)
    }
}

/// What one `check-sat` said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sat {
    Yes,
    No,
    Unknown(String),
}

/// A running solver.
pub(crate) struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    timeout: Duration,
    /// Time spent waiting for the solver.
    pub(crate) spent: Duration,
}

impl Session {
    fn preamble(&self) -> String {
        let ms = self.timeout.as_millis();
        format!(
            "(set-option :print-success false)\n(set-option :produce-models true)\n(set-option :timeout {ms})\n(set-logic ALL)\n"
        )
    }

    /// Forgets every assertion and declaration: the next query starts fresh. Z3 decides string
    /// constraints far faster in a fresh (non-incremental) context than after `push`: 0.03 s against 4 s
    /// a query, measured on the 20-statement benchmark.
    pub(crate) fn reset(&mut self) -> Result<(), ReasonError> {
        let p = self.preamble();
        self.send(&format!("(reset)\n{p}"))
    }

    pub(crate) fn send(&mut self, text: &str) -> Result<(), ReasonError> {
        self.stdin
            .write_all(text.as_bytes())
            .and_then(|()| self.stdin.flush())
            .map_err(|e| ReasonError::Solver(format!("the solver stopped reading: {e}")))
    }

    fn line(&mut self) -> Result<String, ReasonError> {
        let started = Instant::now();
        // The solver's own timeout answers `unknown`; this is the backstop for a solver that hangs.
        let r = self
            .lines
            .recv_timeout(self.timeout + Duration::from_secs(5));
        self.spent += started.elapsed();
        match r {
            Ok(l) => Ok(l),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                Err(ReasonError::Timeout(self.timeout))
            }
            Err(RecvTimeoutError::Disconnected) => {
                Err(ReasonError::Solver("the solver exited".into()))
            }
        }
    }

    /// Reads one whole s-expression (possibly over several lines).
    fn sexp(&mut self) -> Result<Sexp, ReasonError> {
        let mut buf = String::new();
        loop {
            let l = self.line()?;
            buf.push_str(&l);
            buf.push('\n');
            if let Some((s, _)) = parse(&buf) {
                return Ok(s);
            }
            if buf.len() > 64 << 20 {
                return Err(ReasonError::Solver(
                    "the solver's answer is too long".into(),
                ));
            }
        }
    }

    /// `(check-sat)` on what is asserted.
    pub(crate) fn check(&mut self) -> Result<Sat, ReasonError> {
        self.send("(check-sat)\n")?;
        let l = self.line()?;
        match l.trim() {
            "sat" => Ok(Sat::Yes),
            "unsat" => Ok(Sat::No),
            "unknown" => {
                self.send("(get-info :reason-unknown)\n")?;
                let why = self.sexp()?;
                let text = match why {
                    Sexp::List(items) => items
                        .iter()
                        .filter_map(|i| match i {
                            Sexp::Str(s) | Sexp::Atom(s) if !s.starts_with(':') => Some(s.clone()),
                            _ => None,
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => format!("{other:?}"),
                };
                Ok(Sat::Unknown(text))
            }
            other => Err(ReasonError::Solver(format!("the solver said: {other}"))),
        }
    }

    /// The model's values of `names` (after a `sat`).
    pub(crate) fn values(&mut self, names: &[String]) -> Result<Vec<(String, Sexp)>, ReasonError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        self.send(&format!("(get-value ({}))\n", names.join(" ")))?;
        let Sexp::List(items) = self.sexp()? else {
            return Err(ReasonError::Solver("unexpected model".into()));
        };
        let mut out = Vec::with_capacity(items.len());
        for i in items {
            match i {
                Sexp::List(pair) => match pair.as_slice() {
                    [Sexp::Atom(n), v] => out.push((n.clone(), v.clone())),
                    _ => return Err(ReasonError::Solver("unexpected model entry".into())),
                },
                Sexp::Atom(a) if a == "error" => {
                    return Err(ReasonError::Solver("the solver refused get-value".into()));
                }
                _ => return Err(ReasonError::Solver("unexpected model entry".into())),
            }
        }
        Ok(out)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.stdin.write_all(b"(exit)\n");
        let _ = self.stdin.flush();
        let deadline = Instant::now() + Duration::from_millis(200);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
