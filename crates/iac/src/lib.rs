//! Infrastructure as code as input: CloudFormation templates (and SAM's, and `cdk synth` output) in JSON
//! or YAML, with CloudFormation's short-form tags (`!Ref`, `!Sub`, `!GetAtt`, …), resolved as
//! CloudFormation resolves them, and the policies they carry, each with the template position it came
//! from.
//!
//! - [`Template::read`]: JSON or YAML (by content) into a spanned tree; `Parameters`, `Mappings`,
//!   `Conditions`, `Resources` (with each resource's `Condition`).
//! - [`Resolver`]: `Ref`, `Fn::GetAtt`, `Fn::Sub` (with `${!Literal}` escapes; a `${…}` that is not a
//!   CloudFormation variable name, such as `${cognito-identity.amazonaws.com:sub}`, is left as written),
//!   `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::If`, `Fn::FindInMap`, `Fn::ImportValue`, `Fn::Base64`,
//!   `Fn::GetAZs`, the condition functions and the pseudo-parameters, from [`Settings`] (account, Region,
//!   stack name, parameter values). `Ref`/`Fn::GetAtt` of resources give the names and ARNs each
//!   resource type documents; a value that exists only once deployed (a generated name, an id) is a
//!   deterministic placeholder, listed in [`Resolver::notes`].
//! - [`Template::policies`]: the IAM and resource policies of the resources — roles (trust policy,
//!   inline policies), `AWS::IAM::Policy`, managed policies, users' and groups' inline policies, bucket,
//!   queue, topic, key and secret policies, SCPs and RCPs — each resolved, with its resource and
//!   position; every other resource is listed as skipped with the reason.
//! - SAM: `Globals` inherited; functions get the role SAM generates; `AWS::Serverless::Api`/`HttpApi`
//!   (and the implicit APIs of function events) become API definitions with their Lambda authorizer.
//! - Identity pools with their role attachment, user-pool groups with their roles, Verified Permissions
//!   stores (Cognito or OpenID Connect identity source) and API Gateway APIs, in [`Found`].
//! - Terraform: the JSON of `terraform show -json PLAN` is read too (its planned values, every module):
//!   roles (`assume_role_policy`, `inline_policy`), `aws_iam_policy`, `aws_iam_role_policy`, users' and
//!   groups' policies, bucket, queue, topic, key, secret and access point policies, Organizations
//!   policies, identity pools, user groups, policy stores and APIs; a value known only after apply is
//!   found through the plan's `configuration` references (or is a placeholder, said), and a policy known
//!   only after apply is listed as such.
//! - [`render`]: a resolved document as JSON text, with a map from its bytes back to the template.
//!
//! ```
//! use iac::{Settings, Template};
//!
//! let yaml = "Resources:\n  Reader:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Principal: {Federated: cognito-identity.amazonaws.com}\n            Action: sts:AssumeRoleWithWebIdentity\n      Policies:\n        - PolicyName: read\n          PolicyDocument:\n            Version: '2012-10-17'\n            Statement:\n              - Effect: Allow\n                Action: s3:GetObject\n                Resource: !Sub 'arn:${AWS::Partition}:s3:::notes/${!cognito-identity.amazonaws.com:sub}/*'\n";
//! let t = Template::read("stack.yaml", yaml)?;
//! let found = t.policies(&Settings::default())?;
//! assert_eq!(found.policies.len(), 2);
//! let text = iac::render(&found.policies[1].document).0;
//! assert!(text.contains("arn:aws:s3:::notes/${cognito-identity.amazonaws.com:sub}/*"));
//! # Ok::<(), iac::IacError>(())
//! ```
#![deny(missing_docs)]

mod apigw;
mod avp;
mod extract;
mod resolve;
mod terraform;
mod terraform_refs;
mod yaml;

use std::collections::BTreeMap;

use diag::Span;
use diag::codes;
use diag::json::{Kind, Value};

pub use apigw::Api;
pub use avp::{IdentitySource, PolicyStore, TemplateLink};
pub use extract::{Found, IdentityPool, Policy, Role, RoleMapping, Skipped, UserPoolGroup};
pub use resolve::{Resolver, Settings, function, member, name_property, partition, scalar_text};
pub use yaml::SHORT_FORMS;

