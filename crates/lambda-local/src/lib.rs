//! A local AWS Lambda execution environment for one function: the user's code runs as a warm process
//! that talks to the [Lambda Runtime API] this crate serves on 127.0.0.1, exactly as it would in Lambda.
//!
//! - **Any runtime**: [`Code::Command`] runs any executable that speaks the Runtime API (a Rust
//!   `lambda_runtime` binary, a Node.js or Python program using AWS's runtime interface clients, a custom
//!   `bootstrap`); [`Code::Handler`] takes Lambda's `file.function` handler name and runs a plain Node.js
//!   (`exports.handler = async (event) => …`, ES modules too, callbacks too) or Python
//!   (`def handler(event, context)`) function through a small bootstrap of ours, written from the
//!   documented protocol (`src/bootstrap/`).
//! - **Lambda's environment**: `AWS_LAMBDA_RUNTIME_API`, `_HANDLER`, `AWS_LAMBDA_FUNCTION_NAME`,
//!   `…_MEMORY_SIZE`, `…_VERSION`, `AWS_LAMBDA_LOG_GROUP_NAME`/`…_STREAM_NAME`, `AWS_REGION`,
//!   `AWS_DEFAULT_REGION`, `AWS_EXECUTION_ENV`, `AWS_LAMBDA_INITIALIZATION_TYPE`, `LAMBDA_TASK_ROOT`,
//!   `TZ`, `LANG`, `PATH`, and the function's own variables; nothing else of the caller's environment. Each
//!   event comes with the request id, deadline, invoked function ARN and trace headers.
//! - **Lambda's limits**: an invocation that does not answer within the timeout (default 3 s, as
//!   Lambda's) fails with Lambda's `Task timed out after N seconds` and the process is stopped (Lambda
//!   resets the environment); a process that exits is a failed invocation (`Runtime.ExitError`) and is
//!   started again on the next one; initialisation has 10 s; request and response payloads are limited
//!   to 6 MB (6,291,456 bytes); a second answer to one request is refused, as the Runtime API refuses it.
//!   Memory is passed in the environment, not enforced.
//! - **Warm**: one process serves invocation after invocation, one at a time (concurrent callers queue,
//!   as a single execution environment would).
//!
//! [Lambda Runtime API]: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
//!
//! ```
//! use lambda_local::{Code, FunctionSpec, InvokeError, LocalFunction};
//!
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/authorizers/python");
//! let spec = FunctionSpec::new(Code::handler(&format!("{dir}/authorizers.token_echo"))?);
//! let function = LocalFunction::new(spec)?;
//! let event = br#"{"type": "TOKEN", "authorizationToken": "allow",
//!     "methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/prod/GET/pets"}"#;
//! let answer: serde_json::Value = serde_json::from_slice(&function.invoke(event)?)?;
//! assert_eq!(answer["principalId"], "user");
//! // An error the function raises comes back as Lambda reports it; the process stays warm.
//! let denied = function.invoke(br#"{"authorizationToken": "unauthorized"}"#);
//! assert!(matches!(denied, Err(InvokeError::Function { message, .. }) if message == "Unauthorized"));
//! assert_eq!(function.starts(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod server;

use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use diag::codes;

use server::{Job, Posted, Server, Waited};
use std::sync::mpsc::Receiver;

/// The largest request or response payload Lambda accepts for a synchronous invocation: 6 MB.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// Lambda's default timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// Lambda's largest timeout: 900 seconds.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(900);
/// How long a process may take to ask for its first event (Lambda's init phase limit).
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of the function's output (stdout and stderr) is kept for reports.
const LOG_TAIL_BYTES: usize = 8 * 1024;

/// A runtime our bootstrap can run a plain handler on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// Node.js (`file.js`, `file.mjs`, `file.cjs`).
    Node,
    /// Python 3 (`file.py`).
    Python,
}

impl Runtime {
    /// The interpreter to run: `POLICY_CHECK_NODE` / `POLICY_CHECK_PYTHON` when set, else `node` /
    /// `python3` from `PATH`.
    fn default_interpreter(self) -> PathBuf {
        let (var, name) = match self {
            Runtime::Node => ("POLICY_CHECK_NODE", "node"),
            Runtime::Python => ("POLICY_CHECK_PYTHON", "python3"),
        };
        std::env::var_os(var).map_or_else(|| PathBuf::from(name), PathBuf::from)
    }

