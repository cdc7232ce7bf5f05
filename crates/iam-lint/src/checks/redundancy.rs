//! Access Analyzer's redundancy checks: actions and resources written twice or covered by a wildcard of
//! the same statement (grouped as Access Analyzer groups them), statements identical but for their Sid.

use std::collections::HashMap;

use iam_policy::catalog::glob;
use iam_policy::{Diagnostic, PolicyDocument, Statement};

use super::{Ctx, finding, finding_at};

/// Actions a wildcard of the same statement already covers, or written twice (any case): one finding
/// per group, located at every member in document order ("The N action(s) are redundant").
pub(super) fn actions(s: &Statement, _cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(a) = s.action.as_ref().filter(|a| !a.negated) else {
        return;
    };
    let (groups, cut) = redundant_groups(
        &a.items,
        |p| std::borrow::Cow::Owned(p.raw.to_ascii_lowercase()),
        |q, p| match (&q.service, &p.service) {
            (None, _) => true,
            (Some(qs), Some(ps)) => glob(qs, ps) && glob(&q.action, &p.action),
            (Some(_), None) => false,
        },
    );
    for g in groups {
        let spans: Vec<diag::Span> = g.iter().map(|p| p.span).collect();
        let example = g
            .iter()
            .map(|p| &p.raw)
            .find(|r| !r.contains(['*', '?']))
            .or(g.first().map(|p| &p.raw));
        out.push(finding_at(
            "REDUNDANT_ACTION",
            spans,
            format!(
                "The {} action(s) are redundant because they provide similar permissions. Update the policy to remove the redundant action such as: {}.",
                g.len(),
                example.map_or("", |s| s.as_str())
            ),
        ));
    }
    if cut {
        out.push(cut_short(a.span, "action"));
    }
}

/// Resources repeated or covered by a wildcard resource of the same statement, grouped the same way.
pub(super) fn resources(s: &Statement, _cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let Some(r) = s.resource.as_ref().filter(|r| !r.negated) else {
        return;
    };
    // A wildcard covers only what starts with its literal prefix: checked first, as a bucket policy can
    // list hundreds of ARNs.
    let (groups, cut) = redundant_groups(
        &r.items,
        |p| std::borrow::Cow::Borrowed(p.raw.as_str()),
        |q, p| glob(&q.raw, &p.raw),
    );
    for g in groups {
        let spans: Vec<diag::Span> = g.iter().map(|p| p.span).collect();
        let example = g
            .iter()
            .map(|p| &p.raw)
            .find(|x| !x.contains(['*', '?']))
            .or(g.first().map(|p| &p.raw));
        out.push(finding_at(
            "REDUNDANT_RESOURCE",
            spans,
            format!(
                "The {} resource ARN(s) are redundant because they reference the same resource. Review the use of wildcards (*), or remove the resource {} to remove the redundancy.",
                g.len(),
                example.map_or("", |s| s.as_str())
            ),
        ));
    }
    if cut {
        out.push(cut_short(r.span, "resource"));
    }
}

