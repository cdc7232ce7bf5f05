//! The group → policy authorizer of seed 004 as an AWS Lambda function: the handler API Gateway calls,
//! running the same [`apigw::GroupAuthorizer`] that `policy-check apigw invoke` and the suites test
//! offline. Events are `aws_lambda_events`' types: REST `TOKEN` events (`authorizationToken`) and
//! `REQUEST` events (the `Authorization` header), and HTTP API events in payload format 1.0 (as REST
//! `REQUEST`, with `"version": "1.0"`) and 2.0 (`routeArn`, `identitySource` as a list, the
//! `Authorization` header). The answer is an IAM-policy response, or for format 2.0 with `RESPONSE=simple`
//! a simple response (`isAuthorized`: the group policy's decision on the `routeArn`).
//!
//! Configuration, from the environment (read once at start-up by the binary): `USER_POOL_ID`,
//! `CLIENT_ID`, `TOKEN_USE` (`access`, default, or `id`), `JWKS` (a file packaged beside the function, or
//! the pool's `https://…/jwks.json`; default `jwks.json`), `GROUPS` (a directory of `<group>.json`
//! policies or a JSON export of the DynamoDB table; default `groups`), `INVALID_TOKEN` (`401`, default:
//! fail with `Unauthorized`; or `403`: a deny policy, as the AWS sample), `RESPONSE` (`policy`, default,
//! or `simple` for an HTTP API authorizer with simple responses enabled).
//!
//! ```
//! use apigw_lambda::{Config, handle};
//!
//! let env = |k: &str| match k {
//!     "USER_POOL_ID" => Some("us-east-1_Example".to_string()),
//!     "CLIENT_ID" => Some("exampleclient".to_string()),
//!     _ => None,
//! };
//! let config = Config::from_env(env).unwrap();
//! assert_eq!((config.jwks.as_str(), config.groups.as_str()), ("jwks.json", "groups"));
//! # let _ = handle;
//! ```
#![deny(missing_docs)]

use std::path::Path;

use apigw::{GroupAuthorizer, GroupStore, InvalidToken};
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerRequest, ApiGatewayCustomAuthorizerRequestTypeRequest,
    ApiGatewayV2CustomAuthorizerV1Request, ApiGatewayV2CustomAuthorizerV2Request,
};
use cognito::{JwksSource, TokenUse, Verifier, VerifierConfig};
use serde_json::Value;

/// The function's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The user pool whose tokens are accepted.
    pub user_pool_id: String,
    /// The app client id.
    pub client_id: String,
    /// `access` or `id`.
    pub token_use: TokenUse,
    /// JWKS file or URL.
    pub jwks: String,
    /// Group store: a directory or a DynamoDB export file.
    pub groups: String,
    /// What an invalid token gets.
    pub invalid_token: InvalidToken,
    /// Answer format 2.0 events with simple responses.
    pub simple: bool,
}

