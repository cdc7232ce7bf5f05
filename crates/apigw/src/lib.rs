//! API Gateway Lambda authorizers, offline and exact: what API Gateway does around a Lambda authorizer
//! for a REST API (and the HTTP API differences), with the IAM engine deciding on the returned policy.
//!
//! - [`Deployment::method_arn`]: the `methodArn` of a request (real verb and path, partition from the
//!   Region, the 1,600-byte limit answered with 414).
//! - [`AuthorizerOutput`]: an authorizer's answer, validated as AWS documents it (an invalid one is a 500).
//! - [`Api`]: an API definition (routes, the authorizer's identity sources, validation expression and TTL,
//!   an optional resource policy); [`Api::invoke`] runs one request through route matching, identity
//!   sources, the resource policy, the authorizer cache, the authorizer and the gateway's decision, and
//!   answers with AWS's status codes and default bodies.
//! - [`AuthorizerCache`]: TTL per authorizer (default 300 s, at most 3,600, 0 disables), keyed by the token
//!   (`TOKEN`) or all identity sources (`REQUEST`); the clock is the caller's, so the classic trap (a policy
//!   for the first path cached, then 403 on a second path) is reproducible.
//! - [`Api::from_openapi`]: an OpenAPI 3 export with API Gateway's extensions (JSON or YAML).
//! - [`Api::uncovered`]: the routes a cached policy does not allow (the cache check).
//! - [`GroupAuthorizer`]: the group → policy authorizer of the AWS sample: a verified Cognito token's
//!   `cognito:groups` looked up in a [`GroupStore`], statements merged, `principalId` = `sub`.
//!
//! ```
//! use apigw::{Api, AuthorizerCache, FunctionError, HttpRequest, StaticPolicy};
//!
//! let api = Api::from_json(r#"{"region": "us-east-1", "account": "123456789012", "api_id": "a1b2c3",
//!     "stage": "prod", "routes": ["ANY /{proxy+}"],
//!     "authorizer": {"type": "TOKEN", "identity_sources": ["method.request.header.Authorization"], "ttl": 300}}"#).unwrap();
//! let policy = r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "execute-api:Invoke",
//!     "Resource": "arn:aws:execute-api:*:*:a1b2c3/prod/GET/pets"}}"#;
//! let authorizer = StaticPolicy::new("user-1", policy).unwrap();
//! let mut cache = AuthorizerCache::default();
//! let req = |method: &str, path: &str| HttpRequest::new(method, path).header("Authorization", "Bearer t");
//! let first = api.invoke(&req("GET", "/pets"), &authorizer, &mut cache, 1_700_000_000);
//! assert_eq!((first.status, first.cache_hit), (200, Some(false)));
//! // Same token, another path, within the TTL: the cached policy decides, and it names only /pets.
//! let second = api.invoke(&req("DELETE", "/pets/1"), &authorizer, &mut cache, 1_700_000_010);
//! assert_eq!((second.status, second.cache_hit), (403, Some(true)));
//! assert_eq!(second.body, r#"{"message":"User is not authorized to access this resource"}"#);
//! // No token: 401 before the function runs.
//! let none = api.invoke(&HttpRequest::new("GET", "/pets"), &authorizer, &mut cache, 1_700_000_010);
//! assert_eq!((none.status, none.function_called), (401, false));
//! # let _ = FunctionError::Unauthorized;
//! ```
#![deny(missing_docs)]

mod api;
mod arn;
mod cache;
mod coverage;
mod event;
mod function;
mod gateway;
mod groups;
mod openapi;
mod output;

pub use api::{
    Api, AuthorizerConfig, AuthorizerType, HttpRequest, Invocation, Route, Stop, Verdict,
};
pub use arn::{Deployment, MAX_METHOD_ARN_BYTES, partition};
pub use cache::{AuthorizerCache, DEFAULT_TTL, MAX_TTL};
pub use coverage::{Uncovered, VERBS};
pub use function::{FunctionAuthorizer, RawOutput};
pub use gateway::{Body, GatewayContext, Needs, decide_policy};
pub use groups::{GroupAuthorizer, GroupStore, InvalidToken, StaticPolicy, group_context};
pub use openapi::{OpenApiOptions, openapi_value};
pub use output::{AuthorizerOutput, CompiledPolicy, OutputFormat};

