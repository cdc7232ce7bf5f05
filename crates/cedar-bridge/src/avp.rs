//! Verified Permissions' request and response shapes, the cedar CLI's request/entities formats, and the
//! token flow of `IsAuthorizedWithToken`.

use std::str::FromStr;

use std::collections::{HashMap, HashSet};

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Request, RestrictedExpression,
};
use serde_json::{Map, Value, json};

use crate::BridgeError;
use crate::claims::{access_token_context, principal_attrs};
use crate::store::{MappedPrincipal, PolicyStore, decision_of};
use cognito::Claims as _;

/// An entity reference in any accepted form: `{"entityType","entityId"}`, `{"actionType","actionId"}`,
/// `{"type","id"}`, `{"__entity":{…}}` or the string `Type::"id"`.
pub fn entity_uid(v: &Value, what: &str) -> Result<EntityUid, BridgeError> {
    let bad = || BridgeError::Request(format!("`{what}` is not an entity reference: {v}"));
    let (t, id) = match v {
        Value::String(s) => {
            // `Type::"id"` without escapes is split here; anything else goes to Cedar's parser.
            if let Some((t, id)) = s.strip_suffix('"').and_then(|x| x.rsplit_once("::\""))
                && !id.contains(['\\', '"'])
                && !t.contains('"')
            {
                return Ok(EntityUid::from_type_name_and_id(
                    type_name(t)?,
                    EntityId::new(id),
                ));
            }
            return EntityUid::from_str(s).map_err(|e| {
                BridgeError::Request(format!("`{what}`: `{s}` is not an entity uid: {e}"))
            });
        }
        Value::Object(o) => {
            if let Some(inner) = o.get("__entity") {
                return entity_uid(inner, what);
            }
            let pick = |a: &str, b: &str, c: &str| {
                o.get(a)
                    .or_else(|| o.get(b))
                    .or_else(|| o.get(c))
                    .and_then(Value::as_str)
            };
            (
                pick("entityType", "actionType", "type").ok_or_else(bad)?,
                pick("entityId", "actionId", "id").ok_or_else(bad)?,
            )
        }
        _ => return Err(bad()),
    };
    Ok(EntityUid::from_type_name_and_id(
        type_name(t).map_err(|e| BridgeError::Request(format!("`{what}`: {e}")))?,
        EntityId::new(id),
    ))
}

fn uid_json(u: &EntityUid) -> Value {
    json!({"type": u.type_name().to_string(), "id": u.id().unescaped()})
}

/// Converts an AVP `AttributeValue` (`{"string": …}`, `{"Long": 5}`, …; either case) to Cedar JSON.
pub fn attribute_value(v: &Value, what: &str) -> Result<Value, BridgeError> {
    let o = v.as_object().filter(|o| o.len() == 1).ok_or_else(|| BridgeError::Request(format!("`{what}`: an attribute value has exactly one member such as {{\"string\": \"x\"}}, found {v}")))?;
    let Some((k, x)) = o.iter().next() else {
        return Err(BridgeError::Request(format!(
            "`{what}`: empty attribute value"
        )));
    };
    let extn = |f: &str| -> Result<Value, BridgeError> {
        let s = x
            .as_str()
            .ok_or_else(|| BridgeError::Request(format!("`{what}`: `{k}` takes a string")))?;
        Ok(json!({"__extn": {"fn": f, "arg": s}}))
    };
    Ok(match k.to_ascii_lowercase().as_str() {
        "string" => {
            json!(x.as_str().ok_or_else(|| BridgeError::Request(format!(
                "`{what}`: `string` takes a string"
            )))?)
        }
        "long" => {
            json!(x.as_i64().ok_or_else(|| BridgeError::Request(format!(
                "`{what}`: `long` takes an integer"
            )))?)
        }
        "boolean" => json!(x.as_bool().ok_or_else(|| BridgeError::Request(format!(
            "`{what}`: `boolean` takes true or false"
        )))?),
        "entityidentifier" => json!({"__entity": uid_json(&entity_uid(x, what)?)}),
        "set" => Value::Array(
            x.as_array()
                .ok_or_else(|| BridgeError::Request(format!("`{what}`: `set` takes an array")))?
                .iter()
                .map(|e| attribute_value(e, what))
                .collect::<Result<_, _>>()?,
        ),
        "record" => {
            let r = x.as_object().ok_or_else(|| {
                BridgeError::Request(format!("`{what}`: `record` takes an object"))
            })?;
            Value::Object(
                r.iter()
                    .map(|(rk, rv)| Ok((rk.clone(), attribute_value(rv, &format!("{what}.{rk}"))?)))
                    .collect::<Result<_, BridgeError>>()?,
            )
        }
        "ipaddr" => extn("ip")?,
        "decimal" => extn("decimal")?,
        "datetime" => extn("datetime")?,
        "duration" => extn("duration")?,
        other => {
            return Err(BridgeError::Request(format!(
                "`{what}`: unknown attribute value type `{other}`"
            )));
        }
    })
}

