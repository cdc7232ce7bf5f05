//! A policy store on disk and indexed authorization.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, RwLock};

use cedar_policy::{
    ActionConstraint, Authorizer, Decision as CDecision, Entities, EntityUid, Policy, PolicyId,
    PolicySet, PrincipalConstraint, Request, ResourceConstraint, Schema, SlotId, ValidationMode,
    Validator,
};
use serde_json::Value;

use crate::BridgeError;
use crate::claims::{AttrType, AttrTypes, IdentitySource};

/// A template link: template id, new policy id, slot values.
#[derive(Clone, Debug)]
pub struct Link {
    /// Template id.
    pub template: String,
    /// The linked policy's id.
    pub id: String,
    /// `?principal` / `?resource` values.
    pub values: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum ScopeKey {
    Any,
    Type(String),
}

#[derive(Clone, Debug)]
enum ActionKey {
    Any,
    Set(Vec<String>),
}

/// Which entity a scope names, when it names one: `== X` is that entity alone, `in X` the entity and
/// its descendants. Only static policies are keyed (a template-linked policy is `Any`: kept).
#[derive(Clone, Debug, PartialEq, Eq)]
enum UidKey {
    Any,
    Eq(EntityUid),
    In(EntityUid),
}

impl UidKey {
    /// Whether `uid` can satisfy the scope, given the request's entities (`in` is true for the entity
    /// itself and for its descendants; an entity absent from `entities` is only `in` itself, as in
    /// Cedar).
    fn admits(&self, uid: &EntityUid, entities: &Entities) -> bool {
        match self {
            UidKey::Any => true,
            UidKey::Eq(x) => x == uid,
            UidKey::In(x) => x == uid || entities.is_ancestor_of(x, uid),
        }
    }
}

#[derive(Debug)]
struct IndexEntry {
    id: String,
    action: ActionKey,
    principal: ScopeKey,
    resource: ScopeKey,
    principal_uid: UidKey,
    resource_uid: UidKey,
}

/// The policies whose action and scope types can match one (action, principal type, resource type):
/// their set, their places in the index, and whether any names its principal or resource entity (then
/// each request narrows the set further to the policies its principal and resource can satisfy).
#[derive(Debug)]
struct Subset {
    set: Arc<PolicySet>,
    entries: Box<[u32]>,
    narrows: bool,
}

type SubsetKey = (
    EntityUid,
    cedar_policy::EntityTypeName,
    cedar_policy::EntityTypeName,
);
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Policies, optional schema and identity source, with an index that narrows each request to the
/// policies whose scope can match (by action, principal type and resource type).
#[derive(Debug)]
pub struct PolicyStore {
    policies: PolicySet,
    schema: Option<Schema>,
    /// Whether policies were validated against the schema (`STRICT`), as the store's validation
    /// settings say.
    strict: bool,
    attr_types: Option<AttrTypes>,
    /// The attributes the schema declares for `context.token` (access-token claims), over all actions.
    token_types: Option<AttrTypes>,
    identity_source: Option<IdentitySource>,
    links: Vec<Link>,
    index: Vec<IndexEntry>,
    subsets: RwLock<FastMap<SubsetKey, Arc<Subset>>>,
    /// Sets narrowed by principal and resource entity, by the index places they hold.
    narrowed: RwLock<FastMap<Box<[u32]>, Arc<PolicySet>>>,
    /// Principals already mapped from token claims, by principal entity id (see [`MappedPrincipal`]).
    principals: RwLock<FastMap<String, Arc<MappedPrincipal>>>,
    authorizer: Authorizer,
}

type ClaimMap = serde_json::Map<String, Value>;

/// Most principals kept mapped; the map is emptied when it is full (a bounded cache, not an LRU: a
/// miss only costs one mapping).
const MAX_MAPPED_PRINCIPALS: usize = 4096;

/// A principal mapped from token claims, kept so the next request with the same claims skips the
/// mapping: the claims it was built from (compared exactly on every hit), the entities (principal and
/// groups) as Cedar builds them, the `context.token` record of an access token, and the mapping notes.
#[derive(Debug)]
pub(crate) struct MappedPrincipal {
    /// ID-token and access-token claims, exactly as mapped.
    pub(crate) claims: (Option<ClaimMap>, Option<ClaimMap>),
    /// The principal and its groups.
    pub(crate) entities: Entities,
    /// `context.token`, for an access token.
    pub(crate) token_context: Option<serde_json::Map<String, Value>>,
    /// Notes from mapping the claims.
    pub(crate) notes: Vec<String>,
}

/// The `has` guards that make an attribute access safe, in the notation it is written in:
/// `principal.custom.location` → `principal has custom && principal.custom has location && …`;
/// `principal["custom:location"]` → `principal has "custom:location" && …` (an attribute whose name has a
/// `:` exists only in bracket form, so only a quoted `has` can guard it).
pub fn has_guard(expr: &str) -> Option<String> {
    let expr = expr.trim();
    let base_end = expr.find(['.', '['])?;
    let base = expr.get(..base_end)?;
    if base.is_empty() || !base.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let mut rest = expr.get(base_end..)?;
    let mut prefix = base.to_string();
    let mut guards = Vec::new();
    loop {
        if let Some(r) = rest.strip_prefix('.') {
            let n = r
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(r.len());
            let name = r.get(..n)?;
            if name.is_empty() {
                return None;
            }
            guards.push(format!("{prefix} has {name}"));
            prefix = format!("{prefix}.{name}");
            rest = r.get(n..)?;
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let key = r.get(..close)?.trim();
            if !(key.len() >= 2 && key.starts_with('"') && key.ends_with('"')) {
                return None;
            }
            guards.push(format!("{prefix} has {key}"));
            prefix = format!("{prefix}[{key}]");
            rest = r.get(close + 1..)?;
        } else {
            break;
        }
    }
    if guards.is_empty() {
        return None;
    }
    Some(format!("{} && {expr}", guards.join(" && ")))
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = src.get(..offset.min(src.len())).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Passes a Cedar error (a miette diagnostic) through with the position of its first label.
fn cedar_err(file: &str, src: &str, e: &dyn miette::Diagnostic, what: &str) -> BridgeError {
    let pos = e
        .labels()
        .and_then(|mut l| l.next())
        .map(|l| (line_col(src, l.offset()), (l.offset(), l.len())));
    let help = e.help().map(|h| h.to_string());
    match pos {
        Some(((line, column), span)) => BridgeError::Located(Box::new(crate::CedarDiagnostic {
            file: file.to_string(),
            line,
            column,
            span,
            what: what.to_string(),
            message: e.to_string(),
            help,
        })),
        None => BridgeError::Policy(match help {
            Some(h) => format!("{file}: {what}: {e} (help: {h})"),
            None => format!("{file}: {what}: {e}"),
        }),
    }
}

/// Cedar's strict validation of `set` against `schema`, each error located in its file
/// (`file:line:column: policy `id`: message`, from `sources`: policy id → file name and text), with a
/// hint for optional attributes read without `has`.
fn validation_errors(
    set: &PolicySet,
    schema: &Schema,
    sources: &HashMap<String, (&str, &str)>,
) -> Vec<String> {
    let res = Validator::new(schema.clone()).validate(set, ValidationMode::Strict);
    res.validation_errors()
        .map(|e| {
            let id = e.policy_id().to_string();
            let src = sources.get(&id);
            let span = miette::Diagnostic::labels(e)
                .and_then(|mut l| l.next())
                .map(|l| (l.offset(), l.len()));
            let mut m = match (src, span) {
                (Some((file, text)), Some((off, _))) => {
                    let (l, c) = line_col(text, off);
                    format!("{file}:{l}:{c}: policy `{id}`: {e}")
                }
                _ => format!("policy `{id}`: {e}"),
            };
            let text = e.to_string();
            if text.contains("optional") || text.contains("does not have the attribute") || text.contains("may not have") {
                let expr = src.zip(span).and_then(|((_, t), (off, len))| t.get(off..off + len));
                match expr.and_then(has_guard) {
                    Some(g) => m.push_str(&format!(" (help: guard the attribute with `has`: `{g}`)")),
                    None => m.push_str(" (help: guard optional attributes with `has`: `principal has \"custom:location\"` for an attribute with `:` in its name, `principal has custom && principal.custom has location` for a record)"),
                }
            }
            m
        })
        .collect()
}

/// Policies as the cedar CLI reads a file: ids from `@id("…")` annotations, otherwise Cedar's own
/// `policy0`, `policy1`, … (what `cedar run-tests` files name in `reason`).
pub fn cli_policy_set(name: &str, text: &str) -> Result<PolicySet, BridgeError> {
    let parsed =
        PolicySet::from_str(text).map_err(|e| cedar_err(name, text, &e, "invalid Cedar"))?;
    rename_from_id_annotations(name, &parsed)
}

/// Policies in Cedar's JSON policy format, as the cedar CLI reads them with `--policy-format json`: a
/// policy set (`staticPolicies`, `templates`, `templateLinks`) or a single policy; `@id` annotations
/// rename them as in [`cli_policy_set`].
pub fn cli_policy_set_json(name: &str, text: &str) -> Result<PolicySet, BridgeError> {
    let json: Value = serde_json::from_str(text).map_err(|e| {
        BridgeError::Policy(format!(
            "{name}:{}:{}: invalid JSON: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let is_set = json.as_object().is_some_and(|o| {
        ["staticPolicies", "templates", "templateLinks"]
            .iter()
            .any(|k| o.contains_key(*k))
    });
    let parsed = if is_set {
        PolicySet::from_json_value(json).map_err(|e| {
            BridgeError::Policy(format!("{name}: invalid Cedar JSON policy set: {e}"))
        })?
    } else {
        let policy = cedar_policy::Policy::from_json(None, json)
            .map_err(|e| BridgeError::Policy(format!("{name}: invalid Cedar JSON policy: {e}")))?;
        PolicySet::from_policies([policy])
            .map_err(|e| BridgeError::Policy(format!("{name}: {e}")))?
    };
    rename_from_id_annotations(name, &parsed)
}

/// The set with each policy and template renamed by its `@id` annotation, if it has one.
fn rename_from_id_annotations(name: &str, parsed: &PolicySet) -> Result<PolicySet, BridgeError> {
    let mut set = PolicySet::new();
    for t in parsed.templates() {
        let id = t
            .annotation("id")
            .map_or_else(|| t.id().clone(), PolicyId::new);
        set.add_template(t.new_id(id))
            .map_err(|e| BridgeError::Policy(format!("{name}: {e}")))?;
    }
    for p in parsed.policies() {
        let id = p
            .annotation("id")
            .map_or_else(|| p.id().clone(), PolicyId::new);
        set.add(p.new_id(id))
            .map_err(|e| BridgeError::Policy(format!("{name}: {e}")))?;
    }
    Ok(set)
}

/// A schema file: Cedar's schema syntax, or its JSON form when `name` ends in `.json`.
pub fn schema_file(name: &str, text: &str) -> Result<Schema, BridgeError> {
    if name.ends_with(".json") {
        Schema::from_json_str(text).map_err(|e| cedar_err(name, text, &e, "invalid schema"))
    } else {
        Schema::from_cedarschema_str(text)
            .map(|(s, _)| s)
            .map_err(|e| cedar_err(name, text, &e, "invalid schema"))
    }
}

/// [`cli_policy_set`]'s policies validated strictly against `schema`, as `cedar run-tests --schema`
/// does: every error located in the policy file.
pub fn validate_cli_policies(
    set: &PolicySet,
    schema: &Schema,
    name: &str,
    text: &str,
) -> Result<(), BridgeError> {
    let sources = set
        .policies()
        .map(|p| (p.id().to_string(), (name, text)))
        .collect();
    let errors = validation_errors(set, schema, &sources);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(BridgeError::Validation(errors))
    }
}

impl PolicyStore {
    /// Builds a store from policy text (`@id` annotations become ids), an optional schema and identity
    /// source. With `strict`, policies are validated against the schema in Cedar's strict mode.
    pub fn from_parts(
        files: &[(String, String)],
        schema: Option<Schema>,
        identity_source: Option<IdentitySource>,
        links: Vec<Link>,
        strict: bool,
    ) -> Result<Self, BridgeError> {
        let mut set = PolicySet::new();
        // Policy id → (file, text), to locate validation errors and quote the expression they name.
        let mut sources: HashMap<String, (&str, &str)> = HashMap::new();
        for (name, text) in files {
            let parsed = PolicySet::from_str(text)
                .map_err(|e| cedar_err(name, text, &e, "invalid Cedar"))?;
            let stem = Path::new(name)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("policy")
                .to_string();
            for (n, p) in parsed.policies().enumerate() {
                let id = p
                    .annotation("id")
                    .map_or_else(|| format!("{stem}.{n}"), str::to_string);
                sources.insert(id.clone(), (name.as_str(), text.as_str()));
                set.add(p.new_id(PolicyId::new(&id)))
                    .map_err(|e| BridgeError::Policy(format!("{name}: {e}")))?;
            }
            for (n, t) in parsed.templates().enumerate() {
                let id = t
                    .annotation("id")
                    .map_or_else(|| format!("{stem}.template{n}"), str::to_string);
                set.add_template(t.new_id(PolicyId::new(&id)))
                    .map_err(|e| BridgeError::Policy(format!("{name}: {e}")))?;
            }
        }
        for l in &links {
            set.link(
                PolicyId::new(&l.template),
                PolicyId::new(&l.id),
                slot_values(l)?,
            )
            .map_err(|e| {
                BridgeError::Policy(format!("link `{}` of template `{}`: {e}", l.id, l.template))
            })?;
        }
        if let (Some(s), true) = (&schema, strict) {
            let errors = validation_errors(&set, s, &sources);
            if !errors.is_empty() {
                return Err(BridgeError::Validation(errors));
            }
        }
        let attr_types = None;
        let index = set.policies().map(index_entry).collect();
        Ok(Self {
            policies: set,
            strict: strict && schema.is_some(),
            schema,
            attr_types,
            token_types: None,
            identity_source,
            links,
            index,
            subsets: RwLock::new(FastMap::default()),
            narrowed: RwLock::new(FastMap::default()),
            principals: RwLock::new(FastMap::default()),
            authorizer: Authorizer::new(),
        })
    }

    /// Builds a store from the text of its files (what a store directory holds): `*.cedar` policies and
    /// templates, an optional `schema.cedarschema` or `schema.json`, `identity-source.json` and
    /// `links.json`. Policies are validated strictly against the schema. The crate reads no files; the
    /// CLI reads the directory.
    pub fn from_files(f: &StoreFiles) -> Result<Self, BridgeError> {
        let files = &f.policies;
        if files.is_empty() {
            return Err(BridgeError::Config(format!(
                "the store `{}` has no *.cedar policies",
                f.name
            )));
        }
        let read = |name: &str| -> Result<Option<String>, BridgeError> {
            Ok(f.others
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone()))
        };
        let dir = std::path::Path::new(&f.name);
        let mut schema_json = None;
        let schema = if let Some(text) = read("schema.cedarschema")? {
            let name = dir.join("schema.cedarschema").display().to_string();
            let (s, _) = Schema::from_cedarschema_str(&text)
                .map_err(|e| cedar_err(&name, &text, &e, "invalid schema"))?;
            schema_json = cedar_policy::SchemaFragment::from_cedarschema_str(&text)
                .ok()
                .and_then(|(f, _)| f.to_json_value().ok());
            Some(s)
        } else if let Some(text) = read("schema.json")? {
            let name = dir.join("schema.json").display().to_string();
            schema_json = serde_json::from_str(&text).ok();
            Some(
                Schema::from_json_str(&text)
                    .map_err(|e| cedar_err(&name, &text, &e, "invalid schema"))?,
            )
        } else {
            None
        };
        let identity_source = match read("identity-source.json")? {
            Some(t) => Some(IdentitySource::from_json_text("identity-source.json", &t)?),
            None => None,
        };
        let links = match read("links.json")? {
            Some(t) => parse_links(&t)?,
            None => Vec::new(),
        };
        // Verified Permissions' validation settings (`policy-store.json`, the shape `CreatePolicyStore`
        // takes: {"validationSettings": {"mode": "STRICT" | "OFF"}}); without the file, a store with a
        // schema is strict.
        let strict = match read("policy-store.json")? {
            None => true,
            Some(t) => {
                let v: Value = serde_json::from_str(&t)
                    .map_err(|e| BridgeError::Config(format!("policy-store.json: {e}")))?;
                match v
                    .pointer("/validationSettings/mode")
                    .and_then(Value::as_str)
                {
                    Some("STRICT") => true,
                    Some("OFF") => false,
                    other => {
                        return Err(BridgeError::Config(format!(
                            "policy-store.json: `validationSettings.mode` is STRICT or OFF, found {other:?}"
                        )));
                    }
                }
            }
        };
        let mut store = Self::from_parts(files, schema, identity_source, links, strict)?;
        if let (Some(js), Some(src)) = (schema_json, &store.identity_source) {
            store.attr_types = Some(attr_types_from_json(&js, &src.principal_entity_type));
            store.token_types = token_types_from_json(&js);
        }
        Ok(store)
    }

    /// The policies.
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// Verified Permissions' validation mode: `STRICT` (policies validated against the schema) or
    /// `OFF`.
    pub fn validation_mode(&self) -> &'static str {
        if self.strict { "STRICT" } else { "OFF" }
    }

    /// The schema.
    pub fn schema(&self) -> Option<&Schema> {
        self.schema.as_ref()
    }
    /// The identity source.
    pub fn identity_source(&self) -> Option<&IdentitySource> {
        self.identity_source.as_ref()
    }
    /// Declared principal attributes (from the schema), for coercion and projection.
    pub fn attr_types(&self) -> Option<&AttrTypes> {
        self.attr_types.as_ref()
    }
    /// The attributes the schema declares for `context.token`, when it declares any: access-token claims
    /// outside them are left out, as Verified Permissions does with ID-token claims.
    pub fn token_types(&self) -> Option<&AttrTypes> {
        self.token_types.as_ref()
    }

    /// The policies that can apply to `(principal, action, resource)`, cached per (action, principal type,
    /// resource type).
    pub fn subset(
        &self,
        p: &EntityUid,
        a: &EntityUid,
        r: &EntityUid,
    ) -> Result<Arc<PolicySet>, BridgeError> {
        Ok(self.coarse(p, a, r)?.set.clone())
    }

    /// [`PolicyStore::subset`] with the places of its policies in the index.
    fn coarse(
        &self,
        p: &EntityUid,
        a: &EntityUid,
        r: &EntityUid,
    ) -> Result<Arc<Subset>, BridgeError> {
        let key: SubsetKey = (a.clone(), p.type_name().clone(), r.type_name().clone());
        if let Some(s) = self.subsets.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(s);
        }
        // Built once per key, off the hot path: the string forms the index stores.
        let names = (
            a.to_string(),
            p.type_name().to_string(),
            r.type_name().to_string(),
        );
        let mut entries = Vec::new();
        for (i, e) in self.index.iter().enumerate() {
            let action_ok = match &e.action {
                ActionKey::Any => true,
                ActionKey::Set(s) => s.contains(&names.0),
            };
            let scope_ok = |k: &ScopeKey, t: &str| match k {
                ScopeKey::Any => true,
                ScopeKey::Type(x) => x == t,
            };
            if action_ok && scope_ok(&e.principal, &names.1) && scope_ok(&e.resource, &names.2) {
                entries.push(u32::try_from(i).map_err(|_| {
                    BridgeError::Policy("more policies than the index can hold".into())
                })?);
            }
        }
        let narrows = entries.iter().any(|&i| {
            self.index
                .get(i as usize)
                .is_some_and(|e| e.principal_uid != UidKey::Any || e.resource_uid != UidKey::Any)
        });
        let sub = Arc::new(Subset {
            set: Arc::new(self.build_set(&entries)?),
            entries: entries.into(),
            narrows,
        });
        if let Ok(mut m) = self.subsets.write()
            && m.len() < 4096
        {
            m.insert(key, sub.clone());
        }
        Ok(sub)
    }

