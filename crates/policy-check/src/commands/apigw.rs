//! `apigw invoke`: requests through an API Gateway API with a Lambda authorizer, sharing one authorizer
//! cache, so a policy cached for one path and reused for another shows.

use crate::Failure;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::Format;
use crate::gateway::{AuthorizerChoice, TokenCheck, http_request, load_api, load_authorizer};

/// `apigw` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ApigwCommand {
    /// Run requests through an API's Lambda authorizer and the gateway's decision.
    #[command(after_help = crate::EXIT_CODES)]
    Invoke(Box<InvokeArgs>),
    /// The cache check: with a TTL above 0, list the routes each policy does not allow (a policy cached
    /// for one route answers every route for the TTL). Exit 1 when a route is not covered.
    #[command(after_help = crate::EXIT_CODES)]
    Check(Box<CheckArgs>),
}

/// `apigw check`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("authorizer_source").required(true)))]
pub struct CheckArgs {
    /// The API and its authorizer's policies.
    #[command(flatten)]
    pub source: ApiSource,
}

/// The API definition and the authorizer's policies, shared by `apigw invoke` and `apigw check`.
#[derive(Debug, clap::Args)]
pub struct ApiSource {
    /// API definition (JSON: region, account, api_id, stage, routes, authorizer, resource_policy), or an
    /// OpenAPI 3 export with API Gateway's extensions; with `--template`, the API's logical id there.
    #[arg(long)]
    pub api: PathBuf,
    /// A CloudFormation template holding the API (`--api` is then its logical id): a REST API with its
    /// resource tree, methods, Lambda authorizer, stage and resource policy, or an HTTP API with its
    /// routes, Lambda authorizer and stage.
    #[arg(long, value_name = "TEMPLATE")]
    pub template: Option<PathBuf>,
    /// What `--template` is resolved with.
    #[command(flatten)]
    pub template_input: super::template::TemplateInput,
    /// The account id, for an OpenAPI export (exports do not carry it).
    #[arg(long)]
    pub account: Option<String>,
    /// The group → policy authorizer's store: a directory of `<group>.json` policies, or a JSON export of
    /// the DynamoDB table.
    #[arg(long, group = "authorizer_source")]
    pub groups: Option<PathBuf>,
    /// A policy standing in for a custom authorizer's output (principalId `user`).
    #[arg(long, group = "authorizer_source")]
    pub policy: Option<PathBuf>,
    /// Your authorizer as a program that speaks the Lambda Runtime API (a `lambda_runtime` binary, a
    /// Node.js or Python program using AWS's runtime interface client), with its arguments split at
    /// whitespace; run warm in a local Lambda execution environment (`apigw invoke` only).
    #[arg(long, group = "authorizer_source", value_name = "CMD")]
    pub function: Option<String>,
    /// Your Node.js or Python authorizer by Lambda's handler name, `DIR/file.function` (`file.js`,
    /// `file.mjs`, `file.cjs` or `file.py` in DIR), run through policy-check's bootstrap (`apigw invoke`
    /// only).
    #[arg(long, group = "authorizer_source", value_name = "DIR/FILE.FUNCTION")]
    pub handler: Option<String>,
    /// A file of what the authorizer answers, every time (JSON or not), with `$methodArn` replaced by the
    /// ARN of the call (`apigw invoke` only).
    #[arg(long, group = "authorizer_source", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl ApiSource {
    /// The API: from its definition file, or from the template.
    fn load(&self) -> Result<apigw::Api, Failure> {
        match &self.template {
            Some(t) => super::template::api_from_template(
                t,
                &self.api.to_string_lossy(),
                &self.template_input,
            ),
            None => load_api(&self.api, self.account.as_deref()),
        }
    }

    /// The authorizer chosen (clap makes it exactly one).
    fn choice<'a>(
        &'a self,
        function: &'a crate::gateway::FunctionChoice,
    ) -> Result<AuthorizerChoice<'a>, Failure> {
        Ok(match (&self.groups, &self.policy, &self.output) {
            (Some(g), _, _) => AuthorizerChoice::Groups(g),
            (_, Some(p), _) => AuthorizerChoice::Policy(p),
            (_, _, Some(o)) => AuthorizerChoice::Output(o),
            _ if self.function.is_some() || self.handler.is_some() => {
                AuthorizerChoice::Function(function)
            }
            _ => {
                return Err(
                    "give the authorizer: --groups, --policy, --function, --handler or --output"
                        .into(),
                );
            }
        })
    }
}