    fn execution_env(self) -> &'static str {
        match self {
            Runtime::Node => "AWS_Lambda_nodejs20.x",
            Runtime::Python => "AWS_Lambda_python3.12",
        }
    }
}

/// The function's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    /// An executable that speaks the Runtime API itself, with its arguments.
    Command {
        /// The program (a path, or a name looked up in `PATH`).
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
    },
    /// A handler run by our bootstrap: `dir/module.function`.
    Handler {
        /// The function's directory (`LAMBDA_TASK_ROOT`).
        dir: PathBuf,
        /// The module (file name without extension).
        module: String,
        /// The function's name in the module.
        function: String,
        /// The file found for the module.
        file: PathBuf,
        /// The runtime its extension calls for.
        runtime: Runtime,
    },
}

impl Code {
    /// Lambda's handler naming, `DIR/file.function`: the file is `file.js`, `file.mjs`, `file.cjs` or
    /// `file.py` in `DIR`. Errors (`lambda::config`): no `.` in the last part, no such file.
    pub fn handler(spec: &str) -> Result<Code, LambdaError> {
        let p = Path::new(spec);
        let last = p.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
            LambdaError::config(format!("`{spec}`: a handler is DIR/file.function"))
        })?;
        let (module, function) = last
            .rsplit_once('.')
            .filter(|(m, f)| !m.is_empty() && !f.is_empty())
            .ok_or_else(|| {
                LambdaError::config(format!(
                    "`{spec}`: a handler is DIR/file.function (Lambda's naming, e.g. `auth.handler`)"
                ))
            })?;
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.is_dir() {
            return Err(LambdaError::config(format!(
                "`{spec}`: no directory `{}`",
                dir.display()
            )));
        }
        let found = [
            ("js", Runtime::Node),
            ("mjs", Runtime::Node),
            ("cjs", Runtime::Node),
            ("py", Runtime::Python),
        ]
        .iter()
        .map(|(ext, rt)| (dir.join(format!("{module}.{ext}")), *rt))
        .find(|(f, _)| f.is_file());
        let Some((file, runtime)) = found else {
            return Err(LambdaError::config(format!(
                "`{spec}`: no {module}.js, {module}.mjs, {module}.cjs or {module}.py in `{}`",
                dir.display()
            )));
        };
        Ok(Code::Handler {
            dir: dir.to_path_buf(),
            module: module.to_string(),
            function: function.to_string(),
            file,
            runtime,
        })
    }

    /// A command line split at whitespace (no quoting): the program and its arguments.
    pub fn command(line: &str) -> Result<Code, LambdaError> {
        let mut words = line.split_whitespace().map(str::to_string);
        let program = words
            .next()
            .ok_or_else(|| LambdaError::config("the function's command is empty"))?;
        Ok(Code::Command {
            program: PathBuf::from(program),
            args: words.collect(),
        })
    }
}

/// How to run the function.
#[derive(Clone, Debug)]
pub struct FunctionSpec {
    /// The code.
    pub code: Code,
    /// `AWS_LAMBDA_FUNCTION_NAME` (default `authorizer`).
    pub name: String,
    /// `AWS_REGION` (default `us-east-1`).
    pub region: String,
    /// The account in the invoked function ARN (default `123456789012`).
    pub account: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (default 128).
    pub memory_mb: u32,
    /// The invocation timeout (default 3 s; at most 900 s).
    pub timeout: Duration,
    /// The function's environment variables (on top of Lambda's).
    pub env: Vec<(String, String)>,
    /// The interpreter for a handler (default: see [`Runtime`]).
    pub interpreter: Option<PathBuf>,
    /// The directory a [`Code::Command`] runs in (`LAMBDA_TASK_ROOT`; default the current directory).
    pub task_root: Option<PathBuf>,
    /// Copy the function's output to this process's stderr as it comes (its logs are kept for reports
    /// either way).
    pub echo_logs: bool,
}

impl FunctionSpec {
    /// Lambda's defaults for `code`.
    pub fn new(code: Code) -> Self {
        Self {
            code,
            name: "authorizer".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            memory_mb: 128,
            timeout: DEFAULT_TIMEOUT,
            env: Vec::new(),
            interpreter: None,
            task_root: None,
            echo_logs: false,
        }
    }

    /// Sets the timeout.
    #[must_use]
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Adds an environment variable.
    #[must_use]
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    /// The invoked function ARN.
    pub fn function_arn(&self) -> String {
        let partition = if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        format!(
            "arn:{partition}:lambda:{}:{}:function:{}",
            self.region, self.account, self.name
        )
    }
}