    /// The policies at these places of the index, as one set (templates added once, links linked).
    fn build_set(&self, entries: &[u32]) -> Result<PolicySet, BridgeError> {
        let mut sub = PolicySet::new();
        let mut templates_added: Vec<String> = Vec::new();
        for e in entries.iter().filter_map(|&i| self.index.get(i as usize)) {
            let pid = PolicyId::new(&e.id);
            let Some(policy) = self.policies.policy(&pid) else {
                continue;
            };
            match policy.template_id() {
                None => sub
                    .add(policy.clone())
                    .map_err(|x| BridgeError::Policy(x.to_string()))?,
                Some(tid) => {
                    let tname = tid.to_string();
                    if !templates_added.contains(&tname) {
                        if let Some(t) = self.policies.template(tid) {
                            sub.add_template(t.clone())
                                .map_err(|x| BridgeError::Policy(x.to_string()))?;
                        }
                        templates_added.push(tname);
                    }
                    let link =
                        self.links.iter().find(|l| l.id == e.id).ok_or_else(|| {
                            BridgeError::Policy(format!("link `{}` not found", e.id))
                        })?;
                    sub.link(tid.clone(), pid, slot_values(link)?)
                        .map_err(|x| BridgeError::Policy(x.to_string()))?;
                }
            }
        }
        Ok(sub)
    }