fn check(a: &CheckArgs, out: &mut dyn Write) -> Result<u8, Failure> {
    let api = a.source.load()?;
    let ttl = api.authorizer.ttl;
    if ttl == 0 {
        let _ = writeln!(
            out,
            "{}: caching is off (TTL 0): every request runs the authorizer",
            a.source.api.display()
        );
        return Ok(0);
    }
    let mut policies: Vec<(String, iam_policy::PolicyDocument)> = Vec::new();
    match (&a.source.groups, &a.source.policy) {
        (Some(g), _) => {
            let store = crate::gateway::load_groups(g)?;
            for name in store.groups() {
                if let Some(p) = store.get(name) {
                    policies.push((format!("group `{name}`"), p.clone()));
                }
            }
        }
        (None, Some(p)) => {
            let doc = crate::policies::load_policy(p, iam_policy::PolicyType::Identity)?;
            policies.push((format!("`{}`", p.display()), doc));
        }
        (None, None) => {
            return Err(
                "`apigw check` reads the authorizer's policies: give --groups or --policy (a function's policies are known only once it runs)"
                    .into(),
            );
        }
    }
    let mut findings = 0;
    for (what, doc) in &policies {
        let uncovered = api.uncovered(std::slice::from_ref(doc))?;
        if uncovered.is_empty() {
            let _ = writeln!(out, "ok: {what} allows every route");
            continue;
        }
        findings += 1;
        let _ = writeln!(
            out,
            "warning[{}]: with TTL {ttl} s the policy {what} returned for one request answers every route for that caller, but it does not allow:",
            diag::codes::APIGW_CACHE_COVERAGE
        );
        for u in &uncovered {
            let _ = writeln!(
                out,
                "  {} ({} as {}): {}",
                u.route, u.verb, u.method_arn, u.decision
            );
        }
    }
    if findings > 0 {
        let _ = writeln!(
            out,
            "help: if the authorizer builds its policy from the methodArn, return one that covers every route, or set the TTL to 0; a group policy that means to refuse these routes is fine as it is"
        );
    }
    Ok(u8::from(findings > 0))
}