/// A function configuration that cannot run (`lambda::config`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LambdaError(String);

impl LambdaError {
    fn config(m: impl Into<String>) -> Self {
        Self(m.into())
    }
}

impl diag::Coded for LambdaError {
    fn code(&self) -> &'static str {
        codes::LAMBDA_CONFIG
    }
}

impl miette::Diagnostic for LambdaError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(diag::Coded::code(self)))
    }
}

/// A failed invocation. Each carries what Lambda would report and, where the process misbehaved, the
/// tail of its output.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// The function answered with an error (`/error`): its `errorType` and `errorMessage`.
    #[error("{error_type}: {message}")]
    Function {
        /// `errorType` (`Error`, `Exception`, `Runtime.MarshalError`, …).
        error_type: String,
        /// `errorMessage`.
        message: String,
    },
    /// The function could not start (`/init/error`, or no request for an event within 10 s).
    #[error("the function failed to initialise: {error_type}: {message}")]
    Init {
        /// `errorType` (`Runtime.ImportModuleError`, `Runtime.HandlerNotFound`, …).
        error_type: String,
        /// `errorMessage`.
        message: String,
        /// The process's last output.
        logs: String,
    },
    /// No answer within the timeout (the process was stopped).
    #[error("Task timed out after {seconds:.2} seconds")]
    Timeout {
        /// The timeout.
        seconds: f64,
        /// The process's last output.
        logs: String,
    },
    /// The process exited before answering.
    #[error("Runtime exited with error: {status} (Runtime.ExitError)")]
    Exited {
        /// How it ended (`exit status: 1`, `signal: 9`).
        status: String,
        /// The process's last output.
        logs: String,
    },
    /// A payload over 6 MB.
    #[error(
        "the {which} payload is {bytes} bytes; Lambda accepts at most {MAX_PAYLOAD_BYTES} (6 MB)"
    )]
    TooLarge {
        /// `request` or `response`.
        which: &'static str,
        /// Its size (at least).
        bytes: usize,
    },
    /// The process could not be started.
    #[error("cannot start the function: {0}")]
    Spawn(String),
}

impl InvokeError {
    /// The process's last output, for the failures where it misbehaved.
    pub fn logs(&self) -> Option<&str> {
        match self {
            InvokeError::Init { logs, .. }
            | InvokeError::Timeout { logs, .. }
            | InvokeError::Exited { logs, .. } => Some(logs),
            _ => None,
        }
    }

    /// The error with its code, and the last lines of the function's output where there are any: what a
    /// report shows.
    pub fn report(&self) -> String {
        format!(
            "{self} [{}]{}",
            diag::Coded::code(self),
            tail(self.logs().unwrap_or(""))
        )
    }
}

fn tail(logs: &str) -> String {
    let logs = logs.trim_end();
    if logs.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = logs.lines().collect();
    let from = lines.len().saturating_sub(12);
    format!(
        "\n  the function's last output:\n    {}",
        lines.get(from..).unwrap_or_default().join("\n    ")
    )
}

impl diag::Coded for InvokeError {
    fn code(&self) -> &'static str {
        match self {
            InvokeError::Function { .. } => codes::LAMBDA_FUNCTION_ERROR,
            InvokeError::Init { .. } => codes::LAMBDA_INIT,
            InvokeError::Timeout { .. } => codes::LAMBDA_TIMEOUT,
            InvokeError::Exited { .. } => codes::LAMBDA_EXITED,
            InvokeError::TooLarge { .. } => codes::LAMBDA_PAYLOAD_TOO_LARGE,
            InvokeError::Spawn(_) => codes::LAMBDA_SPAWN,
        }
    }
}

impl miette::Diagnostic for InvokeError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(diag::Coded::code(self)))
    }
}

/// The kept tail of the function's output.
#[derive(Debug, Default)]
struct Logs(Mutex<VecDeque<u8>>);

