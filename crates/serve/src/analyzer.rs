//! IAM Access Analyzer on localhost, over its own protocol (REST-JSON, as its API reference and Smithy
//! model define it), so AWS's own validators run offline: `ValidatePolicy` (`POST /policy/validation`,
//! answered by `iam_lint::validate`, with `maxResults` / `nextToken` paging), and the analyzer calls the
//! tools make first: `ListAnalyzers` (`GET /analyzer`), `CreateAnalyzer` (`PUT /analyzer`: one account
//! analyzer a Region, kept for the server's life), `GetAnalyzer` (`GET /analyzer/{name}`).
//!
//! The custom policy checks — `CheckNoNewAccess` (`POST /policy/check-no-new-access`),
//! `CheckAccessNotGranted` (`POST /policy/check-access-not-granted`), `CheckNoPublicAccess`
//! (`POST /policy/check-no-public-access`) — are decided by `iam_reason` in AWS's request and response
//! shapes (`result`, `message`, `reasons`), plus our `witnesses` (requests in `eval`'s format, which AWS's
//! clients ignore). An answer `iam_reason` cannot prove either way is `UnprocessableEntityException`
//! naming why, never a PASS. Access previews (`CreateAccessPreview`, `GetAccessPreview`,
//! `ListAccessPreviews`, `ListAccessPreviewFindings`) decide each configuration's resource or trust policy
//! when created (external-access findings with `isPublic`, `principal`, `action`, `condition`); a
//! configuration this server cannot preview is refused (`notSupported`), and a policy it cannot decide
//! makes the preview `FAILED` (`INVALID_CONFIGURATION`): never a completed preview with access left out.
//!
//! Errors are Access Analyzer's: the `x-amzn-ErrorType` header and a JSON body with `message` (and
//! `reason` / `fieldList` for `ValidationException`, `resourceId` / `resourceType` for
//! `ResourceNotFoundException` and `ConflictException`).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use iam_lint::{PolicyType, ResourceType};
use serde_json::{Value, json};

use crate::{Server, check_signature, read_body};

/// Documents above this size are validated on a blocking thread, so a large one never holds up the
/// connections that share its worker.
const INLINE_BYTES: usize = 16 * 1024;

/// One analyzer created by `CreateAnalyzer`.
#[derive(Clone, Debug)]
pub(crate) struct Analyzer {
    name: String,
    arn: String,
    ty: String,
    created_at: String,
    tags: Value,
}

/// The analyzers created so far.
#[derive(Default)]
pub(crate) struct Analyzers(Mutex<Vec<Analyzer>>, Mutex<Vec<Preview>>);

/// An access preview (`CreateAccessPreview`): decided when created, kept for the server's life.
#[derive(Clone, Debug)]
pub(crate) struct Preview {
    id: String,
    analyzer_arn: String,
    configurations: Value,
    created_at: String,
    /// `COMPLETED` or `FAILED`.
    status: &'static str,
    /// `statusReason.code` when failed (`INVALID_CONFIGURATION`, `INTERNAL_ERROR`), and why.
    reason: Option<(&'static str, String)>,
    findings: Vec<Value>,
}

/// The policy-bearing member of each access-preview configuration Access Analyzer defines, and the
/// resource type its findings name.
const PREVIEW_POLICIES: &[(&str, &str, &str)] = &[
    ("iamRole", "trustPolicy", "AWS::IAM::Role"),
    ("s3Bucket", "bucketPolicy", "AWS::S3::Bucket"),
    (
        "s3ExpressDirectoryBucket",
        "bucketPolicy",
        "AWS::S3Express::DirectoryBucket",
    ),
    ("sqsQueue", "queuePolicy", "AWS::SQS::Queue"),
    ("snsTopic", "topicPolicy", "AWS::SNS::Topic"),
    ("kmsKey", "keyPolicies", "AWS::KMS::Key"),
    (
        "secretsManagerSecret",
        "secretPolicy",
        "AWS::SecretsManager::Secret",
    ),
    ("ecrRepository", "repositoryPolicy", "AWS::ECR::Repository"),
    ("efsFileSystem", "fileSystemPolicy", "AWS::EFS::FileSystem"),
    ("dynamodbTable", "tablePolicy", "AWS::DynamoDB::Table"),
    ("dynamodbStream", "streamPolicy", "AWS::DynamoDB::Stream"),
];

/// Access Analyzer's routes.
pub(crate) fn routes() -> Router<Arc<Server>> {
    Router::new()
        .route("/policy/validation", any(handle))
        .route("/policy/check-no-new-access", any(handle))
        .route("/policy/check-access-not-granted", any(handle))
        .route("/policy/check-no-public-access", any(handle))
        .route("/analyzer", any(handle))
        .route("/analyzer/{name}", any(handle))
        .route("/access-preview", any(handle))
        .route("/access-preview/{id}", any(handle))
}

/// An Access Analyzer error.
struct AaError {
    status: StatusCode,
    kind: &'static str,
    body: Value,
}

impl AaError {
    fn validation(
        reason: &'static str,
        message: impl Into<String>,
        fields: &[(&str, String)],
    ) -> Self {
        let message = message.into();
        let mut body = json!({"message": message, "reason": reason});
        if !fields.is_empty()
            && let Some(o) = body.as_object_mut()
        {
            o.insert(
                "fieldList".into(),
                fields
                    .iter()
                    .map(|(n, m)| json!({"name": n, "message": m}))
                    .collect(),
            );
        }
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "ValidationException",
            body,
        }
    }

