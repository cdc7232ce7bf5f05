//! Authorizer functions: the group → policy authorizer of the AWS sample (seed 004), and a fixed policy
//! standing in for a custom function's output.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use cognito::{Claims as _, Verifier};
use iam_policy::{PolicyDocument, PolicyType};

use crate::{ApigwError, Authorizer, AuthorizerEvent, FunctionError};

/// IAM policies by Cognito group name.
#[derive(Clone, Debug, Default)]
pub struct GroupStore {
    policies: BTreeMap<String, PolicyDocument>,
    /// Each group's statements as JSON, printed once: the authorizer merges these per call.
    statements: BTreeMap<String, Vec<Value>>,
}

impl GroupStore {
    /// From `(group, policy text)` pairs (a directory of `<group>.json` files, read by the caller). Each
    /// policy must be a valid identity policy; errors name the group and the first mistake with its line
    /// and column (`apigw::group-store`).
    pub fn from_policies<'a>(
        items: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ApigwError> {
        let mut policies = BTreeMap::new();
        let mut statements = BTreeMap::new();
        for (group, text) in items {
            // Checked with `validate`'s advice too (not `check_for_evaluation`, which skips it): an
            // unknown action is what the Deny rule below looks for. The findings AWS evaluates anyway
            // stay accepted, as for evaluation.
            let checked = iam_policy::check(
                &format!("{group}.json"),
                text.as_bytes(),
                PolicyType::Identity,
                &iam_policy::ValidateOptions::default(),
            );
            if let Some(d) = checked.diagnostics.iter().find(|d| {
                d.is_error() && !iam_policy::evaluated_anyway(d.code, PolicyType::Identity)
            }) {
                let (l, c) = checked.source.line_col(d.span.start);
                return Err(ApigwError::GroupStore(format!(
                    "the policy of group `{group}` is invalid: {}:{l}:{c}: {} [{}]",
                    checked.source.name(),
                    d.message,
                    d.code
                )));
            }
            let doc = checked.document.ok_or_else(|| {
                ApigwError::GroupStore(format!("the policy of group `{group}` could not be read"))
            })?;
            // A typo in a Deny (an action or service that does not exist) denies nothing: refused here,
            // where a group's Deny is what keeps its users out.
            let typo = checked.diagnostics.iter().find(|d| {
                (d.code == iam_policy::codes::IAM_UNKNOWN_ACTION
                    || d.code == iam_policy::codes::IAM_UNKNOWN_SERVICE)
                    && doc.statements.iter().any(|s| {
                        s.effect.value == iam_policy::Effect::Deny
                            && s.span.start <= d.span.start
                            && d.span.end <= s.span.end
                    })
            });
            if let Some(d) = typo {
                let (l, c) = checked.source.line_col(d.span.start);
                return Err(ApigwError::GroupStore(format!(
                    "the policy of group `{group}` has a Deny that matches nothing: {}:{l}:{c}: {} [{}]",
                    checked.source.name(),
                    d.message,
                    d.code
                )));
            }
            // The policy as the IAM printer writes it: its statements, merged per call.
            let printed: Value = serde_json::from_str(&doc.to_string()).map_err(|e| {
                ApigwError::GroupStore(format!("printing the policy of group `{group}`: {e}"))
            })?;
            let list = match printed.get("Statement") {
                Some(Value::Array(a)) => a.clone(),
                Some(one) => vec![one.clone()],
                None => Vec::new(),
            };
            statements.insert(group.to_string(), list);
            if policies.insert(group.to_string(), doc).is_some() {
                return Err(ApigwError::GroupStore(format!(
                    "group `{group}` has two policies"
                )));
            }
        }
        Ok(Self {
            policies,
            statements,
        })
    }