/// A template that cannot be read or resolved, with its position and the resource it concerns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct IacError {
    /// The code (`iac::…`).
    pub code: &'static str,
    /// The template's name.
    pub file: String,
    /// Where.
    pub span: Span,
    /// The resource's logical id, when it is about one.
    pub logical_id: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl IacError {
    fn new(code: &'static str, file: &str, span: Span, m: impl Into<String>) -> Self {
        Self {
            code,
            file: file.to_string(),
            span,
            logical_id: None,
            message: m.into(),
        }
    }
    pub(crate) fn parse(file: &str, span: Span, m: impl Into<String>) -> Self {
        Self::new(codes::IAC_PARSE, file, span, m)
    }
    pub(crate) fn template(file: &str, span: Span, m: impl Into<String>) -> Self {
        Self::new(codes::IAC_TEMPLATE, file, span, m)
    }
    pub(crate) fn unresolved(file: &str, span: Span, m: impl Into<String>) -> Self {
        Self::new(codes::IAC_UNRESOLVED, file, span, m)
    }
    pub(crate) fn circular(file: &str, span: Span, m: impl Into<String>) -> Self {
        Self::new(codes::IAC_CIRCULAR, file, span, m)
    }
    pub(crate) fn unsupported(file: &str, span: Span, m: impl Into<String>) -> Self {
        Self::new(codes::IAC_UNSUPPORTED, file, span, m)
    }
    pub(crate) fn parameter(file: &str, span: Span, m: impl Into<String>) -> Self {
        Self::new(codes::IAC_PARAMETER, file, span, m)
    }
    /// The same error, about `logical_id`.
    #[must_use]
    pub fn about(mut self, logical_id: &str) -> Self {
        if self.logical_id.is_none() {
            self.logical_id = Some(logical_id.to_string());
        }
        self
    }
}

impl diag::Coded for IacError {
    fn code(&self) -> &'static str {
        self.code
    }
}

impl miette::Diagnostic for IacError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
}

/// A placeholder the resolution used, or another thing a reader should know, with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Where.
    pub span: Span,
    /// The resource it concerns.
    pub logical_id: Option<String>,
    /// What.
    pub text: String,
}

/// One resource of the template.
#[derive(Clone, Debug)]
pub struct Resource {
    /// Its logical id.
    pub logical_id: String,
    /// `Type`.
    pub kind: String,
    /// The resource's whole definition.
    pub span: Span,
    /// `Properties`, unresolved.
    pub properties: Option<Value>,
    /// `Condition`, when it has one.
    pub condition: Option<String>,
}

impl Resource {
    /// An unresolved property.
    pub fn property(&self, name: &str) -> Option<&Value> {
        self.properties.as_ref().and_then(|p| member(p, name))
    }
}

/// What kind of file a template is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceFormat {
    /// A CloudFormation (or SAM, or `cdk synth`) template.
    CloudFormation,
    /// The JSON of `terraform show -json PLAN`.
    TerraformPlan,
}

/// A template, read.
#[derive(Clone, Debug)]
pub struct Template {
    /// CloudFormation or a Terraform plan.
    pub format: SourceFormat,
    /// Its name (the file).
    pub name: String,
    /// Its text, for positions.
    pub source: diag::Source,
    /// `Parameters` by name.
    pub parameters: BTreeMap<String, Value>,
    /// `Mappings` by name.
    pub mappings: BTreeMap<String, Value>,
    /// `Conditions` by name.
    pub conditions: BTreeMap<String, Value>,
    /// `Resources`, in the template's order.
    pub resources: Vec<Resource>,
    /// `Transform`, when there is one (`AWS::Serverless-2016-10-31`).
    pub transform: Vec<String>,
    /// SAM's `Globals` by section (already merged into the resources of each section's type; kept for
    /// the implicit APIs SAM creates).
    pub globals: BTreeMap<String, Value>,
    /// A Terraform plan's `configuration` expressions by resource address (what each attribute refers
    /// to).
    pub expressions: BTreeMap<String, Value>,
}

