//! References in a Terraform plan: a value the plan does not know yet (it is computed at apply: an id,
//! an ARN) is found through the plan's `configuration` section, where each attribute's expression lists
//! the resource attributes it refers to (`aws_iam_role.auth.arn`). The referenced value is the planned
//! one when known, else the value AWS documents for that attribute (a role's ARN from its name and
//! path), else a deterministic placeholder, said in the notes.

use std::cell::RefCell;
use std::collections::BTreeMap;

use diag::json::{Kind, Value};

use crate::{Note, Resource, Settings, Template, member, scalar_text};

/// One step into an attribute: a key, or an index into a block list.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step<'a> {
    /// A key.
    Key(&'a str),
    /// An index into a list of blocks.
    At(usize),
}

/// Each resource's configuration `expressions`, by full address (`module.auth.aws_iam_role.x`).
pub(crate) fn expressions(root: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut stack: Vec<(String, &Value)> = member(root, "configuration")
        .and_then(|c| member(c, "root_module"))
        .map(|m| (String::new(), m))
        .into_iter()
        .collect();
    // Bounded by the document: each module is visited once.
    while let Some((prefix, m)) = stack.pop() {
        if let Some(Kind::Array(rs)) = member(m, "resources").map(|r| &r.kind) {
            for r in rs {
                if let (Some(a), Some(e)) = (member(r, "address"), member(r, "expressions")) {
                    out.insert(format!("{prefix}{}", scalar_text(a)), e.clone());
                }
            }
        }
        if let Some(Kind::Object(calls)) = member(m, "module_calls").map(|c| &c.kind) {
            for c in calls {
                if let Some(inner) = member(&c.value, "module") {
                    stack.push((format!("{prefix}module.{}.", c.key), inner));
                }
            }
        }
    }
    out
}

/// Resolves values of a plan's resources, following references.
pub(crate) struct Refs<'t> {
    t: &'t Template,
    s: &'t Settings,
    partition: &'static str,
    notes: RefCell<Vec<Note>>,
}

impl<'t> Refs<'t> {
    pub(crate) fn new(t: &'t Template, s: &'t Settings) -> Self {
        Self {
            t,
            s,
            partition: crate::partition(&s.region),
            notes: RefCell::new(Vec::new()),
        }
    }

    /// The placeholders used.
    pub(crate) fn notes(self) -> Vec<Note> {
        self.notes.into_inner()
    }

    fn note(&self, r: &Resource, text: String) {
        let mut n = self.notes.borrow_mut();
        if !n.iter().any(|x| x.text == text) {
            n.push(Note {
                span: r.span,
                logical_id: Some(r.logical_id.clone()),
                text,
            });
        }
    }