/// AVP's unions (`EntitiesDefinition`, `ContextDefinition`) hold exactly one member; `cedarJson` is a
/// string of Cedar JSON. Returns which member is set, `None` for a plain (cedar CLI) value.
fn union_member(
    v: &Value,
    list: &'static str,
    what: &str,
) -> Result<Option<&'static str>, BridgeError> {
    let Some(o) = v.as_object() else {
        return Ok(None);
    };
    let members = [list, "cedarJson"];
    let set: Vec<&'static str> = members
        .iter()
        .copied()
        .filter(|m| o.contains_key(*m))
        .collect();
    match set.as_slice() {
        [] => Ok(None),
        [m] if o.len() == 1 => {
            if *m == "cedarJson" && !o.get("cedarJson").is_some_and(Value::is_string) {
                return Err(BridgeError::Request(format!(
                    "`{what}.cedarJson` must be a string of Cedar JSON"
                )));
            }
            Ok(Some(*m))
        }
        _ => Err(BridgeError::Request(format!(
            "`{what}` is a union: give exactly one of `{list}` and `cedarJson`, found {}",
            o.keys()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Whether an entity type is an action type (`Action`, `Ns::Action`).
fn is_action_type(t: &str) -> bool {
    t == "Action" || t.ends_with("::Action")
}

/// Reads `entities`: `{"entityList": [...]}`, `{"cedarJson": "..."}`, or a cedar-CLI entities array.
/// Action entities carry only their identifier; `tags` (Cedar entity tags) are kept.
pub fn entities_json(v: Option<&Value>) -> Result<Vec<Value>, BridgeError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let member = union_member(v, "entityList", "entities")?;
    let ents = entities_members(v, member)?;
    for e in &ents {
        let t = e
            .get("uid")
            .and_then(|u| u.get("__entity").or(Some(u)))
            .and_then(|u| u.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let non_empty = |k: &str| match e.get(k) {
            None | Some(Value::Null) => false,
            Some(Value::Object(o)) => !o.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(_) => true,
        };
        if is_action_type(t) && (non_empty("attrs") || non_empty("parents") || non_empty("tags")) {
            return Err(BridgeError::Request(format!(
                "action entity `{t}` may carry only its identifier (no attributes, parents or tags)"
            )));
        }
    }
    Ok(ents)
}

fn entities_members(v: &Value, member: Option<&str>) -> Result<Vec<Value>, BridgeError> {
    if member == Some("entityList") {
        let list = v.get("entityList").unwrap_or(&Value::Null);
        let list = list
            .as_array()
            .ok_or_else(|| BridgeError::Request("`entityList` must be an array".into()))?;
        return list
            .iter()
            .map(|e| {
                let uid = entity_uid(
                    e.get("identifier").ok_or_else(|| {
                        BridgeError::Request("an entity needs `identifier`".into())
                    })?,
                    "identifier",
                )?;
                let mut attrs = Map::new();
                if let Some(a) = e.get("attributes").and_then(Value::as_object) {
                    for (k, x) in a {
                        attrs.insert(k.clone(), attribute_value(x, k)?);
                    }
                }
                let parents: Vec<Value> = e
                    .get("parents")
                    .and_then(Value::as_array)
                    .map(|ps| {
                        ps.iter()
                            .map(|p| entity_uid(p, "parents").map(|u| uid_json(&u)))
                            .collect::<Result<_, _>>()
                    })
                    .transpose()?
                    .unwrap_or_default();
                let mut out = json!({"uid": uid_json(&uid), "attrs": attrs, "parents": parents});
                if let Some(t) = e.get("tags") {
                    let t = t.as_object().ok_or_else(|| {
                        BridgeError::Request("`tags` must be a map of attribute values".into())
                    })?;
                    let mut tags = Map::new();
                    for (k, x) in t {
                        tags.insert(k.clone(), attribute_value(x, k)?);
                    }
                    if let Some(o) = out.as_object_mut() {
                        o.insert("tags".into(), Value::Object(tags));
                    }
                }
                Ok(out)
            })
            .collect();
    }
    if member == Some("cedarJson")
        && let Some(s) = v.get("cedarJson").and_then(Value::as_str)
    {
        return match serde_json::from_str(s) {
            Ok(Value::Array(a)) => Ok(a),
            _ => Err(BridgeError::Request(
                "`cedarJson` entities must be a JSON array".into(),
            )),
        };
    }
    match v {
        Value::Array(a) => Ok(a.clone()),
        _ => Err(BridgeError::Request(
            "`entities` must be {\"entityList\": […]}, {\"cedarJson\": \"…\"} or an array".into(),
        )),
    }
}

/// Reads `context`: `{"contextMap": {...}}`, `{"cedarJson": "..."}`, or a plain Cedar JSON object.
pub fn context_json(v: Option<&Value>) -> Result<Map<String, Value>, BridgeError> {
    let Some(v) = v else { return Ok(Map::new()) };
    let member = union_member(v, "contextMap", "context")?;
    if member == Some("contextMap")
        && let Some(m) = v.get("contextMap")
    {
        let m = m
            .as_object()
            .ok_or_else(|| BridgeError::Request("`contextMap` must be an object".into()))?;
        return m
            .iter()
            .map(|(k, x)| Ok((k.clone(), attribute_value(x, k)?)))
            .collect();
    }
    if member == Some("cedarJson")
        && let Some(s) = v.get("cedarJson").and_then(Value::as_str)
    {
        return match serde_json::from_str(s) {
            Ok(Value::Object(o)) => Ok(o),
            _ => Err(BridgeError::Request(
                "`cedarJson` context must be a JSON object".into(),
            )),
        };
    }
    v.as_object()
        .cloned()
        .ok_or_else(|| BridgeError::Request("`context` must be an object".into()))
}

/// Claims for a token request: verified by the caller or the store, or given explicitly for tests.
#[derive(Clone, Debug, Default)]
pub struct TokenClaims {
    /// ID-token claims.
    pub(crate) identity: Option<Map<String, Value>>,
    /// Access-token claims.
    pub(crate) access: Option<Map<String, Value>>,
    /// Whether the claims came from verified tokens: set only from `cognito`'s verified claims (or the
    /// bridge's own verification), never by a caller; answers built from claims given by hand say
    /// `verified: false`.
    pub(crate) verified: bool,
}

impl TokenClaims {
    /// Claims typed in by hand (tests, suites, replays): decisions made with them say they were not
    /// verified.
    pub fn given(identity: Option<Map<String, Value>>, access: Option<Map<String, Value>>) -> Self {
        Self {
            identity,
            access,
            verified: false,
        }
    }
    /// The ID token's claims.
    pub fn identity(&self) -> Option<&Map<String, Value>> {
        self.identity.as_ref()
    }
    /// The access token's claims.
    pub fn access(&self) -> Option<&Map<String, Value>> {
        self.access.as_ref()
    }
    /// Whether there are no claims at all.
    pub fn is_empty(&self) -> bool {
        self.identity.is_none() && self.access.is_none()
    }
    /// Whether the claims came from verified tokens.
    pub fn is_verified(&self) -> bool {
        self.verified
    }
    /// From claims of the `cognito` crate: verified (the normal input), or given by hand.
    pub fn from_verified(
        id: Option<&dyn cognito::Claims>,
        access: Option<&dyn cognito::Claims>,
    ) -> Self {
        Self {
            verified: id.is_none_or(cognito::Claims::verified)
                && access.is_none_or(cognito::Claims::verified),
            identity: id.map(|c| c.claims().clone()),
            access: access.map(|c| c.claims().clone()),
        }
    }
}

/// One decision in the shared and the AVP vocabulary.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The shared result: the decision, the determining policy ids, policies whose evaluation failed
    /// (`cedar::evaluation`), and whether the token claims were verified.
    pub result: authz_core::Answer,
    /// The principal the token was mapped to (token calls only).
    pub principal: Option<EntityUid>,
    /// Notes from mapping claims (dropped or coerced values).
    pub notes: Vec<String>,
}

impl Answer {
    /// The answer in Verified Permissions' response shape: `decision` (`ALLOW`/`DENY`),
    /// `determiningPolicies`, `errors` (`errorDescription`), and `principal` for token calls. Built on
    /// demand, at the edge: deciding does not build JSON.
    pub fn response(&self) -> Value {
        let mut response = json!({
            "decision": if self.result.decision == authz_core::Decision::Allow { "ALLOW" } else { "DENY" },
            "determiningPolicies": self.result.determining.iter().map(|d| json!({"policyId": d.policy})).collect::<Vec<_>>(),
            "errors": self.result.errors.iter().map(|e| json!({"errorDescription": e.message})).collect::<Vec<_>>(),
        });
        if let (Some(p), Some(o)) = (&self.principal, response.as_object_mut()) {
            o.insert(
                "principal".into(),
                json!({"entityType": p.type_name().to_string(), "entityId": p.id().unescaped()}),
            );
        }
        response
    }
}

/// Decides one request: `principal` (or token claims), `action`, `resource`, `context`, `entities`.
pub fn decide(
    store: &PolicyStore,
    req: &Value,
    tokens: &TokenClaims,
    shared_entities: Option<&Value>,
) -> Result<Answer, BridgeError> {
    decide_with(store, req, tokens, shared_entities, &mut |_, _| {})
}

/// Why one policy did or did not apply to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyExplanation {
    /// The policy id.
    pub id: String,
    /// `permit` or `forbid`.
    pub effect: &'static str,
    /// Whether the request falls in its scope (principal, action and resource constraints).
    pub scope_matched: bool,
    /// `satisfied`, `condition false`, `error` or `scope not matched`.
    pub outcome: &'static str,
    /// The first `when` / `unless` clause that is not satisfied (0-based, in written order), when a
    /// condition decided.
    pub failed_clause: Option<usize>,
    /// The evaluation error, when the policy errored.
    pub error: Option<String>,
}

/// [`decide`], and for every policy of the store why it did or did not apply: its scope, then its
/// conditions clause by clause (each policy is evaluated alone on the same request and entities).
pub fn explain(
    store: &PolicyStore,
    req: &Value,
    tokens: &TokenClaims,
    shared_entities: Option<&Value>,
) -> Result<(Answer, Vec<PolicyExplanation>), BridgeError> {
    let mut out = Vec::new();
    let answer = decide_with(
        store,
        req,
        tokens,
        shared_entities,
        &mut |request, entities| {
            out = explain_policies(store, request, entities);
        },
    )?;
    Ok((answer, out))
}

fn explain_policies(
    store: &PolicyStore,
    request: &Request,
    entities: &Entities,
) -> Vec<PolicyExplanation> {
    let auth = cedar_policy::Authorizer::new();
    // Evaluates `policy` alone: (satisfied, error message).
    let alone = |policy: cedar_policy::Policy| -> (bool, Option<String>) {
        let id = policy.id().clone();
        let mut set = cedar_policy::PolicySet::new();
        if set.add(policy).is_err() {
            return (false, Some("could not be evaluated alone".into()));
        }
        let resp = auth.is_authorized(request, &set, entities);
        let satisfied = resp.diagnostics().reason().any(|r| *r == id);
        let error = resp.diagnostics().errors().next().map(ToString::to_string);
        (satisfied, error)
    };
    // The policy with only some of its clauses (`keep` of the `conditions` in its JSON form).
    let with_clauses = |p: &cedar_policy::Policy, keep: &dyn Fn(usize) -> bool| {
        let mut v = p.to_json().ok()?;
        let conditions = v.get_mut("conditions")?.as_array_mut()?;
        let kept: Vec<Value> = conditions
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, c)| c.clone())
            .collect();
        *conditions = kept;
        cedar_policy::Policy::from_json(Some(p.id().clone()), v).ok()
    };
    let mut out = Vec::new();
    for p in store.policies().policies() {
        let effect = match p.effect() {
            cedar_policy::Effect::Permit => "permit",
            cedar_policy::Effect::Forbid => "forbid",
        };
        let scope = with_clauses(p, &|_| false).map(&alone);
        let scope_matched = scope.as_ref().is_some_and(|(s, _)| *s);
        let (satisfied, error) = alone(p.clone());
        let clauses = p
            .to_json()
            .ok()
            .and_then(|v| v.get("conditions").and_then(Value::as_array).map(Vec::len))
            .unwrap_or(0);
        let failed_clause = if scope_matched && !satisfied && error.is_none() {
            (0..clauses).find(|i| {
                with_clauses(p, &|j| j == *i)
                    .map(&alone)
                    .is_some_and(|(s, _)| !s)
            })
        } else {
            None
        };
        let outcome = match (scope_matched, satisfied, &error) {
            (_, true, _) => "satisfied",
            (_, _, Some(_)) => "error",
            (true, false, None) => "condition false",
            (false, false, None) => "scope not matched",
        };
        out.push(PolicyExplanation {
            id: p.id().to_string(),
            effect,
            scope_matched,
            outcome,
            failed_clause,
            error,
        });
    }
    out
}