    /// From a JSON export of the sample's DynamoDB table: an array of items `{"group": …, "policy": …}`,
    /// the policy an object or a JSON string, either plain or in DynamoDB's typed form (`{"S": …}`), or
    /// a `{"Items": […]}` scan result.
    pub fn from_dynamodb_export(text: &str) -> Result<Self, ApigwError> {
        let bad = |m: String| ApigwError::GroupStore(format!("group store export: {m}"));
        let v: Value = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
        let items = match &v {
            Value::Array(a) => a,
            Value::Object(o) => o
                .get("Items")
                .and_then(Value::as_array)
                .ok_or_else(|| bad("expected an array of items or {\"Items\": […]}".into()))?,
            _ => return Err(bad("expected an array of items".into())),
        };
        let untyped = |x: &Value| -> Value {
            match x {
                Value::Object(o) if o.len() == 1 && o.contains_key("S") => {
                    o.get("S").cloned().unwrap_or(Value::Null)
                }
                other => other.clone(),
            }
        };
        let mut pairs = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let group = item
                .get("group")
                .map(untyped)
                .and_then(|g| g.as_str().map(str::to_string))
                .ok_or_else(|| bad(format!("item {i} has no `group` string")))?;
            let policy = match item.get("policy").map(untyped) {
                Some(Value::String(s)) => s,
                Some(p @ Value::Object(_)) => p.to_string(),
                _ => return Err(bad(format!("item {i} (`{group}`) has no `policy`"))),
            };
            pairs.push((group, policy));
        }
        Self::from_policies(pairs.iter().map(|(g, p)| (g.as_str(), p.as_str())))
    }

    /// From a path: a directory of `<group>.json` policies (the file name is the group), or a file
    /// holding a JSON export of the sample's DynamoDB table ([`GroupStore::from_dynamodb_export`]).
    /// Errors name the path.
    pub fn from_path(path: &std::path::Path) -> Result<Self, ApigwError> {
        let name = path.display().to_string();
        let bad = |m: String| ApigwError::GroupStore(m);
        if path.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(path)
                .map_err(|e| bad(format!("cannot read `{name}`: {e}")))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            // `suspended.JSON` would be skipped and its users let through: a name that differs from
            // `*.json` only by case is refused, not ignored.
            if let Some(odd) = files.iter().find(|p| {
                p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| x != "json" && x.eq_ignore_ascii_case("json"))
            }) {
                return Err(bad(format!(
                    "`{}`: group policy files are named `<group>.json` (lower case); rename it",
                    odd.display()
                )));
            }
            files.retain(|p| p.extension().is_some_and(|x| x == "json"));
            files.sort();
            let mut items = Vec::new();
            for f in &files {
                let group = f
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_string();
                let text = std::fs::read_to_string(f)
                    .map_err(|e| bad(format!("cannot read `{}`: {e}", f.display())))?;
                items.push((group, text));
            }
            if items.is_empty() {
                return Err(bad(format!("`{name}` holds no <group>.json policies")));
            }
            return Self::from_policies(items.iter().map(|(g, t)| (g.as_str(), t.as_str())))
                .map_err(|e| bad(format!("{name}: {e}")));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read `{name}`: {e}")))?;
        Self::from_dynamodb_export(&text).map_err(|e| bad(format!("{name}: {e}")))
    }

    /// The policy of a group.
    pub fn get(&self, group: &str) -> Option<&PolicyDocument> {
        self.policies.get(group)
    }

    /// The groups that have a policy.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.policies.keys().map(String::as_str)
    }
}

/// What the group authorizer does with a token that fails verification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InvalidToken {
    /// Fail with `Unauthorized`: the client gets 401 (the default).
    #[default]
    Unauthorized,
    /// Return a policy that denies everything, as the AWS sample does: the client gets 403.
    Deny,
}

/// The group → policy authorizer: verify the bearer token, look up each of its `cognito:groups`, merge the
/// statements of the policies found. The result does not depend on the path, so it is safe to cache.
pub struct GroupAuthorizer {
    verifier: Verifier,
    store: GroupStore,
    invalid_token: InvalidToken,
    simple: bool,
}

impl GroupAuthorizer {
    /// An authorizer over a verifier (its `token_use`, clients and issuer) and a group store.
    pub fn new(verifier: Verifier, store: GroupStore, invalid_token: InvalidToken) -> Self {
        Self {
            verifier,
            store,
            invalid_token,
            simple: false,
        }
    }

    /// Answers with HTTP API simple responses (payload format 2.0 with simple responses enabled):
    /// `isAuthorized` is the merged policy's decision on the event's `routeArn`, so the answer depends
    /// on the route, and a cached `true` is reused for every route until the TTL ends, as API Gateway
    /// reuses it.
    #[must_use]
    pub fn simple_responses(mut self, on: bool) -> Self {
        self.simple = on;
        self
    }

