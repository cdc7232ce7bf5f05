//! Reading what users give: request files, tokens and claims, AVP request documents.

use crate::Failure;
use std::borrow::Cow;
use std::path::Path;

use diag::codes;

use authz_core::{Context, ContextValue, Request};
use cognito::{Claims, GivenClaims, JwksSource, TokenUse, Verifier, VerifierConfig};
use identity_pool::PoolRequest;
use serde_json::Value;

/// A request as read from JSON, owning its strings.
#[derive(Debug, Clone)]
pub struct OwnedRequest {
    /// Principal ARN, service, provider, or `None` (anonymous).
    pub principal: Option<String>,
    /// `service:Action`, prepared once (lower-cased and split) for every evaluation.
    pub action: authz_core::Action,
    /// Resource ARN.
    pub resource: String,
    /// Resource account.
    pub resource_account: Option<String>,
    /// The principal has a permissions boundary.
    pub has_boundary: bool,
    /// The IAM user behind a federated-user session.
    pub session_issuer: Option<String>,
    /// Context.
    pub context: Context,
}

impl OwnedRequest {
    /// Borrows it as a [`Request`].
    pub fn as_request(&self) -> Request<'_> {
        let mut r = Request::for_action(&self.action, &self.resource)
            .with_boundary(self.has_boundary)
            .context(&self.context);
        r.principal = self.principal.as_deref();
        r.resource_account = self.resource_account.as_deref();
        r.session_issuer = self.session_issuer.as_deref();
        r
    }
}

/// A request as written (request files, suites, the Python package), decoded with its fields checked:
/// `principal`, `action`, `resource`, `context`, `resource_account`, `principal_has_boundary`,
/// `session_issuer` (and `expect`, `sid`, `name`, which request files may carry for people and which are
/// not read). An unknown field, a wrong type or a missing `action`/`resource` is refused by the decode;
/// [`RequestDef::to_request`] checks the values.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a request: an object with `action`, `resource` and optionally `principal`, `context`, `resource_account`, `principal_has_boundary`, `session_issuer`"
)]
pub struct RequestDef<'a> {
    /// Principal ARN, service, provider; absent for the principal the identity policies belong to.
    pub principal: Option<String>,
    /// One concrete `service:Action`.
    pub action: String,
    /// The resource ARN (or `*`).
    pub resource: String,
    /// Context keys: strings, numbers, booleans, or lists of those; strings borrowed from the document
    /// they were decoded from.
    #[serde(default, borrow)]
    pub context: ContextDef<'a>,
    /// The resource's account.
    pub resource_account: Option<String>,
    /// Whether the principal has a permissions boundary.
    #[serde(default)]
    pub principal_has_boundary: bool,
    /// The IAM user behind a federated-user session.
    pub session_issuer: Option<String>,
    #[serde(rename = "expect")]
    _expect: Option<serde::de::IgnoredAny>,
    #[serde(rename = "sid")]
    _sid: Option<serde::de::IgnoredAny>,
    #[serde(rename = "name")]
    _name: Option<serde::de::IgnoredAny>,
}

impl RequestDef<'_> {
    /// The request, its values checked: one concrete action, a resource, context values that are
    /// scalars or lists of scalars. Errors start with `what`. Borrowed: a suite's decoded request is
    /// not copied whole (its context map included) for each run.
    pub fn to_request(&self, what: &str) -> Result<OwnedRequest, Failure> {
        let action = &self.action;
        if !action.contains(':') || action.contains(['*', '?']) {
            return Err(Failure::from(format!(
                "{what}: field `action` must be one concrete service:Action, found `{action}`"
            )));
        }
        if self.resource.is_empty() {
            return Err(Failure::from(format!("{what}: field `resource` is empty")));
        }
        let mut context = Context::with_capacity(self.context.0.len());
        for (k, v) in &self.context.0 {
            let scalar = |x: &CtxValue<'_>| -> Result<String, Failure> {
                match x {
                    CtxValue::Str(s) => Ok(String::from(s.as_ref())),
                    CtxValue::Other(Value::Number(n)) => Ok(n.to_string()),
                    CtxValue::Other(Value::Bool(b)) => Ok(b.to_string()),
                    other => Err(Failure::from(format!(
                        "{what}: context key `{k}` has an unsupported value {}",
                        other.to_json()
                    ))),
                }
            };
            let cv = match v {
                CtxValue::List(items) => {
                    ContextValue::multi(items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?)
                }
                other => ContextValue::single(scalar(other)?),
            };
            context.insert_value(k, cv);
        }
        Ok(OwnedRequest {
            principal: self.principal.clone(),
            action: authz_core::Action::new(action),
            resource: self.resource.clone(),
            resource_account: self.resource_account.clone(),
            has_boundary: self.principal_has_boundary,
            session_issuer: self.session_issuer.clone(),
            context,
        })
    }
}