    /// One field that failed its constraint, in AWS's words.
    fn field(name: &str, value: Option<&str>, constraint: &str) -> Self {
        let shown = value.map_or("null".to_string(), |v| format!("'{}'", clip(v)));
        let m = format!("Value {shown} at '{name}' failed to satisfy constraint: {constraint}");
        Self::validation(
            "fieldValidationFailed",
            format!("1 validation error detected: {m}"),
            &[(name, m.clone())],
        )
    }

    fn internal(message: String) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "InternalServerException",
            body: json!({"message": message}),
        }
    }

    fn not_found(kind_of: &str, id: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: "ResourceNotFoundException",
            body: json!({"message": format!("{kind_of} {id} not found"), "resourceId": id, "resourceType": kind_of}),
        }
    }
}

/// A value as an error message shows it: at most 100 characters.
fn clip(v: &str) -> String {
    let mut s: String = v.chars().take(100).collect();
    if v.chars().nth(100).is_some() {
        s.push('…');
    }
    s
}

fn respond(status: StatusCode, body: &Value, id: u64, error: Option<&str>) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("{id:016x}-policy-check")) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(e) = error.and_then(|e| HeaderValue::from_str(e).ok()) {
        h.insert("x-amzn-errortype", e);
    }
    resp
}

async fn handle(
    State(s): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let id = s
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = match read_body(&s, &headers, body).await {
        Ok(b) => b,
        Err(r) => {
            return respond(r.status, &json!({"message": r.message}), id, Some(r.code));
        }
    };
    if let Err(e) = check_signature(
        &s,
        "access-analyzer",
        &s.regions,
        &[],
        method.as_str(),
        &uri,
        &headers,
        &body,
    ) {
        let kind = e.code(true);
        let status = StatusCode::from_u16(e.status(true)).unwrap_or(StatusCode::FORBIDDEN);
        return respond(status, &json!({"message": e.message()}), id, Some(kind));
    }
    let path = uri.path();
    let result = match (method.as_str(), path) {
        ("POST", "/policy/validation") => validate_policy(uri.query(), &body).await,
        ("GET", "/analyzer") => list_analyzers(&s, uri.query()),
        ("PUT", "/analyzer") => create_analyzer(&s, &body),
        ("GET", p) if p.starts_with("/analyzer/") => get_analyzer(&s, p),
        ("PUT", "/access-preview") => {
            let server = s.clone();
            tokio::task::spawn_blocking(move || create_access_preview(&server, &body))
                .await
                .unwrap_or_else(|e| Err(AaError::internal(format!("the preview stopped: {e}"))))
        }
        ("GET", "/access-preview") => list_access_previews(&s, uri.query()),
        ("GET", p) if p.starts_with("/access-preview/") => get_access_preview(&s, p, uri.query()),
        ("POST", p) if p.starts_with("/access-preview/") => {
            list_access_preview_findings(&s, p, &body)
        }
        (
            "POST",
            "/policy/check-no-new-access"
            | "/policy/check-access-not-granted"
            | "/policy/check-no-public-access",
        ) => {
            let solver = s.solver.clone();
            let path = path.to_string();
            tokio::task::spawn_blocking(move || custom_check(&path, &body, solver))
                .await
                .unwrap_or_else(|e| Err(AaError::internal(format!("the check stopped: {e}"))))
        }
        (_, p) => Err(not_served(method.as_str(), p)),
    };
    match result {
        Ok(v) => respond(StatusCode::OK, &v, id, None),
        Err(e) => {
            tracing::info!(target: "policy_serve", kind = e.kind, "access analyzer request refused");
            respond(e.status, &e.body, id, Some(e.kind))
        }
    }
}