impl Logs {
    fn push(&self, bytes: &[u8]) {
        let mut q = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        q.extend(bytes);
        let excess = q.len().saturating_sub(LOG_TAIL_BYTES);
        q.drain(..excess);
    }
    fn text(&self) -> String {
        let q = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let bytes: Vec<u8> = q.iter().copied().collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
    fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// The running process and the channel its answers come on.
struct Inner {
    child: Option<Child>,
    posted: Receiver<Posted>,
    /// Invocations so far (for request ids).
    count: u64,
    /// Processes started so far.
    starts: u64,
}

/// One function in a local execution environment. Cheap to share between threads (`invoke` takes
/// `&self`; invocations queue, one at a time). The process starts at the first invocation (a cold
/// start) or at [`LocalFunction::start`], and is stopped when this is dropped.
pub struct LocalFunction {
    spec: FunctionSpec,
    program: PathBuf,
    args: Vec<String>,
    server: Server,
    logs: Arc<Logs>,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for LocalFunction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFunction")
            .field("spec", &self.spec)
            .field("runtime_api", &self.server.addr())
            .finish_non_exhaustive()
    }
}

/// Finds `name` in `PATH` (a name with a `/` is a path).
fn which(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 {
        // Absolute: the process runs in the function's directory.
        return name
            .is_file()
            .then(|| std::path::absolute(name).unwrap_or_else(|_| name.to_path_buf()));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl LocalFunction {
    /// Checks the configuration and serves the Runtime API (the process starts at the first
    /// invocation). Errors (`lambda::config`): a timeout of 0 or above 900 s, a program or interpreter
    /// that cannot be found.
    pub fn new(spec: FunctionSpec) -> Result<Self, LambdaError> {
        if spec.timeout.is_zero() || spec.timeout > MAX_TIMEOUT {
            return Err(LambdaError::config(format!(
                "a timeout is between 1 and 900 seconds, not {:?}",
                spec.timeout
            )));
        }
        let (program, args) = match &spec.code {
            Code::Command { program, args } => {
                let found = which(program).ok_or_else(|| {
                    LambdaError::config(format!(
                        "the function's program `{}` was not found",
                        program.display()
                    ))
                })?;
                (found, args.clone())
            }
            Code::Handler { runtime, .. } => {
                let want = spec
                    .interpreter
                    .clone()
                    .unwrap_or_else(|| runtime.default_interpreter());
                let found = which(&want).ok_or_else(|| {
                    LambdaError::config(format!(
                        "the {} interpreter `{}` was not found (install it, or set {})",
                        match runtime {
                            Runtime::Node => "Node.js",
                            Runtime::Python => "Python",
                        },
                        want.display(),
                        match runtime {
                            Runtime::Node => "POLICY_CHECK_NODE",
                            Runtime::Python => "POLICY_CHECK_PYTHON",
                        }
                    ))
                })?;
                let (flag, source) = match runtime {
                    Runtime::Node => ("-e", include_str!("bootstrap/node.js")),
                    Runtime::Python => ("-c", include_str!("bootstrap/python.py")),
                };
                (found, vec![flag.to_string(), source.to_string()])
            }
        };
        let (server, posted) = Server::start()
            .map_err(|e| LambdaError::config(format!("cannot serve the Runtime API: {e}")))?;
        Ok(Self {
            spec,
            program,
            args,
            server,
            logs: Arc::new(Logs::default()),
            inner: Mutex::new(Inner {
                child: None,
                posted,
                count: 0,
                starts: 0,
            }),
        })
    }

    /// The configuration.
    pub fn spec(&self) -> &FunctionSpec {
        &self.spec
    }

    /// `host:port` of the Runtime API (`AWS_LAMBDA_RUNTIME_API`).
    pub fn runtime_api(&self) -> String {
        self.server.addr().to_string()
    }

    /// How many times a process was started (1 while it stays warm).
    pub fn starts(&self) -> u64 {
        self.lock().starts
    }

    /// The last 8 KiB of the function's output.
    pub fn logs(&self) -> String {
        self.logs.text()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the process now if it is not running (a warm-up).
    pub fn start(&self) -> Result<(), InvokeError> {
        let mut inner = self.lock();
        self.ensure_running(&mut inner)
    }

    fn environment(&self, cmd: &mut Command) {
        let s = &self.spec;
        let (handler, task_root, exec_env) = match &s.code {
            Code::Handler {
                dir,
                module,
                function,
                runtime,
                ..
            } => (
                format!("{module}.{function}"),
                std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone()),
                Some(runtime.execution_env()),
            ),
            Code::Command { program, .. } => (
                program
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                s.task_root
                    .clone()
                    .unwrap_or_else(|| std::env::current_dir().unwrap_or_default()),
                None,
            ),
        };
        let day = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 86_400);
        cmd.env_clear();
        if let Some(p) = std::env::var_os("PATH") {
            cmd.env("PATH", p);
        }
        cmd.env("AWS_LAMBDA_RUNTIME_API", self.runtime_api())
            .env("_HANDLER", handler)
            .env("AWS_LAMBDA_FUNCTION_NAME", &s.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", s.memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", s.name),
            )
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("local/{day}/[$LATEST]policy-check"),
            )
            .env("AWS_REGION", &s.region)
            .env("AWS_DEFAULT_REGION", &s.region)
            .env("LAMBDA_TASK_ROOT", &task_root)
            .env("LAMBDA_RUNTIME_DIR", &task_root)
            .env("TZ", ":UTC")
            .env("LANG", "en_US.UTF-8")
            .current_dir(&task_root);
        if let Some(e) = exec_env {
            cmd.env("AWS_EXECUTION_ENV", e);
        }
        // Lambda's code directory is read-only; a local run must not leave `__pycache__` in the
        // user's function directory either.
        if matches!(
            s.code,
            Code::Handler {
                runtime: Runtime::Python,
                ..
            }
        ) {
            cmd.env("PYTHONDONTWRITEBYTECODE", "1");
        }
        for (k, v) in &s.env {
            cmd.env(k, v);
        }
    }

