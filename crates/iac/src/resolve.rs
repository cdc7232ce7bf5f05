//! Intrinsic functions and pseudo-parameters, resolved as CloudFormation resolves them ("Intrinsic
//! function reference", "Pseudo parameters reference", each resource type's "Return values"), keeping the
//! template position of every value: a value produced by a function carries the function's position.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use diag::Span;
use diag::json::{Kind, Member, Value};

use crate::{IacError, Note, Template};

/// What the template is resolved with: the deployment's account, Region and stack name, and the
/// parameters' values.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `AWS::AccountId` (default `123456789012`).
    pub account: String,
    /// `AWS::Region` (default `us-east-1`).
    pub region: String,
    /// `AWS::StackName` (default `stack`).
    pub stack_name: String,
    /// Parameter values by name (a list parameter's value is comma-separated).
    pub parameters: BTreeMap<String, String>,
    /// Other stacks' exports by name, for `Fn::ImportValue` (without one, a placeholder is used and
    /// said).
    pub imports: BTreeMap<String, String>,
    /// Deployed resources' physical ids by logical id (what `Ref` returns: a generated name, an identity
    /// pool id), in place of placeholders.
    pub physical_ids: BTreeMap<String, String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            stack_name: "stack".into(),
            parameters: BTreeMap::new(),
            imports: BTreeMap::new(),
            physical_ids: BTreeMap::new(),
        }
    }
}

/// The partition of a Region (`iam_policy::partition_of_region`).
pub fn partition(region: &str) -> &'static str {
    iam_policy::partition_of_region(region)
}

/// `{f: arg}`: an intrinsic function call (`Ref`, `Fn::GetAtt`) written at `span`, to resolve a
/// resource's `Ref` or attribute the way the template would.
pub(crate) fn intrinsic(f: &str, arg: &str, span: Span) -> Value {
    Value {
        kind: Kind::Object(vec![Member {
            key: f.into(),
            key_span: span,
            value: Value {
                kind: Kind::String(arg.to_string()),
                span,
            },
        }]),
        span,
    }
}

fn string(s: impl Into<String>, span: Span) -> Value {
    Value {
        kind: Kind::String(s.into()),
        span,
    }
}

/// Resolves a template's values. One per template and settings; it remembers the conditions and names
/// it worked out, and the placeholders it had to use.
pub struct Resolver<'t> {
    t: &'t Template,
    s: Settings,
    conditions: RefCell<HashMap<String, bool>>,
    names: RefCell<HashMap<String, String>>,
    visiting: RefCell<Vec<String>>,
    notes: RefCell<Vec<Note>>,
}

