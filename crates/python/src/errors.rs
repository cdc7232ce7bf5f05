//! The exceptions: `PolicyCheckError` (a registered `code`, the `message`, and where: `file`, `line`,
//! `column`, each `None` when unknown) and its subclass `TokenError` for tokens refused.

use diag::codes;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    policy_check,
    PolicyCheckError,
    PyException,
    "A refusal of policy-check's: `code` (registered, e.g. `iam::effect`), `message`, `file`, `line`, `column`, and `aws_code`, the AWS error it is answered with where AWS has one."
);
create_exception!(
    policy_check,
    TokenError,
    PolicyCheckError,
    "A token refused (`token::expired`, `token::signature`, …)."
);

/// Where an error is, when known, and the AWS error it is answered with (`NotAuthorizedException`,
/// `ValidationException`), where AWS has one.
#[derive(Default, Clone)]
pub(crate) struct At {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub aws_code: Option<&'static str>,
}

impl At {
    /// Only the AWS error name.
    pub(crate) fn aws(aws_code: Option<&'static str>) -> Self {
        Self {
            aws_code,
            ..Self::default()
        }
    }
}

/// A library's refusal (anything with a registered code) as a `PolicyCheckError`.
pub(crate) fn coded<E: diag::Coded + std::fmt::Display + ?Sized>(e: &E) -> PyErr {
    error(e.code(), e.to_string(), &At::aws(e.aws_code()))
}

fn raise(err: PyErr, code: &str, message: &str, at: &At) -> PyErr {
    Python::attach(|py| {
        let v = err.value(py);
        let _ = v.setattr("code", code);
        let _ = v.setattr("message", message);
        let _ = v.setattr("file", at.file.clone());
        let _ = v.setattr("line", at.line);
        let _ = v.setattr("column", at.column);
        let _ = v.setattr("aws_code", at.aws_code);
    });
    err
}

/// A `PolicyCheckError`.
pub(crate) fn error(code: &str, message: impl Into<String>, at: &At) -> PyErr {
    let message = message.into();
    let shown = match (&at.file, at.line, at.column) {
        (Some(f), Some(l), Some(c)) => format!("{f}:{l}:{c}: {code}: {message}"),
        (Some(f), _, _) => format!("{f}: {code}: {message}"),
        _ => format!("{code}: {message}"),
    };
    raise(PolicyCheckError::new_err(shown), code, &message, at)
}

/// A `TokenError`, for a library's refusal of a token.
pub(crate) fn token_error<E: diag::Coded + std::fmt::Display + ?Sized>(e: &E) -> PyErr {
    let (code, message) = (e.code(), e.to_string());
    raise(
        TokenError::new_err(format!("{code}: {message}")),
        code,
        &message,
        &At::aws(e.aws_code()),
    )
}

/// A usage error (a wrong argument): code `python::argument`.
pub(crate) fn argument(message: impl Into<String>) -> PyErr {
    error(codes::PYTHON_ARGUMENT, message, &At::default())
}

/// Panics, for the test that a Rust panic reaches Python as an exception, not a crash.
#[pyfunction]
pub(crate) fn panic_for_tests() {
    #[allow(clippy::panic)]
    {
        panic!("a deliberate panic");
    }
}
