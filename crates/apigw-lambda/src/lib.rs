//! The group → policy authorizer of seed 004 as an AWS Lambda function: the handler API Gateway calls,
//! running the same [`apigw::GroupAuthorizer`] that `policy-check apigw invoke` and the suites test
//! offline. Events and responses are `aws_lambda_events`' types: REST `TOKEN` events
//! (`authorizationToken`) and `REQUEST` events (the `Authorization` header).
//!
//! Configuration, from the environment (read once at start-up by the binary): `USER_POOL_ID`,
//! `CLIENT_ID`, `TOKEN_USE` (`access`, default, or `id`), `JWKS` (a file packaged beside the function, or
//! the pool's `https://…/jwks.json`; default `jwks.json`), `GROUPS` (a directory of `<group>.json`
//! policies or a JSON export of the DynamoDB table; default `groups`), `INVALID_TOKEN` (`401`, default:
//! fail with `Unauthorized`; or `403`: a deny policy, as the AWS sample).
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
}

impl Config {
    /// Reads the configuration from environment variables (`get` is `std::env::var` in the binary).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let need = |k: &str| get(k).ok_or_else(|| format!("set {k}"));
        Ok(Self {
            user_pool_id: need("USER_POOL_ID")?,
            client_id: need("CLIENT_ID")?,
            token_use: get("TOKEN_USE")
                .unwrap_or_else(|| "access".into())
                .parse()
                .map_err(|e| format!("TOKEN_USE: {e}"))?,
            jwks: get("JWKS").unwrap_or_else(|| "jwks.json".into()),
            groups: get("GROUPS").unwrap_or_else(|| "groups".into()),
            invalid_token: match get("INVALID_TOKEN").as_deref() {
                None | Some("401") => InvalidToken::Unauthorized,
                Some("403") => InvalidToken::Deny,
                Some(other) => return Err(format!("INVALID_TOKEN is 401 or 403, not `{other}`")),
            },
        })
    }

    /// Builds the authorizer, reading the JWKS file (unless it is a URL) and the group store relative to
    /// `base` (the function's package directory).
    pub fn load(&self, base: &Path) -> Result<GroupAuthorizer, String> {
        let jwks = if self.jwks.starts_with("https://") {
            JwksSource::remote(self.jwks.as_str())
        } else {
            let p = base.join(&self.jwks);
            let text = std::fs::read_to_string(&p)
                .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
            JwksSource::from_json(&text).map_err(|e| format!("{}: {e}", p.display()))?
        };
        let verifier = Verifier::new(
            VerifierConfig::for_pool(&self.user_pool_id, &self.client_id, self.token_use),
            jwks,
        );
        let g = base.join(&self.groups);
        let store = if g.is_dir() {
            let mut items = Vec::new();
            let mut entries: Vec<_> = std::fs::read_dir(&g)
                .map_err(|e| format!("cannot read `{}`: {e}", g.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            entries.sort();
            for p in entries {
                let name = p
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string();
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
                items.push((name, text));
            }
            GroupStore::from_policies(items.iter().map(|(g, t)| (g.as_str(), t.as_str())))
        } else {
            let text = std::fs::read_to_string(&g)
                .map_err(|e| format!("cannot read `{}`: {e}", g.display()))?;
            GroupStore::from_dynamodb_export(&text)
        }
        .map_err(|e| e.to_string())?;
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
/// `authorizationToken`) or `REQUEST` event (its `Authorization` header); the answer is API Gateway's
/// IAM-policy response, checked as API Gateway checks it ([`apigw::AuthorizerOutput`]) before it is
/// returned.
///
/// The response is returned as JSON, not as `aws_lambda_events`' `ApiGatewayCustomAuthorizerResponse`:
/// that type's statements keep only `Action`, `Effect`, `Resource` and `Condition`, so a policy with
/// `NotResource`, `NotAction` or a `Sid` would reach API Gateway changed (a `Deny` with `NotResource`
/// would deny nothing).
pub fn handle(auth: &GroupAuthorizer, event: &Value, now: i64) -> Result<Value, HandlerError> {
    let bad = |m: String| HandlerError::Failed(format!("malformed authorizer event: {m}"));
    let token = match event.get("type").and_then(Value::as_str) {
        Some("TOKEN") => {
            let e: ApiGatewayCustomAuthorizerRequest =
                serde_json::from_value(event.clone()).map_err(|e| bad(e.to_string()))?;
            e.authorization_token
        }
        Some("REQUEST") => {
            let e: ApiGatewayCustomAuthorizerRequestTypeRequest =
                serde_json::from_value(event.clone()).map_err(|e| bad(e.to_string()))?;
            e.headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        }
        other => return Err(bad(format!("`type` is {other:?}, not TOKEN or REQUEST"))),
    };
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or(HandlerError::Unauthorized)?;
    let output = auth.output_for(&token, now).map_err(|e| match e {
        apigw::FunctionError::Unauthorized => HandlerError::Unauthorized,
        apigw::FunctionError::Failed(m) => HandlerError::Failed(m),
    })?;
    apigw::AuthorizerOutput::from_value(&output, apigw::OutputFormat::Rest)
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
            let v = handle(&auth, &event(name, Some(&token("vet.jwt"))), NOW).unwrap();
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
    fn refusals() {
        let auth = authorizer("401");
        assert_eq!(
            handle(&auth, &event("request.json", None), NOW).unwrap_err(),
            HandlerError::Unauthorized,
            "no Authorization header"
        );
        assert_eq!(
            handle(&auth, &event("token.json", None), NOW).unwrap_err(),
            HandlerError::Unauthorized
        );
        assert_eq!(
            handle(
                &auth,
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
            &event("token.json", Some(&token("other-client.jwt"))),
            NOW,
        )
        .unwrap();
        assert_eq!(v["policyDocument"]["Statement"][0]["Effect"], "Deny");
        let bad = serde_json::json!({"type": "COGNITO", "methodArn": "x"});
        assert!(matches!(
            handle(&auth, &bad, NOW),
            Err(HandlerError::Failed(_))
        ));
        assert!(
            Config::from_env(|_| None).is_err(),
            "USER_POOL_ID and CLIENT_ID are required"
        );
    }
}