/// Why the function cannot start: a configuration it cannot use. Each kind keeps its code
/// (`apigw::config` for the environment, `apigw::group-store` for the groups, `token::…` for the keys).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set.
    Missing(&'static str),
    /// A variable's value is not one it takes.
    Invalid {
        /// The variable.
        var: &'static str,
        /// What it holds.
        value: String,
        /// What it takes.
        expected: &'static str,
    },
    /// The JWKS file cannot be read.
    Read {
        /// The file.
        path: String,
        /// The system's reason.
        reason: String,
    },
    /// The keys cannot be used: not a JWKS, or a URL that is not `https://`.
    Keys {
        /// The file or URL.
        source: String,
        /// Why (its `token::` code is kept).
        error: cognito::VerifyError,
    },
    /// The group store cannot be read.
    Groups(apigw::ApigwError),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Missing(var) => write!(f, "set {var}"),
            ConfigError::Invalid {
                var,
                value,
                expected,
            } => write!(f, "{var} is {expected}, not `{value}`"),
            ConfigError::Read { path, reason } => write!(f, "cannot read `{path}`: {reason}"),
            ConfigError::Keys { source, error } => write!(f, "{source}: {error}"),
            ConfigError::Groups(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl diag::Coded for ConfigError {
    fn code(&self) -> &'static str {
        match self {
            ConfigError::Missing(_) | ConfigError::Invalid { .. } | ConfigError::Read { .. } => {
                diag::codes::APIGW_CONFIG
            }
            ConfigError::Keys { error, .. } => error.code(),
            ConfigError::Groups(e) => diag::Coded::code(e),
        }
    }
}

impl Config {
    /// Reads the configuration from environment variables (`get` is `std::env::var` in the binary).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let need = |k: &'static str| get(k).ok_or(ConfigError::Missing(k));
        let invalid =
            |var: &'static str, value: &str, expected: &'static str| ConfigError::Invalid {
                var,
                value: value.to_string(),
                expected,
            };
        let token_use = get("TOKEN_USE").unwrap_or_else(|| "access".into());
        Ok(Self {
            user_pool_id: need("USER_POOL_ID")?,
            client_id: need("CLIENT_ID")?,
            token_use: token_use
                .parse()
                .map_err(|_| invalid("TOKEN_USE", &token_use, "access or id"))?,
            jwks: get("JWKS").unwrap_or_else(|| "jwks.json".into()),
            groups: get("GROUPS").unwrap_or_else(|| "groups".into()),
            invalid_token: match get("INVALID_TOKEN").as_deref() {
                None | Some("401") => InvalidToken::Unauthorized,
                Some("403") => InvalidToken::Deny,
                Some(other) => return Err(invalid("INVALID_TOKEN", other, "401 or 403")),
            },
            simple: match get("RESPONSE").as_deref() {
                None | Some("policy") => false,
                Some("simple") => true,
                Some(other) => return Err(invalid("RESPONSE", other, "policy or simple")),
            },
        })
    }

    /// Builds the authorizer, reading the JWKS file (unless it is a URL) and the group store relative to
    /// `base` (the function's package directory).
    pub fn load(&self, base: &Path) -> Result<GroupAuthorizer, ConfigError> {
        let jwks = if self.jwks.starts_with("https://") {
            JwksSource::remote(self.jwks.as_str())
        } else if self.jwks.starts_with("http://") {
            // Keys over plain HTTP can be replaced in transit.
            cognito::check_jwks_url(&self.jwks).map_err(|error| ConfigError::Keys {
                source: self.jwks.clone(),
                error,
            })?;
            return Err(ConfigError::Invalid {
                var: "JWKS",
                value: self.jwks.clone(),
                expected: "a file or an https:// URL",
            });
        } else {
            let p = base.join(&self.jwks);
            let text = std::fs::read_to_string(&p).map_err(|e| ConfigError::Read {
                path: p.display().to_string(),
                reason: e.to_string(),
            })?;
            JwksSource::from_json(&text).map_err(|error| ConfigError::Keys {
                source: p.display().to_string(),
                error,
            })?
        };
        let verifier = Verifier::new(
            VerifierConfig::for_pool(&self.user_pool_id, &self.client_id, self.token_use),
            jwks,
        );
        let store = GroupStore::from_path(&base.join(&self.groups)).map_err(ConfigError::Groups)?;
        Ok(GroupAuthorizer::new(verifier, store, self.invalid_token))
    }
}

/// Why the function fails. API Gateway answers `Unauthorized` with 401 and anything else with 500.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HandlerError {
    /// The error string `Unauthorized`.
    Unauthorized,
    /// Any other failure (a malformed event).
    Failed(String),
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandlerError::Unauthorized => f.write_str("Unauthorized"),
            HandlerError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for HandlerError {}