/// A request's `context` as written: its keys in order, each with its value, strings borrowed from the
/// document (a suite's 30,000 requests were decoded into `serde_json` maps and then copied again into
/// their [`Context`]; now each string is copied once, into the context).
#[derive(Debug, Clone, Default)]
pub struct ContextDef<'a>(Vec<(Cow<'a, str>, CtxValue<'a>)>);

/// One context value as written: a string, a list, or anything else (a number or a boolean, taken as
/// its text; an object or `null`, refused by [`RequestDef::to_request`] with the value shown).
#[derive(Debug, Clone)]
enum CtxValue<'a> {
    Str(Cow<'a, str>),
    List(Vec<CtxValue<'a>>),
    Other(Value),
}

impl CtxValue<'_> {
    /// The value as JSON, for messages.
    fn to_json(&self) -> Value {
        match self {
            CtxValue::Str(s) => Value::String(s.to_string()),
            CtxValue::List(items) => Value::Array(items.iter().map(CtxValue::to_json).collect()),
            CtxValue::Other(v) => v.clone(),
        }
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for ContextDef<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = ContextDef<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of context keys")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut m: M,
            ) -> Result<Self::Value, M::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(0));
                while let Some(k) = m.next_key::<CowStr<'a>>()? {
                    out.push((k.0, m.next_value::<CtxValue<'a>>()?));
                }
                Ok(ContextDef(out))
            }
        }
        d.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// A string, borrowed when the document allows it.
struct CowStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = CowStr<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(s)))
            }
        }
        d.deserialize_str(Visit(std::marker::PhantomData))
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for CtxValue<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = CtxValue<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a context value")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(CtxValue::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(CtxValue::Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(CtxValue::Str(Cow::Owned(s)))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
                Ok(CtxValue::Other(Value::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
                Ok(CtxValue::Other(Value::from(n)))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
                Ok(CtxValue::Other(Value::from(n)))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
                Ok(CtxValue::Other(Value::from(n)))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(CtxValue::Other(Value::Null))
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(CtxValue::Other(Value::Null))
            }
            fn visit_seq<S: serde::de::SeqAccess<'de>>(
                self,
                mut s: S,
            ) -> Result<Self::Value, S::Error> {
                let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0));
                while let Some(v) = s.next_element::<CtxValue<'a>>()? {
                    out.push(v);
                }
                Ok(CtxValue::List(out))
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                m: M,
            ) -> Result<Self::Value, M::Error> {
                // Refused later, shown as written.
                let v: Value = serde::Deserialize::deserialize(
                    serde::de::value::MapAccessDeserializer::new(m),
                )?;
                Ok(CtxValue::Other(v))
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
    }
}

/// Reads a request object (a JSON value without positions: the Python package's dicts). Errors name the
/// field.
pub fn request_from_json(v: &Value, what: &str) -> Result<OwnedRequest, Failure> {
    use serde::Deserialize;
    if !v.is_object() {
        return Err(Failure::from(format!(
            "{what}: a request must be a JSON object"
        )));
    }
    // Without positions there is no `json::shape` place to name: the caller gives the code (the Python
    // package's `python::request`).
    RequestDef::deserialize(v)
        .map_err(|e| Failure::from(format!("{what}: {e}")))?
        .to_request(what)
}

