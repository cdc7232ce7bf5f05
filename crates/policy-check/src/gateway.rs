//! Loading what `apigw` commands and suite cases need: API definitions, authorizers (a group store with a
//! token verifier, or a policy standing in for a custom function's output) and HTTP requests.

use crate::Failure;
use std::path::{Path, PathBuf};

use serde_json::Value;

use apigw::{
    Api, Authorizer, FunctionAuthorizer, GroupAuthorizer, GroupStore, HttpRequest, InvalidToken,
    RawOutput, StaticPolicy,
};
use cognito::{TokenUse, Verifier, VerifierConfig};
use lambda_local::{Code, FunctionSpec, LocalFunction};

/// Reads an API definition: the native JSON form, or an OpenAPI 3 export with API Gateway's extensions
/// (recognised by its `openapi` field; `account` fills what exports do not carry).
pub fn load_api(path: &Path, account: Option<&str>) -> Result<Api, Failure> {
    let name = path.display().to_string();
    let text = crate::read_text(path)?;
    let yaml = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("yaml") || x.eq_ignore_ascii_case("yml"));
    let v = if yaml {
        // YAML is an OpenAPI export (the native form is JSON).
        apigw::openapi_value(&text).map_err(|e| Failure::from(e).at(&name))?
    } else {
        crate::input::json_text(&name, &text)?
    };
    if v.get("openapi").is_some() {
        let opts = apigw::OpenApiOptions {
            account: account.map(str::to_string),
            ..apigw::OpenApiOptions::default()
        };
        return Api::from_openapi(&text, &opts)
            .map_err(|e| crate::Failure::coded(&e).at(&name).to_string())
            .map_err(Failure::from);
    }
    if yaml {
        return Err(Failure::from(format!(
            "{name}: a YAML file is read as an OpenAPI 3 export, and this one has no `openapi` field"
        )));
    }
    // The refusal names its code (`apigw::config`), as every other refusal does.
    Api::from_json(&text)
        .map_err(|e| crate::Failure::coded(&e).at(&name).to_string())
        .map_err(Failure::from)
}

/// Reads a group store: a directory of `<group>.json` policies, or a JSON export of the sample's DynamoDB
/// table.
pub fn load_groups(path: &Path) -> Result<GroupStore, Failure> {
    if !path.is_dir() {
        // A DynamoDB export: refuse JSON syntax mistakes with their position first.
        let name = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read `{name}`: {e}"))?;
        crate::input::json_text(&name, &text)?;
    }
    GroupStore::from_path(path).map_err(|e| Failure::coded(&e))
}

/// How to verify the bearer tokens a group authorizer reads.
#[derive(Clone, Debug)]
pub struct TokenCheck {
    /// JWKS file or URL.
    pub jwks: String,
    /// User pool id.
    pub user_pool_id: String,
    /// App client id.
    pub client_id: String,
    /// `access` (as the AWS sample) or `id`.
    pub token_use: TokenUse,
    /// 401 (`Unauthorized`) or 403 (a deny policy) for a token that fails verification.
    pub invalid_token: InvalidToken,
}

/// A user's authorizer function: its code and how to run it.
#[derive(Clone, Debug, Default)]
pub struct FunctionChoice {
    /// An executable speaking the Lambda Runtime API, with its arguments (split at whitespace).
    pub command: Option<String>,
    /// Lambda's `DIR/file.function` handler for Node.js or Python.
    pub handler: Option<String>,
    /// The function's environment variables.
    pub env: Vec<(String, String)>,
    /// The timeout in seconds (Lambda's default 3).
    pub timeout: Option<u64>,
    /// Copy the function's output to stderr.
    pub echo_logs: bool,
}