/// A method and path that name no Access Analyzer operation `serve` answers.
fn not_served(method: &str, path: &str) -> AaError {
    AaError::validation(
        "unknownOperation",
        format!(
            "{method} {} is not an Access Analyzer operation",
            clip(path)
        ),
        &[],
    )
}

/// The query string's parameters; a parameter given twice is refused.
fn query_params(query: Option<&str>) -> Result<Vec<(String, String)>, AaError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if out.iter().any(|(x, _)| *x == k) {
            return Err(AaError::validation(
                "fieldValidationFailed",
                format!("query parameter `{}` is given twice", clip(&k)),
                &[],
            ));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

fn max_results(q: &[(String, String)]) -> Result<Option<usize>, AaError> {
    let Some((_, v)) = q.iter().find(|(k, _)| k == "maxResults") else {
        return Ok(None);
    };
    match v.parse::<i64>() {
        Ok(n) if n >= 1 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        _ => Err(AaError::field(
            "maxResults",
            Some(v),
            "Member must be an integer of at least 1",
        )),
    }
}

/// The body as a JSON object (an empty body is `{}`).
fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, AaError> {
    let v = crate::strict_json::from_slice(if body.is_empty() { b"{}" } else { body }).map_err(
        |e| AaError::validation("cannotParse", format!("the body is not JSON: {e}"), &[]),
    )?;
    match v {
        Value::Object(o) => Ok(o),
        _ => Err(AaError::validation(
            "cannotParse",
            "the body is not a JSON object",
            &[],
        )),
    }
}

/// A string member, if present; another JSON type is refused.
fn string<'a>(o: &'a serde_json::Map<String, Value>, k: &str) -> Result<Option<&'a str>, AaError> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(AaError::validation(
            "cannotParse",
            format!("`{k}` must be a string"),
            &[],
        )),
    }
}

const LOCALES: &[&str] = &[
    "DE", "EN", "ES", "FR", "IT", "JA", "KO", "PT_BR", "ZH_CN", "ZH_TW",
];

/// `ValidatePolicy`.
async fn validate_policy(query: Option<&str>, body: &[u8]) -> Result<Value, AaError> {
    let q = query_params(query)?;
    let max = max_results(&q)?;
    let token = q
        .iter()
        .find(|(k, _)| k == "nextToken")
        .map(|(_, v)| v.clone());
    let o = object(body)?;
    let document = string(&o, "policyDocument")?;
    let policy_type = string(&o, "policyType")?;
    let resource_type = string(&o, "validatePolicyResourceType")?;
    let locale = string(&o, "locale")?;
    let Some(document) = document else {
        return Err(AaError::field(
            "policyDocument",
            None,
            "Member must not be null",
        ));
    };
    let ty = match policy_type {
        None => return Err(AaError::field("policyType", None, "Member must not be null")),
        Some(t) => iam_lint::policy_type_from_aws(t).ok_or_else(|| {
            AaError::field(
                "policyType",
                Some(t),
                "Member must satisfy enum value set: [IDENTITY_POLICY, RESOURCE_POLICY, SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY]",
            )
        })?,
    };
    let rt = match resource_type {
        None => None,
        Some(r) => Some(ResourceType::parse(r).ok_or_else(|| {
            AaError::field(
                "validatePolicyResourceType",
                Some(r),
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    ResourceType::ALL.map(ResourceType::as_str).join(", ")
                ),
            )
        })?),
    };
    if rt.is_some() && ty != PolicyType::Resource {
        return Err(AaError::validation(
            "fieldValidationFailed",
            "validatePolicyResourceType applies only when policyType is RESOURCE_POLICY",
            &[(
                "validatePolicyResourceType",
                "specify it only with policyType RESOURCE_POLICY".to_string(),
            )],
        ));
    }
    if let Some(l) = locale.filter(|l| !LOCALES.contains(l)) {
        return Err(AaError::field(
            "locale",
            Some(l),
            &format!(
                "Member must satisfy enum value set: [{}]",
                LOCALES.join(", ")
            ),
        ));
    }
    let fingerprint = fingerprint(
        document,
        policy_type.unwrap_or(""),
        resource_type.unwrap_or(""),
    );
    let start = match &token {
        None => 0,
        Some(t) => parse_token(t, &fingerprint).ok_or_else(|| {
            AaError::field(
                "nextToken",
                Some(t),
                "Member must be a token this server returned for the same request",
            )
        })?,
    };
    let text = document.to_string();
    let run = move || iam_lint::validate(&text, ty, rt, &iam_lint::Options::default());
    let findings = if document.len() > INLINE_BYTES {
        tokio::task::spawn_blocking(run)
            .await
            .map_err(|_| AaError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                kind: "InternalServerException",
                body: json!({"message": "validation did not finish"}),
            })?
    } else {
        run()
    };
    if start > findings.len() {
        return Err(AaError::field(
            "nextToken",
            token.as_deref(),
            "Member must be a token this server returned for the same request",
        ));
    }
    let end = max.map_or(findings.len(), |m| {
        start.saturating_add(m).min(findings.len())
    });
    let page = findings.get(start..end).unwrap_or_default();
    let mut out = json!({"findings": page});
    if end < findings.len()
        && let Some(o) = out.as_object_mut()
    {
        o.insert(
            "nextToken".into(),
            json!(format!("pc1.{end}.{fingerprint}")),
        );
    }
    Ok(out)
}