/// [`decide`], showing the built request and entities to `inspect` before deciding.
fn decide_with(
    store: &PolicyStore,
    req: &Value,
    tokens: &TokenClaims,
    shared_entities: Option<&Value>,
    inspect: &mut dyn FnMut(&Request, &Entities),
) -> Result<Answer, BridgeError> {
    let mut notes = Vec::new();
    let action = entity_uid(
        req.get("action")
            .ok_or_else(|| BridgeError::Request("missing `action`".into()))?,
        "action",
    )?;
    let resource = entity_uid(
        req.get("resource")
            .ok_or_else(|| BridgeError::Request("missing `resource`".into()))?,
        "resource",
    )?;
    let mut ents = entities_json(req.get("entities").or(shared_entities))?;
    let mut ctx = context_json(req.get("context"))?;
    let with_token = tokens.identity.is_some() || tokens.access.is_some();
    let schema = store.schema();
    // A principal mapped from token claims before, reused when the request brings no entities.
    let mut mapped: Option<std::sync::Arc<MappedPrincipal>> = None;
    let principal = if with_token {
        let src = store.identity_source().ok_or_else(|| {
            BridgeError::Config(
                "token requests need an identity source (identity-source.json)".into(),
            )
        })?;
        let base = tokens
            .identity
            .as_ref()
            .or(tokens.access.as_ref())
            .ok_or_else(|| BridgeError::Request("no token".into()))?;
        // Client checks (an empty list disables them, as in Verified Permissions).
        for (claims, claim) in [
            (tokens.identity.as_ref(), "aud"),
            (tokens.access.as_ref(), "client_id"),
        ] {
            if let (Some(c), false) = (claims, src.client_ids.is_empty()) {
                let got = c.get(claim).and_then(Value::as_str).unwrap_or("");
                if !src.client_ids.iter().any(|x| x == got) {
                    return Err(BridgeError::Claims(format!(
                        "client `{got}` is not one of the identity source's client ids"
                    )));
                }
            }
        }
        let pid = src.principal_id(base)?;
        if let (Some(a), Some(i)) = (&tokens.access, &tokens.identity)
            && (src.principal_id(a)? != pid || i.get("iss") != a.get("iss"))
        {
            return Err(BridgeError::Claims(
                "the ID and access tokens belong to different users".into(),
            ));
        }
        let ptype = &src.principal_entity_type;
        for e in &ents {
            let t = e
                .get("uid")
                .and_then(|u| u.get("type"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if t == ptype || src.group_entity_type.as_deref() == Some(t) {
                return Err(BridgeError::Request(format!(
                    "`entities` may not contain `{t}` entities: the token supplies the principal and its groups"
                )));
            }
        }
        if tokens.access.is_some() && ctx.contains_key("token") {
            return Err(BridgeError::Request(
                "`context` may not contain `token` with an access token: the token supplies it"
                    .into(),
            ));
        }
        let uid = EntityUid::from_type_name_and_id(type_name(ptype)?, EntityId::new(&pid));
        if ents.is_empty() {
            let m = store.mapped_principal(
                &pid,
                tokens.identity.as_ref(),
                tokens.access.as_ref(),
                || {
                    let mut notes = Vec::new();
                    let (pents, token_context) =
                        map_token_principal(store, src, tokens, &pid, &mut notes)?;
                    // The principal's only ancestors are its groups, which have none.
                    let pents = last_of_each(pents);
                    let groups = pents.len().saturating_sub(1);
                    if groups > MAX_TRANSITIVE_PARENTS {
                        return Err(BridgeError::Request(format!(
                            "the principal `{uid}` has {groups} transitive parents; Verified Permissions allows at most {MAX_TRANSITIVE_PARENTS}"
                        )));
                    }
                    Ok(MappedPrincipal {
                        claims: (tokens.identity.clone(), tokens.access.clone()),
                        entities: build_entities(pents, schema)?,
                        token_context,
                        notes,
                    })
                },
            )?;
            notes.extend(m.notes.iter().cloned());
            if let Some(tc) = &m.token_context {
                ctx.insert("token".into(), Value::Object(tc.clone()));
            }
            mapped = Some(m);
        } else {
            let (pents, token_context) = map_token_principal(store, src, tokens, &pid, &mut notes)?;
            ents.extend(pents);
            if let Some(tc) = token_context {
                ctx.insert("token".into(), Value::Object(tc));
            }
        }
        uid
    } else {
        entity_uid(
            req.get("principal")
                .ok_or_else(|| BridgeError::Request("missing `principal` (or a token)".into()))?,
            "principal",
        )?
    };
    let built;
    let entities = match &mapped {
        Some(m) => &m.entities,
        None => {
            let ents = last_of_each(ents);
            check_entity_graph(&ents)?;
            check_parents(&ents, &principal, "principal")?;
            check_parents(&ents, &resource, "resource")?;
            built = build_entities(ents, schema)?;
            &built
        }
    };
    let context = match schema {
        // With a schema, Cedar's JSON reader types the values (entity references, extension values).
        Some(_) => Context::from_json_value(Value::Object(ctx), schema.map(|s| (s, &action)))
            .map_err(|e| BridgeError::Request(format!("context: {e}")))?,
        // Without one, build the values directly: no JSON round trip on the hot path.
        None => Context::from_pairs(
            ctx.iter()
                .map(|(k, v)| Ok((k.clone(), to_rexpr(v)?)))
                .collect::<Result<Vec<_>, BridgeError>>()?,
        )
        .map_err(|e| BridgeError::Request(format!("context: {e}")))?,
    };
    let request = Request::new(principal.clone(), action, resource, context, schema)
        .map_err(|e| BridgeError::Request(format!("request: {e}")))?;
    inspect(&request, entities);
    let resp = store.is_authorized(&request, entities)?;
    let decision = decision_of(store, &resp);
    let mut determining: Vec<String> = resp
        .diagnostics()
        .reason()
        .map(ToString::to_string)
        .collect();
    determining.sort();
    let result = authz_core::Answer {
        decision,
        determining: determining
            .iter()
            .map(|id| authz_core::Determining {
                layer: authz_core::Layer::Cedar,
                policy: id.clone(),
                sid: None,
                statement: None,
            })
            .collect(),
        blocked_by: None,
        errors: resp
            .diagnostics()
            .errors()
            .map(|e| {
                let cedar_policy::AuthorizationError::PolicyEvaluationError(p) = e;
                authz_core::AnswerError {
                    code: diag::codes::CEDAR_EVALUATION,
                    policy: Some(p.policy_id().to_string()),
                    message: e.to_string(),
                }
            })
            .collect(),
        verified: with_token.then_some(tokens.verified),
    };
    Ok(Answer {
        result,
        principal: with_token.then_some(principal),
        notes,
    })
}

/// A token's claims (or a record built from them).
type Claims = Map<String, Value>;

/// The principal and group entities (Cedar JSON) a token's claims map to, and `context.token` for an
/// access token.
fn map_token_principal(
    store: &PolicyStore,
    src: &crate::claims::IdentitySource,
    tokens: &TokenClaims,
    pid: &str,
    notes: &mut Vec<String>,
) -> Result<(Vec<Value>, Option<Claims>), BridgeError> {
    let base = tokens
        .identity
        .as_ref()
        .or(tokens.access.as_ref())
        .ok_or_else(|| BridgeError::Request("no token".into()))?;
    let mut groups = src.groups(tokens.identity.as_ref().unwrap_or(base));
    if let Some(a) = &tokens.access {
        for g in src.groups(a) {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    }
    let mut ents = Vec::new();
    let mut parents = Vec::new();
    if let Some(gt) = &src.group_entity_type {
        for g in &groups {
            let gid = format!("{}|{g}", src.entity_id_prefix);
            parents.push(json!({"type": gt, "id": gid}));
            ents.push(json!({"uid": {"type": gt, "id": gid}, "attrs": {}, "parents": []}));
        }
    }
    let attrs = match &tokens.identity {
        Some(i) => principal_attrs(src, i, store.attr_types(), notes)?,
        None => Map::new(),
    };
    ents.push(json!({"uid": {"type": src.principal_entity_type, "id": pid}, "attrs": attrs, "parents": parents}));
    let token_context = tokens
        .access
        .as_ref()
        .map(|a| access_token_context(src, a, store.token_types(), notes));
    Ok((ents, token_context))
}

/// Refuses an entity hierarchy Cedar must not be given, before Cedar sees it: a parent cycle, or an
/// entity with more than [`MAX_TRANSITIVE_PARENTS`] transitive parents ("up to 99 transitive parents",
/// EntityItem / EntitiesDefinition). Cedar computes the hierarchy's transitive closure recursively, so a
/// request that chose the depth (a 2,600-entity cycle, a 4,000-entity chain) could otherwise exhaust the
/// stack or take quadratic time; this check is iterative and stops counting at the limit, so it costs at
/// most `entities × 100` steps.
pub fn check_entity_graph(ents: &[Value]) -> Result<(), BridgeError> {
    let key = |u: &Value| -> (String, String) {
        let u = u.get("__entity").unwrap_or(u);
        let part = |k: &str| match u.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        (part("type"), part("id"))
    };
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for e in ents {
        if let Some(u) = e.get("uid") {
            let n = index.len();
            index.entry(key(u)).or_insert(n);
        }
    }
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); index.len()];
    for e in ents {
        let Some(&i) = e.get("uid").and_then(|u| index.get(&key(u))) else {
            continue;
        };
        for p in e
            .get("parents")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // A parent not in the list has no parents of its own here: it ends the chain.
            if let Some(&j) = index.get(&key(p))
                && let Some(list) = parents.get_mut(i)
            {
                list.push(j);
            }
        }
    }
    let names: Vec<&(String, String)> = {
        let mut v: Vec<(&(String, String), usize)> = index.iter().map(|(k, i)| (k, *i)).collect();
        v.sort_by_key(|(_, i)| *i);
        v.into_iter().map(|(k, _)| k).collect()
    };
    let show = |i: usize| {
        names
            .get(i)
            .map_or_else(String::new, |(t, id)| format!("{t}::{id:?}"))
    };
    // Cycles: an iterative three-colour depth-first search.
    let mut colour = vec![0u8; parents.len()];
    for start in 0..parents.len() {
        if colour.get(start) != Some(&0) {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        if let Some(c) = colour.get_mut(start) {
            *c = 1;
        }
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            match parents.get(node).and_then(|l| l.get(*next)).copied() {
                Some(p) => {
                    *next += 1;
                    match colour.get(p) {
                        Some(0) => {
                            if let Some(c) = colour.get_mut(p) {
                                *c = 1;
                            }
                            stack.push((p, 0));
                        }
                        Some(1) => {
                            return Err(BridgeError::Request(format!(
                                "the entities' parents form a cycle through {}: an entity hierarchy must be acyclic",
                                show(p)
                            )));
                        }
                        _ => {}
                    }
                }
                None => {
                    if let Some(c) = colour.get_mut(node) {
                        *c = 2;
                    }
                    stack.pop();
                }
            }
        }
    }
    // Depth: at most MAX_TRANSITIVE_PARENTS distinct ancestors for every entity.
    let mut seen = vec![usize::MAX; parents.len()];
    for start in 0..parents.len() {
        let mut count = 0usize;
        let mut stack = vec![start];
        while let Some(n) = stack.pop() {
            for &p in parents.get(n).into_iter().flatten() {
                if seen.get(p) != Some(&start) {
                    if let Some(x) = seen.get_mut(p) {
                        *x = start;
                    }
                    count += 1;
                    if count > MAX_TRANSITIVE_PARENTS {
                        return Err(BridgeError::Request(format!(
                            "the entity {} has more than {MAX_TRANSITIVE_PARENTS} transitive parents; Verified Permissions allows at most {MAX_TRANSITIVE_PARENTS}",
                            show(start)
                        )));
                    }
                    stack.push(p);
                }
            }
        }
    }
    Ok(())
}