/// Handles one authorizer event at `now` (Unix seconds): a REST `TOKEN` event (its
/// `authorizationToken`) or `REQUEST` event (its `Authorization` header), or an HTTP API event in payload
/// format 1.0 or 2.0 (its `Authorization` header, else its identity source). The answer is API
/// Gateway's IAM-policy response, or a simple response for format 2.0 when `simple` is set, checked as
/// API Gateway checks it ([`apigw::AuthorizerOutput`], in the event's format) before it is returned.
///
/// The response is returned as JSON, not as `aws_lambda_events`' `ApiGatewayCustomAuthorizerResponse`:
/// that type's statements keep only `Action`, `Effect`, `Resource` and `Condition`, so a policy with
/// `NotResource`, `NotAction` or a `Sid` would reach API Gateway changed (a `Deny` with `NotResource`
/// would deny nothing).
pub fn handle(
    auth: &GroupAuthorizer,
    simple: bool,
    event: &Value,
    now: i64,
) -> Result<Value, HandlerError> {
    let bad = |m: String| HandlerError::Failed(format!("malformed authorizer event: {m}"));
    let header = |h: &aws_lambda_events::http::HeaderMap| {
        h.get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let version = event.get("version").and_then(Value::as_str);
    let kind = event.get("type").and_then(Value::as_str);
    // (token, the ARN of the request, the caller's address, the output format)
    let (token, arn, source_ip, format) = match (version, kind) {
        (Some("2.0"), Some("REQUEST")) => {
            let e: ApiGatewayV2CustomAuthorizerV2Request =
                serde_json::from_value(event.clone()).map_err(|e| bad(e.to_string()))?;
            let token = header(&e.headers)
                .or_else(|| e.identity_source.as_ref().and_then(|l| l.first().cloned()));
            let ip = e.request_context.http.source_ip.clone();
            (
                token,
                e.route_arn,
                ip,
                apigw::OutputFormat::Http2 { simple },
            )
        }
        (Some("1.0"), Some("REQUEST")) => {
            let e: ApiGatewayV2CustomAuthorizerV1Request =
                serde_json::from_value(event.clone()).map_err(|e| bad(e.to_string()))?;
            let token = header(&e.headers).or(e.authorization_token);
            let ip = e.request_context.identity.source_ip.clone();
            (token, e.method_arn, ip, apigw::OutputFormat::Http1)
        }
        (None, Some("TOKEN")) => {
            let e: ApiGatewayCustomAuthorizerRequest =
                serde_json::from_value(event.clone()).map_err(|e| bad(e.to_string()))?;
            (
                e.authorization_token,
                e.method_arn,
                None,
                apigw::OutputFormat::Rest,
            )
        }
        (None, Some("REQUEST")) => {
            let e: ApiGatewayCustomAuthorizerRequestTypeRequest =
                serde_json::from_value(event.clone()).map_err(|e| bad(e.to_string()))?;
            let ip = e.request_context.identity.and_then(|i| i.source_ip);
            (
                header(&e.headers),
                e.method_arn,
                ip,
                apigw::OutputFormat::Rest,
            )
        }
        _ => {
            return Err(bad(format!(
                "`version` {version:?} and `type` {kind:?}: expected a REST TOKEN or REQUEST event, or an HTTP API REQUEST event of version 1.0 or 2.0"
            )));
        }
    };
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(HandlerError::Unauthorized)?;
    let failed = |e: apigw::FunctionError| match e {
        apigw::FunctionError::Unauthorized => HandlerError::Unauthorized,
        apigw::FunctionError::Failed(m) => HandlerError::Failed(m),
        apigw::FunctionError::NotJson(t) => HandlerError::Failed(format!("not JSON: {t}")),
    };
    let output = if format == (apigw::OutputFormat::Http2 { simple: true }) {
        let arn = arn.ok_or_else(|| bad("a format 2.0 event without `routeArn`".into()))?;
        let ctx = apigw::GatewayContext {
            source_ip: source_ip.unwrap_or_default(),
            now,
            secure_transport: true,
        };
        auth.simple_output_for(&token, &arn, &ctx).map_err(failed)?
    } else {
        auth.output_for(&token, now).map_err(failed)?
    };
    apigw::AuthorizerOutput::from_value(&output, format)
        .map_err(|e| HandlerError::Failed(e.to_string()))?;
    Ok(output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn authorizer(invalid: &str) -> GroupAuthorizer {
        let env = |k: &str| match k {
            "USER_POOL_ID" => Some("us-east-1_Example".to_string()),
            "CLIENT_ID" => Some("exampleclient".to_string()),
            "JWKS" => Some("fixtures/keys/jwks.json".to_string()),
            "GROUPS" => Some("policies/apigw-petstore/groups".to_string()),
            "INVALID_TOKEN" => Some(invalid.to_string()),
            _ => None,
        };
        Config::from_env(env).unwrap().load(&root()).unwrap()
    }

    fn event(name: &str, token: Option<&str>) -> Value {
        let text =
            std::fs::read_to_string(root().join("fixtures/apigw-events").join(name)).unwrap();
        let mut v: Value = serde_json::from_str(&text).unwrap();
        match (v.get("type").and_then(Value::as_str), token) {
            (Some("TOKEN"), Some(t)) => {
                v["authorizationToken"] = Value::String(format!("Bearer {t}"))
            }
            (Some("TOKEN"), None) => v["authorizationToken"] = Value::String(String::new()),
            (_, Some(t)) => v["headers"]["Authorization"] = Value::String(format!("Bearer {t}")),
            (_, None) => {}
        }
        v
    }

    fn token(name: &str) -> String {
        std::fs::read_to_string(root().join("policies/apigw-petstore/tokens").join(name))
            .unwrap()
            .trim()
            .to_string()
    }

    const NOW: i64 = 1_700_000_100;

    #[test]
    fn documented_events_get_the_group_policy() {
        let auth = authorizer("401");
        for name in ["token.json", "request.json"] {
            let v = handle(&auth, false, &event(name, Some(&token("vet.jwt"))), NOW).unwrap();
            assert_eq!(v["principalId"], "vet-sub", "{name}");
            assert_eq!(
                v["policyDocument"]["Statement"][0]["Sid"], "PetStore-API",
                "{v}"
            );
            assert_eq!(v["context"]["groups"], "pet-veterinarian");
            // What API Gateway reads back is a valid REST output.
            assert!(
                apigw::AuthorizerOutput::from_value(&v, apigw::OutputFormat::Rest).is_ok(),
                "{v}"
            );
        }
    }

    #[test]
    fn http_api_events_in_both_payload_formats() {
        let auth = authorizer("401");
        let vet = token("vet.jwt");
        // Format 1.0: the REST policy response, validated as format 1.0.
        let v = handle(&auth, false, &event("http-v1.json", Some(&vet)), NOW).unwrap();
        assert_eq!(v["principalId"], "vet-sub");
        assert!(apigw::AuthorizerOutput::from_value(&v, apigw::OutputFormat::Http1).is_ok());
        // Format 2.0 with policy responses.
        let v = handle(&auth, false, &event("http-v2.json", Some(&vet)), NOW).unwrap();
        assert_eq!(v["policyDocument"]["Statement"][0]["Sid"], "PetStore-API");
        // Format 2.0 with simple responses: the group policy decides on the routeArn, with the caller's
        // address from `requestContext.http.sourceIp`.
        let on = |route: &str, ip: &str| {
            let mut e = event("http-v2.json", Some(&vet));
            e["routeArn"] = Value::String(format!(
                "arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/{route}"
            ));
            e["requestContext"]["http"]["sourceIp"] = Value::String(ip.into());
            handle(&auth, true, &e, NOW).unwrap()
        };
        let ok = on("GET/petstore/v2/status", "192.0.2.10");
        assert_eq!(ok["isAuthorized"], true, "{ok}");
        assert_eq!(ok["context"]["groups"], "pet-veterinarian");
        assert!(
            apigw::AuthorizerOutput::from_value(&ok, apigw::OutputFormat::Http2 { simple: true })
                .is_ok()
        );
        assert_eq!(
            on("GET/petstore/v2/pets", "192.0.2.10")["isAuthorized"],
            false
        );
        assert_eq!(
            on("GET/petstore/v2/status", "203.0.113.9")["isAuthorized"],
            false,
            "the policy's aws:SourceIp condition"
        );
        // No token: Unauthorized, in every format.
        for name in ["http-v1.json", "http-v2.json"] {
            assert_eq!(
                handle(&auth, true, &event(name, None), NOW).unwrap_err(),
                HandlerError::Unauthorized,
                "{name}"
            );
        }
        // An unknown payload version is a failure (500), never an allow.
        let mut odd = event("http-v2.json", Some(&vet));
        odd["version"] = Value::String("3.0".into());
        assert!(matches!(
            handle(&auth, true, &odd, NOW),
            Err(HandlerError::Failed(_))
        ));
    }

    #[test]
    fn refusals() {
        let auth = authorizer("401");
        assert_eq!(
            handle(&auth, false, &event("request.json", None), NOW).unwrap_err(),
            HandlerError::Unauthorized,
            "no Authorization header"
        );
        assert_eq!(
            handle(&auth, false, &event("token.json", None), NOW).unwrap_err(),
            HandlerError::Unauthorized
        );
        assert_eq!(
            handle(
                &auth,
                false,
                &event("token.json", Some(&token("vet.jwt"))),
                NOW + 3600
            )
            .unwrap_err(),
            HandlerError::Unauthorized,
            "expired"
        );
        assert_eq!(
            handle(
                &auth,
                false,
                &event("token.json", Some(&token("other-client.jwt"))),
                NOW
            )
            .unwrap_err(),
            HandlerError::Unauthorized
        );
        // As the AWS sample: a deny policy instead of 401.
        let deny = authorizer("403");
        let v = handle(
            &deny,
            false,
            &event("token.json", Some(&token("other-client.jwt"))),
            NOW,
        )
        .unwrap();
        assert_eq!(v["policyDocument"]["Statement"][0]["Effect"], "Deny");
        let bad = serde_json::json!({"type": "COGNITO", "methodArn": "x"});
        assert!(matches!(
            handle(&auth, false, &bad, NOW),
            Err(HandlerError::Failed(_))
        ));
        assert_eq!(
            Config::from_env(|_| None),
            Err(ConfigError::Missing("USER_POOL_ID")),
            "USER_POOL_ID and CLIENT_ID are required"
        );
        let env = |over: &'static str, v: &'static str| {
            move |k: &str| match k {
                "USER_POOL_ID" => Some("us-east-1_Example".to_string()),
                "CLIENT_ID" => Some("c".to_string()),
                k if k == over => Some(v.to_string()),
                _ => None,
            }
        };
        for (var, value) in [
            ("TOKEN_USE", "refresh"),
            ("INVALID_TOKEN", "500"),
            ("RESPONSE", "both"),
        ] {
            let e = Config::from_env(env(var, value)).unwrap_err();
            assert!(
                matches!(&e, ConfigError::Invalid { var: v, value: x, .. } if *v == var && x == value),
                "{e:?}"
            );
            assert_eq!(diag::Coded::code(&e), diag::codes::APIGW_CONFIG);
        }
        // Keys over plain HTTP are refused with the keys' own code; a missing file says which.
        let plain = Config::from_env(env("JWKS", "http://example.com/jwks.json")).unwrap();
        let Err(e) = plain.load(&root()) else {
            panic!("plain HTTP keys accepted")
        };
        assert!(matches!(e, ConfigError::Keys { .. }), "{e:?}");
        assert!(diag::Coded::code(&e).starts_with("token::"), "{e}");
        let missing = Config::from_env(env("JWKS", "nothere.json")).unwrap();
        let Err(e) = missing.load(&root()) else {
            panic!("a missing JWKS file accepted")
        };
        assert!(
            matches!(&e, ConfigError::Read { path, .. } if path.ends_with("nothere.json")),
            "{e:?}"
        );
    }
}