/// What a `nextToken` is bound to: the document and its types (FNV-1a, hex).
fn fingerprint(document: &str, ty: &str, rt: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in document
        .bytes()
        .chain([0])
        .chain(ty.bytes())
        .chain([0])
        .chain(rt.bytes())
    {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn parse_token(t: &str, fingerprint: &str) -> Option<usize> {
    let rest = t.strip_prefix("pc1.")?;
    let (n, f) = rest.split_once('.')?;
    (f == fingerprint).then_some(())?;
    n.parse().ok()
}

const TYPES: &[&str] = &[
    "ACCOUNT",
    "ORGANIZATION",
    "ACCOUNT_UNUSED_ACCESS",
    "ORGANIZATION_UNUSED_ACCESS",
    "ACCOUNT_INTERNAL_ACCESS",
    "ORGANIZATION_INTERNAL_ACCESS",
];

fn summary(a: &Analyzer) -> Value {
    json!({
        "arn": a.arn,
        "name": a.name,
        "type": a.ty,
        "createdAt": a.created_at,
        "status": "ACTIVE",
        "tags": a.tags,
    })
}

fn analyzers(s: &Server) -> std::sync::MutexGuard<'_, Vec<Analyzer>> {
    s.analyzers
        .0
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `ListAnalyzers`: the analyzers created, optionally of one type; paged.
fn list_analyzers(s: &Server, query: Option<&str>) -> Result<Value, AaError> {
    let q = query_params(query)?;
    let max = max_results(&q)?;
    let ty = q.iter().find(|(k, _)| k == "type").map(|(_, v)| v.as_str());
    if let Some(t) = ty.filter(|t| !TYPES.contains(t)) {
        return Err(AaError::field(
            "type",
            Some(t),
            &format!("Member must satisfy enum value set: [{}]", TYPES.join(", ")),
        ));
    }
    let start = match q.iter().find(|(k, _)| k == "nextToken") {
        None => 0,
        Some((_, t)) => t
            .strip_prefix("pc1.")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                AaError::field(
                    "nextToken",
                    Some(t),
                    "Member must be a token this server returned",
                )
            })?,
    };
    let list: Vec<Value> = analyzers(s)
        .iter()
        .filter(|a| ty.is_none_or(|t| a.ty == t))
        .map(summary)
        .collect();
    let end = max.map_or(list.len(), |m| start.saturating_add(m).min(list.len()));
    let mut out = json!({"analyzers": list.get(start.min(end)..end).unwrap_or_default()});
    if end < list.len()
        && let Some(o) = out.as_object_mut()
    {
        o.insert("nextToken".into(), json!(format!("pc1.{end}")));
    }
    Ok(out)
}

