//! API Gateway APIs of a template with a Lambda authorizer, as the native API definition `apigw` reads
//! (`{"region", "account", "api_id", "stage", "routes", "authorizer", "resource_policy", "format",
//! "stage_variables"}`): REST APIs (`AWS::ApiGateway::RestApi` with its `Resource` tree, `Method`s,
//! `Authorizer`, `Stage` and `Policy`) and HTTP APIs (`AWS::ApiGatewayV2::Api` with its `Route`s,
//! `Authorizer` and `Stage`).

use diag::Span;
use diag::json::{Kind, Value};
use serde_json::json;

use crate::{IacError, Resolver, Template, member, scalar_text};

/// An API of the template, as an API definition.
#[derive(Clone, Debug, PartialEq)]
pub struct Api {
    /// The API's logical id.
    pub logical_id: String,
    /// The native API definition.
    pub definition: serde_json::Value,
    /// The API's definition in the template.
    pub span: Span,
}

/// What `Ref` of each resource resolves to, so that a property naming a resource by `Ref` or
/// `Fn::GetAtt` can be matched to it.
fn refs_of(t: &Template, r: &Resolver<'_>, kind: &str) -> Result<Vec<(String, String)>, IacError> {
    let mut out = Vec::new();
    for res in t.resources.iter().filter(|x| x.kind == kind) {
        let id = res.logical_id.as_str();
        out.push((r.resource_text("Ref", id, id, res.span)?, id.to_string()));
    }
    Ok(out)
}

/// The gateway model's output format of an HTTP API authorizer: payload format version `1.0`, or `2.0`
/// with or without simple responses.
pub(crate) fn http_format(version: &str, simple: bool) -> &'static str {
    match (version, simple) {
        ("1.0", _) => "http1",
        (_, true) => "http2-simple",
        _ => "http2",
    }
}

/// An object of scalars (stage variables) as a JSON object of strings; `None` when it is not an object.
pub(crate) fn string_map(v: Option<&Value>) -> Option<serde_json::Value> {
    match v.map(|v| &v.kind) {
        Some(Kind::Object(ms)) => Some(serde_json::Value::Object(
            ms.iter()
                .map(|m| (m.key.clone(), json!(scalar_text(&m.value))))
                .collect(),
        )),
        _ => None,
    }
}

pub(crate) fn authorizer_json(
    kind: &str,
    sources: Vec<String>,
    validation: Option<String>,
    ttl: Option<String>,
) -> serde_json::Value {
    let mut a = serde_json::Map::new();
    a.insert("type".into(), json!(kind));
    a.insert("identity_sources".into(), json!(sources));
    if let Some(v) = validation {
        a.insert("validation_expression".into(), json!(v));
    }
    a.insert(
        "ttl".into(),
        json!(ttl.and_then(|t| t.parse::<u32>().ok()).unwrap_or(300)),
    );
    serde_json::Value::Object(a)
}