/// Refuses an entity with more transitive parents than Verified Permissions allows.
fn check_parents(ents: &[Value], uid: &EntityUid, who: &str) -> Result<(), BridgeError> {
    let n = transitive_parents(ents, uid);
    if n > MAX_TRANSITIVE_PARENTS {
        return Err(BridgeError::Request(format!(
            "the {who} `{uid}` has {n} transitive parents; Verified Permissions allows at most {MAX_TRANSITIVE_PARENTS}"
        )));
    }
    Ok(())
}

/// Cedar entities from Cedar JSON: through Cedar's JSON reader with a schema (it types entity references
/// and extension values), directly without one (no JSON round trip).
fn build_entities(
    ents: Vec<Value>,
    schema: Option<&cedar_policy::Schema>,
) -> Result<Entities, BridgeError> {
    match schema {
        Some(_) => Entities::from_json_value(Value::Array(ents), schema)
            .map_err(|e| BridgeError::Request(format!("entities: {e}"))),
        None => Entities::from_entities(
            ents.iter().map(to_entity).collect::<Result<Vec<_>, _>>()?,
            None,
        )
        .map_err(|e| BridgeError::Request(format!("entities: {e}"))),
    }
}

/// The most transitive parents a principal or resource may have (EntityItem, EntitiesDefinition).
pub const MAX_TRANSITIVE_PARENTS: usize = 99;