impl Template {
    /// Reads a template: JSON when its first non-blank character is `{`, YAML otherwise. Errors
    /// (`iac::parse`, `iac::template`): syntax, no `Resources`, a resource without `Type`.
    pub fn read(name: &str, text: &str) -> Result<Template, IacError> {
        let root = if text.trim_start().starts_with('{') {
            let mut diags = Vec::new();
            let v = diag::json::read(text, &mut diags);
            if let Some(d) = diags.iter().find(|d| d.is_error()) {
                return Err(IacError::parse(
                    name,
                    d.span,
                    format!("JSON: {}", d.message),
                ));
            }
            v.ok_or_else(|| IacError::parse(name, Span::new(0, 0), "JSON: unreadable"))?
        } else {
            yaml::read(name, text)?
        };
        if terraform::is_plan(&root) {
            return Ok(Template {
                format: SourceFormat::TerraformPlan,
                name: name.to_string(),
                source: diag::Source::new(name, text),
                parameters: BTreeMap::new(),
                mappings: BTreeMap::new(),
                conditions: BTreeMap::new(),
                resources: terraform::resources(name, &root)?,
                transform: Vec::new(),
                globals: BTreeMap::new(),
                expressions: terraform_refs::expressions(&root),
            });
        }
        let Kind::Object(sections) = &root.kind else {
            return Err(IacError::template(
                name,
                root.span,
                "a template is an object of sections",
            ));
        };
        let section = |k: &str| -> Result<BTreeMap<String, Value>, IacError> {
            match sections.iter().find(|m| m.key == k) {
                None => Ok(BTreeMap::new()),
                Some(m) => match &m.value.kind {
                    Kind::Object(ms) => Ok(ms
                        .iter()
                        .map(|x| (x.key.clone(), x.value.clone()))
                        .collect()),
                    Kind::Null => Ok(BTreeMap::new()),
                    other => Err(IacError::template(
                        name,
                        m.value.span,
                        format!("`{k}` is an object, found {}", other.name()),
                    )),
                },
            }
        };
        let res = sections
            .iter()
            .find(|m| m.key == "Resources")
            .ok_or_else(|| {
                IacError::template(name, root.span, "the template has no `Resources` section")
            })?;
        let Kind::Object(rs) = &res.value.kind else {
            return Err(IacError::template(
                name,
                res.value.span,
                "`Resources` is an object of resources",
            ));
        };
        let mut resources = Vec::with_capacity(rs.len());
        for m in rs {
            let kind = match member(&m.value, "Type").map(|t| &t.kind) {
                Some(Kind::String(t)) => t.clone(),
                _ => {
                    return Err(IacError::template(
                        name,
                        m.value.span,
                        format!("the resource `{}` has no `Type`", m.key),
                    )
                    .about(&m.key));
                }
            };
            let condition = match member(&m.value, "Condition").map(|c| &c.kind) {
                Some(Kind::String(c)) => Some(c.clone()),
                None => None,
                Some(_) => {
                    return Err(IacError::template(
                        name,
                        m.value.span,
                        "a resource's `Condition` names a condition",
                    )
                    .about(&m.key));
                }
            };
            resources.push(Resource {
                logical_id: m.key.clone(),
                kind,
                span: Span::new(m.key_span.start, m.value.span.end.max(m.key_span.end)),
                properties: member(&m.value, "Properties").cloned(),
                condition,
            });
        }
        let transform = match sections
            .iter()
            .find(|m| m.key == "Transform")
            .map(|m| &m.value.kind)
        {
            Some(Kind::String(t)) => vec![t.clone()],
            Some(Kind::Array(a)) => a.iter().map(scalar_text).collect(),
            _ => Vec::new(),
        };
        // SAM's `Globals`: each section's properties inherited by the resources of its type.
        let globals = section("Globals")?;
        if !globals.is_empty() {
            for (k, g) in &globals {
                let Some(kind) = sam_globals_type(k) else {
                    return Err(IacError::template(
                        name,
                        g.span,
                        format!(
                            "`Globals.{k}`: SAM's global sections are Function, Api, HttpApi, SimpleTable, StateMachine, LayerVersion and CapacityProvider"
                        ),
                    ));
                };
                if !matches!(g.kind, Kind::Object(_)) {
                    return Err(IacError::template(
                        name,
                        g.span,
                        format!("`Globals.{k}` is an object of properties"),
                    ));
                }
                for r in resources.iter_mut().filter(|r| r.kind == kind) {
                    r.properties = Some(match r.properties.take() {
                        None => g.clone(),
                        Some(own) => inherit(g, own),
                    });
                }
            }
        }
        Ok(Template {
            format: SourceFormat::CloudFormation,
            name: name.to_string(),
            source: diag::Source::new(name, text),
            parameters: section("Parameters")?,
            mappings: section("Mappings")?,
            conditions: section("Conditions")?,
            resources,
            transform,
            globals,
            expressions: BTreeMap::new(),
        })
    }

    /// The resource with this logical id.
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.logical_id == id)
    }

    /// The (line, column) of a byte offset, from 1.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.source.line_col(offset)
    }

    /// The policies the template's resources carry, resolved with `settings`; see [`Found`]. For a
    /// Terraform plan the values are Terraform's (only the account and Region of `settings` are used,
    /// for role ARNs).
    pub fn policies(&self, settings: &Settings) -> Result<Found, IacError> {
        match self.format {
            SourceFormat::CloudFormation => extract::policies(self, settings),
            SourceFormat::TerraformPlan => terraform::policies(self, settings),
        }
    }
}

