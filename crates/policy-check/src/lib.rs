//! The `policy-check` command line: validate and lint IAM policies, evaluate IAM, identity-pool, Verified
//! Permissions and API Gateway requests, run policy unit tests, serve AWS's APIs on localhost.
//!
//! `main.rs` only calls [`run`]; everything is here so tests can drive the CLI in-process.
//!
//! ```
//! use clap::Parser as _;
//! let dir = std::env::temp_dir().join("policy-check-doc");
//! std::fs::create_dir_all(&dir).unwrap();
//! let file = dir.join("p.json");
//! std::fs::write(&file, r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#).unwrap();
//! let args = policy_check::Cli::parse_from(["policy-check", "validate", "--type", "identity", file.to_str().unwrap()]);
//! assert_eq!(policy_check::run_to(args, &mut Vec::new(), &mut Vec::new()), 0);
//! ```
//!
//! Exit codes, the same in every command: 0 all valid / all allowed / all tests pass; 2 a deny or a
//! failing test; 1 everything the user must fix (bad input, unreadable files, invalid tokens, and
//! command-line usage errors, which clap would otherwise exit with 2). [`run_args`] maps them.

#![deny(missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub mod commands;
pub mod failure;
pub mod files;
pub mod gateway;
pub mod input;
pub mod policies;
pub mod report;
pub mod store_input;
pub mod suite;

pub use failure::Failure;
pub use files::expand_paths;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "policy-check",
    version,
    about = "Check and evaluate AWS IAM policies offline",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Colour in diagnostics: `auto` (when standard error is a terminal and `NO_COLOR` is unset or
    /// empty), `always`, `never`.
    #[arg(long, global = true, value_enum, default_value_t)]
    pub color: ColorChoice,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard error is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorChoice {
    /// Whether to colour, given whether the output is a terminal and the value of `NO_COLOR`.
    pub fn resolve(self, terminal: bool, no_color: Option<&str>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && no_color.is_none_or(str::is_empty),
        }
    }
}

thread_local! {
    /// Whether diagnostics are rendered in colour (set per command from `--color`).
    pub(crate) static COLOR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Whether the command's standard error is the process's and a terminal.
    static TERMINAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The exit-code contract, printed by `--help`.
pub const EXIT_CODES: &str = "Exit codes (every command): 0 allowed / all tests passed / valid; \
2 denied / a test failed; 1 anything to fix: bad input, unreadable files, invalid tokens, usage errors.";

/// Output formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable, with source snippets.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// `--type`: one of iam-policy's [`PolicyType`](iam_policy::PolicyType)s, or `auto` (`None`: infer per file, see
/// [`PolicyDocument::guess_type`](iam_policy::PolicyDocument::guess_type)). The command line's names and
/// help come from `PolicyType` itself, so the list is written once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TypeArg(pub Option<iam_policy::PolicyType>);

/// `auto` followed by every policy type, in `PolicyType::ALL`'s order.
// Evaluated at compile time: an index out of range fails the build, it cannot panic at run time.
#[allow(clippy::indexing_slicing)]
const TYPE_CHOICES: [TypeArg; iam_policy::PolicyType::ALL.len() + 1] = {
    let mut all = [TypeArg(None); iam_policy::PolicyType::ALL.len() + 1];
    let mut i = 0;
    while i < iam_policy::PolicyType::ALL.len() {
        all[i + 1] = TypeArg(Some(iam_policy::PolicyType::ALL[i]));
        i += 1;
    }
    all
};

impl ValueEnum for TypeArg {
    fn value_variants<'a>() -> &'a [Self] {
        &TYPE_CHOICES
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        use clap::builder::PossibleValue;
        Some(match self.0 {
            None => PossibleValue::new("auto").help(
                "Infer per file: no `Principal` anywhere is an identity policy; statements that name \
                 only `sts:` actions and no `Resource` make a role trust policy; anything else with a \
                 `Principal` is a resource policy",
            ),
            Some(t) => PossibleValue::new(t.as_str()).help(t.title()),
        })
    }
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate policy files (directories are searched for *.json, test suites excluded).
    #[command(after_help = EXIT_CODES)]
    Validate {
        /// Policy type to validate against.
        #[arg(long = "type", value_enum, default_value_t)]
        ty: TypeArg,
        /// Partition the policies are for (aws, aws-cn, aws-us-gov, …): ARNs naming another are errors.
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(iam_policy::PARTITIONS))]
        partition: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Do not print warnings.
        #[arg(long)]
        quiet: bool,
        /// CloudFormation or SAM templates, or Terraform plan JSON (repeatable): every policy they hold
        /// is validated as its type, each diagnostic drawn on the template's own lines.
        #[arg(long = "template", value_name = "TEMPLATE")]
        templates: Vec<PathBuf>,
        /// What templates are resolved with.
        #[command(flatten)]
        template_input: commands::template::TemplateInput,
        /// Files, directories or glob patterns.
        #[arg(required_unless_present = "templates")]
        paths: Vec<String>,
    },
    /// Evaluate requests against policies.
    #[command(after_help = EXIT_CODES)]
    Eval(commands::eval::EvalArgs),
    /// Run policy unit-test suites.
    #[command(after_help = EXIT_CODES)]
    Test(commands::test::TestArgs),
    /// Authorize Cedar requests against a policy store (Verified Permissions' JSON shapes).
    #[command(after_help = EXIT_CODES)]
    Authorize(commands::authorize::AuthorizeArgs),
    /// Cognito tokens: mint, verify, decode.
    #[command(subcommand, after_help = EXIT_CODES)]
    Token(commands::token::TokenCommand),
    /// Identity pools: token or claims + pool config + request → role and decision.
    #[command(subcommand, after_help = EXIT_CODES)]
    Pool(PoolCommand),
    /// API Gateway Lambda authorizers: requests → methodArn → authorizer (cached) → status.
    #[command(subcommand, after_help = EXIT_CODES)]
    Apigw(commands::apigw::ApigwCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from this command line's definition.
    Man,
    /// IAM Access Analyzer's policy checks offline, plus Cognito checks (text, JSON findings, SARIF).
    #[command(after_help = EXIT_CODES)]
    Lint(commands::lint::LintArgs),
    /// Serve Verified Permissions and IAM's policy simulator on localhost over AWS's protocols.
    #[command(after_help = EXIT_CODES)]
    Serve(commands::serve::ServeArgs),
    /// CloudFormation and SAM templates: what policies they hold, resolved.
    #[command(subcommand, after_help = EXIT_CODES)]
    Template(commands::template::TemplateCommand),
    /// Prove, don't sample: no new access, access not granted, no public access (an SMT solver decides;
    /// exit 0 PASS, 2 FAIL, 1 UNKNOWN or bad input).
    #[command(subcommand, after_help = EXIT_CODES)]
    Check(commands::check::CheckCommand),
    /// What changed between two policies, both ways, with a witness request per responsible statement
    /// (exit 0 same access, 2 different, 1 undecided).
    #[command(after_help = EXIT_CODES)]
    Diff(commands::check::DiffArgs),
    /// The SMT solver `check` uses: install it, or say where it is.
    #[command(subcommand)]
    Solver(commands::check::SolverCommand),
}