/// How many distinct ancestors `uid` has in `ents` (Cedar JSON entities).
fn transitive_parents(ents: &[Value], uid: &EntityUid) -> usize {
    let key = |u: &Value| -> (String, String) {
        let u = u.get("__entity").unwrap_or(u);
        let part = |k: &str| u.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        (part("type"), part("id"))
    };
    let parents: HashMap<(String, String), Vec<(String, String)>> = ents
        .iter()
        .filter_map(|e| {
            let ps = e.get("parents")?.as_array()?.iter().map(key).collect();
            Some((key(e.get("uid")?), ps))
        })
        .collect();
    let start = (
        uid.type_name().to_string(),
        uid.id().unescaped().to_string(),
    );
    let mut seen = HashSet::new();
    let mut stack = vec![start.clone()];
    while let Some(u) = stack.pop() {
        for p in parents.get(&u).into_iter().flatten() {
            if *p != start && seen.insert(p.clone()) {
                stack.push(p.clone());
            }
        }
    }
    seen.len()
}

/// Keeps the last entity of each uid (Verified Permissions uses the last of duplicates).
fn last_of_each(ents: Vec<Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut out: Vec<Value> = ents
        .into_iter()
        .rev()
        .filter(|e| {
            let uid = e.get("uid").map(|u| u.get("__entity").unwrap_or(u));
            let part = |k: &str| {
                uid.and_then(|u| u.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            seen.insert((part("type"), part("id")))
        })
        .collect();
    out.reverse();
    out
}

/// Parses an entity type name once per process: Cedar's parser is the slow part of building a request.
fn type_name(t: &str) -> Result<EntityTypeName, BridgeError> {
    static CACHE: std::sync::OnceLock<std::sync::RwLock<HashMap<String, EntityTypeName>>> =
        std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(n) = cache.read().ok().and_then(|m| m.get(t).cloned()) {
        return Ok(n);
    }
    let n: EntityTypeName = t
        .parse()
        .map_err(|e| BridgeError::Request(format!("`{t}` is not an entity type: {e}")))?;
    if let Ok(mut m) = cache.write()
        && m.len() < 10_000
    {
        m.insert(t.to_string(), n.clone());
    }
    Ok(n)
}

fn uid_from_cedar_json(v: &Value) -> Result<EntityUid, BridgeError> {
    let v = v.get("__entity").unwrap_or(v);
    let t = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| BridgeError::Request(format!("not an entity reference: {v}")))?;
    let id = v
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| BridgeError::Request(format!("not an entity reference: {v}")))?;
    Ok(EntityUid::from_type_name_and_id(
        type_name(t)?,
        EntityId::new(id),
    ))
}

