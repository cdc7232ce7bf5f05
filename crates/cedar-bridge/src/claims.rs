//! Token claims → Cedar principal, group parents, attributes and `context.token`, as Verified Permissions
//! maps them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::BridgeError;

/// How Cognito claim names with a `:` become attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notation {
    /// `principal["custom:location"]`.
    Bracket,
    /// `principal.custom.location` (legacy, Cognito sources only).
    Dot,
    /// Both.
    Both,
}

/// An identity source of a policy store.
#[derive(Clone, Debug)]
pub struct IdentitySource {
    /// Cognito user pool id, or `None` for an OIDC source.
    pub user_pool_id: Option<String>,
    /// OIDC issuer (for OIDC sources).
    pub issuer: Option<String>,
    /// Prefix of entity ids: the pool id for Cognito; `entityIdPrefix` for OIDC.
    pub entity_id_prefix: String,
    /// Principal entity type, e.g. `PhotoApp::User`.
    pub principal_entity_type: String,
    /// Group entity type, e.g. `PhotoApp::UserGroup`.
    pub group_entity_type: Option<String>,
    /// The claim holding groups (`cognito:groups` for Cognito).
    pub group_claim: String,
    /// The claim naming the principal (`sub`).
    pub principal_id_claim: String,
    /// Accepted client ids (`aud` / `client_id`); empty disables the check.
    pub client_ids: Vec<String>,
    /// Attribute notation.
    pub notation: Notation,
    /// JWKS for verifying tokens (path or URL), when tokens are verified by the bridge.
    pub jwks: Option<String>,
    /// An OIDC source's `TokenSelection`: the only kind of token it accepts (`AccessTokenOnly`,
    /// `IdentityTokenOnly`); `None` accepts both.
    pub token_selection: Option<cognito::TokenUse>,
}

/// The JSON form of an identity source, as written (see [`IdentitySource::from_json`]).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentitySourceDef {
    user_pool_id: Option<String>,
    issuer: Option<String>,
    principal_entity_type: String,
    group_entity_type: Option<String>,
    client_ids: Option<Vec<String>>,
    notation: Option<String>,
    entity_id_prefix: Option<String>,
    principal_id_claim: Option<String>,
    group_claim: Option<String>,
    jwks: Option<String>,
    token_selection: Option<String>,
}

impl IdentitySource {
    /// A Cognito identity source with VP's defaults.
    pub fn cognito(
        user_pool_id: &str,
        principal_entity_type: &str,
        group_entity_type: Option<&str>,
    ) -> Self {
        Self {
            user_pool_id: Some(user_pool_id.into()),
            issuer: None,
            entity_id_prefix: user_pool_id.into(),
            principal_entity_type: principal_entity_type.into(),
            group_entity_type: group_entity_type.map(Into::into),
            group_claim: "cognito:groups".into(),
            principal_id_claim: "sub".into(),
            client_ids: Vec::new(),
            notation: Notation::Both,
            jwks: None,
            token_selection: None,
        }
    }

    /// Reads the JSON form:
    /// `{"user_pool_id" | "issuer", "principal_entity_type", "group_entity_type", "client_ids",
    ///   "notation", "entity_id_prefix", "principal_id_claim", "group_claim", "jwks",
    ///   "token_selection": "access" | "id"}` (an OIDC source's `TokenSelection`). An unknown field or a
    /// value of the wrong type is refused (`cedar::config`), never read as absent.
    pub fn from_json(v: &Value) -> Result<Self, BridgeError> {
        use serde::Deserialize;
        let def = IdentitySourceDef::deserialize(v)
            .map_err(|e| BridgeError::Config(format!("identity source: {e}")))?;
        Self::from_def(def)
    }