impl<'t> Resolver<'t> {
    /// A resolver for `t` with `s`.
    pub fn new(t: &'t Template, s: Settings) -> Self {
        Self {
            t,
            s,
            conditions: RefCell::default(),
            names: RefCell::default(),
            visiting: RefCell::default(),
            notes: RefCell::default(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.s
    }

    /// A property resolved to text (`None` when absent or `AWS::NoValue`); errors are about `id`.
    pub(crate) fn text_of(&self, v: Option<&Value>, id: &str) -> Result<Option<String>, IacError> {
        match v {
            None => Ok(None),
            Some(v) => Ok(self
                .value(v)
                .map_err(|e| e.about(id))?
                .map(|x| scalar_text(&x))),
        }
    }

    /// What `{f: arg}` (`Ref id`, `Fn::GetAtt id.Attribute`) gives for the resource `id` at `span`.
    pub(crate) fn resource_text(
        &self,
        f: &str,
        arg: &str,
        id: &str,
        span: Span,
    ) -> Result<String, IacError> {
        Ok(self
            .text_of(Some(&intrinsic(f, arg, span)), id)?
            .unwrap_or_default())
    }

    /// The placeholders used so far (values that exist only once deployed, imports), each with its
    /// position.
    pub fn notes(&self) -> Vec<Note> {
        self.notes.borrow().clone()
    }

    fn note(&self, span: Span, logical_id: Option<&str>, text: String) {
        let mut n = self.notes.borrow_mut();
        if !n.iter().any(|x| x.text == text) {
            n.push(Note {
                span,
                logical_id: logical_id.map(str::to_string),
                text,
            });
        }
    }

    fn err(&self, span: Span, m: impl Into<String>) -> IacError {
        IacError::unresolved(&self.t.name, span, m)
    }

    fn partition(&self) -> &'static str {
        partition(&self.s.region)
    }

    /// Whether the named condition holds.
    pub fn condition(&self, name: &str, at: Span) -> Result<bool, IacError> {
        if let Some(b) = self.conditions.borrow().get(name) {
            return Ok(*b);
        }
        let key = format!("Condition {name}");
        if self.visiting.borrow().contains(&key) {
            return Err(IacError::circular(
                &self.t.name,
                at,
                format!("the condition `{name}` depends on itself"),
            ));
        }
        let def = self.t.conditions.get(name).ok_or_else(|| {
            self.err(
                at,
                format!("no condition `{name}` in the template's `Conditions`"),
            )
        })?;
        self.visiting.borrow_mut().push(key);
        let r = self.truth(def);
        self.visiting.borrow_mut().pop();
        let b = r?;
        self.conditions.borrow_mut().insert(name.to_string(), b);
        Ok(b)
    }

    /// A condition function's value: `Fn::Equals`, `Fn::And`, `Fn::Or`, `Fn::Not`, `Condition`.
    fn truth(&self, v: &Value) -> Result<bool, IacError> {
        let Some((f, arg)) = function(v) else {
            return match &v.kind {
                Kind::Bool(b) => Ok(*b),
                Kind::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                other => Err(self.err(
                    v.span,
                    format!(
                        "a condition is Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, not {}",
                        other.name()
                    ),
                )),
            };
        };
        let list = |n: std::ops::RangeInclusive<usize>| -> Result<&Vec<Value>, IacError> {
            match &arg.kind {
                Kind::Array(a) if n.contains(&a.len()) => Ok(a),
                _ => Err(self.err(
                    v.span,
                    format!(
                        "`{f}` takes a list of {} to {} conditions",
                        n.start(),
                        n.end()
                    ),
                )),
            }
        };
        match f {
            "Condition" => match &arg.kind {
                Kind::String(n) => self.condition(n, arg.span),
                _ => Err(self.err(arg.span, "`Condition` names a condition")),
            },
            "Fn::Equals" => {
                let [a, b] = list(2..=2)?.as_slice() else {
                    return Err(self.err(v.span, "`Fn::Equals` takes two values"));
                };
                let (x, y) = (self.required(a)?, self.required(b)?);
                Ok(scalar_text(&x) == scalar_text(&y))
            }
            "Fn::And" => {
                for c in list(2..=10)? {
                    if !self.truth(c)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            "Fn::Or" => {
                for c in list(2..=10)? {
                    if self.truth(c)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            "Fn::Not" => match list(1..=1)?.as_slice() {
                [c] => Ok(!self.truth(c)?),
                _ => Err(self.err(v.span, "`Fn::Not` takes one condition")),
            },
            other => Err(self.err(v.span, format!("`{other}` is not a condition function"))),
        }
    }

    /// A value that must not be `AWS::NoValue`.
    fn required(&self, v: &Value) -> Result<Value, IacError> {
        self.value(v)?
            .ok_or_else(|| self.err(v.span, "`AWS::NoValue` where a value is required"))
    }

    /// Resolves `v`: `None` when it is `AWS::NoValue` (the property is removed).
    pub fn value(&self, v: &Value) -> Result<Option<Value>, IacError> {
        if let Some((f, arg)) = function(v) {
            return self.call(f, arg, v.span);
        }
        Ok(Some(match &v.kind {
            Kind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    if let Some(x) = self.value(i)? {
                        out.push(x);
                    }
                }
                Value {
                    kind: Kind::Array(out),
                    span: v.span,
                }
            }
            Kind::Object(members) => {
                let mut out = Vec::with_capacity(members.len());
                for m in members {
                    if let Some(x) = self.value(&m.value)? {
                        out.push(Member {
                            key: m.key.clone(),
                            key_span: m.key_span,
                            value: x,
                        });
                    }
                }
                Value {
                    kind: Kind::Object(out),
                    span: v.span,
                }
            }
            _ => v.clone(),
        }))
    }

    fn text(&self, v: &Value, what: &str) -> Result<String, IacError> {
        let r = self.required(v)?;
        match &r.kind {
            Kind::String(s) | Kind::Number(s) => Ok(s.clone()),
            Kind::Bool(b) => Ok(b.to_string()),
            other => Err(self.err(
                v.span,
                format!("{what} must be a string, found {}", other.name()),
            )),
        }
    }

    fn call(&self, f: &str, arg: &Value, at: Span) -> Result<Option<Value>, IacError> {
        let args = |n: usize| -> Result<&[Value], IacError> {
            match &arg.kind {
                Kind::Array(a) if a.len() == n => Ok(a.as_slice()),
                _ => Err(self.err(at, format!("`{f}` takes a list of {n} arguments"))),
            }
        };
        match f {
            "Ref" => {
                let name = match &arg.kind {
                    Kind::String(s) => s.clone(),
                    _ => return Err(self.err(at, "`Ref` takes a name")),
                };
                self.reference(&name, at)
            }
            "Fn::GetAtt" => {
                let (id, attr) = match &arg.kind {
                    Kind::Array(a) if a.len() == 2 => match a.as_slice() {
                        [x, y] => (self.text(x, "a logical id")?, self.text(y, "an attribute")?),
                        _ => return Err(self.err(at, "`Fn::GetAtt` is [LogicalId, Attribute]")),
                    },
                    Kind::String(s) => match s.split_once('.') {
                        Some((a, b)) => (a.to_string(), b.to_string()),
                        None => return Err(self.err(at, "`Fn::GetAtt` is [LogicalId, Attribute]")),
                    },
                    _ => return Err(self.err(at, "`Fn::GetAtt` is [LogicalId, Attribute]")),
                };
                Ok(Some(string(self.attribute(&id, &attr, at)?, at)))
            }
            "Fn::Sub" => {
                let (text, vars) = match &arg.kind {
                    Kind::String(s) => (s.clone(), None),
                    Kind::Array(a) if a.len() == 2 => match a.as_slice() {
                        [x, y] => (self.text(x, "`Fn::Sub`'s string")?, Some(y)),
                        _ => {
                            return Err(
                                self.err(at, "`Fn::Sub` takes a string, or [string, {variables}]")
                            );
                        }
                    },
                    _ => {
                        return Err(
                            self.err(at, "`Fn::Sub` takes a string, or [string, {variables}]")
                        );
                    }
                };
                let mut local = HashMap::new();
                if let Some(vars) = vars {
                    let Kind::Object(ms) = &vars.kind else {
                        return Err(self.err(vars.span, "`Fn::Sub`'s variables are an object"));
                    };
                    for m in ms {
                        local.insert(m.key.clone(), self.text(&m.value, "a `Fn::Sub` variable")?);
                    }
                }
                Ok(Some(string(self.sub(&text, &local, at)?, at)))
            }
            "Fn::Join" => {
                let [d, l] = args(2)? else {
                    return Err(self.err(at, "`Fn::Join` is [delimiter, list]"));
                };
                let sep = self.text(d, "`Fn::Join`'s delimiter")?;
                let list = self.list(l, at)?;
                let parts: Vec<String> = list
                    .iter()
                    .map(|x| self.text(x, "an item of `Fn::Join`"))
                    .collect::<Result<_, _>>()?;
                Ok(Some(string(parts.join(&sep), at)))
            }
            "Fn::Select" => {
                let [n, l] = args(2)? else {
                    return Err(self.err(at, "`Fn::Select` is [index, list]"));
                };
                let i: usize = self
                    .text(n, "`Fn::Select`'s index")?
                    .parse()
                    .map_err(|_| self.err(n.span, "`Fn::Select`'s index is a whole number"))?;
                let list = self.list(l, at)?;
                let picked = list.get(i).cloned().ok_or_else(|| {
                    self.err(
                        at,
                        format!("`Fn::Select` index {i} of a list of {}", list.len()),
                    )
                })?;
                Ok(Some(picked))
            }
            "Fn::Split" => {
                let [d, x] = args(2)? else {
                    return Err(self.err(at, "`Fn::Split` is [delimiter, string]"));
                };
                let sep = self.text(d, "`Fn::Split`'s delimiter")?;
                let s = self.text(x, "`Fn::Split`'s string")?;
                if sep.is_empty() {
                    return Err(self.err(at, "`Fn::Split`'s delimiter is empty"));
                }
                Ok(Some(Value {
                    kind: Kind::Array(s.split(sep.as_str()).map(|p| string(p, at)).collect()),
                    span: at,
                }))
            }
            "Fn::If" => {
                let [c, yes, no] = args(3)? else {
                    return Err(
                        self.err(at, "`Fn::If` is [condition, value if true, value if false]")
                    );
                };
                let name = match &c.kind {
                    Kind::String(n) => n.clone(),
                    _ => return Err(self.err(c.span, "`Fn::If` names a condition first")),
                };
                let branch = if self.condition(&name, c.span)? {
                    yes
                } else {
                    no
                };
                self.value(branch)
            }
            "Fn::FindInMap" => {
                let a = match &arg.kind {
                    Kind::Array(a) if a.len() == 3 || a.len() == 4 => a,
                    _ => {
                        return Err(self.err(
                            at,
                            "`Fn::FindInMap` is [MapName, TopLevelKey, SecondLevelKey]",
                        ));
                    }
                };
                let keys: Vec<String> = a
                    .iter()
                    .take(3)
                    .map(|x| self.text(x, "a `Fn::FindInMap` key"))
                    .collect::<Result<_, _>>()?;
                let [k0, k1, k2] = keys.as_slice() else {
                    return Err(self.err(
                        at,
                        "`Fn::FindInMap` is [MapName, TopLevelKey, SecondLevelKey]",
                    ));
                };
                let found = self
                    .t
                    .mappings
                    .get(k0)
                    .and_then(|m| member(m, k1))
                    .and_then(|m| member(m, k2));
                match found {
                    Some(v) => self.value(v),
                    None => Err(self.err(
                        at,
                        format!("`Fn::FindInMap`: no {k0} → {k1} → {k2} in `Mappings`"),
                    )),
                }
            }
            "Fn::ImportValue" => {
                let name = self.text(arg, "`Fn::ImportValue`'s export name")?;
                if let Some(v) = self.s.imports.get(&name) {
                    return Ok(Some(string(v.clone(), at)));
                }
                let p = format!("imported-{name}");
                self.note(
                    at,
                    None,
                    format!(
                        "`Fn::ImportValue {name}` is another stack's export: `{p}` stands for it (give its value with --import-value {name}=VALUE)"
                    ),
                );
                Ok(Some(string(p, at)))
            }
            "Fn::Base64" => {
                let s = self.text(arg, "`Fn::Base64`'s string")?;
                Ok(Some(string(
                    base64::engine::general_purpose::STANDARD.encode(s),
                    at,
                )))
            }
            "Fn::GetAZs" => {
                let r = self.text(arg, "`Fn::GetAZs`'s Region")?;
                let r = if r.is_empty() {
                    self.s.region.clone()
                } else {
                    r
                };
                self.note(at, None, format!("`Fn::GetAZs`: the Availability Zones of {r} are taken as {r}a, {r}b and {r}c"));
                Ok(Some(Value {
                    kind: Kind::Array(
                        ["a", "b", "c"]
                            .iter()
                            .map(|z| string(format!("{r}{z}"), at))
                            .collect(),
                    ),
                    span: at,
                }))
            }
            "Condition" => Ok(Some(Value {
                kind: Kind::Bool(self.truth(&Value {
                    kind: Kind::Object(vec![Member {
                        key: "Condition".into(),
                        key_span: at,
                        value: arg.clone(),
                    }]),
                    span: at,
                })?),
                span: at,
            })),
            other => Err(IacError::unsupported(
                &self.t.name,
                at,
                format!(
                    "`{other}` is not resolved by policy-check (supported: Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::Split, Fn::If, Fn::FindInMap, Fn::ImportValue, Fn::Base64, Fn::GetAZs and the condition functions)"
                ),
            )),
        }
    }

    fn list(&self, v: &Value, at: Span) -> Result<Vec<Value>, IacError> {
        let r = self.required(v)?;
        match r.kind {
            Kind::Array(a) => Ok(a),
            other => Err(self.err(at, format!("a list was expected, found {}", other.name()))),
        }
    }

    /// `${Name}`, `${Resource.Attribute}` and `${!Literal}` in a `Fn::Sub` string.
    fn sub(
        &self,
        text: &str,
        local: &HashMap<String, String>,
        at: Span,
    ) -> Result<String, IacError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[i..]);
                return Ok(out);
            };
            let name = &after[..end];
            rest = &after[end + 1..];
            if let Some(lit) = name.strip_prefix('!') {
                // `${!Literal}` is the text `${Literal}`.
                out.push_str("${");
                out.push_str(lit);
                out.push('}');
                continue;
            }
            // CloudFormation's variable names are alphanumerics, `_`, `.` and `:`; anything else
            // (`${cognito-identity.amazonaws.com:sub}`) is written out as it is.
            let valid = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':'));
            if !valid {
                out.push_str("${");
                out.push_str(name);
                out.push('}');
                continue;
            }
            if let Some(v) = local.get(name) {
                out.push_str(v);
            } else if name.starts_with("AWS::")
                || self.t.parameters.contains_key(name)
                || self.t.resource(name).is_some()
            {
                let v = self
                    .reference(name, at)?
                    .ok_or_else(|| self.err(at, format!("`${{{name}}}` is AWS::NoValue")))?;
                out.push_str(&scalar_text(&v));
            } else if let Some((id, attr)) = name.split_once('.') {
                out.push_str(&self.attribute(id, attr, at)?);
            } else {
                return Err(self.err(
                    at,
                    format!("`${{{name}}}` in `Fn::Sub` names no parameter, resource or variable (an IAM policy variable is written `${{!{name}}}`)"),
                ));
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `Ref name`.
    fn reference(&self, name: &str, at: Span) -> Result<Option<Value>, IacError> {
        let s = &self.s;
        let p = self.partition();
        let pseudo = match name {
            "AWS::AccountId" => Some(s.account.clone()),
            "AWS::Region" => Some(s.region.clone()),
            "AWS::Partition" => Some(p.to_string()),
            "AWS::StackName" => Some(s.stack_name.clone()),
            "AWS::URLSuffix" => Some(
                if p == "aws-cn" {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                }
                .to_string(),
            ),
            "AWS::StackId" => {
                self.note(
                    at,
                    None,
                    "`AWS::StackId` exists once deployed: a placeholder stands for its id".into(),
                );
                Some(format!(
                    "arn:{p}:cloudformation:{}:{}:stack/{}/00000000-0000-4000-8000-000000000000",
                    s.region, s.account, s.stack_name
                ))
            }
            "AWS::NoValue" => return Ok(None),
            "AWS::NotificationARNs" => {
                return Ok(Some(Value {
                    kind: Kind::Array(Vec::new()),
                    span: at,
                }));
            }
            _ => None,
        };
        if let Some(v) = pseudo {
            return Ok(Some(string(v, at)));
        }
        if let Some(param) = self.t.parameters.get(name) {
            return self.parameter(name, param, at).map(Some);
        }
        if let Some(r) = self.t.resource(name) {
            return Ok(Some(string(self.ref_of(r, at)?, at)));
        }
        Err(self.err(
            at,
            format!("`Ref {name}`: no parameter, pseudo parameter or resource of that name"),
        ))
    }

    fn parameter(&self, name: &str, def: &Value, at: Span) -> Result<Value, IacError> {
        let ty = member(def, "Type").and_then(as_str).unwrap_or("String");
        let given = self.s.parameters.get(name).cloned();
        let default = member(def, "Default").map(scalar_or_list_text);
        let v = given.or(default).ok_or_else(|| {
            IacError::parameter(
                &self.t.name,
                def.span,
                format!("the parameter `{name}` has no value: give it in the parameters file or with --parameter {name}=VALUE"),
            )
        })?;
        if let Some(Kind::Array(allowed)) = member(def, "AllowedValues").map(|a| &a.kind) {
            let ok = allowed.iter().any(|x| scalar_text(x) == v);
            if !ok && !ty.starts_with("List<") && ty != "CommaDelimitedList" {
                return Err(IacError::parameter(
                    &self.t.name,
                    def.span,
                    format!("the parameter `{name}` is `{v}`, not one of its AllowedValues"),
                ));
            }
        }
        if ty == "CommaDelimitedList" || ty.starts_with("List<") {
            return Ok(Value {
                kind: Kind::Array(v.split(',').map(|x| string(x.trim(), at)).collect()),
                span: at,
            });
        }
        Ok(string(v, at))
    }

    /// The physical name of a resource: its name property resolved, or the name CloudFormation would
    /// generate (`{stack}-{LogicalId}-{12 characters}`), which is a placeholder, said in the notes.
    pub fn physical_name(&self, id: &str, at: Span) -> Result<String, IacError> {
        if let Some(n) = self.names.borrow().get(id) {
            return Ok(n.clone());
        }
        let r = self
            .t
            .resource(id)
            .ok_or_else(|| self.err(at, format!("no resource `{id}`")))?;
        if self.visiting.borrow().iter().any(|x| x == id) {
            return Err(IacError::circular(
                &self.t.name,
                at,
                format!("the name of `{id}` depends on itself"),
            ));
        }
        if let Some(given) = self.s.physical_ids.get(id) {
            self.names
                .borrow_mut()
                .insert(id.to_string(), given.clone());
            return Ok(given.clone());
        }
        let prop = name_property(&r.kind);
        let explicit = prop.and_then(|p| r.property(p));
        self.visiting.borrow_mut().push(id.to_string());
        let named = explicit.map(|v| self.text(v, "a resource name"));
        self.visiting.borrow_mut().pop();
        let name = match named {
            Some(n) => n?,
            None => {
                let g = generated(&self.s.stack_name, id, &r.kind);
                self.note(
                    r.span,
                    Some(id),
                    format!("`{id}` ({}) has no {} set: CloudFormation generates its name at deployment; `{g}` stands for it", r.kind, prop.unwrap_or("name")),
                );
                g
            }
        };
        self.names.borrow_mut().insert(id.to_string(), name.clone());
        Ok(name)
    }

    /// What `Ref` of a resource returns, by type.
    fn ref_of(&self, r: &crate::Resource, at: Span) -> Result<String, IacError> {
        let (p, region, acct) = (self.partition(), &self.s.region, &self.s.account);
        let id = r.logical_id.as_str();
        Ok(match r.kind.as_str() {
            "AWS::IAM::ManagedPolicy" => {
                let path = self.path_of(r)?;
                format!(
                    "arn:{p}:iam::{acct}:policy{path}{}",
                    self.physical_name(id, at)?
                )
            }
            "AWS::SNS::Topic" => format!(
                "arn:{p}:sns:{region}:{acct}:{}",
                self.physical_name(id, at)?
            ),
            "AWS::SQS::Queue" => format!(
                "https://sqs.{region}.amazonaws.com/{acct}/{}",
                self.physical_name(id, at)?
            ),
            "AWS::SecretsManager::Secret" => {
                format!(
                    "arn:{p}:secretsmanager:{region}:{acct}:secret:{}-AbCdEf",
                    self.physical_name(id, at)?
                )
            }
            k if name_property(k).is_some() => self.physical_name(id, at)?,
            k => {
                if let Some(v) = self.s.physical_ids.get(id) {
                    return Ok(v.clone());
                }
                let v = placeholder_id(k, region, id);
                self.note(
                    r.span,
                    Some(id),
                    format!(
                        "`Ref {id}` ({k}) is an id generated at deployment: `{v}` stands for it"
                    ),
                );
                v
            }
        })
    }

    fn path_of(&self, r: &crate::Resource) -> Result<String, IacError> {
        match r.property("Path") {
            Some(v) => self.text(v, "`Path`"),
            None => Ok("/".into()),
        }
    }

    /// `Fn::GetAtt id.attr`, by type, as each type's "Return values" documents it.
    fn attribute(&self, id: &str, attr: &str, at: Span) -> Result<String, IacError> {
        let r = self
            .t
            .resource(id)
            .ok_or_else(|| self.err(at, format!("`Fn::GetAtt {id}.{attr}`: no resource `{id}`")))?;
        let (p, region, acct) = (
            self.partition(),
            self.s.region.clone(),
            self.s.account.clone(),
        );
        let name = || self.physical_name(id, at);
        let v = match (r.kind.as_str(), attr) {
            ("AWS::IAM::Role", "Arn") => {
                format!("arn:{p}:iam::{acct}:role{}{}", self.path_of(r)?, name()?)
            }
            ("AWS::IAM::User", "Arn") => {
                format!("arn:{p}:iam::{acct}:user{}{}", self.path_of(r)?, name()?)
            }
            ("AWS::IAM::Group", "Arn") => {
                format!("arn:{p}:iam::{acct}:group{}{}", self.path_of(r)?, name()?)
            }
            ("AWS::IAM::ManagedPolicy", "PolicyArn") => self.ref_of(r, at)?,
            ("AWS::S3::Bucket", "Arn") => format!("arn:{p}:s3:::{}", name()?),
            ("AWS::S3::Bucket", "DomainName") => format!("{}.s3.amazonaws.com", name()?),
            ("AWS::S3::Bucket", "RegionalDomainName") => {
                format!("{}.s3.{region}.amazonaws.com", name()?)
            }
            ("AWS::SQS::Queue", "Arn") => format!("arn:{p}:sqs:{region}:{acct}:{}", name()?),
            ("AWS::SQS::Queue", "QueueName") => name()?,
            ("AWS::SQS::Queue", "QueueUrl") => self.ref_of(r, at)?,
            ("AWS::SNS::Topic", "TopicArn") => self.ref_of(r, at)?,
            ("AWS::SNS::Topic", "TopicName") => name()?,
            ("AWS::Lambda::Function" | "AWS::Serverless::Function", "Arn") => {
                format!("arn:{p}:lambda:{region}:{acct}:function:{}", name()?)
            }
            ("AWS::DynamoDB::Table", "Arn") => {
                format!("arn:{p}:dynamodb:{region}:{acct}:table/{}", name()?)
            }
            ("AWS::SecretsManager::Secret", "Id") => self.ref_of(r, at)?,
            ("AWS::KMS::Key", "Arn") => {
                format!("arn:{p}:kms:{region}:{acct}:key/{}", self.ref_of(r, at)?)
            }
            ("AWS::KMS::Key", "KeyId") => self.ref_of(r, at)?,
            ("AWS::Cognito::UserPool", "Arn") => {
                format!(
                    "arn:{p}:cognito-idp:{region}:{acct}:userpool/{}",
                    self.ref_of(r, at)?
                )
            }
            ("AWS::Cognito::UserPool", "ProviderName") => {
                format!("cognito-idp.{region}.amazonaws.com/{}", self.ref_of(r, at)?)
            }
            ("AWS::Cognito::UserPool", "ProviderURL") => {
                format!(
                    "https://cognito-idp.{region}.amazonaws.com/{}",
                    self.ref_of(r, at)?
                )
            }
            ("AWS::Cognito::UserPool", "UserPoolId") => self.ref_of(r, at)?,
            ("AWS::Cognito::IdentityPool", "Id") => self.ref_of(r, at)?,
            ("AWS::ApiGateway::RestApi", "RestApiId") => self.ref_of(r, at)?,
            ("AWS::VerifiedPermissions::PolicyStore", "PolicyStoreId") => self.ref_of(r, at)?,
            ("AWS::VerifiedPermissions::PolicyStore", "Arn") => {
                format!(
                    "arn:{p}:verifiedpermissions::{acct}:policy-store/{}",
                    self.ref_of(r, at)?
                )
            }
            (k, a) => {
                let v = format!("{id}-{a}-placeholder").to_ascii_lowercase();
                self.note(at, Some(id), format!("`Fn::GetAtt {id}.{a}` ({k}) is not modelled by policy-check: `{v}` stands for it"));
                v
            }
        };
        Ok(v)
    }
}

