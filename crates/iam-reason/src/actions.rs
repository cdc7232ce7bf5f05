//! The action dimension, decided by enumeration (complete over a finite set, so no solver is needed):
//! every action of the bundled service reference, every action a policy names, and one instance of
//! every action pattern, grouped by which statements' `Action`/`NotAction` they match. Each group is
//! one query with the action fixed, so the solver never sees the thousands of action patterns of
//! policies such as `ReadOnlyAccess`.

use std::collections::HashMap;

use iam_policy::ActionBlock;

/// An action of the universe: lower-case service and name, and how to write it.
#[derive(Clone, Debug)]
pub(crate) struct Action {
    pub(crate) svc: String,
    pub(crate) name: String,
}

/// A glob over lower-case text (`*`, `?`).
fn glob(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    p.iter().skip(pi).all(|&c| c == b'*')
}

/// Patterns of one statement by service (`None`: `*`).
pub(crate) struct Matcher {
    any: bool,
    negated: bool,
    by_service: HashMap<String, Vec<String>>,
}

impl Matcher {
    pub(crate) fn new(block: Option<&ActionBlock>) -> Matcher {
        let mut m = Matcher {
            any: false,
            negated: block.is_some_and(|b| b.negated),
            by_service: HashMap::new(),
        };
        for a in block.map(|b| b.items.as_slice()).unwrap_or(&[]) {
            match &a.service {
                None => m.any = true,
                Some(s) => m
                    .by_service
                    .entry(s.to_ascii_lowercase())
                    .or_default()
                    .push(a.action.to_ascii_lowercase()),
            }
        }
        if block.is_none() {
            // No Action element: matches nothing (the evaluator refuses to compile it anyway).
            m.negated = false;
        }
        m
    }

    /// Does the statement's action element match the action?
    pub(crate) fn matches(&self, a: &Action) -> bool {
        let hit = self.any
            || self
                .by_service
                .get(&a.svc)
                .is_some_and(|ps| ps.iter().any(|p| glob(p.as_bytes(), a.name.as_bytes())));
        hit != self.negated
    }

    /// Actions this element names or stands for, beyond the catalogue: literal names, and one instance
    /// of each pattern (`*` as nothing, `?` as `a`).
    fn instances(&self, out: &mut Vec<Action>) {
        for (svc, ps) in &self.by_service {
            for p in ps {
                let name: String = p
                    .chars()
                    .filter(|c| *c != '*')
                    .map(|c| if c == '?' { 'a' } else { c })
                    .collect();
                if !name.is_empty() {
                    out.push(Action {
                        svc: svc.clone(),
                        name,
                    });
                }
            }
        }
    }
}

/// The catalogue's actions, lower case, computed once per process.
fn catalogue_actions() -> &'static [Action] {
    static ALL: std::sync::OnceLock<Vec<Action>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let cat = iam_policy::catalog::catalog();
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for svc in cat.services() {
            for a in cat.actions(svc).unwrap_or(&[]) {
                let act = Action {
                    svc: svc.to_ascii_lowercase(),
                    name: a.to_ascii_lowercase(),
                };
                if seen.insert((act.svc.clone(), act.name.clone())) {
                    out.push(act);
                }
            }
        }
        out
    })
}

/// The actions the policies name beyond the catalogue (none in precise mode): with the catalogue's,
/// the universe the action dimension is decided over.
pub(crate) fn extras(matchers: &[&Matcher], catalogue_only: bool) -> Vec<Action> {
    if catalogue_only {
        return Vec::new();
    }
    static KNOWN: std::sync::OnceLock<std::collections::HashSet<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        catalogue_actions()
            .iter()
            .map(|a| (a.svc.as_str(), a.name.as_str()))
            .collect()
    });
    let mut extra = Vec::new();
    for m in matchers {
        m.instances(&mut extra);
    }
    let mut out: Vec<Action> = Vec::new();
    for act in extra {
        let new = !known.contains(&(act.svc.as_str(), act.name.as_str()))
            && !out.iter().any(|o| o.svc == act.svc && o.name == act.name);
        if new {
            out.push(act);
        }
    }
    out
}