pub(crate) fn apis(t: &Template, r: &Resolver<'_>) -> Result<Vec<Api>, IacError> {
    let s = r.settings();
    let mut out = Vec::new();
    // REST APIs.
    let rest_refs = refs_of(t, r, "AWS::ApiGateway::RestApi")?;
    let resource_refs = refs_of(t, r, "AWS::ApiGateway::Resource")?;
    let authorizer_refs = refs_of(t, r, "AWS::ApiGateway::Authorizer")?;
    for api in t
        .resources
        .iter()
        .filter(|x| x.kind == "AWS::ApiGateway::RestApi")
    {
        let id = api.logical_id.as_str();
        let api_ref = r.resource_text("Ref", id, id, api.span)?;
        let root = r.resource_text("Fn::GetAtt", &format!("{id}.RootResourceId"), id, api.span)?;
        let of_api = |res: &crate::Resource| -> Result<bool, IacError> {
            let rid = r
                .text_of(res.property("RestApiId"), &res.logical_id)?
                .unwrap_or_default();
            Ok(rid == api_ref || rest_refs.iter().any(|(v, l)| v == &rid && l == id))
        };
        // Paths of the resource tree.
        let mut paths: Vec<(String, String)> = vec![(root.clone(), "/".into())];
        let resources: Vec<&crate::Resource> = t
            .resources
            .iter()
            .filter(|x| x.kind == "AWS::ApiGateway::Resource")
            .collect();
        for _ in 0..resources.len() {
            for res in &resources {
                let rid = res.logical_id.as_str();
                let me = resource_refs
                    .iter()
                    .find(|(_, l)| l == rid)
                    .map(|(v, _)| v.clone())
                    .unwrap_or_default();
                if paths.iter().any(|(v, _)| v == &me) || !of_api(res)? {
                    continue;
                }
                let parent = r
                    .text_of(res.property("ParentId"), rid)?
                    .unwrap_or_default();
                let part = r
                    .text_of(res.property("PathPart"), rid)?
                    .unwrap_or_default();
                if let Some((_, p)) = paths.iter().find(|(v, _)| v == &parent) {
                    let path = if p == "/" {
                        format!("/{part}")
                    } else {
                        format!("{p}/{part}")
                    };
                    paths.push((me, path));
                }
            }
        }
        let mut routes = Vec::new();
        let mut authorizer: Option<(String, serde_json::Value)> = None;
        for m in t
            .resources
            .iter()
            .filter(|x| x.kind == "AWS::ApiGateway::Method")
        {
            let mid = m.logical_id.as_str();
            if !of_api(m)? {
                continue;
            }
            let verb = r
                .text_of(m.property("HttpMethod"), mid)?
                .unwrap_or_default()
                .to_ascii_uppercase();
            let rid = r
                .text_of(m.property("ResourceId"), mid)?
                .unwrap_or_default();
            let path = paths
                .iter()
                .find(|(v, _)| v == &rid)
                .map(|(_, p)| p.clone())
                .ok_or_else(|| {
                    IacError::unresolved(
                        &t.name,
                        m.span,
                        format!(
                            "the method's resource `{rid}` is not a resource of the API `{id}`"
                        ),
                    )
                    .about(mid)
                })?;
            let auth_type = r
                .text_of(m.property("AuthorizationType"), mid)?
                .unwrap_or_else(|| "NONE".into());
            let route = format!("{verb} {path}");
            match auth_type.as_str() {
                "CUSTOM" => {
                    let aid = r
                        .text_of(m.property("AuthorizerId"), mid)?
                        .unwrap_or_default();
                    let logical = authorizer_refs
                        .iter()
                        .find(|(v, _)| v == &aid)
                        .map(|(_, l)| l.clone())
                        .ok_or_else(|| {
                            IacError::unresolved(
                                &t.name,
                                m.span,
                                format!(
                                    "`AuthorizerId` `{aid}` is not an authorizer of the template"
                                ),
                            )
                            .about(mid)
                        })?;
                    match &authorizer {
                        Some((l, _)) if l != &logical => {
                            return Err(IacError::unsupported(&t.name, m.span, format!("the API `{id}` has more than one Lambda authorizer ({l}, {logical}): the gateway model has one")).about(mid));
                        }
                        Some(_) => {}
                        None => {
                            let a = t.resource(&logical).ok_or_else(|| {
                                IacError::unresolved(&t.name, m.span, "no authorizer")
                            })?;
                            let kind = r.text_of(a.property("Type"), &logical)?.unwrap_or_default();
                            if kind != "TOKEN" && kind != "REQUEST" {
                                return Err(IacError::unsupported(&t.name, a.span, format!("an authorizer of type `{kind}`: only Lambda (TOKEN, REQUEST) authorizers are modelled")).about(&logical));
                            }
                            let sources = r
                                .text_of(a.property("IdentitySource"), &logical)?
                                .map(|s| {
                                    s.split(',')
                                        .map(|x| x.trim().to_string())
                                        .filter(|x| !x.is_empty())
                                        .collect()
                                })
                                .unwrap_or_default();
                            authorizer = Some((
                                logical.clone(),
                                authorizer_json(
                                    &kind,
                                    sources,
                                    r.text_of(
                                        a.property("IdentityValidationExpression"),
                                        &logical,
                                    )?,
                                    r.text_of(
                                        a.property("AuthorizerResultTtlInSeconds"),
                                        &logical,
                                    )?,
                                ),
                            ));
                        }
                    }
                    routes.push(json!(route));
                }
                "NONE" => routes.push(json!({"route": route, "authorizer": false})),
                other => {
                    return Err(IacError::unsupported(&t.name, m.span, format!("a method with AuthorizationType `{other}`: the gateway model has Lambda authorizers (CUSTOM) and open methods (NONE)")).about(mid));
                }
            }
        }
        let stage = t
            .resources
            .iter()
            .filter(|x| x.kind == "AWS::ApiGateway::Stage")
            .find(|x| of_api(x).unwrap_or(false));
        let (stage_name, variables) = match stage {
            Some(st) => (
                r.text_of(st.property("StageName"), &st.logical_id)?
                    .unwrap_or_else(|| "prod".into()),
                string_map(
                    st.property("Variables")
                        .map(|v| r.value(v))
                        .transpose()
                        .map_err(|e| e.about(&st.logical_id))?
                        .flatten()
                        .as_ref(),
                )
                .unwrap_or_else(|| json!({})),
            ),
            None => ("prod".into(), json!({})),
        };
        let Some((_, auth)) = authorizer else {
            continue;
        };
        let mut def = serde_json::Map::new();
        for (k, v) in [
            ("region", json!(s.region)),
            ("account", json!(s.account)),
            ("api_id", json!(api_ref)),
            ("stage", json!(stage_name)),
            ("routes", json!(routes)),
            ("authorizer", auth),
            ("stage_variables", variables),
            ("format", json!("rest")),
        ] {
            def.insert(k.into(), v);
        }
        if let Some(p) = api.property("Policy")
            && let Some(doc) = r.value(p).map_err(|e| e.about(id))?
        {
            let (rendered, _) = crate::render(&doc);
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&rendered) {
                def.insert("resource_policy".into(), v);
            }
        }
        out.push(Api {
            logical_id: id.to_string(),
            definition: serde_json::Value::Object(def),
            span: api.span,
        });
    }
    // HTTP APIs.
    let v2_authorizers = refs_of(t, r, "AWS::ApiGatewayV2::Authorizer")?;
    for api in t
        .resources
        .iter()
        .filter(|x| x.kind == "AWS::ApiGatewayV2::Api")
    {
        let id = api.logical_id.as_str();
        let api_ref = r.resource_text("Ref", id, id, api.span)?;
        let of_api = |res: &crate::Resource| -> Result<bool, IacError> {
            Ok(r.text_of(res.property("ApiId"), &res.logical_id)?
                .unwrap_or_default()
                == api_ref)
        };
        let mut routes = Vec::new();
        let mut authorizer: Option<(String, serde_json::Value, String)> = None;
        for rt in t
            .resources
            .iter()
            .filter(|x| x.kind == "AWS::ApiGatewayV2::Route")
        {
            let rid = rt.logical_id.as_str();
            if !of_api(rt)? {
                continue;
            }
            let key = r.text_of(rt.property("RouteKey"), rid)?.unwrap_or_default();
            let auth_type = r
                .text_of(rt.property("AuthorizationType"), rid)?
                .unwrap_or_else(|| "NONE".into());
            match auth_type.as_str() {
                "CUSTOM" => {
                    let aid = r
                        .text_of(rt.property("AuthorizerId"), rid)?
                        .unwrap_or_default();
                    let logical = v2_authorizers
                        .iter()
                        .find(|(v, _)| v == &aid)
                        .map(|(_, l)| l.clone())
                        .ok_or_else(|| {
                            IacError::unresolved(
                                &t.name,
                                rt.span,
                                format!(
                                    "`AuthorizerId` `{aid}` is not an authorizer of the template"
                                ),
                            )
                            .about(rid)
                        })?;
                    if authorizer.as_ref().is_some_and(|(l, _, _)| l != &logical) {
                        return Err(IacError::unsupported(&t.name, rt.span, format!("the API `{id}` has more than one Lambda authorizer: the gateway model has one")).about(rid));
                    }
                    if authorizer.is_none() {
                        let a = t.resource(&logical).ok_or_else(|| {
                            IacError::unresolved(&t.name, rt.span, "no authorizer")
                        })?;
                        let sources = match a
                            .property("IdentitySource")
                            .map(|v| r.value(v))
                            .transpose()
                            .map_err(|e| e.about(&logical))?
                            .flatten()
                        {
                            Some(Value {
                                kind: Kind::Array(items),
                                ..
                            }) => items.iter().map(scalar_text).collect(),
                            Some(v) => vec![scalar_text(&v)],
                            None => Vec::new(),
                        };
                        let version = r
                            .text_of(a.property("AuthorizerPayloadFormatVersion"), &logical)?
                            .unwrap_or_else(|| "2.0".into());
                        let simple = r
                            .text_of(a.property("EnableSimpleResponses"), &logical)?
                            .as_deref()
                            == Some("true");
                        let format = http_format(&version, simple);
                        authorizer = Some((
                            logical.clone(),
                            authorizer_json(
                                "REQUEST",
                                sources,
                                None,
                                Some(
                                    r.text_of(
                                        a.property("AuthorizerResultTtlInSeconds"),
                                        &logical,
                                    )?
                                    .unwrap_or_else(|| "0".into()),
                                ),
                            ),
                            format.to_string(),
                        ));
                    }
                    routes.push(json!(key));
                }
                "NONE" => routes.push(json!({"route": key, "authorizer": false})),
                other => {
                    return Err(IacError::unsupported(&t.name, rt.span, format!("a route with AuthorizationType `{other}`: the gateway model has Lambda authorizers (CUSTOM) and open routes (NONE)")).about(rid));
                }
            }
        }
        let Some((_, auth, format)) = authorizer else {
            continue;
        };
        let stage = t
            .resources
            .iter()
            .filter(|x| x.kind == "AWS::ApiGatewayV2::Stage")
            .find(|x| of_api(x).unwrap_or(false))
            .map(|st| r.text_of(st.property("StageName"), &st.logical_id))
            .transpose()?
            .flatten()
            .unwrap_or_else(|| "$default".into());
        out.push(Api {
            logical_id: id.to_string(),
            definition: json!({"region": s.region, "account": s.account, "api_id": api_ref, "stage": stage,
                "routes": routes, "authorizer": auth, "format": format}),
            span: api.span,
        });
    }
    Ok(out)
}