/// Reads a request file: one object, an array, or JSON Lines. Each request is decoded from the spanned
/// tree: a misspelt field or a wrong type is a `json::shape` error at its line and column.
pub fn read_requests(path: &Path) -> Result<Vec<OwnedRequest>, Failure> {
    let text = String::from_utf8(crate::read_file(path)?)
        .map_err(|_| format!("{}: not UTF-8", path.display()))?;
    let name = path.display().to_string();
    let decode = |n: &diag::json::Value, src: &str, what: &str| {
        diag::de::from_value::<RequestDef>(n)
            .map_err(|e| {
                shape_error(
                    &name,
                    src,
                    e.span.unwrap_or(n.span),
                    format!("{what}: {}", e.message),
                )
            })?
            .to_request(&format!("{name}: {what}"))
    };
    match json_tree(&name, &text) {
        Ok(tree) => match &tree.kind {
            diag::json::Kind::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, n)| decode(n, &text, &format!("request #{}", i + 1)))
                .collect(),
            _ => Ok(vec![decode(&tree, &text, "request #1")?]),
        },
        Err(whole) => {
            // Not one document: JSON Lines, each line read as its own document; a request that does not
            // decode is located in the whole file.
            let mut out = Vec::new();
            let mut offset = 0;
            for (i, line) in text.split_inclusive('\n').enumerate() {
                let start = offset;
                offset += line.len();
                if line.trim().is_empty() {
                    continue;
                }
                let line_name = format!("{name} line {}", i + 1);
                let tree = json_tree(&line_name, line)
                    .map_err(|e| if out.is_empty() { whole.clone() } else { e })?;
                let what = format!("request #{}", out.len() + 1);
                let def = diag::de::from_value::<RequestDef>(&tree).map_err(|e| {
                    let span = e.span.unwrap_or(tree.span);
                    let shifted = diag::Span {
                        start: span.start + start,
                        end: span.end + start,
                    };
                    shape_error(&name, &text, shifted, format!("{what}: {}", e.message))
                })?;
                out.push(def.to_request(&format!("{name}: {what}"))?);
            }
            Ok(out)
        }
    }
}

pub(crate) fn token_text(arg: &str) -> Result<String, Failure> {
    token_text_at(arg, Path::new(""))
}

/// The one rule for "a token inline or a file" (the CLI, suites, API Gateway cases, Verified Permissions
/// requests): a file (relative to `base`) when one is there; else, a name that reads as a path is a file
/// that is missing (an error saying so, not a malformed token); else the token itself, inline.
pub(crate) fn token_text_at(arg: &str, base: &Path) -> Result<String, Failure> {
    let p = base.join(arg);
    if arg.len() < 4096 && p.is_file() {
        return std::fs::read_to_string(&p)
            .map(|s| s.trim().to_string())
            .map_err(|e| format!("cannot read `{}`: {e}", p.display()))
            .map_err(Failure::from);
    }
    // Not a file. A name that reads as a path (a directory separator, or one `.` before an extension,
    // `nothere.jwt`) is a file that is not there, said as such rather than as a malformed token; anything
    // else is the token itself, inline.
    let t = arg.trim();
    let path_like = t.contains(['/', '\\']) || t.matches('.').count() == 1;
    if path_like && arg.len() < 4096 {
        return Err(Failure::from(format!(
            "`{arg}`: no such file (a token is given as a file, or inline as header.payload.signature)"
        )));
    }
    Ok(t.to_string())
}

pub(crate) fn now() -> i64 {
    authz_core::now_secs()
}

/// A JWKS source from a file path or an `https://` URL; a plain `http://` URL is refused (keys over
/// plain HTTP can be replaced in transit).
pub fn jwks_source(arg: &str, base: &Path) -> Result<JwksSource, Failure> {
    if arg.starts_with("http://") || arg.starts_with("https://") {
        cognito::check_jwks_url(arg)?;
        return Ok(JwksSource::remote(arg));
    }
    let path = base.join(arg);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read JWKS `{}`: {e}", path.display()))?;
    JwksSource::from_json(&text).map_err(|e| Failure::from(e).at(&format!("{}", path.display())))
}