    fn ensure_running(&self, inner: &mut Inner) -> Result<(), InvokeError> {
        if let Some(c) = inner.child.as_mut() {
            match c.try_wait() {
                Ok(None) => return Ok(()),
                _ => inner.child = None,
            }
        }
        // A fresh environment: nothing of the last process's requests survives.
        self.server.reset();
        while inner.posted.try_recv().is_ok() {}
        self.logs.clear();
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.environment(&mut cmd);
        let mut child = cmd
            .spawn()
            .map_err(|e| InvokeError::Spawn(format!("`{}`: {e}", self.program.display())))?;
        for out in [
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|o| Box::new(o) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let logs = self.logs.clone();
            let echo = self.spec.echo_logs;
            std::thread::spawn(move || pump(out, &logs, echo));
        }
        inner.child = Some(child);
        inner.starts += 1;
        Ok(())
    }

    fn stop(&self, inner: &mut Inner) {
        if let Some(mut c) = inner.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.server.reset();
    }

    /// Invokes the function with `payload` (the event's JSON) and returns what it answered (its
    /// response's bytes, JSON or not), or why it failed. Never waits longer than the init limit plus the
    /// timeout.
    pub fn invoke(&self, payload: &[u8]) -> Result<Vec<u8>, InvokeError> {
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(InvokeError::TooLarge {
                which: "request",
                bytes: payload.len(),
            });
        }
        let mut inner = self.lock();
        self.ensure_running(&mut inner)?;
        inner.count += 1;
        let id = request_id(inner.count, inner.starts);
        let job = Job {
            id: id.clone(),
            payload: payload.to_vec(),
            timeout: self.spec.timeout,
            function_arn: self.spec.function_arn(),
            trace: trace_id(inner.count),
        };
        self.server.submit(job);
        let started = Instant::now();
        let mut handed_out: Option<Instant> = None;
        loop {
            let limit = match handed_out {
                Some(t) => t + self.spec.timeout,
                None => started + INIT_TIMEOUT,
            };
            let now = Instant::now();
            if now >= limit {
                self.stop(&mut inner);
                let logs = self.logs.text();
                return Err(match handed_out {
                    Some(_) => InvokeError::Timeout {
                        seconds: self.spec.timeout.as_secs_f64(),
                        logs,
                    },
                    None => InvokeError::Init {
                        error_type: "Runtime.InitTimeout".into(),
                        message: format!(
                            "the function did not ask for an event within {} seconds",
                            INIT_TIMEOUT.as_secs()
                        ),
                        logs,
                    },
                });
            }
            let wait = (limit - now).min(Duration::from_millis(25));
            match self.server.next(&mut inner.posted, wait) {
                Ok(Posted::HandedOut { id: got }) if got == id => handed_out = Some(Instant::now()),
                Ok(Posted::Response { id: got, body }) if got == id => return Ok(body),
                Ok(Posted::Error { id: got, body }) if got == id => {
                    return Err(function_error(&body));
                }
                Ok(Posted::TooLarge { id: got, bytes }) if got == id => {
                    return Err(InvokeError::TooLarge {
                        which: "response",
                        bytes,
                    });
                }
                Ok(Posted::InitError { body }) => {
                    self.stop(&mut inner);
                    let (error_type, message) = match function_error(&body) {
                        InvokeError::Function {
                            error_type,
                            message,
                        } => (error_type, message),
                        other => ("Runtime.Unknown".into(), other.to_string()),
                    };
                    return Err(InvokeError::Init {
                        error_type,
                        message,
                        logs: self.logs.text(),
                    });
                }
                // An answer to an earlier request (one that timed out): not this invocation's.
                Ok(_) => {}
                Err(Waited::Timeout) => {
                    let exited = inner
                        .child
                        .as_mut()
                        .map_or(Ok(None), Child::try_wait)
                        .map_err(|e| InvokeError::Spawn(e.to_string()))?;
                    if let Some(status) = exited {
                        // Its answer may have been posted just before it exited.
                        if let Ok(Posted::Response { id: got, body }) = inner.posted.try_recv()
                            && got == id
                        {
                            inner.child = None;
                            return Ok(body);
                        }
                        inner.child = None;
                        self.server.reset();
                        // Let the output pumps catch the last lines.
                        std::thread::sleep(Duration::from_millis(20));
                        return Err(InvokeError::Exited {
                            status: status.to_string(),
                            logs: self.logs.text(),
                        });
                    }
                }
                Err(Waited::Closed) => {
                    return Err(InvokeError::Spawn("the Runtime API stopped".into()));
                }
            }
        }
    }
}