/// The resource type a section of SAM's `Globals` applies to.
fn sam_globals_type(section: &str) -> Option<&'static str> {
    Some(match section {
        "Function" => "AWS::Serverless::Function",
        "Api" => "AWS::Serverless::Api",
        "HttpApi" => "AWS::Serverless::HttpApi",
        "SimpleTable" => "AWS::Serverless::SimpleTable",
        "StateMachine" => "AWS::Serverless::StateMachine",
        "LayerVersion" => "AWS::Serverless::LayerVersion",
        "CapacityProvider" => "AWS::Serverless::CapacityProvider",
        _ => return None,
    })
}

/// A resource's properties with a `Globals` section's inherited, as SAM documents it ("Overridable
/// properties"): a primitive (or an intrinsic function) of the resource replaces the global one, maps
/// are merged key by key (the resource's value wins, recursively), and lists are added together, the
/// global entries first.
fn inherit(global: &Value, own: Value) -> Value {
    match (&global.kind, own.kind) {
        (Kind::Object(g), Kind::Object(mut o))
            if resolve::function(global).is_none() && !is_function_members(&o) =>
        {
            let mut out = Vec::with_capacity(g.len() + o.len());
            for gm in g {
                match o.iter().position(|m| m.key == gm.key) {
                    Some(i) => {
                        let mine = o.remove(i);
                        out.push(diag::json::Member {
                            value: inherit(&gm.value, mine.value),
                            ..mine
                        });
                    }
                    None => out.push(gm.clone()),
                }
            }
            out.extend(o);
            Value {
                kind: Kind::Object(out),
                span: own.span,
            }
        }
        (Kind::Array(g), Kind::Array(o)) => {
            let mut items = g.clone();
            items.extend(o);
            Value {
                kind: Kind::Array(items),
                span: own.span,
            }
        }
        (_, kind) => Value {
            kind,
            span: own.span,
        },
    }
}

/// Whether object members are one intrinsic function call (`{"Fn::…": …}`, `{"Ref": …}`).
fn is_function_members(ms: &[diag::json::Member]) -> bool {
    ms.len() == 1
        && ms
            .first()
            .is_some_and(|m| m.key == "Ref" || m.key == "Condition" || m.key.starts_with("Fn::"))
}

/// A resolved value as pretty JSON, and for each value written, the bytes it took and the template
/// position it came from (innermost last), so that a position in the text can be found in the template.
pub fn render(v: &Value) -> (String, Vec<(std::ops::Range<usize>, Span)>) {
    fn go(
        v: &Value,
        depth: usize,
        out: &mut String,
        map: &mut Vec<(std::ops::Range<usize>, Span)>,
    ) {
        let start = out.len();
        let pad = |n: usize, out: &mut String| out.extend(std::iter::repeat_n("  ", n));
        match &v.kind {
            Kind::Null => out.push_str("null"),
            Kind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Kind::Number(n) => out.push_str(n),
            Kind::String(s) => out.push_str(&serde_json::Value::String(s.clone()).to_string()),
            Kind::Array(items) => {
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    pad(depth + 1, out);
                    go(x, depth + 1, out, map);
                }
                if !items.is_empty() {
                    out.push('\n');
                    pad(depth, out);
                }
                out.push(']');
            }
            Kind::Object(ms) => {
                out.push('{');
                for (i, m) in ms.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    pad(depth + 1, out);
                    let k = out.len();
                    out.push_str(&serde_json::Value::String(m.key.clone()).to_string());
                    map.push((k..out.len(), m.key_span));
                    out.push_str(": ");
                    go(&m.value, depth + 1, out, map);
                }
                if !ms.is_empty() {
                    out.push('\n');
                    pad(depth, out);
                }
                out.push('}');
            }
        }
        map.push((start..out.len(), v.span));
    }
    let mut out = String::new();
    let mut map = Vec::new();
    go(v, 0, &mut out, &mut map);
    (out, map)
}

/// The template position of a byte of [`render`]'s text: the innermost value written there.
pub fn locate(map: &[(std::ops::Range<usize>, Span)], offset: usize) -> Option<Span> {
    diag::locate(map, offset)
}

/// A template policy's resolved text, named `name`, with the template as its origin: positions in it
/// ([`diag::Source::located`]) are the template's lines and columns.
pub fn policy_source(t: &Template, p: &Policy, name: &str) -> diag::Source {
    let (text, map) = render(&p.document);
    diag::Source::new(name, text).with_origin(diag::Origin {
        source: t.source.clone(),
        map,
    })
}