/// Which authorizer answers: the group store with its token check, a policy returned as a custom
/// function's output, the user's own function, or a file of raw output.
#[derive(Clone, Copy, Debug)]
pub enum AuthorizerChoice<'a> {
    /// The group → policy authorizer.
    Groups(&'a Path),
    /// A policy returned with `principalId` `user`.
    Policy(&'a Path),
    /// The user's function in the local Lambda execution environment.
    Function(&'a FunctionChoice),
    /// A file whose text the function answers, `$methodArn` replaced.
    Output(&'a Path),
}

/// Builds the chosen authorizer (answering with simple responses when the API is an HTTP API with
/// simple responses enabled). Paths in a function's command or handler are relative to `base`.
pub fn load_authorizer(
    choice: AuthorizerChoice<'_>,
    check: Option<&TokenCheck>,
    api: &apigw::Api,
    base: &Path,
) -> Result<Box<dyn Authorizer>, Failure> {
    match choice {
        AuthorizerChoice::Groups(g) => {
            let store = load_groups(g)?;
            let c = check.ok_or(
                "a group authorizer verifies tokens: give the JWKS, the user pool id and the client id",
            )?;
            let verifier = Verifier::new(
                VerifierConfig::for_pool(&c.user_pool_id, &c.client_id, c.token_use),
                crate::input::jwks_source(&c.jwks, base)?,
            );
            let simple = api.format == (apigw::OutputFormat::Http2 { simple: true });
            Ok(Box::new(
                GroupAuthorizer::new(verifier, store, c.invalid_token).simple_responses(simple),
            ))
        }
        AuthorizerChoice::Policy(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
            crate::input::json_text(&p.display().to_string(), &text)?;
            Ok(Box::new(StaticPolicy::new("user", &text)?))
        }
        AuthorizerChoice::Output(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
            Ok(Box::new(RawOutput::new(text)))
        }
        AuthorizerChoice::Function(f) => Ok(Box::new(load_function(f, api, base)?)),
    }
}

/// `path` relative to `base` (as written when `base` is the current directory).
fn rebase(base: &Path, path: &str) -> String {
    if base == Path::new(".") || Path::new(path).is_absolute() {
        path.to_string()
    } else {
        base.join(path).to_string_lossy().into_owned()
    }
}

/// The user's function, ready to run (it starts at its first invocation).
fn load_function(
    f: &FunctionChoice,
    api: &apigw::Api,
    base: &Path,
) -> Result<FunctionAuthorizer, Failure> {
    let code = match (&f.command, &f.handler) {
        (Some(c), None) => {
            let code = Code::command(c).map_err(|e| crate::Failure::coded(&e).to_string())?;
            match code {
                // A program given as a relative path is the suite's (or the current directory's).
                Code::Command { program, args } if program.components().count() > 1 => {
                    Code::Command {
                        program: PathBuf::from(rebase(base, &program.to_string_lossy())),
                        args,
                    }
                }
                other => other,
            }
        }
        (None, Some(h)) => {
            Code::handler(&rebase(base, h)).map_err(|e| crate::Failure::coded(&e).to_string())?
        }
        _ => return Err("a function is a `command` or a `handler`, not both".into()),
    };
    let mut spec = FunctionSpec::new(code);
    spec.region.clone_from(&api.deployment.region);
    spec.account.clone_from(&api.deployment.account);
    spec.env.clone_from(&f.env);
    spec.task_root = Some(base.to_path_buf());
    spec.echo_logs = f.echo_logs;
    if let Some(t) = f.timeout {
        spec.timeout = std::time::Duration::from_secs(t);
    }
    let function = LocalFunction::new(spec).map_err(|e| crate::Failure::coded(&e).to_string())?;
    Ok(FunctionAuthorizer::new(function))
}

/// One HTTP request as written: `{"method", "path", "headers": {name: value}, "source_ip", "token",
/// "now"}` (`token`: a JWT or a file next to the request's file, sent as `Authorization: Bearer …`;
/// `now`: Unix seconds, for `apigw invoke --requests`). Decoded with its fields checked: a misspelt field
/// or a value of the wrong type is refused, never ignored.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "an HTTP request: an object with `method`, `path` and optionally `headers`, `source_ip`, `token`, `now`"
)]
pub struct HttpRequestDef {
    /// The HTTP method.
    pub method: String,
    /// The path (and query string).
    pub path: String,
    /// Header values by name.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// The caller's IP address.
    pub source_ip: Option<String>,
    /// A bearer token (inline, or a file).
    pub token: Option<String>,
    /// When it is sent (Unix seconds).
    pub now: Option<i64>,
}

impl HttpRequestDef {
    /// The request, its `token` read (relative to `base` when it is a file).
    pub fn to_request(&self, base: &Path, what: &str) -> Result<HttpRequest, Failure> {
        let mut req = HttpRequest::new(&self.method, &self.path);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if let Some(t) = &self.token {
            let token = crate::input::token_text_at(t, base).map_err(|e| e.at(what))?;
            req = req.header("Authorization", &format!("Bearer {token}"));
        }
        if let Some(ip) = &self.source_ip {
            req = req.source_ip(ip);
        }
        Ok(req)
    }
}

/// One HTTP request from a JSON value without positions (built from the command line); see
/// [`HttpRequestDef`].
pub fn http_request(v: &Value, base: &Path, what: &str) -> Result<HttpRequest, Failure> {
    use serde::Deserialize;
    HttpRequestDef::deserialize(v)
        .map_err(|e| Failure::from(format!("{what}: {e}")))?
        .to_request(base, what)
}

/// A file of HTTP requests (a JSON array), read once: each request with its JSON (for reports) and its
/// decoded form; a mistake is a `json::shape` error at its line and column.
pub fn read_http_requests(path: &Path) -> Result<Vec<(Value, HttpRequestDef)>, Failure> {
    let text = crate::read_text(path)?;
    let name = path.display().to_string();
    let tree = crate::input::json_tree(&name, &text)?;
    let diag::json::Kind::Array(items) = &tree.kind else {
        return Err(crate::input::shape_error(
            &name,
            &text,
            tree.span,
            "a JSON array of requests".into(),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let located = |e: diag::de::DecodeError| {
                crate::input::shape_error(
                    &name,
                    &text,
                    e.span.unwrap_or(n.span),
                    format!("request #{}: {}", i + 1, e.message),
                )
            };
            let def: HttpRequestDef = diag::de::from_value(n).map_err(located)?;
            let raw: Value = diag::de::from_value(n).map_err(located)?;
            Ok((raw, def))
        })
        .collect()
}