    /// Reads an `identity-source.json` file's text: the form of [`IdentitySource::from_json`], its
    /// mistakes (unknown or repeated fields, wrong types, syntax) said with their line and column.
    pub fn from_json_text(name: &str, text: &str) -> Result<Self, BridgeError> {
        let def: IdentitySourceDef =
            serde_json::from_str(text).map_err(|e| BridgeError::Config(format!("{name}: {e}")))?;
        Self::from_def(def)
    }

    fn from_def(d: IdentitySourceDef) -> Result<Self, BridgeError> {
        let pet = d.principal_entity_type;
        check_type_name(&pet)?;
        if let Some(g) = &d.group_entity_type {
            check_type_name(g)?;
        }
        let mut src = match (d.user_pool_id, d.issuer) {
            (Some(p), None) => IdentitySource::cognito(&p, &pet, d.group_entity_type.as_deref()),
            (None, Some(iss)) => IdentitySource {
                user_pool_id: None,
                entity_id_prefix: iss.trim_start_matches("https://").to_string(),
                issuer: Some(iss),
                principal_entity_type: pet,
                group_entity_type: d.group_entity_type,
                group_claim: "groups".into(),
                principal_id_claim: "sub".into(),
                client_ids: Vec::new(),
                notation: Notation::Bracket,
                jwks: None,
                token_selection: None,
            },
            _ => {
                return Err(BridgeError::Config(
                    "give exactly one of `user_pool_id` (Cognito) or `issuer` (OIDC)".into(),
                ));
            }
        };
        if let Some(p) = d.entity_id_prefix {
            src.entity_id_prefix = p;
        }
        if let Some(c) = d.principal_id_claim {
            src.principal_id_claim = c;
        }
        if let Some(c) = d.group_claim {
            src.group_claim = c;
        }
        src.jwks = d.jwks;
        src.token_selection = match d.token_selection.as_deref() {
            None => None,
            Some(_) if src.issuer.is_none() => {
                return Err(BridgeError::Config(
                    "`token_selection` is an OIDC source's (`issuer`): a Cognito source takes both tokens".into(),
                ));
            }
            Some("access") => Some(cognito::TokenUse::Access),
            Some("id") => Some(cognito::TokenUse::Id),
            Some(other) => {
                return Err(BridgeError::Config(format!(
                    "`token_selection` is `access` or `id`, not `{other}`"
                )));
            }
        };
        // Keys over plain HTTP can be replaced in transit: refused when the store loads, not at the
        // first token.
        if let Some(j) = src.jwks.as_deref().filter(|j| j.starts_with("http://")) {
            cognito::check_jwks_url(j)
                .map_err(|e| BridgeError::Config(format!("identity source `jwks`: {e}")))?;
        }
        if let Some(ids) = d.client_ids {
            src.client_ids = ids;
        }
        if let Some(n) = d.notation {
            src.notation = match n.as_str() {
                "bracket" => Notation::Bracket,
                "dot" if src.user_pool_id.is_some() => Notation::Dot,
                "both" if src.user_pool_id.is_some() => Notation::Both,
                other => {
                    return Err(BridgeError::Config(format!(
                        "notation `{other}` is not available here (bracket, dot, both; dot only for Cognito sources)"
                    )));
                }
            };
        }
        Ok(src)
    }

    /// The principal's entity id: `<prefix>|<id claim>`.
    pub fn principal_id(&self, claims: &Map<String, Value>) -> Result<String, BridgeError> {
        let id = claims
            .get(&self.principal_id_claim)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                BridgeError::Claims(format!(
                    "the token has no string `{}` claim",
                    self.principal_id_claim
                ))
            })?;
        Ok(format!("{}|{id}", self.entity_id_prefix))
    }

    /// Group names from the group claim: an array, or a string split on commas and white space, as
    /// every consumer reads it ([`cognito::string_list`]).
    pub fn groups(&self, claims: &Map<String, Value>) -> Vec<String> {
        cognito::string_list(claims.get(&self.group_claim))
            .into_iter()
            .map(str::to_string)
            .collect()
    }
}