/// Cedar JSON (as built here) → a restricted expression.
fn to_rexpr(v: &Value) -> Result<RestrictedExpression, BridgeError> {
    Ok(match v {
        Value::String(s) => RestrictedExpression::new_string(s.clone()),
        Value::Bool(b) => RestrictedExpression::new_bool(*b),
        Value::Number(n) => RestrictedExpression::new_long(
            n.as_i64()
                .ok_or_else(|| BridgeError::Request(format!("{n} is not a 64-bit integer")))?,
        ),
        Value::Array(a) => {
            RestrictedExpression::new_set(a.iter().map(to_rexpr).collect::<Result<Vec<_>, _>>()?)
        }
        Value::Object(o) if o.contains_key("__entity") => {
            RestrictedExpression::new_entity_uid(uid_from_cedar_json(v)?)
        }
        Value::Object(o) if o.contains_key("__extn") => {
            let e = o.get("__extn").cloned().unwrap_or(Value::Null);
            let f = e.get("fn").and_then(Value::as_str).unwrap_or("");
            let arg = e.get("arg").and_then(Value::as_str).unwrap_or("");
            format!("{f}({})", Value::String(arg.to_string()))
                .parse()
                .map_err(|x| BridgeError::Request(format!("invalid `{f}` value `{arg}`: {x}")))?
        }
        Value::Object(o) => RestrictedExpression::new_record(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), to_rexpr(x)?)))
                .collect::<Result<Vec<_>, BridgeError>>()?,
        )
        .map_err(|e| BridgeError::Request(e.to_string()))?,
        Value::Null => return Err(BridgeError::Request("null is not a Cedar value".into())),
    })
}

