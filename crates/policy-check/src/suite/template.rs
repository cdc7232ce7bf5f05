//! Suites over a CloudFormation/SAM template or a Terraform plan: the suite-level `"template"` (a path, or
//! `{"file", "parameters", "physical_ids", "import_values"}`), which every template-reading part of the
//! suite inherits (`identity_pool`, `cedar_store` and `apigw` objects may then omit their own
//! `template`), and IAM cases naming the template's resources by logical id: `"identity_of"` (a role's,
//! user's or group's identity policies and permissions boundary) and `"resource_of"` (a role's trust
//! policy, or a resource-based policy by the logical id of the resource that holds it).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use iam_policy::PolicyType;
use serde_json::{Map, Value};

use crate::Failure;
use crate::commands::template::{TemplateInput, load, load_policy, role_policies};
use crate::policies::{PolicyFiles, TypeChoice};

/// Fields of the suite-level `template` object.
const FIELDS: &[&str] = &["file", "parameters", "physical_ids", "import_values"];

/// `NAME=VALUE` pairs of an object of strings at `o[k]`.
fn pairs(o: Option<&Map<String, Value>>, k: &str, at: &str) -> Result<Vec<String>, Failure> {
    match o.and_then(|o| o.get(k)) {
        None => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(n, v)| {
                v.as_str()
                    .map(|s| format!("{n}={s}"))
                    .ok_or_else(|| Failure::from(format!("`{at}.{k}.{n}` is a string")))
            })
            .collect(),
        Some(_) => Err(Failure::from(format!("`{at}.{k}` is an object of strings"))),
    }
}

/// The template a part of a suite reads, and what it is resolved with: `own` (an `identity_pool`,
/// `cedar_store` or `apigw` object, named `at` in messages) may give `template`, `parameters` and
/// `physical_ids`; what it does not give comes from the suite-level `template` (its own values win).
/// `None` when neither names a template.
pub(crate) fn spec(
    own: Option<&Map<String, Value>>,
    suite: &Map<String, Value>,
    base: &Path,
    at: &str,
) -> Result<Option<(PathBuf, TemplateInput)>, Failure> {
    let (suite_file, suite_obj) = match suite.get("template") {
        None => (None, None),
        Some(Value::String(f)) => (Some(f.as_str()), None),
        Some(Value::Object(o)) => {
            if let Some(k) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
                return Err(Failure::from(format!(
                    "unknown `template` field `{k}` (fields: {})",
                    FIELDS.join(", ")
                )));
            }
            let f = o
                .get("file")
                .and_then(Value::as_str)
                .ok_or("`template.file` is required (the template's path, a string)")?;
            (Some(f), Some(o))
        }
        Some(_) => {
            return Err(
                "`template` is a path or {\"file\", \"parameters\", \"physical_ids\", \"import_values\"}"
                    .into(),
            );
        }
    };
    let own_file = match own.and_then(|o| o.get("template")) {
        None => None,
        Some(Value::String(f)) => Some(f.as_str()),
        Some(_) => {
            return Err(Failure::from(format!(
                "`{at}.template` is a path (a string)"
            )));
        }
    };
    let Some(file) = own_file.or(suite_file) else {
        return Ok(None);
    };
    // The suite's values first, the part's own after them: `TemplateInput` lets the last one win.
    let mut parameter = pairs(suite_obj, "parameters", "template")?;
    parameter.extend(pairs(own, "parameters", at)?);
    let mut physical = pairs(suite_obj, "physical_ids", "template")?;
    physical.extend(pairs(own, "physical_ids", at)?);
    let mut input = TemplateInput::with(parameter, physical);
    input.import_value = pairs(suite_obj, "import_values", "template")?;
    Ok(Some((base.join(file), input)))
}

type Loaded = Rc<(iac::Template, iac::Found)>;

thread_local! {
    /// Templates read and resolved on this thread, by path and settings: a suite's cases share one.
    static LOADED: RefCell<HashMap<String, Loaded>> = RefCell::new(HashMap::new());
}

/// Reads and resolves a template once per thread and settings.
fn loaded(path: &Path, input: &TemplateInput) -> Result<Loaded, Failure> {
    let key = format!("{}\u{0}{input:?}", path.display());
    if let Some(l) = LOADED.with(|m| m.borrow().get(&key).cloned()) {
        return Ok(l);
    }
    let l = Rc::new(load(path, input)?);
    LOADED.with(|m| {
        let mut m = m.borrow_mut();
        // Bounded: a long run over many suites keeps the last templates only.
        if m.len() >= 64 {
            m.clear();
        }
        m.insert(key, l.clone());
    });
    Ok(l)
}