    /// The simple response for a token on a route: `{"isAuthorized", "context"}`, where `isAuthorized`
    /// is whether the merged group policy allows `route_arn` under `ctx` (an invalid token follows the
    /// [`InvalidToken`] choice: `Unauthorized`, or `false`).
    pub fn simple_output_for(
        &self,
        token: &str,
        route_arn: &str,
        ctx: &crate::GatewayContext,
    ) -> Result<Value, FunctionError> {
        let out = self.output_for(token, ctx.now)?;
        let allowed = crate::AuthorizerOutput::from_value(&out, crate::OutputFormat::Rest)
            .ok()
            .and_then(|o| o.policy.map(|p| p.decide(route_arn, ctx).decision))
            == Some(authz_core::Decision::Allow);
        Ok(json!({
            "isAuthorized": allowed,
            "context": out.get("context").cloned().unwrap_or_else(|| json!({})),
        }))
    }

    /// The output for a token: `principalId` = `sub`; `context` = `sub`, `username`, comma-joined
    /// `groups`; the merged statements of the user's groups' policies, or a policy denying everything
    /// when no group has one.
    pub fn output_for(&self, token: &str, now: i64) -> Result<Value, FunctionError> {
        let token = token
            .strip_prefix("Bearer ")
            .or_else(|| token.strip_prefix("bearer "))
            .unwrap_or(token);
        let claims = match self.verifier.verify_at(token, now) {
            Ok(c) => c,
            Err(_) if self.invalid_token == InvalidToken::Unauthorized => {
                return Err(FunctionError::Unauthorized);
            }
            Err(_) => return Ok(deny_all("anonymous", Map::new())),
        };
        let (groups, context) = group_context(&claims);
        let mut statements = Vec::new();
        for g in &groups {
            if let Some(list) = self.store.statements.get(*g) {
                statements.extend(list.iter().cloned());
            }
        }
        if statements.is_empty() {
            return Ok(deny_all(claims.sub(), context));
        }
        Ok(json!({
            "principalId": claims.sub(),
            "policyDocument": {"Version": "2012-10-17", "Statement": statements},
            "context": context,
        }))
    }
}

impl Authorizer for GroupAuthorizer {
    fn call(&self, event: &AuthorizerEvent, now: i64) -> Result<Value, FunctionError> {
        // The sample is a REQUEST authorizer on `Authorization`; a TOKEN event carries the same value.
        let token = event
            .authorization_token
            .clone()
            .or_else(|| {
                event
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    .map(|(_, v)| v.clone())
            })
            .ok_or(FunctionError::Unauthorized)?;
        if self.simple {
            let ctx = crate::GatewayContext {
                source_ip: event.source_ip.clone(),
                now,
                secure_transport: true,
            };
            return self.simple_output_for(&token, &event.method_arn, &ctx);
        }
        self.output_for(&token, now)
    }
}

/// A verified token's `cognito:groups`, and the authorizer context seed 004 returns for it: `sub`,
/// `username` (or `cognito:username`), and the comma-joined `groups`.
pub fn group_context(claims: &cognito::VerifiedClaims) -> (Vec<&str>, Map<String, Value>) {
    let groups = cognito::string_list(claims.claims().get("cognito:groups"));
    let username = claims
        .str("username")
        .or_else(|| claims.str("cognito:username"))
        .unwrap_or("");
    let mut context = Map::new();
    context.insert("sub".into(), json!(claims.sub()));
    context.insert("username".into(), json!(username));
    context.insert("groups".into(), json!(groups.join(",")));
    (groups, context)
}

/// A policy that denies everything (`Resource: "*"`, so the deny is explicit).
fn deny_all(principal: &str, context: Map<String, Value>) -> Value {
    json!({
        "principalId": principal,
        "policyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*"}]},
        "context": context,
    })
}

/// A custom authorizer function stood in for by the output it returns: a fixed principal and policy.
#[derive(Clone, Debug)]
pub struct StaticPolicy {
    output: Value,
}

impl StaticPolicy {
    /// The output `{"principalId": principal, "policyDocument": policy}`; the policy text must be JSON.
    pub fn new(principal: &str, policy: &str) -> Result<Self, ApigwError> {
        let doc: Value = serde_json::from_str(policy)
            .map_err(|e| ApigwError::Config(format!("the policy is not JSON: {e}")))?;
        Ok(Self {
            output: json!({"principalId": principal, "policyDocument": doc}),
        })
    }

    /// A function that returns exactly `output` (validated when API Gateway reads it).
    pub fn output(output: Value) -> Self {
        Self { output }
    }
}

impl Authorizer for StaticPolicy {
    fn call(&self, _event: &AuthorizerEvent, _now: i64) -> Result<Value, FunctionError> {
        Ok(self.output.clone())
    }
}