fn to_entity(v: &Value) -> Result<Entity, BridgeError> {
    let uid = uid_from_cedar_json(
        v.get("uid")
            .ok_or_else(|| BridgeError::Request("an entity needs `uid`".into()))?,
    )?;
    let mut attrs = HashMap::new();
    if let Some(a) = v.get("attrs").and_then(Value::as_object) {
        for (k, x) in a {
            attrs.insert(k.clone(), to_rexpr(x)?);
        }
    }
    let mut parents = HashSet::new();
    for p in v
        .get("parents")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        parents.insert(uid_from_cedar_json(p)?);
    }
    let mut tags = HashMap::new();
    if let Some(t) = v.get("tags").and_then(Value::as_object) {
        for (k, x) in t {
            tags.insert(k.clone(), to_rexpr(x)?);
        }
    }
    Entity::new_with_tags(uid, attrs, parents, tags)
        .map_err(|e| BridgeError::Request(format!("entity: {e}")))
}

/// The verifiers of a store's identity source, built once (keys read or fetched once; remote keys
/// cached by the `cognito` crate), with a cache of verified tokens: what a server keeps per store.
pub struct TokenVerifiers {
    id: cognito::Verifier,
    access: cognito::Verifier,
    cache: cognito::TokenCache,
    /// The identity source's `TokenSelection`, when it has one.
    token_selection: Option<cognito::TokenUse>,
}

impl TokenVerifiers {
    /// The verifiers for `store`'s identity source. `jwks_text`: the JWKS when the identity source
    /// names a file (the caller reads it); a URL is fetched on first use; an OIDC source without one is
    /// discovered from its issuer (over HTTPS, now).
    pub fn new(store: &PolicyStore, jwks_text: Option<&str>) -> Result<Self, BridgeError> {
        let src = store.identity_source().ok_or_else(|| {
            BridgeError::Config(
                "token requests need an identity source (identity-source.json)".into(),
            )
        })?;
        // The keys: the identity source's `jwks` (a URL, or a file the caller read), or for an OIDC
        // source without one, the provider's discovery document (issuer → `jwks_uri`).
        let discovered = match (&src.jwks, &src.issuer) {
            (None, Some(iss)) => Some(
                cognito::OidcDiscovery::fetch(iss)
                    .map_err(BridgeError::Token)?
                    .jwks_uri,
            ),
            _ => None,
        };
        let jwks_arg = src
            .jwks
            .as_deref()
            .or(discovered.as_deref())
            .ok_or_else(|| {
                BridgeError::Config(
                    "the identity source has no `jwks` to verify tokens with".into(),
                )
            })?;
        let verifier = |token_use: cognito::TokenUse| -> Result<cognito::Verifier, BridgeError> {
            let jwks = if jwks_arg.starts_with("http://") || jwks_arg.starts_with("https://") {
                // Keys over plain HTTP can be replaced in transit: https:// only.
                cognito::check_jwks_url(jwks_arg)
                    .map_err(|e| BridgeError::Config(format!("identity source: {e}")))?;
                cognito::JwksSource::remote(jwks_arg)
            } else {
                let text = jwks_text.ok_or_else(|| {
                    BridgeError::Config(format!(
                        "the identity source's JWKS `{jwks_arg}` is a file: the caller must read it"
                    ))
                })?;
                cognito::JwksSource::from_json(text)
                    .map_err(|e| BridgeError::Config(e.to_string()))?
            };
            let cfg = match (&src.user_pool_id, &src.issuer) {
                (Some(pool), _) => {
                    let mut c = cognito::VerifierConfig::for_pool(pool, "", token_use);
                    c.client_ids = src.client_ids.clone();
                    c.check_client = !src.client_ids.is_empty();
                    c
                }
                // An OIDC source: ID tokens checked against its client ids, access tokens' `aud`
                // against its audiences (both kept in `client_ids`).
                (None, Some(iss)) => {
                    cognito::VerifierConfig::for_oidc(iss, &src.client_ids, token_use)
                }
                (None, None) => {
                    return Err(BridgeError::Config(
                        "the identity source names neither a user pool nor an issuer".into(),
                    ));
                }
            };
            Ok(cognito::Verifier::new(cfg, jwks))
        };
        Ok(Self {
            id: verifier(cognito::TokenUse::Id)?,
            access: verifier(cognito::TokenUse::Access)?,
            cache: cognito::TokenCache::new(10_000),
            token_selection: src.token_selection,
        })
    }

    /// Verifies a request's `identityToken` and `accessToken` at `now` (Unix seconds).
    pub fn verify(&self, req: &Value, now: i64) -> Result<TokenClaims, BridgeError> {
        let check = |tok: &str, v: &cognito::Verifier| -> Result<Map<String, Value>, BridgeError> {
            self.cache
                .verify_at(v, tok, now)
                .map(|c| c.claims().clone())
                .map_err(BridgeError::Token)
        };
        let token = |k: &str| -> Result<Option<&str>, BridgeError> {
            match req.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(BridgeError::Request(format!("`{k}` must be a string"))),
            }
        };
        // An OIDC source with a `TokenSelection` takes only that kind of token.
        if let Some(only) = self.token_selection {
            let (given, field) = match only {
                cognito::TokenUse::Access => ("identityToken", "AccessTokenOnly"),
                cognito::TokenUse::Id => ("accessToken", "IdentityTokenOnly"),
            };
            if token(given)?.is_some() {
                return Err(BridgeError::Request(format!(
                    "the policy store's identity source accepts {} tokens only (TokenSelection {field}): `{given}` is refused",
                    only.as_str()
                )));
            }
        }
        Ok(TokenClaims {
            verified: true,
            identity: token("identityToken")?
                .map(|t| check(t, &self.id))
                .transpose()?,
            access: token("accessToken")?
                .map(|t| check(t, &self.access))
                .transpose()?,
        })
    }
}

/// Verifies a request's `identityToken` / `accessToken` with the store's identity source (see
/// [`TokenVerifiers::new`]); no tokens give empty claims. For one request: a server keeps a
/// [`TokenVerifiers`] instead.
pub fn verify_request_tokens(
    store: &PolicyStore,
    req: &Value,
    jwks_text: Option<&str>,
    now: Option<i64>,
) -> Result<TokenClaims, BridgeError> {
    if req.get("identityToken").is_none() && req.get("accessToken").is_none() {
        return Ok(TokenClaims::default());
    }
    let now = now.unwrap_or_else(authz_core::now_secs);
    TokenVerifiers::new(store, jwks_text)?.verify(req, now)
}

