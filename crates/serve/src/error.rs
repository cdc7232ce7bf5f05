//! Why the server cannot start or reload, or an input it refuses outside HTTP: typed, each with its
//! registered code (and, for input AWS would refuse, AWS's error code).

use cedar_bridge::BridgeError;

/// Why `serve` cannot load what it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServeError {
    /// A file that cannot be read (`serve::config`).
    Read {
        /// The file.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// A mistake in a configuration file or in a policy it names, at `file:line:column` where known,
    /// with the registered code of the mistake (`json::shape`, `iam::effect`, `serve::config`, …).
    Config {
        /// Where (`iam.json:3:5`, or `iam.json: principals[0]`).
        at: String,
        /// What is wrong.
        message: String,
        /// Its registered code.
        code: &'static str,
    },
    /// A store that cannot be loaded: its policies, schema or identity source (the bridge's code).
    Store {
        /// The store's id.
        id: String,
        /// Why.
        error: BridgeError,
    },
    /// Two stores under one id (`serve::config`).
    DuplicateStore(String),
    /// A store given as something other than `ID=DIR`, or an id with other characters than letters,
    /// digits, `-` and `_` (`serve::config`).
    StoreSpec {
        /// What was given (the whole `ID=DIR`, or the id).
        given: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Input AWS refuses (`InvalidInput`, `MalformedPolicyDocument`, …), answered with AWS's code.
    Aws {
        /// AWS's error code.
        code: &'static str,
        /// AWS's message.
        message: String,
    },
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Read { path, reason } => write!(f, "cannot read `{path}`: {reason}"),
            ServeError::Config { at, message, code } => write!(f, "{at}: {message} [{code}]"),
            ServeError::Store { id, error } => write!(f, "store `{id}`: {error}"),
            ServeError::DuplicateStore(id) => write!(f, "store id `{id}` is given twice"),
            ServeError::StoreSpec { given, reason } => write!(f, "`{given}`: {reason}"),
            ServeError::Aws { code, message } => write!(f, "{code}: {message}"),
        }
    }
}

impl std::error::Error for ServeError {}

impl diag::Coded for ServeError {
    fn code(&self) -> &'static str {
        match self {
            ServeError::Read { .. }
            | ServeError::DuplicateStore(_)
            | ServeError::StoreSpec { .. } => diag::codes::SERVE_CONFIG,
            ServeError::Config { code, .. } => code,
            ServeError::Store { error, .. } => error.code(),
            ServeError::Aws { .. } => diag::codes::SERVE_CONFIG,
        }
    }
    fn aws_code(&self) -> Option<&'static str> {
        match self {
            ServeError::Aws { code, .. } => Some(code),
            ServeError::Store { error, .. } => error.exception(),
            _ => None,
        }
    }
}