    /// The policies of the request's subset that its principal and resource can satisfy: a policy whose
    /// scope names another entity (`principal == X`, `principal in X` for an `X` the principal is not
    /// in, the same for the resource) can be neither satisfied nor in error, so it is left out. The
    /// sets are kept by the places they hold (at most 4,096; past that each is built for its request).
    fn narrow(
        &self,
        sub: &Subset,
        p: &EntityUid,
        r: &EntityUid,
        entities: &Entities,
    ) -> Result<Arc<PolicySet>, BridgeError> {
        let kept: Vec<u32> = sub
            .entries
            .iter()
            .copied()
            .filter(|&i| {
                self.index.get(i as usize).is_some_and(|e| {
                    e.principal_uid.admits(p, entities) && e.resource_uid.admits(r, entities)
                })
            })
            .collect();
        if kept.len() == sub.entries.len() {
            return Ok(sub.set.clone());
        }
        if let Some(s) = self
            .narrowed
            .read()
            .ok()
            .and_then(|m| m.get(kept.as_slice()).cloned())
        {
            return Ok(s);
        }
        let set = Arc::new(self.build_set(&kept)?);
        if let Ok(mut m) = self.narrowed.write()
            && m.len() < 4096
        {
            m.insert(kept.into(), set.clone());
        }
        Ok(set)
    }