/// The most principals and resources the `entities` of a `BatchIsAuthorized` request may hold, and the
/// most resources and user groups of a `BatchIsAuthorizedWithToken` request (Verified Permissions API
/// reference: "The entities of a BatchIsAuthorized API request can contain up to 100 principals and up
/// to 100 resources"; "… of a BatchIsAuthorizedWithToken API request can contain up to 100 resources and
/// up to 99 user groups").
pub const BATCH_MAX_PRINCIPALS: usize = 100;
/// See [`BATCH_MAX_PRINCIPALS`].
pub const BATCH_MAX_RESOURCES: usize = 100;
/// See [`BATCH_MAX_PRINCIPALS`]: the token's groups (with the user, 100 principals).
pub const BATCH_MAX_USER_GROUPS: usize = 99;

/// Enforces the batch entity limits before anything is decided. Principals (resources) are the
/// distinct entities of `entities` whose type is a type the requests use as principal (resource); with a
/// token, the user groups are the token's `cognito:groups` (the token supplies the principal and its
/// groups; `entities` may not).
fn batch_entity_limits(
    list: &[Value],
    entities: Option<&Value>,
    tokens: &TokenClaims,
    with_token: bool,
) -> Result<(), BridgeError> {
    let types = |k: &str| -> std::collections::BTreeSet<String> {
        list.iter()
            .filter_map(|r| r.get(k))
            .filter_map(|v| entity_uid(v, k).ok())
            .map(|u| u.type_name().to_string())
            .collect()
    };
    let (ptypes, rtypes) = (types("principal"), types("resource"));
    let ents = entities_json(entities)?;
    let count = |types: &std::collections::BTreeSet<String>| {
        ents.iter()
            .filter_map(|e| {
                let u = e.get("uid")?;
                let u = u.get("__entity").unwrap_or(u);
                let t = u.get("type")?.as_str()?;
                types
                    .contains(t)
                    .then(|| (t.to_string(), u.get("id").map(Value::to_string)))
            })
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let (principals, resources) = (count(&ptypes), count(&rtypes));
    let op = if with_token {
        "BatchIsAuthorizedWithToken"
    } else {
        "BatchIsAuthorized"
    };
    if resources > BATCH_MAX_RESOURCES {
        return Err(BridgeError::Request(format!(
            "The entities of a {op} request can contain up to {BATCH_MAX_RESOURCES} resources; this request has {resources}"
        )));
    }
    if !with_token && principals > BATCH_MAX_PRINCIPALS {
        return Err(BridgeError::Request(format!(
            "The entities of a {op} request can contain up to {BATCH_MAX_PRINCIPALS} principals; this request has {principals}"
        )));
    }
    if with_token {
        let groups = [&tokens.identity, &tokens.access]
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("cognito:groups"))
            .map(|g| g.as_array().map_or(1, Vec::len))
            .max()
            .unwrap_or(0);
        if groups > BATCH_MAX_USER_GROUPS {
            return Err(BridgeError::Request(format!(
                "The entities of a {op} request can contain up to {BATCH_MAX_USER_GROUPS} user groups; the token has {groups}"
            )));
        }
    }
    Ok(())
}

/// Decides a whole Verified Permissions request document with claims already verified: one request
/// (`IsAuthorized[WithToken]`) or a batch under `requests` (`BatchIsAuthorized[WithToken]`: 1 to 30
/// requests; without a token they share the principal or the resource; with one none names a
/// principal). Returns the response in AWS's shape and the shared answers, one per request.
pub fn run(
    store: &PolicyStore,
    req: &Value,
    tokens: &TokenClaims,
    entities: Option<&Value>,
) -> Result<(Value, Vec<authz_core::Answer>), BridgeError> {
    let shared = req.get("entities").or(entities);
    let Some(list) = req.get("requests") else {
        let a = decide(store, req, tokens, shared)?;
        return Ok((a.response(), vec![a.result]));
    };
    let list = list
        .as_array()
        .ok_or_else(|| BridgeError::Request("`requests` must be an array".into()))?;
    if list.is_empty() || list.len() > 30 {
        return Err(BridgeError::Request(format!(
            "a batch holds 1 to 30 requests, this one {}",
            list.len()
        )));
    }
    let with_token = tokens.identity.is_some() || tokens.access.is_some();
    batch_entity_limits(list, shared, tokens, with_token)?;
    if with_token {
        if let Some(i) = list.iter().position(|r| r.get("principal").is_some()) {
            return Err(BridgeError::Request(format!(
                "requests[{i}]: BatchIsAuthorizedWithToken takes the principal from the token; a request may not name one"
            )));
        }
    } else {
        // BatchIsAuthorized: either the principal or the resource is the same in every request.
        let same = |k: &str| {
            list.windows(2)
                .all(|w| matches!(w, [a, b] if a.get(k) == b.get(k)))
        };
        if !same("principal") && !same("resource") {
            return Err(BridgeError::Request(
                "BatchIsAuthorized: the requests must all have the same principal or all the same resource".into(),
            ));
        }
    }
    let mut results = Vec::new();
    let mut decisions = Vec::new();
    let mut principal = None;
    for r in list {
        let a = decide(store, r, tokens, shared)?;
        decisions.push(a.result.clone());
        let mut item = a.response();
        if let Some(o) = item.as_object_mut() {
            if let Some(p) = o.remove("principal") {
                principal = Some(p);
            }
            o.insert("request".into(), r.clone());
        }
        results.push(item);
    }
    let mut out = json!({"results": results});
    if let (Some(o), true, Some(p)) = (out.as_object_mut(), with_token, principal) {
        o.insert("principal".into(), p);
    }
    Ok((out, decisions))
}
