//! An authorizer's output, validated as API Gateway validates it: anything it would reject is an invalid
//! output, which the client sees as 500.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use iam_eval::PolicySet;
use iam_policy::{PolicyDocument, PolicyType};

use crate::ApigwError;
use crate::gateway::Needs;

/// Each `Resource` ARN of a returned policy is limited to this many characters.
pub const MAX_RESOURCE_ARN_CHARS: usize = 512;

/// Which API and payload format the output answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// A REST API authorizer: `principalId`, `policyDocument`, scalar `context`, `usageIdentifierKey`.
    #[default]
    Rest,
    /// An HTTP API authorizer, payload format 1.0: as REST, and `claims` is a reserved context key.
    Http1,
    /// An HTTP API authorizer, payload format 2.0: an IAM-policy response (any JSON in `context`), or a
    /// simple response `{"isAuthorized", "context"}` when simple responses are enabled.
    Http2 {
        /// Whether the authorizer is configured for simple responses.
        simple: bool,
    },
}

/// A valid authorizer output.
#[derive(Clone, Debug)]
pub struct AuthorizerOutput {
    /// `principalId` (policy responses).
    pub principal_id: Option<String>,
    /// `policyDocument`, parsed, validated and compiled (policy responses).
    pub policy: Option<Arc<CompiledPolicy>>,
    /// `isAuthorized` (simple responses).
    pub is_authorized: Option<bool>,
    /// `context` as returned.
    pub context: Map<String, Value>,
    /// `usageIdentifierKey`, when returned.
    pub usage_identifier_key: Option<String>,
    /// The output as the function returned it.
    pub raw: Arc<Value>,
}

/// A returned policy, parsed, validated and compiled once: the gateway decides with it on every request
/// that reuses the output.
#[derive(Debug)]
pub struct CompiledPolicy {
    /// The policy as parsed.
    pub document: PolicyDocument,
    pub(crate) authorizer: iam_eval::Authorizer,
    /// The request context keys its text mentions (the gateway builds only those).
    pub(crate) needs: Needs,
    /// The context built for the last request (caller address, second): consecutive requests of the
    /// same caller within a second reuse it instead of building it again.
    last_context: std::sync::Mutex<Option<LastContext>>,
}

/// A built context with the caller address and second it was built for.
type LastContext = (Box<str>, i64, Arc<authz_core::Context>);

impl CompiledPolicy {
    /// The gateway's context for a request from `source_ip` at `now`, with only the keys this policy
    /// names; reused while the caller and the second are the same.
    pub(crate) fn context(&self, source_ip: &str, now: i64) -> Arc<authz_core::Context> {
        let mut last = self
            .last_context
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((ip, at, ctx)) = last.as_ref()
            && **ip == *source_ip
            && *at == now
        {
            return ctx.clone();
        }
        let ctx = Arc::new(crate::gateway::iam_context(
            source_ip, now, true, self.needs,
        ));
        *last = Some((source_ip.into(), now, ctx.clone()));
        ctx
    }

    /// The gateway's decision with this policy on a `methodArn` / `routeArn`: action
    /// `execute-api:Invoke`, the gateway's context keys.
    pub fn decide(&self, method_arn: &str, ctx: &crate::GatewayContext) -> authz_core::Answer {
        let context =
            crate::gateway::iam_context(&ctx.source_ip, ctx.now, ctx.secure_transport, self.needs);
        let req = authz_core::Request::new("execute-api:Invoke", method_arn).context(&context);
        self.authorizer.answer(&req)
    }
}

/// Returned policies by their printed text, so that outputs repeating a policy (every user of the same
/// groups) skip parsing and compiling. Bounded: it empties itself past [`PolicyMemo::CAPACITY`] entries.
#[derive(Debug, Default)]
pub(crate) struct PolicyMemo {
    map: Mutex<HashMap<String, Arc<CompiledPolicy>, foldhash::fast::RandomState>>,
}

impl PolicyMemo {
    const CAPACITY: usize = 1024;