/// A SAM API's Lambda authorizer (as the model's), its routes, and for an HTTP API its payload format.
type SamAuth = (serde_json::Value, Vec<serde_json::Value>, Option<String>);

/// One route of a SAM API, from a function's event: (route key, the authorizer named in the event's
/// `Auth.Authorizer`, if any).
struct SamRoute {
    key: String,
    authorizer: Option<String>,
    span: Span,
}

/// The routes SAM's function events give the API `api` (`Type: Api` with `RestApiId`, or `Type:
/// HttpApi` with `ApiId`; an event without one belongs to the implicit API, `ServerlessRestApi` /
/// `ServerlessHttpApi`).
fn sam_routes(
    t: &Template,
    r: &Resolver<'_>,
    event_type: &str,
    api_property: &str,
    api: &str,
    api_ref: Option<&str>,
) -> Result<Vec<SamRoute>, IacError> {
    let mut out = Vec::new();
    for f in t
        .resources
        .iter()
        .filter(|x| x.kind == "AWS::Serverless::Function")
    {
        let fid = f.logical_id.as_str();
        let Some(Kind::Object(events)) = f.property("Events").map(|e| &e.kind) else {
            continue;
        };
        for ev in events {
            if member(&ev.value, "Type").map(scalar_text).as_deref() != Some(event_type) {
                continue;
            }
            let props = member(&ev.value, "Properties");
            let target = props
                .and_then(|p| member(p, api_property))
                .map(|v| r.value(v))
                .transpose()
                .map_err(|e| e.about(fid))?
                .flatten()
                .map(|v| scalar_text(&v));
            let mine = match (&target, api_ref) {
                (None, None) => true,
                (Some(t), Some(a)) => t == a || t == api,
                _ => false,
            };
            if !mine {
                continue;
            }
            let text = |k: &str| -> Result<Option<String>, IacError> {
                r.text_of(props.and_then(|p| member(p, k)), fid)
            };
            let key = match (text("Method")?, text("Path")?) {
                (Some(m), Some(p)) => {
                    let m = m.to_ascii_uppercase();
                    format!("{} {p}", if m == "ANY" { "ANY" } else { m.as_str() })
                }
                (None, None) if event_type == "HttpApi" => "$default".to_string(),
                _ => {
                    return Err(IacError::template(
                        &t.name,
                        ev.value.span,
                        format!("the event `{}` needs `Path` and `Method`", ev.key),
                    )
                    .about(fid));
                }
            };
            let authorizer = r.text_of(
                props
                    .and_then(|p| member(p, "Auth"))
                    .and_then(|a| member(a, "Authorizer")),
                fid,
            )?;
            out.push(SamRoute {
                key,
                authorizer,
                span: ev.value.span,
            });
        }
    }
    Ok(out)
}