/// The property that names a resource of this type, for the types whose `Ref` or ARN is built from it.
pub fn name_property(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "AWS::IAM::Role" => "RoleName",
        "AWS::IAM::User" => "UserName",
        "AWS::IAM::Group" => "GroupName",
        "AWS::IAM::ManagedPolicy" => "ManagedPolicyName",
        "AWS::IAM::Policy" => "PolicyName",
        "AWS::IAM::InstanceProfile" => "InstanceProfileName",
        "AWS::S3::Bucket" => "BucketName",
        "AWS::SQS::Queue" => "QueueName",
        "AWS::SNS::Topic" => "TopicName",
        "AWS::Lambda::Function" | "AWS::Serverless::Function" => "FunctionName",
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::SecretsManager::Secret" => "Name",
        "AWS::Cognito::UserPoolGroup" => "GroupName",
        _ => return None,
    })
}

/// CloudFormation's generated name, made deterministic: `{stack}-{LogicalId}-{12 characters}` (lower
/// case for S3 buckets).
pub(crate) fn generated(stack: &str, id: &str, kind: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in stack.bytes().chain(id.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let tail: String = (0..12)
        .map(|i| {
            let n = usize::try_from((h >> ((i % 8) * 8)) % 36).unwrap_or(0);
            char::from(alphabet.get(n).copied().unwrap_or(b'A'))
        })
        .collect();
    let name = format!("{stack}-{id}-{tail}");
    if kind == "AWS::S3::Bucket" {
        name.to_ascii_lowercase()
    } else {
        name
    }
}

fn placeholder_id(kind: &str, region: &str, id: &str) -> String {
    match kind {
        "AWS::Cognito::UserPool" => format!(
            "{region}_{}",
            id.chars()
                .filter(char::is_ascii_alphanumeric)
                .take(9)
                .collect::<String>()
        ),
        "AWS::Cognito::IdentityPool" => format!("{region}:00000000-0000-4000-8000-000000000000"),
        "AWS::KMS::Key" => "00000000-0000-4000-8000-000000000000".into(),
        _ => format!("{}-placeholder", id.to_ascii_lowercase()),
    }
}

/// The intrinsic function `v` calls, if it is one: an object with one member named `Ref`, `Condition` or
/// `Fn::…`.
pub fn function(v: &Value) -> Option<(&str, &Value)> {
    match &v.kind {
        Kind::Object(ms) if ms.len() == 1 => {
            let m = ms.first()?;
            (m.key == "Ref" || m.key == "Condition" || m.key.starts_with("Fn::"))
                .then_some((m.key.as_str(), &m.value))
        }
        _ => None,
    }
}

/// A member of an object.
pub fn member<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match &v.kind {
        Kind::Object(ms) => ms.iter().find(|m| m.key == key).map(|m| &m.value),
        _ => None,
    }
}

fn as_str(v: &Value) -> Option<&str> {
    match &v.kind {
        Kind::String(s) => Some(s),
        _ => None,
    }
}

/// A scalar as text (`true`, `3`, the string).
pub fn scalar_text(v: &Value) -> String {
    match &v.kind {
        Kind::String(s) | Kind::Number(s) => s.clone(),
        Kind::Bool(b) => b.to_string(),
        Kind::Null => String::new(),
        Kind::Array(a) => a.iter().map(scalar_text).collect::<Vec<_>>().join(","),
        Kind::Object(_) => String::new(),
    }
}

fn scalar_or_list_text(v: &Value) -> String {
    scalar_text(v)
}
