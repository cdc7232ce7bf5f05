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

use crate::Failure;
use crate::commands::template::{TemplateInput, load, load_policy, role_policies};
use crate::policies::{PolicyFiles, TypeChoice};
use crate::suite::{IamCase, Pairs, PathOr, PoolPart, StorePart, SuiteDef};

/// What a part of a suite (`identity_pool`, `cedar_store` or `apigw`) says of its template.
#[derive(Clone, Copy, Default)]
pub(crate) struct Own<'a> {
    /// Its own template, else the suite's.
    pub template: Option<&'a str>,
    /// Its parameters, after the suite's.
    pub parameters: Option<&'a Pairs>,
    /// Its physical ids, after the suite's.
    pub physical_ids: Option<&'a Pairs>,
}

impl<'a> Own<'a> {
    /// What a template's identity pool gives.
    pub(crate) fn pool(p: &'a PoolPart) -> Self {
        Own {
            template: p.template.as_deref(),
            parameters: Some(&p.parameters),
            physical_ids: Some(&p.physical_ids),
        }
    }

    /// What a template's store gives.
    pub(crate) fn store(p: &'a StorePart) -> Self {
        Own {
            template: p.template.as_deref(),
            parameters: Some(&p.parameters),
            physical_ids: Some(&p.physical_ids),
        }
    }
}

/// `NAME=VALUE` for each pair.
fn pairs(p: Option<&Pairs>) -> Vec<String> {
    p.into_iter()
        .flatten()
        .map(|(n, v)| format!("{n}={v}"))
        .collect()
}

/// The template a part of a suite reads, and what it is resolved with: `own` (an `identity_pool`,
/// `cedar_store` or `apigw` object) may give `template`, `parameters` and `physical_ids`; what it does not
/// give comes from the suite-level `template` (its own values win). `None` when neither names a template.
pub(crate) fn spec(
    own: Own<'_>,
    suite: &SuiteDef,
    base: &Path,
) -> Result<Option<(PathBuf, TemplateInput)>, Failure> {
    let (suite_file, suite_obj) = match &suite.template {
        None => (None, None),
        Some(PathOr::Path(f)) => (Some(f.as_str()), None),
        Some(PathOr::Object(o)) => (Some(o.file.as_str()), Some(o)),
    };
    let Some(file) = own.template.or(suite_file) else {
        return Ok(None);
    };
    // The suite's values first, the part's own after them: `TemplateInput` lets the last one win.
    let mut parameter = pairs(suite_obj.map(|o| &o.parameters));
    parameter.extend(pairs(own.parameters));
    let mut physical = pairs(suite_obj.map(|o| &o.physical_ids));
    physical.extend(pairs(own.physical_ids));
    let mut input = TemplateInput::with(parameter, physical);
    input.import_value = pairs(suite_obj.map(|o| &o.import_values));
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
    suite: &SuiteDef,
    case: Option<&IamCase>,
    base: &Path,
    f: &mut PolicyFiles,
) -> Result<(), Failure> {
    let identity_of = case
        .and_then(|c| c.identity_of.as_deref())
        .or(suite.identity_of.as_deref());
    let resource_of = case
        .and_then(|c| c.resource_of.as_deref())
        .or(suite.resource_of.as_deref());
    if identity_of.is_none() && resource_of.is_none() {
        return Ok(());
    }
    let (path, input) = spec(Own::default(), suite, base)?.ok_or_else(|| {
        Failure::from(
            "`identity_of` and `resource_of` name resources of the suite-level `template`, which is missing"
                .to_string(),
        )
    })?;
    let l = loaded(&path, &input)?;
    let (t, found) = (&l.0, &l.1);
    if let Some(id) = identity_of {
        if let Some(role) = found.roles.iter().find(|r| r.logical_id == id) {
            let rp = role_policies(found, role);
            if let Some(arn) = &rp.foreign_boundary
                && case.is_none_or(|c| c.boundaries.is_none())
                && suite.boundaries.is_none()
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
            let is_principal = t.resource(id).is_some_and(|r| {
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
    if let Some(id) = resource_of {
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