fn check_type_name(t: &str) -> Result<(), BridgeError> {
    let ok = t.len() <= 200
        && t.split("::").all(|p| {
            let mut c = p.chars();
            c.next()
                .is_some_and(|f| f.is_ascii_alphabetic() || f == '_')
                && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(BridgeError::Config(format!(
            "`{t}` is not a valid entity type name"
        )))
    }
}

/// What the schema says about attributes, for coercion and projection.
#[derive(Clone, Debug, Default)]
pub struct AttrTypes {
    /// Attribute name → type name (`String`, `Long`, `Boolean`, `Set`, `Record`, …) for the principal
    /// type; records (`custom`, `cognito`) map to their own attributes.
    pub attrs: BTreeMap<String, AttrType>,
}

/// A declared attribute type.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrType {
    /// A primitive or extension type by name.
    Named(String),
    /// A record with attributes.
    Record(BTreeMap<String, AttrType>),
    /// A set of elements.
    Set(Box<AttrType>),
}

/// A diagnostic from mapping claims (a value dropped or coerced).
pub type MappingNote = String;

/// Converts a claim to a Cedar JSON value; `None` drops it (with a note).
fn convert(
    name: &str,
    v: &Value,
    want: Option<&AttrType>,
    notes: &mut Vec<MappingNote>,
) -> Option<Value> {
    match (v, want) {
        (Value::Null, _) => None,
        (Value::String(s), Some(AttrType::Named(t))) if t == "Long" => match s.parse::<i64>() {
            Ok(n) => Some(json!(n)),
            Err(_) => {
                notes.push(format!(
                    "claim `{name}` = {s:?} is not a Long as the schema declares; dropped"
                ));
                None
            }
        },
        (Value::String(s), Some(AttrType::Named(t))) if t == "Boolean" || t == "Bool" => {
            match s.as_str() {
                "true" => Some(json!(true)),
                "false" => Some(json!(false)),
                _ => {
                    notes.push(format!(
                        "claim `{name}` = {s:?} is not a Boolean as the schema declares; dropped"
                    ));
                    None
                }
            }
        }
        (Value::String(s), _) => Some(json!(s)),
        (Value::Bool(b), _) => Some(json!(b)),
        (Value::Number(n), want) => {
            if let Some(i) = n.as_i64() {
                Some(json!(i))
            } else if let (Some(f), Some(AttrType::Named(t))) = (n.as_f64(), want) {
                if t == "decimal" {
                    let text = n.to_string();
                    if text.split_once('.').is_none_or(|(_, frac)| frac.len() <= 4)
                        && f.abs() < 922_337_203_685_477.0
                    {
                        return Some(
                            json!({"__extn": {"fn": "decimal", "arg": if text.contains('.') { text } else { format!("{text}.0") }}}),
                        );
                    }
                }
                notes.push(format!("claim `{name}` = {n} has no Cedar type (floats and integers beyond 64 bits); dropped"));
                None
            } else {
                notes.push(format!("claim `{name}` = {n} has no Cedar type (floats and integers beyond 64 bits); dropped"));
                None
            }
        }
        (Value::Array(a), want) => {
            let elem = match want {
                Some(AttrType::Set(e)) => Some(&**e),
                _ => None,
            };
            Some(Value::Array(
                a.iter()
                    .filter_map(|x| convert(name, x, elem, notes))
                    .collect(),
            ))
        }
        (Value::Object(o), want) => {
            let fields = match want {
                Some(AttrType::Record(f)) => Some(f),
                _ => None,
            };
            let mut m = Map::new();
            for (k, x) in o {
                if let Some(f) = fields
                    && !f.contains_key(k)
                {
                    continue;
                }
                if let Some(c) = convert(
                    &format!("{name}.{k}"),
                    x,
                    fields.and_then(|f| f.get(k)),
                    notes,
                ) {
                    m.insert(k.clone(), c);
                }
            }
            Some(Value::Object(m))
        }
    }
}