    fn get_or_compile(&self, doc: &Value) -> Result<Arc<CompiledPolicy>, ApigwError> {
        let text = serde_json::to_string_pretty(doc)
            .map_err(|e| ApigwError::output(format!("`policyDocument`: {e}")))?;
        // A poisoned lock only means another request panicked mid-insert; the map is still whole.
        let found = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&text)
            .cloned();
        if let Some(c) = found {
            return Ok(c);
        }
        let compiled = Arc::new(compile_policy(&text)?);
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= Self::CAPACITY {
            map.clear();
        }
        map.insert(text, compiled.clone());
        Ok(compiled)
    }
}

impl AuthorizerOutput {
    /// Validates an output. Errors (`apigw::invalid-output`): not an object; a policy response without
    /// `principalId` (a string) or `policyDocument` (a valid IAM policy; each `Resource` ARN at most 512
    /// characters); a REST or format 1.0 `context` value that is not a string, number or boolean, or the
    /// reserved `claims` key in format 1.0; a simple response whose `isAuthorized` is not a boolean.
    pub fn from_value(v: &Value, format: OutputFormat) -> Result<Self, ApigwError> {
        Self::read(v.clone(), format, None)
    }

    /// [`AuthorizerOutput::from_value`] on an owned output, with the API's memo of compiled policies.
    pub(crate) fn read(
        v: Value,
        format: OutputFormat,
        memo: Option<&PolicyMemo>,
    ) -> Result<Self, ApigwError> {
        let o = v
            .as_object()
            .ok_or_else(|| ApigwError::output("the output is not a JSON object"))?;
        let context = match o.get("context") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(c)) => c.clone(),
            Some(other) => {
                return Err(ApigwError::output(format!(
                    "`context` must be an object, found {other}"
                )));
            }
        };
        if matches!(format, OutputFormat::Rest | OutputFormat::Http1) {
            for (k, x) in &context {
                if !matches!(x, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
                    return Err(ApigwError::output(format!(
                        "`context.{k}` is {x}: context values must be strings, numbers or booleans"
                    )));
                }
            }
            if format == OutputFormat::Http1 && context.contains_key("claims") {
                return Err(ApigwError::output(
                    "`context.claims` is reserved in payload format 1.0",
                ));
            }
        }
        if format == (OutputFormat::Http2 { simple: true }) {
            let is_authorized = match o.get("isAuthorized") {
                Some(Value::Bool(b)) => *b,
                other => {
                    return Err(ApigwError::output(format!(
                        "a simple response needs `isAuthorized` (a boolean), found {}",
                        other.map_or_else(|| "nothing".to_string(), Value::to_string)
                    )));
                }
            };
            return Ok(Self {
                principal_id: None,
                policy: None,
                is_authorized: Some(is_authorized),
                context,
                usage_identifier_key: None,
                raw: Arc::new(v),
            });
        }
        let principal_id = match o.get("principalId") {
            Some(Value::String(p)) => p.clone(),
            other => {
                return Err(ApigwError::output(format!(
                    "`principalId` is required (a string), found {}",
                    other.map_or_else(|| "nothing".to_string(), Value::to_string)
                )));
            }
        };
        let doc = o
            .get("policyDocument")
            .ok_or_else(|| ApigwError::output("`policyDocument` is required"))?;
        let policy = match memo {
            Some(m) => m.get_or_compile(doc)?,
            None => Arc::new(compile_policy(
                &serde_json::to_string_pretty(doc)
                    .map_err(|e| ApigwError::output(format!("`policyDocument`: {e}")))?,
            )?),
        };
        let usage_identifier_key = match o.get("usageIdentifierKey") {
            None | Some(Value::Null) => None,
            Some(Value::String(k)) => Some(k.clone()),
            Some(other) => {
                return Err(ApigwError::output(format!(
                    "`usageIdentifierKey` must be a string, found {other}"
                )));
            }
        };
        Ok(Self {
            principal_id: Some(principal_id),
            policy: Some(policy),
            is_authorized: None,
            context,
            usage_identifier_key,
            raw: Arc::new(v),
        })
    }

    /// The `context` as the backend receives it: for REST and format 1.0 every value as a string
    /// (`true`, `1`), for format 2.0 as returned.
    pub fn backend_context(&self, format: OutputFormat) -> Map<String, Value> {
        match format {
            OutputFormat::Http2 { .. } => self.context.clone(),
            OutputFormat::Rest | OutputFormat::Http1 => self
                .context
                .iter()
                .map(|(k, v)| {
                    let s = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.clone(), Value::String(s))
                })
                .collect(),
        }
    }
}