/// Claims for a pool evaluation: verified from a token, or given explicitly (unverified). `verify` is
/// (JWKS, user pool id or OIDC issuer URL, client id).
pub fn claims_from(
    token: Option<&str>,
    claims: Option<&Value>,
    verify: Option<(&str, &str, &str)>,
    base: &Path,
    at: Option<i64>,
) -> Result<Option<Box<dyn Claims>>, crate::Failure> {
    if let Some(t) = token {
        let verify = verify
            .ok_or("a token needs a JWKS, a client id, and a user pool id or an OIDC issuer")?;
        return verified_claims(&id_token_verifier(verify, base)?, t, at);
    }
    if let Some(c) = claims {
        let m = c.as_object().ok_or("claims must be a JSON object")?.clone();
        return GivenClaims::new(m)
            .map(|c| Some(Box::new(c) as Box<dyn Claims>))
            .map_err(|e| crate::Failure::from(format!("claims refused: {e}")));
    }
    Ok(None)
}

/// The verifier of ID tokens for `(jwks, user pool id or OIDC issuer, client id)`; its keys are read
/// (or fetched) once, so a suite builds it once for all its cases.
pub fn id_token_verifier(
    (jwks, pool, client): (&str, &str, &str),
    base: &Path,
) -> Result<Verifier, crate::Failure> {
    // A user pool id, or an OpenID Connect issuer (an https URL).
    let config = if pool.starts_with("https://") {
        VerifierConfig::for_oidc(pool, &[client.to_string()], TokenUse::Id)
    } else {
        VerifierConfig::for_pool(pool, client, TokenUse::Id)
    };
    Ok(Verifier::new(config, jwks_source(jwks, base)?))
}

/// A token verified with `v` as of `at` (default: now), as an identity's claims. Cognito answers a login
/// token that fails verification with `NotAuthorizedException`.
pub fn verified_claims(
    v: &Verifier,
    token: &str,
    at: Option<i64>,
) -> Result<Option<Box<dyn Claims>>, crate::Failure> {
    v.verify_at(token, at.unwrap_or_else(now))
        .map(|c| Some(Box::new(c) as Box<dyn Claims>))
        .map_err(|e| {
            crate::Failure::coded(&e)
                .at("token refused")
                .aws("NotAuthorizedException")
        })
}

/// Turns a request JSON (as for `eval`) into a pool request.
pub fn pool_request(v: &Value, what: &str) -> Result<PoolRequest, Failure> {
    Ok(to_pool_request(crate::input::request_from_json(v, what)?))
}

/// A request made with identity-pool credentials: the principal is the pool's.
pub fn to_pool_request(r: OwnedRequest) -> PoolRequest {
    PoolRequest {
        action: r.action.as_str().to_string(),
        resource: r.resource,
        resource_account: r.resource_account,
        context: r.context,
        guest_id: None,
    }
}

pub(crate) fn read_json(p: &Path) -> Result<Value, Failure> {
    let text = crate::read_text(p)?;
    json_text(&p.display().to_string(), &text)
}

/// Reads a JSON document (a suite, a request, a pool configuration, a store's configuration) with the
/// spanned reader, so every syntax mistake and every duplicate key (which serde_json would silently
/// resolve to the last) is refused with its line, column, code and a snippet; then decodes the tree as a
/// `serde_json::Value` (one parse).
pub fn json_text(name: &str, text: &str) -> Result<Value, crate::Failure> {
    // Converted straight from the spanned tree, its strings moved rather than copied: no second pass
    // through serde, and the tree is gone as the value is built.
    let tree = json_tree(name, text)?;
    into_json(tree).map_err(|(span, message)| shape_error(name, text, span, message))
}

/// A large JSON data file (Cedar `run-tests` cases), read in one pass by `serde_json` with duplicate keys
/// refused: no spanned tree is built (for 10,000 cases it held more memory than the cases themselves).
/// When the text is not valid JSON, or repeats a key, it is read again with the spanned reader so the
/// refusal is [`json_text`]'s, located and coded.
pub fn json_data(name: &str, text: &str) -> Result<Value, Failure> {
    match serde_json::from_str::<StrictValue>(text) {
        Ok(v) => Ok(v.0),
        Err(e) => match json_text(name, text) {
            Err(located) => Err(located),
            // The spanned reader accepted what serde_json refused (say nesting past its limit).
            Ok(_) => Err(Failure::new(
                codes::JSON_SHAPE,
                format!("`{name}`:{}:{}: {e}", e.line(), e.column()),
            )),
        },
    }
}

