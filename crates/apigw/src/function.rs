//! The user's own authorizer function behind the gateway: [`FunctionAuthorizer`] runs it in a local Lambda
//! execution environment ([`lambda_local`]) with the exact event API Gateway sends; [`RawOutput`] stands
//! for a function that always answers the same text.

use serde_json::Value;

use lambda_local::{InvokeError, LocalFunction};

use crate::{Authorizer, AuthorizerEvent, FunctionError};

/// An authorizer function run as Lambda runs it. What it answers goes through API Gateway's output
/// validation; an error whose message is exactly `Unauthorized` is API Gateway's 401, any other failure
/// (an error, a timeout, an exit, an answer over 6 MB) a 500 with the reason in the report.
#[derive(Debug)]
pub struct FunctionAuthorizer {
    function: LocalFunction,
}

impl FunctionAuthorizer {
    /// The function.
    pub fn new(function: LocalFunction) -> Self {
        Self { function }
    }

    /// The function (its logs, how many times it started).
    pub fn function(&self) -> &LocalFunction {
        &self.function
    }
}

/// The error a failed invocation is to the gateway.
fn failure(e: InvokeError) -> FunctionError {
    match e {
        // API Gateway's one special error: the message `Unauthorized`, whatever the error type.
        InvokeError::Function { ref message, .. } if message == "Unauthorized" => {
            FunctionError::Unauthorized
        }
        other => FunctionError::Failed(other.report()),
    }
}

/// The function's answer as the gateway reads it: JSON, or [`FunctionError::NotJson`].
fn answer(bytes: &[u8]) -> Result<Value, FunctionError> {
    serde_json::from_slice(bytes)
        .map_err(|_| FunctionError::NotJson(String::from_utf8_lossy(bytes).into_owned()))
}

impl Authorizer for FunctionAuthorizer {
    fn call(&self, event: &AuthorizerEvent, now: i64) -> Result<Value, FunctionError> {
        let payload = event.to_json(now).to_string();
        let bytes = self.function.invoke(payload.as_bytes()).map_err(failure)?;
        answer(&bytes)
    }
}

/// A function that answers the same text every time (JSON or not), with `$methodArn` replaced by the
/// ARN of the call (`methodArn`, or `routeArn` in payload format 2.0): quick tests of outputs without a
/// runtime, including what an authorizer that echoes its `methodArn` does to the cache.
#[derive(Clone, Debug)]
pub struct RawOutput {
    text: String,
}

impl RawOutput {
    /// The text to answer.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

impl Authorizer for RawOutput {
    fn call(&self, event: &AuthorizerEvent, _now: i64) -> Result<Value, FunctionError> {
        answer(
            self.text
                .replace("$methodArn", &event.method_arn)
                .as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_message_unauthorized_is_a_401() {
        let f = |t: &str, m: &str| {
            failure(InvokeError::Function {
                error_type: t.into(),
                message: m.into(),
            })
        };
        assert_eq!(f("Error", "Unauthorized"), FunctionError::Unauthorized);
        assert_eq!(f("string", "Unauthorized"), FunctionError::Unauthorized);
        assert!(matches!(
            f("Error", "unauthorized"),
            FunctionError::Failed(_)
        ));
        assert!(matches!(
            f("Error", "Unauthorized "),
            FunctionError::Failed(_)
        ));
        let t = failure(InvokeError::Timeout {
            seconds: 3.0,
            logs: String::new(),
        });
        assert!(
            matches!(&t, FunctionError::Failed(m) if m.contains("Task timed out after 3.00 seconds") && m.contains(diag::codes::LAMBDA_TIMEOUT)),
            "{t:?}"
        );
        assert_eq!(answer(b"nope"), Err(FunctionError::NotJson("nope".into())));
    }
}