/// Parses a returned `policyDocument` (printed as JSON) with the IAM parser, any error making the output
/// invalid, and compiles it.
fn compile_policy(text: &str) -> Result<CompiledPolicy, ApigwError> {
    let checked =
        iam_policy::check_for_evaluation("policyDocument", text.as_bytes(), PolicyType::Identity);
    if let Some(d) = checked.diagnostics.iter().find(|d| d.is_error()) {
        let (l, c) = checked.source.line_col(d.span.start);
        return Err(ApigwError::output(format!(
            "`policyDocument` {l}:{c}: {} [{}]",
            d.message, d.code
        )));
    }
    let policy = checked
        .document
        .ok_or_else(|| ApigwError::output("`policyDocument` could not be read"))?;
    for s in &policy.statements {
        for r in s.resource.iter().flat_map(|r| r.items.iter()) {
            let raw = r.raw.as_str();
            if raw.chars().count() > MAX_RESOURCE_ARN_CHARS {
                return Err(ApigwError::output(format!(
                    "a `Resource` ARN of {} characters; API Gateway allows {MAX_RESOURCE_ARN_CHARS}",
                    raw.chars().count()
                )));
            }
        }
    }
    let authorizer = iam_eval::Authorizer::new(
        PolicySet::compile(authz_core::Layer::Identity, [policy.clone()])
            .map_err(|e| ApigwError::output(e.to_string()))?,
    );
    Ok(CompiledPolicy {
        document: policy,
        authorizer,
        needs: Needs::of_text(text),
        last_context: std::sync::Mutex::new(None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]})
    }

    #[test]
    fn outputs_are_checked_as_api_gateway_checks_them() {
        let ok = json!({"principalId": "u", "policyDocument": policy(), "context": {"a": "x", "n": 1, "b": true}});
        let out = AuthorizerOutput::from_value(&ok, OutputFormat::Rest).unwrap();
        assert_eq!(
            Value::Object(out.backend_context(OutputFormat::Rest)),
            json!({"a": "x", "n": "1", "b": "true"}),
            "REST context values reach the backend as strings"
        );
        let bad = |v: Value, f: OutputFormat| {
            AuthorizerOutput::from_value(&v, f).unwrap_err().to_string()
        };
        assert!(
            bad(json!({"policyDocument": policy()}), OutputFormat::Rest).contains("principalId")
        );
        assert!(bad(json!({"principalId": "u"}), OutputFormat::Rest).contains("policyDocument"));
        assert!(
            bad(
                json!({"principalId": 7, "policyDocument": policy()}),
                OutputFormat::Rest
            )
            .contains("principalId")
        );
        let nested =
            json!({"principalId": "u", "policyDocument": policy(), "context": {"groups": ["a"]}});
        assert!(bad(nested.clone(), OutputFormat::Rest).contains("context.groups"));
        assert!(bad(nested.clone(), OutputFormat::Http1).contains("context.groups"));
        assert!(
            AuthorizerOutput::from_value(&nested, OutputFormat::Http2 { simple: false }).is_ok()
        );
        let claims =
            json!({"principalId": "u", "policyDocument": policy(), "context": {"claims": "x"}});
        assert!(bad(claims, OutputFormat::Http1).contains("reserved"));
        let lower = json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17", "Statement": {"Effect": "allow", "Action": "execute-api:Invoke", "Resource": "*"}}});
        assert!(bad(lower, OutputFormat::Rest).contains(diag::codes::IAM_EFFECT));
        let long = json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "execute-api:Invoke",
            "Resource": format!("arn:aws:execute-api:us-east-1:123456789012:api/prod/GET/{}", "p".repeat(500))}}});
        assert!(bad(long, OutputFormat::Rest).contains("512"));
        assert!(bad(json!("Allow"), OutputFormat::Rest).contains("not a JSON object"));
        let simple = OutputFormat::Http2 { simple: true };
        assert_eq!(
            AuthorizerOutput::from_value(
                &json!({"isAuthorized": false, "context": {"x": [1]}}),
                simple
            )
            .unwrap()
            .is_authorized,
            Some(false)
        );
        assert!(bad(json!({"isAuthorized": "true"}), simple).contains("isAuthorized"));
    }
}