/// Reads a JSON array element by element, each decoded as a `T`, handing each to `each` (with its index)
/// as soon as it is read: a large file's elements never all exist at once. `each` returns `false` to
/// stop. Returns how many elements were read, or the refusal when the text is not an array of JSON
/// values with no repeated keys ([`json_data`]'s, located) or an element does not decode as a `T` (a
/// `json::shape` error at its line and column); `Ok(None)` when it is valid JSON but not an array.
pub fn json_array_stream<T: serde::de::DeserializeOwned>(
    name: &str,
    text: &str,
    each: &mut dyn FnMut(usize, T) -> bool,
) -> Result<Option<usize>, Failure> {
    struct Elements<'f, T>(&'f mut dyn FnMut(usize, T) -> bool);
    impl<'de, T: serde::de::DeserializeOwned> serde::de::Visitor<'de> for Elements<'_, T> {
        type Value = Option<usize>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON array")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Option<usize>, A::Error> {
            let mut n = 0;
            while let Some(v) = seq.next_element::<T>()? {
                if !(self.0)(n, v) {
                    // Stopped: the rest is not read (no refusal for what was never looked at).
                    return Ok(Some(n + 1));
                }
                n += 1;
            }
            Ok(Some(n))
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let read = serde::Deserializer::deserialize_seq(&mut de, Elements(each)).and_then(|n| {
        de.end()?;
        Ok(n)
    });
    match read {
        Ok(n) => Ok(n),
        Err(e) => match json_text(name, text) {
            Err(located) => Err(located),
            Ok(Value::Array(_)) => {
                // serde_json's message ends with the position, given here as `file:line:column`.
                let message = e.to_string();
                let message = message
                    .rsplit_once(" at line ")
                    .map_or(message.as_str(), |(m, _)| m);
                Err(Failure::new(
                    codes::JSON_SHAPE,
                    format!("{name}:{}:{}: {message}", e.line(), e.column()),
                ))
            }
            Ok(_) => Ok(None),
        },
    }
}