    /// The principal mapped from exactly these claims, mapping it with `map` on a miss. The claims are
    /// compared in full on a hit, so two users never share an entry; errors are not kept.
    pub(crate) fn mapped_principal(
        &self,
        id: &str,
        identity: Option<&serde_json::Map<String, Value>>,
        access: Option<&serde_json::Map<String, Value>>,
        map: impl FnOnce() -> Result<MappedPrincipal, BridgeError>,
    ) -> Result<Arc<MappedPrincipal>, BridgeError> {
        if let Ok(m) = self.principals.read()
            && let Some(hit) = m.get(id)
            && hit.claims.0.as_ref() == identity
            && hit.claims.1.as_ref() == access
        {
            return Ok(hit.clone());
        }
        let mapped = Arc::new(map()?);
        if let Ok(mut m) = self.principals.write() {
            if m.len() >= MAX_MAPPED_PRINCIPALS {
                m.clear();
            }
            m.insert(id.to_string(), mapped.clone());
        }
        Ok(mapped)
    }

    /// The policies the index leaves for this request: those whose action and scope types can match
    /// ([`PolicyStore::subset`]), then those its principal and resource entities can satisfy. Evaluating
    /// them gives the same decision, determining policies and errors as evaluating every policy.
    pub fn candidates(
        &self,
        req: &Request,
        entities: &Entities,
    ) -> Result<Arc<PolicySet>, BridgeError> {
        let (Some(p), Some(a), Some(r)) = (req.principal(), req.action(), req.resource()) else {
            return Ok(Arc::new(self.policies.clone()));
        };
        let sub = self.coarse(p, a, r)?;
        if !sub.narrows {
            return Ok(sub.set.clone());
        }
        self.narrow(&sub, p, r, entities)
    }