impl Drop for LocalFunction {
    fn drop(&mut self) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(mut c) = inner.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Copies a process's output into the log tail (and to stderr when echoing).
fn pump(mut out: Box<dyn Read + Send>, logs: &Logs, echo: bool) {
    let mut buf = [0u8; 4096];
    loop {
        match out.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let chunk = buf.get(..n).unwrap_or_default();
                logs.push(chunk);
                if echo {
                    use std::io::Write;
                    let _ = std::io::stderr().write_all(chunk);
                }
            }
        }
    }
}

/// An `/error` body (`{"errorType", "errorMessage"}`) as an error; a body that is not that shape is kept
/// as the message.
fn function_error(body: &[u8]) -> InvokeError {
    let v: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        v.as_ref()
            .and_then(|v| v.get(k))
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    InvokeError::Function {
        error_type: field("errorType").unwrap_or_else(|| "Unknown".into()),
        message: field("errorMessage")
            .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned()),
    }
}

/// A request id in the UUID layout Lambda uses, unique per process start and invocation.
fn request_id(n: u64, start: u64) -> String {
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let pid = u64::from(std::process::id());
    let mut x = t ^ (pid << 32) ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ start;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (a, b) = (next(), next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// An X-Ray trace header (`Root=1-{time}-{id};Sampled=0`).
fn trace_id(n: u64) -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "Root=1-{secs:08x}-{:024x};Sampled=0",
        u128::from(n) ^ (u128::from(std::process::id()) << 64)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_names_follow_lambda() {
        let dir = std::env::temp_dir().join(format!("lambda-local-h-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_default();
        std::fs::write(dir.join("auth.py"), "def handler(e, c): return e\n").unwrap_or_default();
        let spec = format!("{}/auth.handler", dir.display());
        match Code::handler(&spec) {
            Ok(Code::Handler {
                module,
                function,
                runtime,
                ..
            }) => assert_eq!(
                (module.as_str(), function.as_str(), runtime),
                ("auth", "handler", Runtime::Python)
            ),
            other => panic!("{other:?}"),
        }
        let missing = Code::handler(&format!("{}/nope.handler", dir.display()));
        assert!(
            missing.as_ref().is_err_and(|e| e
                .to_string()
                .contains("no nope.js, nope.mjs, nope.cjs or nope.py")),
            "{missing:?}"
        );
        assert!(Code::handler(&format!("{}/auth", dir.display())).is_err());
        assert!(Code::handler("/no/such/dir/auth.handler").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn request_ids_are_uuid_shaped_and_distinct() {
        let a = request_id(1, 1);
        let b = request_id(2, 1);
        assert_ne!(a, b);
        let parts: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12], "{a}");
    }

    #[test]
    fn error_bodies_are_read_as_lambda_writes_them() {
        let e = function_error(br#"{"errorType": "Error", "errorMessage": "Unauthorized"}"#);
        assert_eq!(
            e,
            InvokeError::Function {
                error_type: "Error".into(),
                message: "Unauthorized".into()
            }
        );
        let raw = function_error(b"boom");
        assert!(raw.to_string().contains("boom"));
    }
}