/// `CreateAnalyzer`: one analyzer of each type a Region (Access Analyzer's quota for account
/// analyzers); a second is a `ConflictException`, as AWS answers it.
fn create_analyzer(s: &Server, body: &[u8]) -> Result<Value, AaError> {
    let o = object(body)?;
    let name = string(&o, "analyzerName")?
        .ok_or_else(|| AaError::field("analyzerName", None, "Member must not be null"))?;
    let name_ok = (1..=255).contains(&name.len())
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !name_ok {
        return Err(AaError::field(
            "analyzerName",
            Some(name),
            "Member must satisfy regular expression pattern: [A-Za-z_][A-Za-z0-9_.-]*",
        ));
    }
    let ty = string(&o, "type")?
        .ok_or_else(|| AaError::field("type", None, "Member must not be null"))?;
    if !TYPES.contains(&ty) {
        return Err(AaError::field(
            "type",
            Some(ty),
            &format!("Member must satisfy enum value set: [{}]", TYPES.join(", ")),
        ));
    }
    let tags = o.get("tags").cloned().unwrap_or_else(|| json!({}));
    if !tags.is_object() {
        return Err(AaError::validation(
            "cannotParse",
            "`tags` must be an object",
            &[],
        ));
    }
    let region = s.regions.first().map_or("us-east-1", String::as_str);
    let mut list = analyzers(s);
    if let Some(a) = list.iter().find(|a| a.name == name || a.ty == ty) {
        return Err(AaError {
            status: StatusCode::CONFLICT,
            kind: "ConflictException",
            body: json!({
                "message": format!("An analyzer of type {ty} already exists in this account and Region: {}", a.name),
                "resourceId": a.name,
                "resourceType": "Analyzer",
            }),
        });
    }
    let a = Analyzer {
        name: name.to_string(),
        arn: format!(
            "arn:aws:access-analyzer:{region}:{}:analyzer/{name}",
            s.account
        ),
        ty: ty.to_string(),
        created_at: now_iso8601(),
        tags,
    };
    let arn = a.arn.clone();
    list.push(a);
    Ok(json!({"arn": arn}))
}

/// `GetAnalyzer`.
fn get_analyzer(s: &Server, path: &str) -> Result<Value, AaError> {
    let raw = path.strip_prefix("/analyzer/").unwrap_or("");
    let name = percent_decode(raw);
    analyzers(s)
        .iter()
        .find(|a| a.name == name)
        .map(|a| json!({"analyzer": summary(a)}))
        .ok_or_else(|| AaError::not_found("Analyzer", &name))
}

fn percent_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Now, as ISO 8601 in UTC (`2026-12-07T10:38:36Z`).
fn now_iso8601() -> String {
    let secs = authz_core::now_secs();
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// A policy document member, parsed (a document that does not parse is a `ValidationException` naming
/// the line and column).
fn policy_member(
    o: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<iam_policy::PolicyDocument, AaError> {
    let Some(text) = string(o, name)? else {
        return Err(AaError::field(name, None, "Member must not be null"));
    };
    let source = iam_policy::Source::new(name, text.to_string());
    iam_policy::parse(&source).map_err(|errs| {
        let first = errs
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| {
                let (l, c) = source.line_col(d.span.start);
                format!("{} at line {l}, column {c} [{}]", d.message, d.code)
            })
            .unwrap_or_else(|| "it does not parse".into());
        AaError::validation(
            "fieldValidationFailed",
            format!("{name} is not a valid policy: {}", clip(&first)),
            &[(name, first)],
        )
    })
}

fn kind_member(o: &serde_json::Map<String, Value>) -> Result<iam_reason::PolicyKind, AaError> {
    match string(o, "policyType")? {
        Some("IDENTITY_POLICY") => Ok(iam_reason::PolicyKind::Identity),
        Some("RESOURCE_POLICY") => Ok(iam_reason::PolicyKind::Resource),
        other => Err(AaError::field(
            "policyType",
            other,
            "Member must satisfy enum value set: [IDENTITY_POLICY, RESOURCE_POLICY]",
        )),
    }
}

fn strings(v: Option<&Value>, name: &str) -> Result<Vec<String>, AaError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str().map(str::to_string).ok_or_else(|| {
                    AaError::validation("cannotParse", format!("`{name}` must list strings"), &[])
                })
            })
            .collect(),
        Some(_) => Err(AaError::validation(
            "cannotParse",
            format!("`{name}` must be a list"),
            &[],
        )),
    }
}

/// AWS's response for an answer; UNKNOWN is an error, never a PASS.
fn check_response(a: &iam_reason::Answer) -> Result<Value, AaError> {
    if a.verdict == iam_reason::Verdict::Unknown {
        return Err(AaError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            kind: "UnprocessableEntityException",
            body: json!({"message": a.message}),
        });
    }
    Ok(json!({
        "result": a.verdict.as_str(),
        "message": a.message,
        "reasons": a.reasons,
        "witnesses": a.witnesses.iter().map(iam_reason::Witness::to_request).collect::<Vec<_>>(),
    }))
}