    /// Authorizes with the index. Same decisions and determining policies as the whole set.
    pub fn is_authorized(
        &self,
        req: &Request,
        entities: &Entities,
    ) -> Result<cedar_policy::Response, BridgeError> {
        if req.principal().is_none() || req.action().is_none() || req.resource().is_none() {
            return Ok(self.authorizer.is_authorized(req, &self.policies, entities));
        }
        let set = self.candidates(req, entities)?;
        Ok(self.authorizer.is_authorized(req, &set, entities))
    }

    /// Authorizes against every policy (no index): the reference the index is tested against.
    pub fn is_authorized_unindexed(
        &self,
        req: &Request,
        entities: &Entities,
    ) -> cedar_policy::Response {
        self.authorizer.is_authorized(req, &self.policies, entities)
    }

    /// Whether a policy is a `forbid`.
    pub fn is_forbid(&self, id: &PolicyId) -> bool {
        self.policies
            .policy(id)
            .is_some_and(|p| p.effect() == cedar_policy::Effect::Forbid)
    }
}

/// Maps a Cedar response to the shared outcome: a satisfied forbid is `ExplicitDeny`, no permit is
/// `ImplicitDeny`.
pub fn decision_of(store: &PolicyStore, resp: &cedar_policy::Response) -> authz_core::Decision {
    match resp.decision() {
        CDecision::Allow => authz_core::Decision::Allow,
        CDecision::Deny if resp.diagnostics().reason().any(|id| store.is_forbid(id)) => {
            authz_core::Decision::ExplicitDeny
        }
        CDecision::Deny => authz_core::Decision::ImplicitDeny,
    }
}