/// Builds the principal's attributes from ID-token claims.
pub fn principal_attrs(
    src: &IdentitySource,
    claims: &Map<String, Value>,
    schema: Option<&AttrTypes>,
    notes: &mut Vec<MappingNote>,
) -> Result<Map<String, Value>, BridgeError> {
    let cognito = src.user_pool_id.is_some();
    if cognito {
        let has_prefixed = claims
            .keys()
            .any(|k| k.starts_with("cognito:") || k.starts_with("custom:"));
        for reserved in ["cognito", "custom", "dev"] {
            if claims.contains_key(reserved) && (has_prefixed || reserved == "dev") {
                return Err(BridgeError::Claims(format!(
                    "the token has a claim named `{reserved}`, which collides with the attribute records Verified Permissions builds (ValidationException)"
                )));
            }
        }
    }
    let mut attrs = Map::new();
    let mut records: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let declared = |name: &str| -> Option<Option<&AttrType>> {
        match schema {
            None => Some(None),
            Some(s) => s.attrs.get(name).map(Some),
        }
    };
    for (k, v) in claims {
        if *k == src.group_claim {
            continue;
        }
        let bracket = matches!(src.notation, Notation::Bracket | Notation::Both);
        let dot = cognito && matches!(src.notation, Notation::Dot | Notation::Both);
        let prefixed = k
            .split_once(':')
            .filter(|(p, _)| *p == "cognito" || *p == "custom");
        if bracket || prefixed.is_none() {
            match declared(k) {
                Some(want) => {
                    if let Some(c) = convert(k, v, want, notes) {
                        attrs.insert(k.clone(), c);
                    }
                }
                None => notes.push(format!(
                    "claim `{k}` is not an attribute of `{}` in the schema; dropped",
                    src.principal_entity_type
                )),
            }
        }
        if let (true, Some((rec, field))) = (dot, prefixed) {
            let want = match schema {
                None => Some(None),
                Some(s) => match s.attrs.get(rec) {
                    Some(AttrType::Record(f)) => f.get(field).map(Some),
                    _ => None,
                },
            };
            match want {
                Some(w) => {
                    if let Some(c) = convert(k, v, w, notes) {
                        records
                            .entry(rec.to_string())
                            .or_default()
                            .insert(field.to_string(), c);
                    }
                }
                None if src.notation == Notation::Dot => {
                    notes.push(format!(
                        "claim `{k}` is not an attribute of `{}` in the schema; dropped",
                        src.principal_entity_type
                    ));
                }
                None => {}
            }
        }
    }
    for (rec, fields) in records {
        attrs.insert(rec, Value::Object(fields));
    }
    Ok(attrs)
}

/// Builds `context.token` from access-token claims.
///
/// `schema`: the attributes the schema declares for `context.token`. Claims it does not declare are left
/// out with a note (AVP's documented access-token schema declares only some claims, such as `scope` and
/// `client_id`), exactly as undeclared ID-token claims are; they are not a validation error.
pub fn access_token_context(
    src: &IdentitySource,
    claims: &Map<String, Value>,
    schema: Option<&AttrTypes>,
    notes: &mut Vec<MappingNote>,
) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in claims {
        if *k == src.group_claim {
            continue;
        }
        let want = match schema {
            None => None,
            Some(s) => match s.attrs.get(k) {
                Some(t) => Some(t),
                None => {
                    notes.push(format!(
                        "access-token claim `{k}` is not declared for `context.token` in the schema; left out"
                    ));
                    continue;
                }
            },
        };
        if k == "scope"
            && let Some(s) = v.as_str()
        {
            m.insert(k.clone(), json!(s.split_whitespace().collect::<Vec<_>>()));
            continue;
        }
        if let Some(c) = convert(k, v, want, notes) {
            m.insert(k.clone(), c);
        }
    }
    m
}