fn reason_error(e: &iam_reason::ReasonError) -> AaError {
    match e {
        iam_reason::ReasonError::Input(m) => {
            AaError::validation("fieldValidationFailed", m.clone(), &[])
        }
        other => AaError::internal(format!("{other} [{}]", other.code())),
    }
}

/// The question a custom policy check asks, decoded.
enum Question {
    NoNewAccess(
        iam_policy::PolicyDocument,
        iam_policy::PolicyDocument,
        iam_reason::PolicyKind,
    ),
    NotGranted(
        iam_policy::PolicyDocument,
        Vec<String>,
        Vec<String>,
        iam_reason::PolicyKind,
    ),
    NoPublic(iam_policy::PolicyDocument, String),
}

fn question(path: &str, o: &serde_json::Map<String, Value>) -> Result<Question, AaError> {
    Ok(match path {
        "/policy/check-no-new-access" => {
            let new = policy_member(o, "newPolicyDocument")?;
            let existing = policy_member(o, "existingPolicyDocument")?;
            Question::NoNewAccess(existing, new, kind_member(o)?)
        }
        "/policy/check-access-not-granted" => {
            let doc = policy_member(o, "policyDocument")?;
            let kind = kind_member(o)?;
            let access = match o.get("access") {
                Some(Value::Array(a)) if a.len() == 1 => a.clone(),
                Some(Value::Array(a)) if a.len() > 1 => {
                    return Err(AaError::field(
                        "access",
                        None,
                        "Member must have length less than or equal to 1",
                    ));
                }
                _ => return Err(AaError::field("access", None, "Member must not be null")),
            };
            let Some(entry) = access.first().and_then(Value::as_object) else {
                return Err(AaError::validation(
                    "cannotParse",
                    "`access` must list objects",
                    &[],
                ));
            };
            let actions = strings(entry.get("actions"), "actions")?;
            let resources = strings(entry.get("resources"), "resources")?;
            Question::NotGranted(doc, actions, resources, kind)
        }
        _ => {
            let doc = policy_member(o, "policyDocument")?;
            let Some(rt) = string(o, "resourceType")? else {
                return Err(AaError::field(
                    "resourceType",
                    None,
                    "Member must not be null",
                ));
            };
            if !iam_reason::PUBLIC_ACCESS_TYPES.contains(&rt) {
                return Err(AaError::field(
                    "resourceType",
                    Some(rt),
                    &format!(
                        "Member must satisfy enum value set: [{}]",
                        iam_reason::PUBLIC_ACCESS_TYPES.join(", ")
                    ),
                ));
            }
            Question::NoPublic(doc, rt.to_string())
        }
    })
}

/// `CheckNoNewAccess`, `CheckAccessNotGranted`, `CheckNoPublicAccess`: the request is checked first,
/// then the solver is found.
fn custom_check(
    path: &str,
    body: &[u8],
    solver: Option<iam_reason::Solver>,
) -> Result<Value, AaError> {
    let o = object(body)?;
    let q = question(path, &o)?;
    let solver = match solver {
        Some(s) => s,
        None => iam_reason::Solver::find().map_err(|e| reason_error(&e))?,
    };
    let checker = iam_reason::Checker::new(solver);
    let answer = match &q {
        Question::NoNewAccess(existing, new, kind) => checker.no_new_access(existing, new, *kind),
        Question::NotGranted(doc, actions, resources, kind) => {
            checker.access_not_granted(doc, actions, resources, *kind)
        }
        Question::NoPublic(doc, rt) => checker.no_public_access(doc, rt),
    }
    .map_err(|e| reason_error(&e))?;
    check_response(&answer)
}

fn previews(s: &Server) -> std::sync::MutexGuard<'_, Vec<Preview>> {
    s.analyzers
        .1
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn known_analyzer(s: &Server, arn: Option<&str>) -> Result<String, AaError> {
    let Some(arn) = arn else {
        return Err(AaError::field(
            "analyzerArn",
            None,
            "Member must not be null",
        ));
    };
    if analyzers(s).iter().any(|a| a.arn == arn) {
        Ok(arn.to_string())
    } else {
        Err(AaError::not_found("Analyzer", arn))
    }
}