use diag::codes;

/// What an authorizer function answered: its output JSON, or a failure.
pub trait Authorizer {
    /// Runs the function for one request (the event API Gateway would send) at `now` (Unix seconds).
    fn call(&self, event: &AuthorizerEvent, now: i64) -> Result<serde_json::Value, FunctionError>;
}

/// What API Gateway knows about one request when it calls the authorizer: everything the event it sends
/// is made of ([`AuthorizerEvent::to_json`] builds that event for REST `TOKEN` / `REQUEST` authorizers and
/// HTTP API payload formats 1.0 and 2.0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizerEvent {
    /// `TOKEN` or `REQUEST`.
    pub kind: AuthorizerType,
    /// The API's payload format.
    pub format: OutputFormat,
    /// `methodArn` (`routeArn` for format 2.0).
    pub method_arn: String,
    /// The identity source's value for `TOKEN`.
    pub authorization_token: Option<String>,
    /// Request headers (names as sent).
    pub headers: Vec<(String, String)>,
    /// The HTTP method.
    pub http_method: String,
    /// The path as received (dot segments resolved), with the query string when there is one.
    pub path: String,
    /// The caller's address (`requestContext.identity.sourceIp` / `requestContext.http.sourceIp`).
    pub source_ip: String,
    /// The matched route's resource path template (`/pets/{id}`).
    pub resource: String,
    /// The route key (`GET /pets/{id}`).
    pub route_key: String,
    /// The path parameters, decoded.
    pub path_parameters: Vec<(String, String)>,
    /// The stage's variables.
    pub stage_variables: Vec<(String, String)>,
    /// The identity sources' values, in the order configured.
    pub identity_source: Vec<String>,
    /// Where the API is deployed.
    pub deployment: Deployment,
}

/// A function failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FunctionError {
    /// The function failed with the error string `Unauthorized`: API Gateway answers 401.
    #[error("Unauthorized")]
    Unauthorized,
    /// Any other failure (an exception, a timeout): API Gateway answers 500.
    #[error("authorizer failed: {0}")]
    Failed(String),
    /// The function answered, but not with JSON (the text as answered): an invalid output, 500.
    #[error("the authorizer's answer is not JSON")]
    NotJson(String),
}

/// Why an API definition, request or authorizer output could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApigwError {
    /// An API definition AWS would refuse, or that cannot be read.
    #[error("{0}")]
    Config(String),
    /// A request that cannot be made (a verb that is not a method).
    #[error("{0}")]
    Request(String),
    /// The `methodArn` is longer than 1,600 bytes: the client gets 414.
    #[error(
        "the methodArn is {0} bytes; API Gateway accepts at most 1600 (414 Request-URI Too Long)"
    )]
    UriTooLong(usize),
    /// An authorizer output API Gateway would reject: the client gets 500.
    #[error("invalid authorizer output: {0}")]
    InvalidOutput(String),
    /// A group store that cannot be read.
    #[error("{0}")]
    GroupStore(String),
}

impl ApigwError {
    pub(crate) fn request(m: impl Into<String>) -> Self {
        Self::Request(m.into())
    }
    pub(crate) fn output(m: impl Into<String>) -> Self {
        Self::InvalidOutput(m.into())
    }
    /// The HTTP status a client sees for this error where it is the answer to a request: 414, 500, 400.
    pub fn status(&self) -> u16 {
        match self {
            ApigwError::UriTooLong(_) => 414,
            ApigwError::InvalidOutput(_) | ApigwError::Config(_) | ApigwError::GroupStore(_) => 500,
            ApigwError::Request(_) => 400,
        }
    }
}

impl diag::Coded for ApigwError {
    fn code(&self) -> &'static str {
        match self {
            ApigwError::Config(_) => codes::APIGW_CONFIG,
            ApigwError::Request(_) => codes::APIGW_REQUEST,
            ApigwError::UriTooLong(_) => codes::APIGW_URI_TOO_LONG,
            ApigwError::InvalidOutput(_) => codes::APIGW_INVALID_OUTPUT,
            ApigwError::GroupStore(_) => codes::APIGW_GROUP_STORE,
        }
    }
}

impl miette::Diagnostic for ApigwError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(diag::Coded::code(self)))
    }
}