    /// The planned value at `path` of `r` (`None` when unknown or null).
    fn planned<'v>(r: &'v Resource, path: &[Step<'_>]) -> Option<&'v Value> {
        let mut v = r.properties.as_ref()?;
        for s in path {
            v = match (s, &v.kind) {
                (Step::Key(k), Kind::Object(_)) => member(v, k)?,
                (Step::At(i), Kind::Array(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        (!matches!(v.kind, Kind::Null)).then_some(v)
    }

    /// The references of the expression at `path` of `r`.
    fn references(&self, r: &Resource, path: &[Step<'_>]) -> Vec<String> {
        let Some(mut e) = self.t.expressions.get(&r.logical_id) else {
            return Vec::new();
        };
        for s in path {
            e = match (s, &e.kind) {
                (Step::Key(k), Kind::Object(_)) => match member(e, k) {
                    Some(x) => x,
                    None => return Vec::new(),
                },
                (Step::At(i), Kind::Array(items)) => match items.get(*i) {
                    Some(x) => x,
                    None => return Vec::new(),
                },
                _ => return Vec::new(),
            };
        }
        match member(e, "references").map(|x| &x.kind) {
            Some(Kind::Array(items)) => items.iter().map(scalar_text).collect(),
            _ => Vec::new(),
        }
    }

    /// The value at `path` of `r` as text: planned, else through the first resource attribute its
    /// expression refers to.
    pub(crate) fn text(&self, r: &Resource, path: &[Step<'_>]) -> Option<String> {
        if let Some(v) = Self::planned(r, path)
            && !matches!(v.kind, Kind::Object(_) | Kind::Array(_))
        {
            return Some(scalar_text(v));
        }
        self.references(r, path)
            .iter()
            .find_map(|x| self.referenced(r, x))
    }

    /// The values of the attributes the expression at `path` refers to (a map written with references,
    /// such as `roles = {authenticated = aws_iam_role.a.arn}`: the plan keeps the references, not which
    /// key holds which).
    pub(crate) fn referenced_all(&self, r: &Resource, path: &[Step<'_>]) -> Vec<(String, String)> {
        self.references(r, path)
            .iter()
            .filter_map(|x| Some((x.clone(), self.referenced(r, x)?)))
            .collect()
    }

    /// `type.name.attr` (or `type.name[i].attr`) seen from `from`'s module: the attribute's value.
    fn referenced(&self, from: &Resource, reference: &str) -> Option<String> {
        let parts: Vec<&str> = reference.split('.').collect();
        let [ty, name, attr] = parts.as_slice() else {
            return None;
        };
        if [
            "var",
            "local",
            "data",
            "module",
            "each",
            "count",
            "path",
            "terraform",
        ]
        .contains(ty)
        {
            return None;
        }
        let prefix = module_prefix(&from.logical_id);
        let address = format!("{prefix}{ty}.{name}");
        let target = self.t.resource(&address)?;
        self.attribute(target, attr)
    }

    /// An attribute of a planned resource: planned, else as AWS documents it, else a placeholder.
    pub(crate) fn attribute(&self, r: &Resource, attr: &str) -> Option<String> {
        if let Some(v) = Self::planned(r, &[Step::Key(attr)]) {
            return Some(scalar_text(v));
        }
        let (p, region, acct) = (self.partition, &self.s.region, &self.s.account);
        let planned = |k: &str| Self::planned(r, &[Step::Key(k)]).map(scalar_text);
        let given = self.s.physical_ids.get(&r.logical_id).cloned();
        let id = |placeholder: String| -> String {
            given.clone().unwrap_or_else(|| {
                self.note(
                    r,
                    format!(
                        "`{}` gets its id at apply: `{placeholder}` stands for it (give it with --physical-id {}=ID)",
                        r.logical_id, r.logical_id
                    ),
                );
                placeholder
            })
        };
        Some(match (r.kind.as_str(), attr) {
            ("aws_iam_role", "arn") => format!(
                "arn:{p}:iam::{acct}:role{}{}",
                planned("path").unwrap_or_else(|| "/".into()),
                planned("name")?
            ),
            ("aws_iam_role", "name" | "id") => planned("name")?,
            ("aws_iam_policy", "arn") => format!(
                "arn:{p}:iam::{acct}:policy{}{}",
                planned("path").unwrap_or_else(|| "/".into()),
                planned("name")?
            ),
            ("aws_cognito_identity_pool", "id") => {
                id(format!("{region}:00000000-0000-4000-8000-000000000000"))
            }
            ("aws_cognito_user_pool", "id") => id(format!("{region}_Placeholder")),
            ("aws_cognito_user_pool", "endpoint") => format!(
                "cognito-idp.{region}.amazonaws.com/{}",
                self.attribute(r, "id")?
            ),
            ("aws_cognito_user_pool", "arn") => format!(
                "arn:{p}:cognito-idp:{region}:{acct}:userpool/{}",
                self.attribute(r, "id")?
            ),
            (_, "id" | "policy_store_id" | "root_resource_id") => {
                id(format!("{}-{attr}", r.logical_id))
            }
            _ => return None,
        })
    }
}

/// `module.a.module.b.` of an address `module.a.module.b.type.name` ("" at the root).
fn module_prefix(address: &str) -> String {
    let parts: Vec<&str> = address.split('.').collect();
    let keep = parts.len().saturating_sub(2);
    let mut out = String::new();
    for p in parts.iter().take(keep) {
        out.push_str(p);
        out.push('.');
    }
    out
}
