//! An OpenAPI 3 export of a REST API with API Gateway's extensions (what `aws apigateway get-export
//! --export-type oas30 --parameters extensions='apigateway'` gives, in JSON): paths and methods
//! (`x-amazon-apigateway-any-method` is `ANY`), the Lambda authorizer of `components.securitySchemes`
//! (`x-amazon-apigateway-authorizer`: `type`, `identitySource`, `identityValidationExpression`,
//! `authorizerResultTtlInSeconds`), which methods use it (`security`), and the resource policy
//! (`x-amazon-apigateway-policy`). The account is not in an export: the caller gives it.

use serde_json::{Map, Value, json};

use crate::{Api, ApigwError};

/// What an export does not say (or what to use instead of what it says).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenApiOptions {
    /// The account id (required: exports do not carry it).
    pub account: Option<String>,
    /// Region, when not in the server URL.
    pub region: Option<String>,
    /// API id, when not in the server URL.
    pub api_id: Option<String>,
    /// Stage, when the server URL's `basePath` has no default.
    pub stage: Option<String>,
}

const METHODS: [(&str, &str); 8] = [
    ("get", "GET"),
    ("put", "PUT"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("options", "OPTIONS"),
    ("head", "HEAD"),
    ("patch", "PATCH"),
    ("x-amazon-apigateway-any-method", "ANY"),
];

/// An export's document: JSON when it starts with `{`, YAML otherwise (YAML's own parser, so that
/// anchors, block scalars and quoting are read as YAML means them). A syntax error is an
/// `apigw::config` error saying which syntax and where.
pub fn openapi_value(text: &str) -> Result<Value, ApigwError> {
    let bad = |m: String| ApigwError::Config(format!("OpenAPI export: {m}"));
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') {
        serde_json::from_str(t).map_err(|e| bad(format!("JSON: {e}")))
    } else {
        serde_saphyr::from_str::<Value>(t).map_err(|e| {
            // The parser's first line says where and what; the rest is its own snippet.
            let m = e.to_string();
            let first = m.lines().next().unwrap_or("").trim();
            bad(format!(
                "YAML: {}",
                first.strip_prefix("error: ").unwrap_or(first)
            ))
        })
    }
}