/// Statements identical but for their Sid.
pub(super) fn statements(cx: &Ctx, out: &mut Vec<Diagnostic>) {
    let doc = cx.doc;
    let mut single = PolicyDocument {
        statements: Vec::new(),
        ..doc.clone()
    };
    let printed: Vec<String> = doc
        .statements
        .iter()
        .map(|s| {
            let mut s = s.clone();
            s.sid = None;
            single.statements = vec![s];
            single.to_string()
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    for (p, s) in printed.iter().zip(&doc.statements) {
        if !seen.insert(p.as_str()) {
            out.push(finding(
                "REDUNDANT_STATEMENT",
                s.span,
                "this statement repeats an earlier one and grants nothing more",
            ));
        }
    }
}

/// Groups of redundant items, in document order: an item written more than once (the same `key`), then
/// each wildcard item with the other items it covers (`covers(wildcard, item)`). Linear in the items for
/// the duplicates (a hash of keys); a wildcard is tested only against the items that start with its
/// literal prefix (found in a sorted index), so a long list of plain actions or ARNs costs no more than
/// reading it.
fn redundant_groups<'t, T: Raw>(
    items: &'t [T],
    key: impl Fn(&'t T) -> std::borrow::Cow<'t, str>,
    covers: impl Fn(&T, &T) -> bool,
) -> (Vec<Vec<&'t T>>, bool) {
    let mut budget = COMPARISONS;
    let mut cut_short = false;
    let keys: Vec<std::borrow::Cow<'t, str>> = items.iter().map(&key).collect();
    let mut by_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, k) in keys.iter().enumerate() {
        by_key.entry(k.as_ref()).or_default().push(i);
    }
    let mut groups = Vec::new();
    for (j, k) in keys.iter().enumerate() {
        if let Some(same) = by_key.get(k.as_ref())
            && same.len() > 1
            && same.first() == Some(&j)
        {
            groups.push(same.iter().filter_map(|&i| items.get(i)).collect());
        }
    }
    // Items sorted by their lower-cased text: a wildcard's candidates are one contiguous run.
    let lower: Vec<String> = items.iter().map(|p| p.raw().to_ascii_lowercase()).collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&x, &y| lower.get(x).cmp(&lower.get(y)));
    let mut wildcard_groups: Vec<Vec<usize>> = Vec::new();
    for (j, q) in items.iter().enumerate() {
        if !q.raw().contains(['*', '?']) {
            continue;
        }
        let prefix = lower
            .get(j)
            .map_or("", |l| l.split(['*', '?']).next().unwrap_or(""));
        if budget == 0 {
            cut_short = true;
            break;
        }
        let from = order.partition_point(|&i| lower.get(i).is_some_and(|l| l.as_str() < prefix));
        let mut members: Vec<usize> = order
            .get(from..)
            .unwrap_or_default()
            .iter()
            .copied()
            .take_while(|&i| lower.get(i).is_some_and(|l| l.starts_with(prefix)))
            .filter(|&i| {
                if i == j {
                    return true;
                }
                if budget == 0 {
                    cut_short = true;
                    return false;
                }
                budget -= 1;
                items
                    .get(i)
                    .is_some_and(|p| keys.get(i) != keys.get(j) && covers(q, p))
            })
            .collect();
        members.sort_unstable();
        // A group inside one already found (a wildcard covered, with all it covers, by a wider one)
        // adds nothing: Access Analyzer reports the wider group only.
        let inside = |m: &[usize]| {
            wildcard_groups
                .iter()
                .any(|g: &Vec<usize>| m.iter().all(|i| g.binary_search(i).is_ok()))
        };
        if members.len() > 1 && !inside(&members) {
            wildcard_groups.push(members);
        }
    }
    // Wider groups first found later still swallow the narrower ones found before them.
    let kept: Vec<&Vec<usize>> = wildcard_groups
        .iter()
        .enumerate()
        .filter(|(k, g)| {
            !wildcard_groups.iter().enumerate().any(|(o, w)| {
                o != *k && w.len() > g.len() && g.iter().all(|i| w.binary_search(i).is_ok())
            })
        })
        .map(|(_, g)| g)
        .collect();
    for g in kept {
        groups.push(g.iter().filter_map(|&i| items.get(i)).collect());
    }
    (groups, cut_short)
}

/// The most wildcard-against-item comparisons a statement's redundancy check makes (each a glob match):
/// a statement of thousands of wildcards sharing a prefix is checked up to here, then said to be cut
/// short, so `lint` stays finite and its time proportional to the input.
pub(crate) const COMPARISONS: usize = 200_000;

/// The finding that says a statement's redundancy check stopped at [`COMPARISONS`].
fn cut_short(span: diag::Span, what: &str) -> Diagnostic {
    Diagnostic::warning(
        diag::codes::LINT_TRUNCATED,
        span,
        format!(
            "the redundant-{what} check of this statement stopped after {COMPARISONS} comparisons of wildcards with items: redundancies past that are not reported"
        ),
    )
}

/// The text of an `Action` or `Resource` item.
trait Raw {
    fn raw(&self) -> &str;
}
impl Raw for iam_policy::ActionPattern {
    fn raw(&self) -> &str {
        &self.raw
    }
}
impl Raw for iam_policy::ResourcePattern {
    fn raw(&self) -> &str {
        &self.raw
    }
}