/// `pool` subcommands.
#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    /// Decide requests made with an identity pool's credentials.
    #[command(after_help = EXIT_CODES)]
    Eval(commands::pool::PoolArgs),
}

/// Parses `args` (program name first) and runs the command. Usage errors print clap's message and exit 1,
/// not clap's default 2, which means "denied / a test failed" here; `--help` and `--version` exit 0.
pub fn run_args<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    match Cli::try_parse_from(args) {
        Ok(cli) => run_to(cli, out, err),
        Err(e) => {
            use clap::error::ErrorKind;
            let text = e.render().to_string();
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = write!(out, "{text}");
                    0
                }
                _ => {
                    let _ = write!(err, "{text}");
                    1
                }
            }
        }
    }
}

/// Runs the process's command line ([`run_args`] over `std::env::args_os`). The standard streams are
/// not held locked for the run: a worker thread that writes a note to stderr (the solver's one-time
/// install) would wait forever for the command's thread to let go of it.
pub fn main_with_env() -> ExitCode {
    TERMINAL.with(|t| t.set(std::io::IsTerminal::is_terminal(&std::io::stderr())));
    let code = run_args(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    ExitCode::from(code)
}

/// Runs the CLI, printing to the process's stdout and stderr.
pub fn run(cli: Cli) -> ExitCode {
    TERMINAL.with(|t| t.set(std::io::IsTerminal::is_terminal(&std::io::stderr())));
    let code = run_to(cli, &mut std::io::stdout(), &mut std::io::stderr());
    ExitCode::from(code)
}

/// Runs the CLI with explicit output streams; returns the exit code.
pub fn run_to(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    // Only the process entry points write to the real standard error; in-process callers give their
    // own writers, which are never terminals.
    let terminal = TERMINAL.with(std::cell::Cell::get);
    // Warnings left over by an earlier in-process run that stopped at an error are not this run's.
    let _ = policies::take_accepted();
    let no_color = std::env::var("NO_COLOR").ok();
    COLOR.with(|c| c.set(cli.color.resolve(terminal, no_color.as_deref())));
    let r = match cli.command {
        Command::Validate {
            ty,
            partition,
            format,
            quiet,
            templates,
            template_input,
            paths,
        } => {
            let t = if templates.is_empty() {
                Ok(0)
            } else {
                commands::validate::run_templates(
                    &templates,
                    &template_input,
                    partition.clone(),
                    format,
                    quiet,
                    out,
                    err,
                )
            };
            let p = if paths.is_empty() {
                Ok(0)
            } else {
                commands::validate::run(&paths, ty, partition, format, quiet, out, err)
            };
            t.and_then(|t| p.map(|p| t.max(p)))
        }
        Command::Eval(a) => commands::eval::run_eval(&a, out, err),
        Command::Test(a) => commands::test::run_test(&a, out, err),
        Command::Authorize(a) => commands::authorize::run(&a, out, err),
        Command::Token(t) => commands::token::run_token(&t, out, err),
        Command::Pool(PoolCommand::Eval(a)) => commands::pool::run_pool(&a, out, err),
        Command::Apigw(a) => commands::apigw::run(&a, out, err),
        Command::Serve(a) => commands::serve::run(&a, out, err),
        Command::Lint(a) => commands::lint::run(&a, out, err),
        Command::Template(t) => commands::template::run(&t, out),
        Command::Check(c) => commands::check::run(&c, out),
        Command::Diff(a) => commands::check::run_diff(&a, out),
        Command::Solver(c) => commands::check::run_solver(&c, out),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "policy-check", out);
            Ok(0)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(out)
                .map(|()| 0)
                .map_err(|e| format!("cannot write the manual page: {e}"))
                .map_err(Failure::from)
        }
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            1
        }
    }
}