/// A `serde_json` value whose objects may not repeat a key.
pub(crate) struct StrictValue(pub(crate) Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = StrictValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, b: bool) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Number(n.into())))
            }
            fn visit_u64<E>(self, n: u64) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Number(n.into())))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<StrictValue, E> {
                serde_json::Number::from_f64(n)
                    .map(|n| StrictValue(Value::Number(n)))
                    .ok_or_else(|| E::custom(format!("the number {n} is out of range")))
            }
            fn visit_str<E>(self, s: &str) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::String(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::String(s)))
            }
            fn visit_unit<E>(self) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Null))
            }
            fn visit_none<E>(self) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Null))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<StrictValue, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(StrictValue(x)) = seq.next_element()? {
                    v.push(x);
                }
                Ok(StrictValue(Value::Array(v)))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<StrictValue, A::Error> {
                let mut m = serde_json::Map::new();
                while let Some(k) = map.next_key::<String>()? {
                    let StrictValue(v) = map.next_value()?;
                    if m.insert(k, v).is_some() {
                        return Err(serde::de::Error::custom("duplicate key"));
                    }
                }
                Ok(StrictValue(Value::Object(m)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON number as `serde_json` holds it: an integer when it fits `i64` or `u64`, else a finite `f64`
/// (as the decode step reads numbers).
pub(crate) fn json_number(text: &str) -> Option<serde_json::Number> {
    if !text.contains(['.', 'e', 'E']) {
        if let Ok(n) = text.parse::<i64>() {
            return Some(n.into());
        }
        if let Ok(n) = text.parse::<u64>() {
            return Some(n.into());
        }
    }
    text.parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
}

/// The spanned tree as a `serde_json` value (consumed: strings are moved). A number out of range is
/// refused at its place.
pub(crate) fn into_json(v: diag::json::Value) -> Result<Value, (diag::Span, String)> {
    use diag::json::Kind;
    Ok(match v.kind {
        Kind::Null => Value::Null,
        Kind::Bool(b) => Value::Bool(b),
        Kind::Number(s) => Value::Number(
            json_number(&s).ok_or_else(|| (v.span, format!("the number {s} is out of range")))?,
        ),
        Kind::String(s) => Value::String(s),
        Kind::Array(items) => {
            Value::Array(items.into_iter().map(into_json).collect::<Result<_, _>>()?)
        }
        Kind::Object(members) => Value::Object(
            members
                .into_iter()
                .map(|m| Ok((m.key, into_json(m.value)?)))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// A `json::shape` refusal at `span` of `text`, drawn with its snippet.
pub(crate) fn shape_error(name: &str, text: &str, span: diag::Span, message: String) -> Failure {
    let src = diag::Source::new(name, text);
    let d = diag::Diagnostic::error(codes::JSON_SHAPE, span, message);
    crate::Failure::new(
        codes::JSON_SHAPE,
        crate::report::render(&d, &src, 100).trim_end(),
    )
}

/// Reads a JSON document with the spanned reader (see [`json_text`]) and decodes it as a `T` in the same
/// pass: an unknown field, a wrong type or a missing field is a `json::shape` error at the key or value
/// concerned, with a snippet.
pub fn decode<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, crate::Failure> {
    let parsed = json_tree(name, text)?;
    decode_tree(name, text, &parsed)
}

/// Reads a JSON document with the spanned reader: its tree, for callers that keep positions (suites build
/// their inline policies from it). Syntax errors and duplicate keys are refused, located.
pub fn json_tree(name: &str, text: &str) -> Result<diag::json::Value, crate::Failure> {
    let mut diags = Vec::new();
    let parsed = diag::json::read(text, &mut diags);
    let mut errors = diags.iter().filter(|d| d.is_error()).peekable();
    if let Some(first) = errors.peek() {
        let code = first.code;
        let src = diag::Source::new(name, text);
        let mut s = format!("`{name}` is not valid JSON:\n");
        for d in errors {
            s.push_str(&crate::report::render(d, &src, 100));
        }
        return Err(crate::Failure::new(code, s.trim_end()));
    }
    parsed.ok_or_else(|| {
        crate::Failure::new(codes::JSON_EMPTY, format!("`{name}` holds no JSON value"))
    })
}

/// Decodes a tree [`json_tree`] read out of `text` as a `T` (see [`decode`]).
pub fn decode_tree<T: serde::de::DeserializeOwned>(
    name: &str,
    text: &str,
    parsed: &diag::json::Value,
) -> Result<T, crate::Failure> {
    diag::de::from_value::<T>(parsed)
        .map_err(|e| shape_error(name, text, e.span.unwrap_or(parsed.span), e.message))
}

/// Loads an identity-pool configuration file; the policies it names by path are read next to it.
pub fn load_pool(path: &Path) -> Result<identity_pool::IdentityPool, Failure> {
    let text = crate::read_text(path)?;
    let name = path.display().to_string();
    // One read: syntax errors and duplicate keys, then the configuration's shape, each located.

    let config: identity_pool::PoolConfig = decode(&name, &text)?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let files = move |p: &str| -> Result<iam_policy::Source, identity_pool::PoolError> {
        let full = base.join(p);
        let bytes = std::fs::read(&full).map_err(|e| {
            identity_pool::PoolError::config(format!("cannot read `{}`: {e}", full.display()))
        })?;
        let name = full.display().to_string();
        let text = String::from_utf8(bytes).map_err(|e| {
            identity_pool::PoolError::config(format!(
                "{name}: invalid UTF-8 at byte {}",
                e.utf8_error().valid_up_to()
            ))
        })?;
        Ok(iam_policy::Source::new(name, text))
    };
    identity_pool::IdentityPool::from_config(config, &files)
        .map_err(|e| Failure::from(e).at(&format!("{}", path.display())))
}

pub use crate::store_input::{load_store, resolve_tokens, run_request};