/// A SAM API's `Auth`: its Lambda authorizer used by the routes, as the gateway model's authorizer, and
/// the routes (with `"authorizer": false` for open ones). One Lambda authorizer per API (the model's);
/// Cognito and JWT authorizers are not modelled (an error naming them, never an open route).
fn sam_auth(
    t: &Template,
    r: &Resolver<'_>,
    id: &str,
    span: Span,
    auth: Option<&Value>,
    routes: &[SamRoute],
    http: bool,
) -> Result<Option<SamAuth>, IacError> {
    let auth = auth
        .map(|a| r.value(a))
        .transpose()
        .map_err(|e| e.about(id))?
        .flatten();
    let default = auth
        .as_ref()
        .and_then(|a| member(a, "DefaultAuthorizer"))
        .map(scalar_text);
    let authorizers = auth.as_ref().and_then(|a| member(a, "Authorizers"));
    let mut chosen: Option<String> = None;
    let mut out_routes = Vec::new();
    for rt in routes {
        let name = rt.authorizer.clone().or_else(|| default.clone());
        match name.as_deref() {
            None | Some("NONE") => {
                out_routes.push(json!({"route": rt.key, "authorizer": false}));
            }
            Some("AWS_IAM") => {
                return Err(IacError::unsupported(
                    &t.name,
                    rt.span,
                    format!("the route `{}` uses IAM authorization (AWS_IAM): the gateway model has Lambda authorizers", rt.key),
                )
                .about(id));
            }
            Some(n) => {
                if chosen.as_deref().is_some_and(|c| c != n) {
                    return Err(IacError::unsupported(
                        &t.name,
                        rt.span,
                        format!("the API `{id}` uses more than one authorizer ({}, {n}): the gateway model has one", chosen.as_deref().unwrap_or("")),
                    )
                    .about(id));
                }
                chosen = Some(n.to_string());
                out_routes.push(json!(rt.key));
            }
        }
    }
    let Some(name) = chosen else {
        return Ok(None);
    };
    let a = authorizers.and_then(|x| member(x, &name)).ok_or_else(|| {
        IacError::unresolved(
            &t.name,
            span,
            format!("the authorizer `{name}` is not in the API's `Auth.Authorizers`"),
        )
        .about(id)
    })?;
    if member(a, "FunctionArn").is_none() {
        let what = if member(a, "UserPoolArn").is_some() {
            "a Cognito user pool authorizer"
        } else if member(a, "JwtConfiguration").is_some() {
            "a JWT authorizer"
        } else {
            "an authorizer without `FunctionArn`"
        };
        return Err(IacError::unsupported(
            &t.name,
            a.span,
            format!("`{name}` is {what}: the gateway model has Lambda authorizers"),
        )
        .about(id));
    }
    let identity = member(a, "Identity");
    let list = |k: &str| -> Vec<String> {
        match identity.and_then(|i| member(i, k)).map(|v| &v.kind) {
            Some(Kind::Array(items)) => items.iter().map(scalar_text).collect(),
            Some(_) => identity
                .and_then(|i| member(i, k))
                .map(scalar_text)
                .into_iter()
                .collect(),
            None => Vec::new(),
        }
    };
    let ttl = identity
        .and_then(|i| member(i, "ReauthorizeEvery"))
        .map(scalar_text);
    if http {
        let version = member(a, "AuthorizerPayloadFormatVersion")
            .map(scalar_text)
            .ok_or_else(|| {
                IacError::template(
                    &t.name,
                    a.span,
                    format!(
                        "the HTTP API authorizer `{name}` needs `AuthorizerPayloadFormatVersion`"
                    ),
                )
                .about(id)
            })?;
        let simple = member(a, "EnableSimpleResponses")
            .map(scalar_text)
            .as_deref()
            == Some("true");
        let format = http_format(&version, simple);
        let mut sources: Vec<String> = list("Headers")
            .into_iter()
            .map(|h| format!("$request.header.{h}"))
            .collect();
        sources.extend(
            list("QueryStrings")
                .into_iter()
                .map(|q| format!("$request.querystring.{q}")),
        );
        sources.extend(
            list("StageVariables")
                .into_iter()
                .map(|v| format!("$stageVariables.{v}")),
        );
        sources.extend(list("Context").into_iter().map(|c| format!("$context.{c}")));
        return Ok(Some((
            authorizer_json(
                "REQUEST",
                sources,
                None,
                Some(ttl.unwrap_or_else(|| "0".into())),
            ),
            out_routes,
            Some(format.to_string()),
        )));
    }
    let kind = member(a, "FunctionPayloadType")
        .map(scalar_text)
        .unwrap_or_else(|| "TOKEN".into());
    let (sources, validation) = match kind.as_str() {
        "TOKEN" => (
            vec![format!(
                "method.request.header.{}",
                identity
                    .and_then(|i| member(i, "Header"))
                    .map(scalar_text)
                    .unwrap_or_else(|| "Authorization".into())
            )],
            identity
                .and_then(|i| member(i, "ValidationExpression"))
                .map(scalar_text),
        ),
        "REQUEST" => {
            let mut s: Vec<String> = list("Headers")
                .into_iter()
                .map(|h| format!("method.request.header.{h}"))
                .collect();
            s.extend(
                list("QueryStrings")
                    .into_iter()
                    .map(|q| format!("method.request.querystring.{q}")),
            );
            s.extend(
                list("StageVariables")
                    .into_iter()
                    .map(|v| format!("stageVariables.{v}")),
            );
            s.extend(list("Context").into_iter().map(|c| format!("context.{c}")));
            (s, None)
        }
        other => {
            return Err(IacError::template(
                &t.name,
                a.span,
                format!("`FunctionPayloadType` is TOKEN or REQUEST, not `{other}`"),
            )
            .about(id));
        }
    };
    Ok(Some((
        authorizer_json(&kind, sources, validation, ttl),
        out_routes,
        None,
    )))
}