fn slot_values(l: &Link) -> Result<HashMap<SlotId, EntityUid>, BridgeError> {
    let mut m = HashMap::new();
    for (slot, uid) in &l.values {
        let s = match slot.as_str() {
            "?principal" => SlotId::principal(),
            "?resource" => SlotId::resource(),
            o => {
                return Err(BridgeError::Config(format!(
                    "unknown template slot `{o}` (use ?principal or ?resource)"
                )));
            }
        };
        let u = EntityUid::from_str(uid).map_err(|e| {
            BridgeError::Config(format!(
                "link `{}`: `{uid}` is not an entity uid: {e}",
                l.id
            ))
        })?;
        m.insert(s, u);
    }
    Ok(m)
}

/// A template link as `links.json` writes it: `{"template", "id", "values": {"?principal": uid, …}}`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkDef {
    template: String,
    id: String,
    values: std::collections::BTreeMap<String, String>,
}

/// `links.json`: an array of links; an unknown field, a missing one or a value that is not a string is
/// refused with its line and column.
fn parse_links(text: &str) -> Result<Vec<Link>, BridgeError> {
    let defs: Vec<LinkDef> =
        serde_json::from_str(text).map_err(|e| BridgeError::Config(format!("links.json: {e}")))?;
    Ok(defs
        .into_iter()
        .map(|l| Link {
            template: l.template,
            id: l.id,
            values: l.values.into_iter().collect(),
        })
        .collect())
}