thread_local! {
    /// Standard input given to [`run_args_with_stdin`]: `Some(Some(bytes))` until read, then
    /// `Some(None)`; `None` reads the process's.
    static STDIN: std::cell::RefCell<Option<Option<Vec<u8>>>> = const { std::cell::RefCell::new(None) };
}

/// Standard input, read once: `-` names it wherever a file is taken; a second `-` in one command is
/// an error, not an empty file.
fn read_stdin() -> Result<Vec<u8>, Failure> {
    static TAKEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let given = STDIN.with(|s| s.borrow_mut().as_mut().map(Option::take));
    match given {
        Some(Some(bytes)) => return Ok(bytes),
        Some(None) => return Err("standard input (`-`) can be read only once".into()),
        None => {}
    }
    if TAKEN.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return Err("standard input (`-`) can be read only once".into());
    }
    let mut buf = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(buf)
}

/// A progress bar on standard error for a run over `len` items, only when standard error is a terminal
/// (silent otherwise: CI logs and pipes get no control characters) and the run is long enough to want
/// one.
pub(crate) fn progress(len: usize, what: &'static str) -> Option<indicatif::ProgressBar> {
    if !TERMINAL.with(std::cell::Cell::get) || len < 50 {
        return None;
    }
    let pb = indicatif::ProgressBar::new(u64::try_from(len).unwrap_or(u64::MAX));
    if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
        pb.set_style(style);
    }
    pb.set_message(what);
    Some(pb)
}

/// Reads a file, naming it in the error; `-` is standard input.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    if path.as_os_str() == "-" {
        return read_stdin();
    }
    // Read into room for a typical policy or suite: no `stat` for the size first (one system call per
    // file saved when a run reads thousands); larger files grow the buffer as usual.
    let read = || -> std::io::Result<Vec<u8>> {
        use std::io::Read;
        // `File`'s own `read_to_end` asks for the size (`statx`, `lseek`) first: plain reads instead.
        struct Plain(std::fs::File);
        impl Read for Plain {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.0.read(buf)
            }
        }
        let mut buf = Vec::with_capacity(16 * 1024);
        Plain(std::fs::File::open(path)?).read_to_end(&mut buf)?;
        Ok(buf)
    };
    read()
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
        .map_err(Failure::from)
}

/// Reads a UTF-8 file, naming it in the error; `-` is standard input.
pub(crate) fn read_text(path: &Path) -> Result<String, Failure> {
    String::from_utf8(read_file(path)?)
        .map_err(|_| format!("`{}` is not UTF-8", path.display()))
        .map_err(Failure::from)
}

/// [`run_args`] with `stdin` as standard input (what `-` reads).
pub fn run_args_with_stdin<I, T>(
    args: I,
    stdin: &[u8],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    STDIN.with(|s| *s.borrow_mut() = Some(Some(stdin.to_vec())));
    let code = run_args(args, out, err);
    STDIN.with(|s| *s.borrow_mut() = None);
    code
}

/// A display name for a path: relative as given; `<stdin>` for `-`.
pub(crate) fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        return "<stdin>".into();
    }
    path.display().to_string()
}
