//! `policy-check validate`: parse and validate policies and Cedar stores.

use crate::Failure;
use diag::codes;
use std::io::Write;

use iam_policy::ValidateOptions;

use crate::policies::*;
use crate::report::*;
use crate::{Format, TypeArg};

/// The most diagnostics drawn with their source lines per file in human output.
pub const MAX_RENDERED_PER_FILE: usize = 100;

pub(crate) fn run(
    paths: &[String],
    ty: TypeArg,
    partition: Option<String>,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Failure> {
    let (files, stores) = crate::files::expand_with_stores(paths)?;
    if files.is_empty() && stores.is_empty() {
        return Err(Failure::from(format!(
            "no policy files found in {} (policies are *.json; suites, *.pool.json, *.api.json, request files, *.tfplan.json and *.template.json are skipped)",
            paths.join(", ")
        )));
    }
    let mut bad_stores = 0usize;
    let opts = ValidateOptions { partition };
    let (mut n_err, mut n_warn, mut bad_files) = (0usize, 0usize, 0usize);
    for f in &files {
        let bytes = crate::read_file(f)?;
        let name = crate::display_name(f);
        let (source, doc, mut diags) = iam_policy::parse_bytes(&name, &bytes);
        if let Some(doc) = &doc {
            let t = ty.0.unwrap_or_else(|| infer_type(doc));
            diags.extend(iam_policy::validate(doc, t, &opts));
        }
        let errors = diags.iter().filter(|d| d.is_error()).count();
        n_err += errors;
        bad_files += usize::from(errors > 0);
        let mut shown = 0usize;
        let mut held_back = 0usize;
        for d in &diags {
            if quiet && !d.is_error() {
                continue;
            }
            n_warn += usize::from(!d.is_error());
            match format {
                Format::Json => {
                    let _ = writeln!(out, "{}", to_json(d, &source));
                }
                // A rendered diagnostic shows its source lines: past the cap the rest of a file's are
                // counted, not drawn (the cost of drawing grows with the file, the count does not).
                Format::Human if shown >= MAX_RENDERED_PER_FILE => held_back += 1,
                Format::Human => {
                    shown += 1;
                    let _ = write!(err, "{}", render(d, &source, 100));
                }
            }
        }
        if held_back > 0 {
            let _ = writeln!(
                err,
                "… and {held_back} more diagnostic(s) in {name} (the first {MAX_RENDERED_PER_FILE} are shown; `--format json` lists all)"
            );
        }
    }
    for store in &stores {
        if let Err(e) = crate::input::load_store(store) {
            n_err += 1;
            bad_stores += 1;
            match format {
                Format::Json => {
                    let _ = writeln!(
                        out,
                        "{}",
                        match &e {
                            // Cedar's own diagnostics keep their position.
                            cedar_bridge::BridgeError::Located(d) =>
                                serde_json::json!({"file": d.file, "line": d.line, "column": d.column, "code": codes::CEDAR_POLICY, "severity": "error", "message": format!("{}: {}", d.what, d.message), "help": d.help}),
                            _ =>
                                serde_json::json!({"file": store.display().to_string(), "line": 0, "column": 0, "code": codes::CEDAR_STORE, "severity": "error", "message": e.to_string()}),
                        }
                    );
                }
                Format::Human => match &e {
                    // Cedar's diagnostic, rendered with a snippet like every other diagnostic.
                    cedar_bridge::BridgeError::Located(d)
                        if let Ok(text) = std::fs::read_to_string(&d.file) =>
                    {
                        let src = diag::Source::new(d.file.as_str(), text);
                        let mut x = diag::Diagnostic::error(
                            codes::CEDAR_POLICY,
                            diag::Span::new(d.span.0, d.span.0 + d.span.1),
                            format!("{}: {}", d.what, d.message),
                        )
                        .label("here");
                        x.help.clone_from(&d.help);
                        let _ = write!(err, "{}", crate::report::render(&x, &src, 100));
                    }
                    _ => {
                        let _ = writeln!(err, "× Cedar store `{}`: {e}", store.display());
                    }
                },
            }
        }
    }
    if format == Format::Human && !stores.is_empty() {
        let _ = writeln!(
            err,
            "{} Cedar store(s) checked: {} invalid",
            stores.len(),
            bad_stores
        );
    }
    if format == Format::Human && !files.is_empty() {
        let _ = writeln!(
            err,
            "{} file(s) checked: {} valid, {} invalid ({} error(s), {} warning(s))",
            files.len(),
            files.len().saturating_sub(bad_files),
            bad_files,
            n_err,
            n_warn
        );
    }
    Ok(u8::from(n_err > 0))
}

/// `validate --template`: each policy a template holds, validated as its type; every diagnostic moved
/// from the resolved policy into the template (its span and related spans), so it is drawn on the
/// template's own lines (JSON: the template's line and column).
pub(crate) fn run_templates(
    templates: &[std::path::PathBuf],
    input: &super::template::TemplateInput,
    partition: Option<String>,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Failure> {
    let opts = ValidateOptions { partition };
    let (mut n_err, mut n_warn, mut n_policies) = (0usize, 0usize, 0usize);
    for path in templates {
        let (t, found) = super::template::load(path, input)?;
        for p in &found.policies {
            n_policies += 1;
            let (text, map) = iac::render(&p.document);
            let (_, doc, mut diags) = iam_policy::parse_bytes(&p.name(), text.as_bytes());
            if let Some(doc) = &doc {
                diags.extend(iam_policy::validate(doc, p.policy_type, &opts));
            }
            for mut d in diags {
                if quiet && !d.is_error() {
                    continue;
                }
                if d.is_error() {
                    n_err += 1;
                } else {
                    n_warn += 1;
                }
                let at = |s: diag::Span| iac::locate(&map, s.start).unwrap_or(p.span);
                d.span = at(d.span);
                for (s, _) in &mut d.related {
                    *s = at(*s);
                }
                d.message = format!("{}: {}", p.name(), d.message);
                match format {
                    Format::Json => {
                        let _ = writeln!(out, "{}", to_json(&d, &t.source));
                    }
                    Format::Human => {
                        let _ = write!(err, "{}", render(&d, &t.source, 100));
                    }
                }
            }
        }
    }
    if format == Format::Human {
        let _ = writeln!(
            err,
            "{} template(s), {n_policies} polic{} checked: {n_err} error(s), {n_warn} warning(s)",
            templates.len(),
            if n_policies == 1 { "y" } else { "ies" }
        );
    }
    Ok(u8::from(n_err > 0))
}
