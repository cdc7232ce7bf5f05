//! Why a command or a suite case could not go on: the message, and the registered code (with AWS's error
//! name, where AWS has one) when a library refused the input. `expect_error` compares those codes exactly.

use std::fmt;

/// An error the user must fix (exit code 1), or a refusal a suite case may expect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The registered code (`iam::effect`, `token::expired`, …); `None` for input the CLI could not read
    /// (a missing file, a malformed suite), which no case can expect.
    pub code: Option<&'static str>,
    /// The AWS error the refusal is answered with (`ValidationException`, `NotAuthorizedException`).
    pub aws_code: Option<&'static str>,
    /// What went wrong, for people.
    pub message: String,
}

impl Failure {
    /// A refusal by a library, with its codes.
    pub fn coded<E: diag::Coded + fmt::Display + ?Sized>(e: &E) -> Self {
        Self {
            code: Some(e.code()),
            aws_code: e.aws_code(),
            message: e.to_string(),
        }
    }

    /// A refusal with a registered code and no AWS name.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code: Some(code),
            aws_code: None,
            message: message.into(),
        }
    }

    /// The same failure, answered with the AWS error `aws`.
    #[must_use]
    pub fn aws(mut self, aws: &'static str) -> Self {
        self.aws_code = Some(aws);
        self
    }

    /// The same failure, its message prefixed with where it happened.
    #[must_use]
    pub fn at(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    /// Whether `want` names this failure exactly: its code or its AWS error name.
    pub fn is(&self, want: &str) -> bool {
        self.code == Some(want) || self.aws_code == Some(want)
    }
}

/// The message, then the code in brackets when there is one: `token refused: … [token::expired]`.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match self.code {
            Some(code) if !self.message.contains(code) => write!(f, " [{code}]"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Failure {}

/// Library refusals keep their registered codes on the way to rendering.
macro_rules! coded_failures {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Self::coded(&e)
            }
        }
    )*};
}
coded_failures!(
    apigw::ApigwError,
    cedar_bridge::BridgeError,
    cedar_reason::CedarReasonError,
    cognito::MintError,
    cognito::VerifyError,
    iac::IacError,
    iam_eval::CompileError,
    iam_policy::ParseErrors,
    iam_policy::grammar::GrammarError,
    iam_reason::ReasonError,
    identity_pool::PoolError,
    lambda_local::InvokeError,
    lambda_local::LambdaError,
    policy_serve::ServeError,
);

/// Values the command line or a file names wrongly (a decision, a token use, a policy type): no code,
/// like any input the CLI could not read.
macro_rules! uncoded_failures {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Self::from(e.to_string())
            }
        }
    )*};
}
uncoded_failures!(
    authz_core::ParseDecisionError,
    cognito::ParseTokenUseError,
    iam_policy::ParsePolicyTypeError,
);

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self {
            code: None,
            aws_code: None,
            message,
        }
    }
}

/// Writing JSON the program built itself: not the user's input, so no code.
impl From<serde_json::Error> for Failure {
    fn from(e: serde_json::Error) -> Self {
        e.to_string().into()
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        message.to_string().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_codes_exactly() {
        let f =
            Failure::new(diag::codes::TOKEN_EXPIRED, "token refused").aws("NotAuthorizedException");
        assert!(f.is(diag::codes::TOKEN_EXPIRED) && f.is("NotAuthorizedException"));
        assert!(!f.is("expired") && !f.is("token::") && !f.is("token refused"));
        let plain = Failure::from("cannot read `x`");
        assert!(
            !plain.is("cannot read `x`"),
            "a failure without a code matches nothing"
        );
        assert_eq!(f.to_string(), "token refused [token::expired]");
        assert_eq!(plain.to_string(), "cannot read `x`");
    }
}
