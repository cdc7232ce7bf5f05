//! `template show`, and the template input `lint --template` shares: a CloudFormation or SAM template
//! resolved with its parameters, and the policies it carries.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::Format;

/// `template` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TemplateCommand {
    /// List what a template holds: each policy with its resource, position and resolved document,
    /// the resources skipped with the reason, and the placeholders used.
    #[command(after_help = crate::EXIT_CODES)]
    Show(ShowArgs),
}

/// A template and what it is resolved with.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateInput {
    /// Parameter values: CloudFormation's `[{"ParameterKey", "ParameterValue"}]` file, or
    /// cfn-policy-validator's `{"Name": "value"}`.
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    /// One parameter value, `NAME=VALUE` (repeatable; wins over the file).
    #[arg(long = "parameter", value_name = "NAME=VALUE")]
    pub parameter: Vec<String>,
    /// Another stack's export for `Fn::ImportValue`, `NAME=VALUE` (repeatable; without one a
    /// placeholder stands for it, and is listed).
    #[arg(long = "import-value", value_name = "NAME=VALUE")]
    pub import_value: Vec<String>,
    /// `AWS::AccountId`.
    #[arg(
        long = "template-account",
        value_name = "ID",
        default_value = "123456789012"
    )]
    pub template_account: String,
    /// `AWS::Region` (and the partition).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// `AWS::StackName`.
    #[arg(long, default_value = "stack")]
    pub stack_name: String,
}

/// `template show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The template (JSON or YAML).
    pub template: PathBuf,
    /// What it is resolved with.
    #[command(flatten)]
    pub input: TemplateInput,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// The settings from the arguments and the parameters file.
pub(crate) fn settings(i: &TemplateInput) -> Result<iac::Settings, String> {
    let mut parameters = BTreeMap::new();
    if let Some(f) = &i.parameters {
        let v = crate::input::read_json(f)?;
        let bad = || {
            format!(
                "{}: parameters are [{{\"ParameterKey\", \"ParameterValue\"}}] or {{\"Name\": \"value\"}}",
                f.display()
            )
        };
        match &v {
            Value::Array(items) => {
                for x in items {
                    let k = x
                        .get("ParameterKey")
                        .and_then(Value::as_str)
                        .ok_or_else(bad)?;
                    let val = match x.get("ParameterValue") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Number(n)) => n.to_string(),
                        Some(Value::Bool(b)) => b.to_string(),
                        _ => return Err(bad()),
                    };
                    parameters.insert(k.to_string(), val);
                }
            }
            Value::Object(m) => {
                for (k, x) in m {
                    let val = match x {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Array(a) => a
                            .iter()
                            .map(|e| e.as_str().map(str::to_string).ok_or_else(bad))
                            .collect::<Result<Vec<_>, _>>()?
                            .join(","),
                        _ => return Err(bad()),
                    };
                    parameters.insert(k.clone(), val);
                }
            }
            _ => return Err(bad()),
        }
    }
    for p in &i.parameter {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("--parameter `{p}` is not NAME=VALUE"))?;
        parameters.insert(k.to_string(), v.to_string());
    }
    let mut imports = BTreeMap::new();
    for p in &i.import_value {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("--import-value `{p}` is not NAME=VALUE"))?;
        imports.insert(k.to_string(), v.to_string());
    }
    Ok(iac::Settings {
        imports,
        account: i.template_account.clone(),
        region: i.region.clone(),
        stack_name: i.stack_name.clone(),
        parameters,
    })
}

/// A template error as the CLI prints it: `file:line:column: message [code] (resource Id)`.
pub(crate) fn error_text(t: Option<&iac::Template>, text: &str, e: &iac::IacError) -> String {
    let (l, c) = match t {
        Some(t) => t.line_col(e.span.start),
        None => diag::Source::new(e.file.as_str(), text).line_col(e.span.start),
    };
    let about = e
        .logical_id
        .as_ref()
        .map(|id| format!(" (resource `{id}`)"))
        .unwrap_or_default();
    format!("{}:{l}:{c}: {} [{}]{about}", e.file, e.message, e.code)
}

/// Reads and resolves a template.
pub(crate) fn load(
    path: &std::path::Path,
    input: &TemplateInput,
) -> Result<(iac::Template, iac::Found), String> {
    let name = crate::display_name(path);
    let bytes = crate::read_file(path)?;
    let text = String::from_utf8(bytes).map_err(|_| format!("{name}: not UTF-8"))?;
    let t = iac::Template::read(&name, &text).map_err(|e| error_text(None, &text, &e))?;
    let s = settings(input)?;
    let found = t
        .policies(&s)
        .map_err(|e| error_text(Some(&t), &text, &e))?;
    Ok((t, found))
}

pub(crate) fn run(c: &TemplateCommand, out: &mut dyn Write) -> Result<u8, String> {
    let TemplateCommand::Show(a) = c;
    let (t, found) = load(&a.template, &a.input)?;
    let at = |span: diag::Span| t.line_col(span.start);
    match a.format {
        Format::Json => {
            let policies: Vec<Value> = found
                .policies
                .iter()
                .map(|p| {
                    let (line, column) = at(p.span);
                    let doc: Value =
                        serde_json::from_str(&iac::render(&p.document).0).unwrap_or(Value::Null);
                    json!({"logical_id": p.logical_id, "resource_type": p.resource_type,
                        "path": p.path, "policy_type": p.policy_type.to_string(), "line": line,
                        "column": column, "attached_to": p.attached_to, "document": doc})
                })
                .collect();
            let skipped: Vec<Value> = found
                .skipped
                .iter()
                .map(|s| json!({"logical_id": s.logical_id, "resource_type": s.resource_type, "reason": s.reason}))
                .collect();
            let notes: Vec<Value> = found
                .notes
                .iter()
                .map(|n| {
                    let (line, column) = at(n.span);
                    json!({"line": line, "column": column, "logical_id": n.logical_id, "note": n.text})
                })
                .collect();
            let _ = writeln!(
                out,
                "{}",
                json!({"template": t.name, "policies": policies, "skipped": skipped, "placeholders": notes})
            );
        }
        Format::Human => {
            let _ = writeln!(
                out,
                "{}: {} polic{}, {} resource(s) without one, {} placeholder(s)",
                t.name,
                found.policies.len(),
                if found.policies.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                found.skipped.len(),
                found.notes.len()
            );
            for p in &found.policies {
                let (l, c) = at(p.span);
                let on = if p.attached_to.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", p.attached_to.join(", "))
                };
                let _ = writeln!(
                    out,
                    "\n{} ({}) {}:{l}:{c}: {} policy{on}",
                    p.name(),
                    p.resource_type,
                    t.name,
                    p.policy_type
                );
                for line in iac::render(&p.document).0.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
            if !found.skipped.is_empty() {
                let _ = writeln!(out, "\nwithout a policy:");
                for s in &found.skipped {
                    let _ = writeln!(
                        out,
                        "  {} ({}): {}",
                        s.logical_id, s.resource_type, s.reason
                    );
                }
            }
            if !found.notes.is_empty() {
                let _ = writeln!(out, "\nplaceholders:");
                for n in &found.notes {
                    let (l, c) = at(n.span);
                    let _ = writeln!(out, "  {}:{l}:{c}: {}", t.name, n.text);
                }
            }
        }
    }
    Ok(0)
}