fn index_entry(p: &Policy) -> IndexEntry {
    let scope_p = match p.principal_constraint() {
        PrincipalConstraint::Eq(u) => ScopeKey::Type(u.type_name().to_string()),
        PrincipalConstraint::Is(t) | PrincipalConstraint::IsIn(t, _) => {
            ScopeKey::Type(t.to_string())
        }
        PrincipalConstraint::Any | PrincipalConstraint::In(_) => ScopeKey::Any,
    };
    let scope_r = match p.resource_constraint() {
        ResourceConstraint::Eq(u) => ScopeKey::Type(u.type_name().to_string()),
        ResourceConstraint::Is(t) | ResourceConstraint::IsIn(t, _) => ScopeKey::Type(t.to_string()),
        ResourceConstraint::Any | ResourceConstraint::In(_) => ScopeKey::Any,
    };
    // `action in [A, B]` also matches actions that are members of A or B through action groups, so only
    // `==` narrows by name; `in` narrows when the listed actions have no members (checked against the
    // request's action entity chain by Cedar itself otherwise).
    let action = match p.action_constraint() {
        ActionConstraint::Any => ActionKey::Any,
        ActionConstraint::Eq(u) => ActionKey::Set(vec![u.to_string()]),
        ActionConstraint::In(_) => ActionKey::Any,
    };
    // Linked policies keep `Any`: their entity comes from the link, kept whole.
    let linked = p.template_id().is_some();
    let principal_uid = match p.principal_constraint() {
        PrincipalConstraint::Eq(u) if !linked => UidKey::Eq(u),
        PrincipalConstraint::In(u) | PrincipalConstraint::IsIn(_, u) if !linked => UidKey::In(u),
        _ => UidKey::Any,
    };
    let resource_uid = match p.resource_constraint() {
        ResourceConstraint::Eq(u) if !linked => UidKey::Eq(u),
        ResourceConstraint::In(u) | ResourceConstraint::IsIn(_, u) if !linked => UidKey::In(u),
        _ => UidKey::Any,
    };
    IndexEntry {
        id: p.id().to_string(),
        action,
        principal: scope_p,
        resource: scope_r,
        principal_uid,
        resource_uid,
    }
}