/// The account a resource ARN names, else the server's.
fn owner(s: &Server, arn: &str) -> String {
    arn.split(':')
        .nth(4)
        .filter(|a| !a.is_empty())
        .map_or_else(|| s.account.clone(), str::to_string)
}

/// `CreateAccessPreview`: every configuration's policies decided now (status `COMPLETED`), or the
/// preview `FAILED` with `INVALID_CONFIGURATION` (a policy that does not parse, or that the reasoning
/// cannot decide) or `INTERNAL_ERROR` (no solver): never completed with findings left out.
fn create_access_preview(s: &Server, body: &[u8]) -> Result<Value, AaError> {
    let o = object(body)?;
    let analyzer_arn = known_analyzer(s, string(&o, "analyzerArn")?)?;
    let Some(Value::Object(configs)) = o.get("configurations") else {
        return Err(AaError::field(
            "configurations",
            None,
            "Member must not be null",
        ));
    };
    // What to decide: (resource ARN, resource type, policy name, policy text).
    let mut work: Vec<(String, &str, String, String)> = Vec::new();
    for (arn, config) in configs {
        let Some(c) = config.as_object().filter(|c| c.len() == 1) else {
            return Err(AaError::validation(
                "fieldValidationFailed",
                format!(
                    "configuration of {} must have exactly one member",
                    clip(arn)
                ),
                &[],
            ));
        };
        let Some((kind, inner)) = c.iter().next() else {
            continue;
        };
        let Some((_, member, rtype)) = PREVIEW_POLICIES.iter().find(|(k, _, _)| k == kind) else {
            return Err(AaError::validation(
                "notSupported",
                format!(
                    "access previews of `{}` configurations are not supported by policy-check serve (it previews resource policies and trust policies)",
                    clip(kind)
                ),
                &[],
            ));
        };
        let inner = inner.as_object().cloned().unwrap_or_default();
        for k in inner.keys() {
            // ACL grants, access points, public access blocks and grants change access without a policy
            // this server reads: refused rather than previewed without them.
            let empty = inner.get(k).is_none_or(|v| {
                v.is_null()
                    || v.as_array().is_some_and(Vec::is_empty)
                    || v.as_object().is_some_and(serde_json::Map::is_empty)
            });
            if k != *member && k != "kmsKeyId" && !empty {
                return Err(AaError::validation(
                    "notSupported",
                    format!(
                        "`{kind}.{k}` is not supported by policy-check serve's access previews (only `{member}`)"
                    ),
                    &[],
                ));
            }
        }
        match inner.get(*member) {
            None | Some(Value::Null) => {}
            Some(Value::String(text)) => {
                work.push((arn.clone(), rtype, (*member).to_string(), text.clone()))
            }
            Some(Value::Object(named)) => {
                for (name, text) in named {
                    let Some(text) = text.as_str() else {
                        return Err(AaError::validation(
                            "cannotParse",
                            format!("`{kind}.{member}.{name}` must be a string"),
                            &[],
                        ));
                    };
                    work.push((arn.clone(), rtype, name.clone(), text.to_string()));
                }
            }
            Some(_) => {
                return Err(AaError::validation(
                    "cannotParse",
                    format!("`{kind}.{member}` must be a string"),
                    &[],
                ));
            }
        }
    }
    let id = format!(
        "{:08x}-{:04x}-4000-8000-{:012x}",
        s.requests.load(std::sync::atomic::Ordering::Relaxed),
        previews(s).len(),
        std::process::id()
    );
    let created_at = now_iso8601();
    let mut preview = Preview {
        id: id.clone(),
        analyzer_arn,
        configurations: Value::Object(configs.clone()),
        created_at: created_at.clone(),
        status: "COMPLETED",
        reason: None,
        findings: Vec::new(),
    };
    let solver = match s
        .solver
        .clone()
        .map(Ok)
        .unwrap_or_else(iam_reason::Solver::find)
    {
        Ok(solver) => Some(iam_reason::Checker::new(solver)),
        Err(e) => {
            preview.status = "FAILED";
            preview.reason = Some(("INTERNAL_ERROR", e.to_string()));
            None
        }
    };
    if let Some(checker) = solver {
        'all: for (arn, rtype, name, text) in &work {
            let source = iam_policy::Source::new(format!("{arn} {name}"), text.clone());
            let doc = match iam_policy::parse(&source) {
                Ok(d) => d,
                Err(e) => {
                    preview.status = "FAILED";
                    preview.reason = Some(("INVALID_CONFIGURATION", e.to_string()));
                    break 'all;
                }
            };
            match checker.external_access(&doc, &s.account) {
                Ok(Ok(found)) => {
                    for f in found {
                        let n = preview.findings.len();
                        let condition: serde_json::Map<String, Value> = f
                            .condition
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect();
                        preview.findings.push(json!({
                            "id": format!("{id}-{n}"),
                            "principal": {f.principal.0.clone(): f.principal.1.clone()},
                            "action": f.actions,
                            "condition": condition,
                            "resource": arn,
                            "isPublic": f.is_public,
                            "resourceType": rtype,
                            "createdAt": created_at,
                            "changeType": "NEW",
                            "status": "ACTIVE",
                            "resourceOwnerAccount": owner(s, arn),
                            "witness": f.witness.to_request(),
                        }));
                    }
                }
                Ok(Err(unknown)) => {
                    preview.status = "FAILED";
                    preview.reason = Some(("INVALID_CONFIGURATION", unknown.join("; ")));
                    break 'all;
                }
                Err(e) => {
                    preview.status = "FAILED";
                    preview.reason = Some(("INTERNAL_ERROR", e.to_string()));
                    break 'all;
                }
            }
        }
    }
    if preview.status == "FAILED" {
        preview.findings.clear();
    }
    previews(s).push(preview);
    Ok(json!({"id": id}))
}