/// Every action of the universe: the catalogue's, then `extras`.
pub(crate) fn universe(extras: &[Action]) -> impl Iterator<Item = &Action> {
    catalogue_actions().iter().chain(extras.iter())
}

/// Groups `universe` by the vector of `matchers` each action satisfies (and by `split`, a further key:
/// the resource types in precise mode), keeping those `extra` admits; one representative each,
/// catalogue actions first.
pub(crate) fn classes<'a>(
    universe: impl Iterator<Item = &'a Action>,
    matchers: &[&Matcher],
    extra: &dyn Fn(&Action) -> bool,
    split: &dyn Fn(&Action) -> String,
) -> Vec<(Vec<bool>, Action)> {
    let mut out: Vec<(Vec<bool>, Action)> = Vec::new();
    let mut index: HashMap<(Vec<bool>, String), usize> = HashMap::new();
    // Without `*` or `NotAction`, only the services the patterns name can match anything.
    let services: Option<std::collections::HashSet<&str>> =
        if matchers.iter().any(|m| m.any || m.negated) {
            None
        } else {
            Some(
                matchers
                    .iter()
                    .flat_map(|m| m.by_service.keys().map(String::as_str))
                    .collect(),
            )
        };
    for a in universe {
        if services
            .as_ref()
            .is_some_and(|s| !s.contains(a.svc.as_str()))
            || !extra(a)
        {
            continue;
        }
        let sig: Vec<bool> = matchers.iter().map(|m| m.matches(a)).collect();
        if !sig.iter().any(|b| *b) {
            continue;
        }
        let key = (sig, split(a));
        if !index.contains_key(&key) {
            index.insert(key.clone(), out.len());
            out.push((key.0, a.clone()));
        }
    }
    out
}

/// The Service Authorization Reference's resource types per action, as ARN globs (`data/
/// action-resources.txt`, generated from the corpus by `data/generate.py`).
struct ResourceTable {
    /// `service resource-type` → ARN globs.
    formats: HashMap<(String, String), Vec<String>>,
    /// `service:action` (lower case) → resource types.
    actions: HashMap<String, Vec<String>>,
}

fn table() -> &'static ResourceTable {
    static T: std::sync::OnceLock<ResourceTable> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let mut t = ResourceTable {
            formats: HashMap::new(),
            actions: HashMap::new(),
        };
        for line in include_str!("../data/action-resources.txt").lines() {
            let mut f = line.split(' ');
            match (f.next(), f.next()) {
                (Some("R"), Some(svc)) => {
                    if let (Some(rt), Some(glob)) = (f.next(), f.next()) {
                        t.formats
                            .entry((svc.to_string(), rt.to_string()))
                            .or_default()
                            .push(glob.to_string());
                    }
                }
                (Some("A"), Some(action)) => {
                    t.actions
                        .insert(action.to_ascii_lowercase(), f.map(str::to_string).collect());
                }
                _ => {}
            }
        }
        t
    })
}

/// The ARN globs a real request for `a` can name (empty: only `*`); `None` for an action the reference
/// does not list.
pub(crate) fn resource_globs(a: &Action) -> Option<Vec<String>> {
    let t = table();
    let rts = t.actions.get(&format!("{}:{}", a.svc, a.name))?;
    let mut out = Vec::new();
    for rt in rts {
        if let Some(globs) = t.formats.get(&(a.svc.clone(), rt.clone())) {
            out.extend(globs.iter().cloned());
        }
    }
    out.sort();
    out.dedup();
    Some(out)
}

/// Does `pattern` (`service:name` with wildcards, or `*`) match the action?
pub(crate) fn pattern_matches(pattern: &str, a: &Action) -> bool {
    let p = pattern.to_ascii_lowercase();
    if p == "*" {
        return true;
    }
    match p.split_once(':') {
        Some((s, n)) => s == a.svc && glob(n.as_bytes(), a.name.as_bytes()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob(b"get*", b"getobject"));
        assert!(glob(b"*", b""));
        assert!(glob(b"g?t*t", b"getobject"));
        assert!(!glob(b"put*", b"getobject"));
        assert!(glob(b"*a*b", b"xxaxxb"));
        assert!(!glob(b"*a*b", b"xxbxxa"));
    }
}