/// `apigw invoke`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("authorizer_source").required(true)))]
pub struct InvokeArgs {
    /// The API and its authorizer's policies.
    #[command(flatten)]
    pub source: ApiSource,
    /// An environment variable of the function, `NAME=value` (repeatable; with --function or --handler).
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// The function's timeout in seconds, 1–900 (Lambda's default: 3); a function that does not answer in
    /// time is a failed invocation (500).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Copy the function's own output (its logs) to stderr as it runs.
    #[arg(long)]
    pub function_logs: bool,
    /// JWKS file or URL (group authorizer).
    #[arg(long)]
    pub jwks: Option<String>,
    /// User pool id (group authorizer).
    #[arg(long)]
    pub user_pool_id: Option<String>,
    /// App client id (group authorizer).
    #[arg(long)]
    pub client_id: Option<String>,
    /// Token use the group authorizer accepts.
    #[arg(long, default_value = "access")]
    pub token_use: String,
    /// Status for a token that fails verification: 401 (`Unauthorized`) or 403 (a deny policy, as the
    /// AWS sample).
    #[arg(long, default_value_t = 401)]
    pub invalid_token: u16,
    /// A file of requests (a JSON array of {"method", "path", "headers", "token", "source_ip", "now"}),
    /// run in order through one cache.
    #[arg(long, conflicts_with_all = ["method", "path"])]
    pub requests: Option<PathBuf>,
    /// One request's method.
    #[arg(long, requires = "path")]
    pub method: Option<String>,
    /// One request's path.
    #[arg(long, requires = "method")]
    pub path: Option<String>,
    /// A header `Name: value` (repeatable).
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// A bearer token (or a file holding it), sent as `Authorization: Bearer …`.
    #[arg(long)]
    pub token: Option<String>,
    /// The caller's IP address (aws:SourceIp).
    #[arg(long)]
    pub source_ip: Option<String>,
    /// The request time, Unix seconds (default: now); a request in the file may set its own.
    #[arg(long)]
    pub now: Option<i64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub(crate) fn run(
    a: &ApigwCommand,
    out: &mut dyn Write,
    _err: &mut dyn Write,
) -> Result<u8, Failure> {
    let a = match a {
        ApigwCommand::Invoke(a) => a,
        ApigwCommand::Check(c) => return check(c, out),
    };
    let api = a.source.load()?;
    let check = match (&a.jwks, &a.user_pool_id, &a.client_id) {
        (Some(j), Some(p), Some(c)) => Some(TokenCheck {
            jwks: j.clone(),
            user_pool_id: p.clone(),
            client_id: c.clone(),
            token_use: a
                .token_use
                .parse()
                .map_err(|e: cognito::ParseTokenUseError| format!("--token-use: {e}"))?,
            invalid_token: match a.invalid_token {
                401 => apigw::InvalidToken::Unauthorized,
                403 => apigw::InvalidToken::Deny,
                other => {
                    return Err(Failure::from(format!(
                        "--invalid-token is 401 or 403, not {other}"
                    )));
                }
            },
        }),
        (None, None, None) => None,
        _ => return Err("give --jwks, --user-pool-id and --client-id together".into()),
    };
    let function = crate::gateway::FunctionChoice {
        command: a.source.function.clone(),
        handler: a.source.handler.clone(),
        env: a
            .env
            .iter()
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or_else(|| format!("--env `{kv}` is not NAME=value"))
            })
            .collect::<Result<_, _>>()?,
        timeout: a.timeout,
        echo_logs: a.function_logs,
    };
    let authorizer = load_authorizer(
        a.source.choice(&function)?,
        check.as_ref(),
        &api,
        Path::new("."),
    )?;
    let mut requests: Vec<(Value, apigw::HttpRequest, Option<i64>)> = Vec::new();
    match (&a.requests, &a.method, &a.path) {
        (Some(f), _, _) => {
            let base = f.parent().unwrap_or(Path::new("."));
            for (i, (raw, def)) in crate::gateway::read_http_requests(f)?
                .into_iter()
                .enumerate()
            {
                let what = format!("{} request #{}", f.display(), i + 1);
                let req = def.to_request(base, &what)?;
                requests.push((raw, req, def.now));
            }
        }
        (None, Some(m), Some(p)) => {
            let mut headers = serde_json::Map::new();
            for h in &a.headers {
                let (k, v) = h
                    .split_once(':')
                    .ok_or_else(|| format!("--header `{h}` is not `Name: value`"))?;
                headers.insert(k.trim().to_string(), json!(v.trim()));
            }
            let mut r = serde_json::Map::new();
            r.insert("method".into(), json!(m));
            r.insert("path".into(), json!(p));
            r.insert("headers".into(), Value::Object(headers));
            if let Some(t) = &a.token {
                r.insert("token".into(), json!(crate::input::token_text(t)?));
            }
            if let Some(ip) = &a.source_ip {
                r.insert("source_ip".into(), json!(ip));
            }
            let r = Value::Object(r);
            requests.push((
                r.clone(),
                http_request(&r, Path::new("."), "the request")?,
                None,
            ));
        }
        _ => return Err("give --requests FILE, or --method and --path".into()),
    }
    let mut cache = apigw::AuthorizerCache::default();
    let mut all_ok = true;
    for (raw, req, at) in &requests {
        let now = at.or(a.now).unwrap_or_else(crate::input::now);
        let inv = api.invoke(req, authorizer.as_ref(), &mut cache, now);
        all_ok &= inv.status == 200;
        match a.format {
            Format::Json => {
                let mut shown = raw.clone();
                if let Some(o) = shown.as_object_mut() {
                    o.remove("token");
                }
                let _ = writeln!(out, "{}", crate::report::invocation_json(&shown, &inv));
            }
            Format::Human => {
                let _ = write!(out, "{}", crate::report::invocation_text(req, &inv));
            }
        }
    }
    Ok(if all_ok { 0 } else { 2 })
}
