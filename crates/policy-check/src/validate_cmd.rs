//! `policy-check validate`.

use std::io::Write;

use iam_policy::{Diagnostic, PolicyDocument, PolicyType, Source, ValidateOptions};

use crate::{Format, TypeArg};

/// Guesses a document's type from its statements (see [`TypeArg::Auto`]).
pub fn infer_type(doc: &PolicyDocument) -> PolicyType {
    let with_principal = doc
        .statements
        .iter()
        .filter(|s| s.principal.is_some())
        .count();
    if with_principal == 0 {
        return PolicyType::Identity;
    }
    let trust = doc.statements.iter().all(|s| {
        s.action
            .as_ref()
            .is_some_and(|a| a.items.iter().all(|i| i.service.as_deref() == Some("sts")))
    });
    if trust {
        PolicyType::Trust
    } else {
        PolicyType::Resource
    }
}

fn to_type(t: TypeArg) -> Option<PolicyType> {
    Some(match t {
        TypeArg::Auto => return None,
        TypeArg::Identity => PolicyType::Identity,
        TypeArg::Resource => PolicyType::Resource,
        TypeArg::Trust => PolicyType::Trust,
        TypeArg::Boundary => PolicyType::Boundary,
        TypeArg::Scp => PolicyType::Scp,
        TypeArg::Rcp => PolicyType::Rcp,
        TypeArg::Session => PolicyType::Session,
    })
}

/// Renders one diagnostic for humans, without colour, at `width` columns.
pub fn render(d: &Diagnostic, src: &Source, width: usize) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(width)
            .with_links(false);
    let mut s = String::new();
    let located = d.with_source(src);
    if d.wants_one_line(src) || handler.render_report(&mut s, &located).is_err() {
        let (l, c) = src.line_col(d.span.start);
        s = format!(
            "{}:{l}:{c}: {}: {}\n",
            src.name(),
            d.severity.as_str(),
            iam_policy::printable(&d.message)
        );
    }
    s
}

/// One diagnostic as a JSON object.
pub fn to_json(d: &Diagnostic, src: &Source) -> serde_json::Value {
    let (line, column) = src.line_col(d.span.start);
    let (end_line, end_column) = src.line_col(d.span.end);
    serde_json::json!({
        "file": src.name(),
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "code": d.code,
        "severity": d.severity.as_str(),
        "message": d.message,
        "help": d.help,
        "aws_code": d.aws_code,
    })
}

pub(crate) fn run(
    paths: &[String],
    ty: TypeArg,
    partition: Option<String>,
    format: Format,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, String> {
    let (files, stores) = crate::files::expand_with_stores(paths)?;
    if files.is_empty() && stores.is_empty() {
        return Err(format!(
            "no policy files found in {} (policies are *.json; suites, *.pool.json and request files are skipped)",
            paths.join(", ")
        ));
    }
    let mut bad_stores = 0usize;
    let opts = ValidateOptions { partition };
    let (mut n_err, mut n_warn, mut bad_files) = (0usize, 0usize, 0usize);
    for f in &files {
        let bytes = crate::read_file(f)?;
        let name = crate::display_name(f);
        let (source, doc, mut diags) = iam_policy::parse_bytes(&name, &bytes);
        if let Some(doc) = &doc {
            let t = to_type(ty).unwrap_or_else(|| infer_type(doc));
            diags.extend(iam_policy::validate(doc, t, &opts));
        }
        let errors = diags.iter().filter(|d| d.is_error()).count();
        n_err += errors;
        bad_files += usize::from(errors > 0);
        for d in &diags {
            if quiet && !d.is_error() {
                continue;
            }
            n_warn += usize::from(!d.is_error());
            match format {
                Format::Json => {
                    let _ = writeln!(out, "{}", to_json(d, &source));
                }
                Format::Human => {
                    let _ = write!(err, "{}", render(d, &source, 100));
                }
            }
        }
    }
    for store in &stores {
        if let Err(e) = cedar_bridge::PolicyStore::load(store) {
            n_err += 1;
            bad_stores += 1;
            match format {
                Format::Json => {
                    let _ = writeln!(
                        out,
                        "{}",
                        serde_json::json!({"file": store.display().to_string(), "line": 0, "column": 0, "code": "cedar::store", "severity": "error", "message": e.to_string()})
                    );
                }
                Format::Human => {
                    let _ = writeln!(err, "× Cedar store `{}`: {e}", store.display());
                }
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
    if format == Format::Human {
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