impl Api {
    /// Reads an OpenAPI 3 export, JSON or YAML (what `aws apigateway get-export` gives with
    /// `--accepts application/json` or `application/yaml`; a document starting with `{` is read as
    /// JSON). Errors (`apigw::config`, syntax errors with their line and column): not an OpenAPI 3
    /// document, no account, a Region or API id that neither the server URL nor the options give, more
    /// than one Lambda authorizer, an authorizer that is not a Lambda `token` or `request` authorizer,
    /// and every refusal of [`Api::from_json`].
    pub fn from_openapi(text: &str, opts: &OpenApiOptions) -> Result<Api, ApigwError> {
        let bad = |m: String| ApigwError::Config(format!("OpenAPI export: {m}"));
        let v = openapi_value(text)?;
        let version = v.get("openapi").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("3.") {
            return Err(bad(format!(
                "`openapi` is `{version}`: an OpenAPI 3 document is expected"
            )));
        }
        // https://{api-id}.execute-api.{region}.amazonaws.com/{basePath}
        let server = v.pointer("/servers/0").cloned().unwrap_or(Value::Null);
        let url = server.get("url").and_then(Value::as_str).unwrap_or("");
        let host = url
            .strip_prefix("https://")
            .and_then(|u| u.split('/').next())
            .unwrap_or("");
        let mut host_parts = host.split('.');
        let (url_id, url_region) = match (host_parts.next(), host_parts.next(), host_parts.next()) {
            (Some(id), Some("execute-api"), Some(region)) => (Some(id), Some(region)),
            _ => (None, None),
        };
        let default_stage = server
            .pointer("/variables/basePath/default")
            .and_then(Value::as_str)
            .map(|s| s.trim_matches('/').to_string());
        let pick = |given: &Option<String>, found: Option<String>, what: &str| {
            given
                .clone()
                .or(found)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| bad(format!("no {what}: give it")))
        };
        let account = pick(&opts.account, None, "account id (exports do not carry it)")?;
        let region = pick(&opts.region, url_region.map(str::to_string), "Region")?;
        let api_id = pick(&opts.api_id, url_id.map(str::to_string), "API id")?;
        let stage = pick(&opts.stage, default_stage, "stage")?;
        let schemes = v
            .pointer("/components/securitySchemes")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let lambda = |name: &str| -> Option<&Map<String, Value>> {
            schemes
                .get(name)?
                .get("x-amazon-apigateway-authorizer")?
                .as_object()
        };
        let mut routes = Vec::new();
        let mut used: Vec<String> = Vec::new();
        let paths = v
            .get("paths")
            .and_then(Value::as_object)
            .ok_or_else(|| bad("no `paths`".into()))?;
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (key, method) in METHODS {
                let Some(op) = item.get(key) else { continue };
                let names: Vec<String> = op
                    .get("security")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .flat_map(|o| o.keys().cloned())
                    .filter(|n| lambda(n).is_some())
                    .collect();
                for n in &names {
                    if !used.contains(n) {
                        used.push(n.clone());
                    }
                }
                routes.push(
                    json!({"route": format!("{method} {path}"), "authorizer": !names.is_empty()}),
                );
            }
        }
        let [name] = used.as_slice() else {
            return Err(bad(if used.is_empty() {
                "no method uses a Lambda authorizer (x-amazon-apigateway-authorizer)".into()
            } else {
                format!(
                    "methods use several Lambda authorizers ({}); one per API is supported",
                    used.join(", ")
                )
            }));
        };
        let a = lambda(name).cloned().unwrap_or_default();
        let kind = match a.get("type").and_then(Value::as_str) {
            Some(t) if t.eq_ignore_ascii_case("token") => "TOKEN",
            Some(t) if t.eq_ignore_ascii_case("request") => "REQUEST",
            other => {
                return Err(bad(format!(
                    "authorizer `{name}` has type {other:?}: only Lambda `token` and `request` authorizers run here"
                )));
            }
        };
        let mut authorizer = json!({
            "type": kind,
            "identity_sources": a.get("identitySource").and_then(Value::as_str).unwrap_or("")
                .split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        });
        if let (Some(o), Some(x)) = (
            authorizer.as_object_mut(),
            a.get("identityValidationExpression"),
        ) {
            o.insert("validation_expression".into(), x.clone());
        }
        if let (Some(o), Some(x)) = (
            authorizer.as_object_mut(),
            a.get("authorizerResultTtlInSeconds"),
        ) {
            o.insert("ttl".into(), x.clone());
        }
        let mut native = json!({
            "region": region, "account": account, "api_id": api_id, "stage": stage,
            "routes": routes, "authorizer": authorizer,
        });
        if let (Some(o), Some(p)) = (native.as_object_mut(), v.get("x-amazon-apigateway-policy")) {
            o.insert("resource_policy".into(), p.clone());
        }
        Api::from_json(&native.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuthorizerCache, HttpRequest, StaticPolicy};

    const EXPORT: &str = r#"{
      "openapi": "3.0.1",
      "info": {"title": "PetStore", "version": "1"},
      "servers": [{"url": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/{basePath}",
                   "variables": {"basePath": {"default": "prod"}}}],
      "paths": {
        "/{proxy+}": {"x-amazon-apigateway-any-method": {"security": [{"group-authorizer": []}]}},
        "/health": {"get": {}}
      },
      "components": {"securitySchemes": {"group-authorizer": {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": {"type": "request", "identitySource": "method.request.header.Authorization",
          "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations",
          "authorizerResultTtlInSeconds": 300}}}}
    }"#;

    fn opts() -> OpenApiOptions {
        OpenApiOptions {
            account: Some("123456789012".into()),
            ..OpenApiOptions::default()
        }
    }

    #[test]
    fn an_export_becomes_an_api() {
        let api = Api::from_openapi(EXPORT, &opts()).unwrap();
        assert_eq!(
            (
                api.deployment.region.as_str(),
                api.deployment.api_id.as_str(),
                api.deployment.stage.as_str()
            ),
            ("us-east-1", "a1b2c3d4e5", "prod")
        );
        assert_eq!(api.authorizer.ttl, 300);
        assert_eq!(api.routes.len(), 2);
        let f = StaticPolicy::output(
            serde_json::json!({"principalId": "u", "policyDocument": {"Version": "2012-10-17",
            "Statement": {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*"}}}),
        );
        let mut cache = AuthorizerCache::default();
        // The authorizer guards the proxy, not GET /health.
        let i = api.invoke(&HttpRequest::new("GET", "/health"), &f, &mut cache, 0);
        assert_eq!((i.status, i.function_called), (200, false));
        let i = api.invoke(
            &HttpRequest::new("POST", "/pets").header("Authorization", "t"),
            &f,
            &mut cache,
            0,
        );
        assert_eq!((i.status, i.function_called), (403, true));
    }

    #[test]
    fn a_yaml_export_reads_as_its_json_twin() {
        let yaml = r#"# get-export --accepts application/yaml
openapi: 3.0.1
info: {title: PetStore, version: "1"}
servers:
- url: https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/{basePath}
  variables:
    basePath: {default: prod}
paths:
  /{proxy+}:
    x-amazon-apigateway-any-method:
      security:
      - group-authorizer: []
  /health:
    get: {}
components:
  securitySchemes:
    group-authorizer:
      type: apiKey
      name: Authorization
      in: header
      x-amazon-apigateway-authtype: custom
      x-amazon-apigateway-authorizer:
        type: request
        identitySource: method.request.header.Authorization
        authorizerUri: arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations
        authorizerResultTtlInSeconds: 300
"#;
        assert_eq!(openapi_value(yaml).unwrap(), openapi_value(EXPORT).unwrap());
        let (a, b) = (
            Api::from_openapi(yaml, &opts()).unwrap(),
            Api::from_openapi(EXPORT, &opts()).unwrap(),
        );
        assert_eq!((a.deployment, a.routes), (b.deployment, b.routes));
        let e = Api::from_openapi("openapi: 3.0.1\npaths: [\n", &opts()).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn what_an_export_cannot_say_is_asked_for() {
        let e = Api::from_openapi(EXPORT, &OpenApiOptions::default()).unwrap_err();
        assert!(e.to_string().contains("account id"), "{e}");
        let swagger = EXPORT.replace("\"openapi\": \"3.0.1\"", "\"swagger\": \"2.0\"");
        assert!(
            Api::from_openapi(&swagger, &opts())
                .unwrap_err()
                .to_string()
                .contains("OpenAPI 3")
        );
        let cognito = EXPORT.replace("\"type\": \"request\"", "\"type\": \"cognito_user_pools\"");
        assert!(
            Api::from_openapi(&cognito, &opts())
                .unwrap_err()
                .to_string()
                .contains("only Lambda")
        );
        let ttl = EXPORT.replace(": 300}", ": 7200}");
        assert!(
            Api::from_openapi(&ttl, &opts())
                .unwrap_err()
                .to_string()
                .contains("3600")
        );
        assert!(
            Api::from_openapi("{\"openapi\": ", &opts())
                .unwrap_err()
                .to_string()
                .contains("JSON: EOF")
        );
    }
}