fn type_of(v: &Value, common: &serde_json::Map<String, Value>) -> Option<AttrType> {
    let t = v.get("type").and_then(Value::as_str)?;
    Some(match t {
        "Record" => {
            let attrs = v.get("attributes").and_then(Value::as_object)?;
            AttrType::Record(
                attrs
                    .iter()
                    .filter_map(|(k, x)| type_of(x, common).map(|t| (k.clone(), t)))
                    .collect(),
            )
        }
        "Set" => AttrType::Set(Box::new(type_of(v.get("element")?, common)?)),
        "EntityOrCommon" | "Extension" => {
            let name = v.get("name").and_then(Value::as_str)?;
            match common.get(name) {
                Some(c) => type_of(c, common)?,
                None => AttrType::Named(name.to_string()),
            }
        }
        other => match common.get(other) {
            Some(c) => type_of(c, common)?,
            None => AttrType::Named(other.to_string()),
        },
    })
}

/// The text of a policy store's files, read by the caller.
#[derive(Debug, Clone, Default)]
pub struct StoreFiles {
    /// The store's name (its directory), for messages.
    pub name: String,
    /// `*.cedar` files: (path, text), in a stable order.
    pub policies: Vec<(String, String)>,
    /// The other files by file name: `schema.cedarschema`, `schema.json`, `identity-source.json`,
    /// `links.json`.
    pub others: Vec<(String, String)>,
}

impl StoreFiles {
    /// Reads a store directory: `*.cedar` policies (sorted by name), and `schema.cedarschema`,
    /// `schema.json`, `identity-source.json`, `links.json` when present. Other files are ignored.
    pub fn from_dir(dir: &std::path::Path) -> Result<Self, BridgeError> {
        let cannot = |p: &std::path::Path, e: std::io::Error| {
            BridgeError::Config(format!("cannot read `{}`: {e}", p.display()))
        };
        let rd = std::fs::read_dir(dir).map_err(|e| {
            BridgeError::Config(format!("cannot read store `{}`: {e}", dir.display()))
        })?;
        let mut paths: Vec<std::path::PathBuf> =
            rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        let mut files = StoreFiles {
            name: dir.display().to_string(),
            ..Default::default()
        };
        for p in &paths {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let is_policy = p.extension().and_then(|e| e.to_str()) == Some("cedar");
            let is_config = matches!(
                name,
                "schema.cedarschema"
                    | "schema.json"
                    | "identity-source.json"
                    | "links.json"
                    | "policy-store.json"
            );
            if is_policy || is_config {
                let text = std::fs::read_to_string(p).map_err(|e| cannot(p, e))?;
                if is_policy {
                    files.policies.push((p.display().to_string(), text));
                } else {
                    files.others.push((name.to_string(), text));
                }
            }
        }
        Ok(files)
    }
}

/// The attributes of `token` in the context types of a JSON schema's actions (all namespaces, merged).
pub fn token_types_from_json(schema: &Value) -> Option<AttrTypes> {
    let mut attrs = std::collections::BTreeMap::new();
    let mut any = false;
    for nsv in schema.as_object()?.values() {
        let common = nsv
            .get("commonTypes")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for action in nsv
            .get("actions")
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|a| a.values())
        {
            let ctx = action.get("appliesTo").and_then(|a| a.get("context"));
            if let Some(AttrType::Record(fields)) = ctx.and_then(|c| type_of(c, &common))
                && let Some(AttrType::Record(token)) = fields.get("token")
            {
                any = true;
                attrs.extend(token.clone());
            }
        }
    }
    any.then_some(AttrTypes { attrs })
}

/// Reads a JSON schema's attributes of `entity_type` (`Ns::Type`).
pub fn attr_types_from_json(schema: &Value, entity_type: &str) -> AttrTypes {
    let (ns, name) = entity_type.rsplit_once("::").unwrap_or(("", entity_type));
    let Some(nsv) = schema.get(ns) else {
        return AttrTypes::default();
    };
    let common = nsv
        .get("commonTypes")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let shape = nsv
        .get("entityTypes")
        .and_then(|e| e.get(name))
        .and_then(|t| t.get("shape"));
    let attrs = shape
        .and_then(|s| s.get("attributes"))
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .filter_map(|(k, v)| type_of(v, &common).map(|t| (k.clone(), t)))
                .collect()
        })
        .unwrap_or_default();
    AttrTypes { attrs }
}