/// `identity_of` and `resource_of` (the case's own, else the suite's) into `f`.
pub(crate) fn iam_policies(
    suite: &Map<String, Value>,
    case: &Map<String, Value>,
    base: &Path,
    f: &mut PolicyFiles,
) -> Result<(), Failure> {
    let get = |k: &str| case.get(k).or_else(|| suite.get(k));
    let (identity_of, resource_of) = (get("identity_of"), get("resource_of"));
    if identity_of.is_none() && resource_of.is_none() {
        return Ok(());
    }
    let (path, input) = spec(None, suite, base, "template")?.ok_or_else(|| {
        Failure::from(
            "`identity_of` and `resource_of` name resources of the suite-level `template`, which is missing"
                .to_string(),
        )
    })?;
    let l = loaded(&path, &input)?;
    let (t, found) = (&l.0, &l.1);
    let id_text = |v: &Value, k: &str| {
        v.as_str().map(str::to_string).ok_or_else(|| {
            Failure::from(format!("`{k}` is a logical id of the template (a string)"))
        })
    };
    if let Some(v) = identity_of {
        let id = id_text(v, "identity_of")?;
        if let Some(role) = found.roles.iter().find(|r| r.logical_id == id) {
            let rp = role_policies(found, role);
            if let Some(arn) = &rp.foreign_boundary
                && !case.contains_key("boundaries")
                && !suite.contains_key("boundaries")
            {
                return Err(Failure::from(format!(
                    "{}: the permissions boundary of `{id}`, {arn}, is not a managed policy of the template: give it with `boundaries`",
                    t.name
                )));
            }
            if let Some(arn) = rp.foreign_managed.first() {
                return Err(Failure::from(format!(
                    "{}: `{id}` has {arn} attached (ManagedPolicyArns), which is neither a managed policy of the template nor an AWS managed policy policy-check bundles: what it allows would show as denied",
                    t.name
                )));
            }
            f.identity.extend(rp.identity_documents(t)?);
            if let Some(b) = rp.boundary {
                f.boundary.push(load_policy(t, b, PolicyType::Boundary)?);
            }
        } else {
            // A user or group: its inline policies.
            let own: Vec<&iac::Policy> = found
                .policies
                .iter()
                .filter(|p| p.logical_id == id && p.policy_type == PolicyType::Identity)
                .collect();
            let is_principal = t.resource(&id).is_some_and(|r| {
                matches!(
                    r.kind.as_str(),
                    "AWS::IAM::User" | "AWS::IAM::Group" | "aws_iam_user" | "aws_iam_group"
                )
            });
            if own.is_empty() && !is_principal {
                return Err(Failure::from(format!(
                    "{}: `identity_of`: no role, user or group `{id}` (roles: {})",
                    t.name,
                    found
                        .roles
                        .iter()
                        .map(|r| r.logical_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            for p in own {
                f.identity.push(load_policy(t, p, PolicyType::Identity)?);
            }
        }
    }
    if let Some(v) = resource_of {
        let id = id_text(v, "resource_of")?;
        let side: Vec<&iac::Policy> = found
            .policies
            .iter()
            .filter(|p| {
                p.logical_id == id
                    && matches!(p.policy_type, PolicyType::Trust | PolicyType::Resource)
            })
            .collect();
        let p = match side.as_slice() {
            [p] => *p,
            [] => {
                let holders: Vec<&str> = found
                    .policies
                    .iter()
                    .filter(|p| matches!(p.policy_type, PolicyType::Trust | PolicyType::Resource))
                    .map(|p| p.logical_id.as_str())
                    .collect();
                return Err(Failure::from(format!(
                    "{}: `resource_of`: `{id}` holds no trust or resource-based policy (those that do: {})",
                    t.name,
                    if holders.is_empty() {
                        "none".to_string()
                    } else {
                        holders.join(", ")
                    }
                )));
            }
            _ => {
                return Err(Failure::from(format!(
                    "{}: `resource_of`: `{id}` holds {} resource-side policies; a request has one",
                    t.name,
                    side.len()
                )));
            }
        };
        f.resource = Some(load_policy(t, p, p.policy_type)?);
        f.resource_type = Some(TypeChoice {
            ty: p.policy_type,
            declared: Some(if p.policy_type == PolicyType::Trust {
                "`resource_of` (the role's AssumeRolePolicyDocument)"
            } else {
                "`resource_of` (the template's resource policy)"
            }),
        });
    }
    Ok(())
}
