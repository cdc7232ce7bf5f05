//! Compiled statements and the matchers per element (actions, resources), and the action index.

use authz_core::{Context, StatementRef};
use iam_policy::{Effect, ResourceKind};

use crate::condition::CCondition;
use crate::matcher::{P, Unresolved, compile_pieces, is_match, split_arn};
use crate::principal::*;
use crate::{HashMap, HashSet};

/// A lower-case action or service name, shared by a statement's matcher and the set's index (one
/// allocation per name, however many places hold it).
pub(crate) type Key = std::sync::Arc<str>;

/// Action patterns of one statement, grouped for lookup by service.
#[derive(Debug, Clone, Default)]
pub(crate) struct ActionMatcher {
    pub(crate) any: bool,
    /// `service:action` exact, lower case.
    pub(crate) exact: HashSet<Key>,
    /// Services with `service:*`.
    pub(crate) whole_service: HashSet<Key>,
    /// Other wildcard patterns, by service.
    pub(crate) globs: HashMap<Box<str>, Vec<Box<[P]>>>,
}

impl ActionMatcher {
    pub(crate) fn is_match(
        &self,
        full_lower: &str,
        service: &str,
        action: &str,
        ctx: &Context,
    ) -> bool {
        if self.any || self.exact.contains(full_lower) || self.whole_service.contains(service) {
            return true;
        }
        self.globs
            .get(service)
            .is_some_and(|gs| gs.iter().any(|g| is_match(g, action, ctx) == Ok(true)))
    }
}

#[derive(Debug, Clone)]
pub(crate) enum ResourceMatcher {
    Any,
    Exact(Box<str>),
    Prefix(Box<str>),
    /// Six segments, each matched on its own.
    Segments(Box<[Box<[P]>]>),
    /// Fewer than six segments; the last ends in `*` and may cross colons.
    Open(Box<[Box<[P]>]>),
}

impl ResourceMatcher {
    pub(crate) fn compile(kind: &ResourceKind) -> ResourceMatcher {
        let ResourceKind::Arn(p) = kind else {
            return ResourceMatcher::Any;
        };
        let segs = || -> Box<[Box<[P]>]> { p.segments.iter().map(compile_pieces).collect() };
        if p.open_ended {
            return ResourceMatcher::Open(segs());
        }
        // The literal text comes from the pieces, not the raw string: `${*}` stands for a literal `*`.
        // Written straight into one string (compiling thousands of policies built and joined a list of
        // strings per resource).
        let is_literal = |t: &iam_policy::Template| {
            t.pieces
                .iter()
                .all(|x| matches!(x, iam_policy::Piece::Literal(_)))
        };
        let join = |templates: &[iam_policy::Template]| {
            let lit = |x: &iam_policy::Piece| match x {
                iam_policy::Piece::Literal(l) => l.len(),
                _ => 0,
            };
            let len = templates
                .iter()
                .map(|t| t.pieces.iter().map(lit).sum::<usize>() + 1)
                .sum();
            let mut out = String::with_capacity(len);
            for (i, t) in templates.iter().enumerate() {
                if i > 0 {
                    out.push(':');
                }
                for piece in &t.pieces {
                    if let iam_policy::Piece::Literal(l) = piece {
                        out.push_str(l);
                    }
                }
            }
            out
        };
        if p.segments.iter().all(is_literal) {
            return ResourceMatcher::Exact(join(&p.segments).into());
        }
        // `arn:…:prefix*` with nothing else variable: a prefix test on the whole ARN.
        if let Some(last) = p.segments.get(5)
            && p.segments.iter().take(5).all(is_literal)
            && matches!(last.pieces.last(), Some(iam_policy::Piece::Star))
            && last
                .pieces
                .iter()
                .rev()
                .skip(1)
                .all(|x| matches!(x, iam_policy::Piece::Literal(_)))
        {
            return ResourceMatcher::Prefix(join(p.segments.get(..6).unwrap_or_default()).into());
        }
        ResourceMatcher::Segments(segs())
    }

    /// `Err(Unresolved)`: a variable could not be resolved.
    pub(crate) fn is_match(&self, resource: &str, ctx: &Context) -> Result<bool, Unresolved> {
        match self {
            ResourceMatcher::Any => Ok(true),
            ResourceMatcher::Exact(e) => Ok(**e == *resource),
            ResourceMatcher::Prefix(p) => {
                Ok(resource.starts_with(&**p) && split_arn(resource).is_some())
            }
            ResourceMatcher::Segments(segs) => {
                let Some(parts) = split_arn(resource) else {
                    return Ok(false);
                };
                let mut all = true;
                for (s, v) in segs.iter().zip(parts.iter()) {
                    if !is_match(s, v, ctx)? {
                        all = false;
                    }
                }
                Ok(all)
            }
            ResourceMatcher::Open(segs) => {
                let n = segs.len();
                let mut rest = resource;
                for (i, s) in segs.iter().enumerate() {
                    if i + 1 == n {
                        return is_match(s, rest, ctx);
                    }
                    let Some((head, tail)) = rest.split_once(':') else {
                        return Ok(false);
                    };
                    if !is_match(s, head, ctx)? {
                        return Ok(false);
                    }
                    rest = tail;
                }
                Ok(false)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CStatement {
    pub(crate) at: StatementRef,
    pub(crate) effect: Effect,
    pub(crate) not_action: bool,
    pub(crate) actions: ActionMatcher,
    pub(crate) not_resource: bool,
    /// `None`: no Resource element (trust policies).
    pub(crate) resources: Option<Box<[ResourceMatcher]>>,
    pub(crate) principal: Option<PrincipalMatcher>,
    pub(crate) conditions: Box<[CCondition]>,
}

/// Which statements can match an action. A statement is listed under every key one of its patterns
/// produces: exact `service:action`; `service:*`; a wildcard pattern under `service:` plus the first three
/// characters of its literal prefix (`ec2:des` for `ec2:Describe*`), or under the service alone when the
/// prefix is shorter; `*` and `NotAction` statements always. A request looks up five short lists, so the
/// cost does not grow with the number of patterns or statements that cannot match.
#[derive(Debug, Default)]
pub(crate) struct ActionIndex {
    pub(crate) exact: HashMap<Key, Vec<u32>>,
    pub(crate) whole_service: HashMap<Key, Vec<u32>>,
    pub(crate) glob_prefix: HashMap<Key, Vec<u32>>,
    pub(crate) glob_short: HashMap<Key, Vec<u32>>,
    pub(crate) always: Vec<u32>,
}

/// Characters of literal prefix used to bucket wildcard patterns.
pub(crate) const GLOB_BUCKET: usize = 3;

/// The end of the first `n` characters of `s` (in bytes), if it has that many.
pub(crate) fn char_prefix_end(s: &str, n: usize) -> Option<usize> {
    s.char_indices()
        .nth(n)
        .map(|(i, _)| i)
        .or_else(|| (s.chars().count() == n).then_some(s.len()))
}

pub(crate) fn resource_applies(st: &CStatement, resource: &str, ctx: &Context) -> bool {
    let Some(rs) = &st.resources else { return true };
    if st.not_resource {
        // Matches when the resource matches none of the entries; an entry with an unresolvable variable
        // excludes nothing.
        !rs.iter().any(|r| r.is_match(resource, ctx) == Ok(true))
    } else {
        rs.iter().any(|r| r.is_match(resource, ctx) == Ok(true))
    }
}