/// SAM's APIs (`AWS::Serverless::Api`, `AWS::Serverless::HttpApi`, and the implicit APIs of function
/// events that name none), as SAM's transform would make them: routes from the functions' `Api` /
/// `HttpApi` events, the Lambda authorizer from `Auth` (`Authorizers`, `DefaultAuthorizer`, the event's
/// `Auth.Authorizer`), `StageName`, and for REST APIs `Auth.ResourcePolicy.CustomStatements` as the
/// resource policy.
pub(crate) fn sam_apis(t: &Template, r: &Resolver<'_>) -> Result<Vec<Api>, IacError> {
    let s = r.settings();
    let mut out = Vec::new();
    for (kind, implicit, event, prop, http) in [
        (
            "AWS::Serverless::Api",
            "ServerlessRestApi",
            "Api",
            "RestApiId",
            false,
        ),
        (
            "AWS::Serverless::HttpApi",
            "ServerlessHttpApi",
            "HttpApi",
            "ApiId",
            true,
        ),
    ] {
        // Declared APIs, then the implicit one (its `Auth` from `Globals`) when an event names no API.
        let mut apis: Vec<(String, Option<&crate::Resource>)> = t
            .resources
            .iter()
            .filter(|x| x.kind == kind)
            .map(|x| (x.logical_id.clone(), Some(x)))
            .collect();
        if !sam_routes(t, r, event, prop, implicit, None)?.is_empty() {
            apis.push((implicit.to_string(), None));
        }
        for (id, res) in apis {
            let id = id.as_str();
            let (api_ref, routes, props, span) = match res {
                Some(res) => {
                    let api_ref = r.resource_text("Ref", id, id, res.span)?;
                    (
                        api_ref.clone(),
                        sam_routes(t, r, event, prop, id, Some(&api_ref))?,
                        res.properties.clone(),
                        res.span,
                    )
                }
                None => {
                    let routes = sam_routes(t, r, event, prop, implicit, None)?;
                    // At the first event that makes it.
                    let at = routes.first().map_or(Span::new(0, 0), |x| x.span);
                    (
                        s.physical_ids
                            .get(id)
                            .cloned()
                            .unwrap_or_else(|| format!("{}-placeholder", id.to_ascii_lowercase())),
                        routes,
                        t.globals.get(if http { "HttpApi" } else { "Api" }).cloned(),
                        at,
                    )
                }
            };
            // An API defined by its own OpenAPI document (`DefinitionBody`/`DefinitionUri`) takes its
            // routes and authorizers from there, which is not read: no API rather than a wrong one.
            if props.as_ref().is_some_and(|p| {
                member(p, "DefinitionBody").is_some() || member(p, "DefinitionUri").is_some()
            }) {
                continue;
            }
            let auth = props.as_ref().and_then(|p| member(p, "Auth"));
            let Some((authorizer, routes, format)) = sam_auth(t, r, id, span, auth, &routes, http)?
            else {
                continue;
            };
            let stage = match props.as_ref().and_then(|p| member(p, "StageName")) {
                Some(v) => r.text_of(Some(v), id)?.unwrap_or_default(),
                None if http => "$default".into(),
                None => "Prod".into(),
            };
            let mut def = serde_json::Map::new();
            for (k, v) in [
                ("region", json!(s.region)),
                ("account", json!(s.account)),
                ("api_id", json!(api_ref)),
                ("stage", json!(stage)),
                ("routes", json!(routes)),
                ("authorizer", authorizer),
                ("format", json!(format.unwrap_or_else(|| "rest".into()))),
            ] {
                def.insert(k.into(), v);
            }
            let variables = props
                .as_ref()
                .and_then(|p| member(p, if http { "StageVariables" } else { "Variables" }))
                .map(|v| r.value(v))
                .transpose()
                .map_err(|e| e.about(id))?
                .flatten();
            if let Some(v) = string_map(variables.as_ref()) {
                def.insert("stage_variables".into(), v);
            }
            if let Some(rp) = auth.and_then(|a| member(a, "ResourcePolicy")) {
                if let Some(Kind::Object(ms)) = Some(&rp.kind)
                    && let Some(other) = ms.iter().find(|m| m.key != "CustomStatements")
                {
                    return Err(IacError::unsupported(
                        &t.name,
                        other.key_span,
                        format!(
                            "`Auth.ResourcePolicy.{}`: only `CustomStatements` are read",
                            other.key
                        ),
                    )
                    .about(id));
                }
                let statements = member(rp, "CustomStatements")
                    .map(|v| r.value(v))
                    .transpose()
                    .map_err(|e| e.about(id))?
                    .flatten();
                if let Some(st) = statements {
                    let (text, _) = crate::render(&st);
                    let st: serde_json::Value =
                        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
                    let list = match st {
                        serde_json::Value::Array(a) => a,
                        other => vec![other],
                    };
                    def.insert(
                        "resource_policy".into(),
                        json!({"Version": "2012-10-17", "Statement": list}),
                    );
                }
            }
            out.push(Api {
                logical_id: id.to_string(),
                definition: serde_json::Value::Object(def),
                span,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn authorizer_ttl_defaults_as_api_gateway() {
        let a = super::authorizer_json(
            "TOKEN",
            vec!["method.request.header.Authorization".into()],
            None,
            None,
        );
        assert_eq!(a["ttl"], 300);
    }
}
