//! API Gateway APIs of a template with a Lambda authorizer, as the native API definition `apigw` reads
//! (`{"region", "account", "api_id", "stage", "routes", "authorizer", "resource_policy", "format",
//! "stage_variables"}`): REST APIs (`AWS::ApiGateway::RestApi` with its `Resource` tree, `Method`s,
//! `Authorizer`, `Stage` and `Policy`) and HTTP APIs (`AWS::ApiGatewayV2::Api` with its `Route`s,
//! `Authorizer` and `Stage`).

use diag::Span;
use diag::json::{Kind, Value};
use serde_json::json;

use crate::{IacError, Resolver, Template, scalar_text};

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

fn authorizer_json(
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
                match st
                    .property("Variables")
                    .map(|v| r.value(v))
                    .transpose()
                    .map_err(|e| e.about(&st.logical_id))?
                    .flatten()
                {
                    Some(Value {
                        kind: Kind::Object(ms),
                        ..
                    }) => ms
                        .iter()
                        .map(|m| (m.key.clone(), json!(scalar_text(&m.value))))
                        .collect(),
                    _ => serde_json::Map::new(),
                },
            ),
            None => ("prod".into(), serde_json::Map::new()),
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
            ("stage_variables", serde_json::Value::Object(variables)),
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
                        let format = match (version.as_str(), simple) {
                            ("1.0", _) => "http1",
                            (_, true) => "http2-simple",
                            _ => "http2",
                        };
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