fn preview_summary(p: &Preview) -> Value {
    let mut v = json!({
        "id": p.id,
        "analyzerArn": p.analyzer_arn,
        "createdAt": p.created_at,
        "status": p.status,
    });
    if let (Some((code, why)), Some(o)) = (&p.reason, v.as_object_mut()) {
        o.insert("statusReason".into(), json!({"code": code}));
        // Not in AWS's shape: why, for people reading the raw response.
        o.insert("statusDetail".into(), Value::String(why.clone()));
    }
    v
}

fn find_preview(s: &Server, path: &str, analyzer_arn: Option<&str>) -> Result<Preview, AaError> {
    let arn = known_analyzer(s, analyzer_arn)?;
    let id = percent_decode(path.strip_prefix("/access-preview/").unwrap_or(""));
    previews(s)
        .iter()
        .find(|p| p.id == id && p.analyzer_arn == arn)
        .cloned()
        .ok_or_else(|| AaError::not_found("AccessPreview", &id))
}

/// `GetAccessPreview`.
fn get_access_preview(s: &Server, path: &str, query: Option<&str>) -> Result<Value, AaError> {
    let q = query_params(query)?;
    let arn = q
        .iter()
        .find(|(k, _)| k == "analyzerArn")
        .map(|(_, v)| v.as_str());
    let p = find_preview(s, path, arn)?;
    let mut summary = preview_summary(&p);
    if let Some(o) = summary.as_object_mut() {
        o.insert("configurations".into(), p.configurations.clone());
    }
    Ok(json!({"accessPreview": summary}))
}

/// `ListAccessPreviews`.
fn list_access_previews(s: &Server, query: Option<&str>) -> Result<Value, AaError> {
    let q = query_params(query)?;
    let arn = known_analyzer(
        s,
        q.iter()
            .find(|(k, _)| k == "analyzerArn")
            .map(|(_, v)| v.as_str()),
    )?;
    let list: Vec<Value> = previews(s)
        .iter()
        .filter(|p| p.analyzer_arn == arn)
        .map(preview_summary)
        .collect();
    Ok(json!({"accessPreviews": list}))
}

/// `ListAccessPreviewFindings` (all findings in one page; a `filter` is refused rather than ignored).
fn list_access_preview_findings(s: &Server, path: &str, body: &[u8]) -> Result<Value, AaError> {
    let o = object(body)?;
    if o.get("filter")
        .is_some_and(|f| f.as_object().is_some_and(|m| !m.is_empty()))
    {
        return Err(AaError::validation(
            "notSupported",
            "`filter` is not supported by policy-check serve's access previews",
            &[],
        ));
    }
    let p = find_preview(s, path, string(&o, "analyzerArn")?)?;
    if p.status != "COMPLETED" {
        return Err(AaError::validation(
            "fieldValidationFailed",
            format!(
                "access preview {} is {}, it has no findings",
                p.id, p.status
            ),
            &[],
        ));
    }
    Ok(json!({"findings": p.findings}))
}
