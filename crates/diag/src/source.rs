//! Source text, byte spans and line/column lookup.

use std::sync::Arc;

/// A byte range in a policy's source text.
///
/// Spans are location metadata: two spans always compare equal, so two syntax trees are equal when they
/// say the same thing, wherever it was written.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}
impl Eq for Span {}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }
    /// The number of bytes covered.
    pub const fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }
    /// Whether the span covers no byte.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The span that covers both `self` and `other`.
    pub fn join(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        miette::SourceSpan::new(s.start.into(), s.len())
    }
}

/// Bytes between column checkpoints in a [`Source`].
const CHECKPOINT_BYTES: usize = 1024;

/// A named policy source: a file name (or `<inline>`) and its text, shared cheaply.
#[derive(Clone, Debug)]
pub struct Source {
    name: Arc<str>,
    text: Arc<str>,
    /// Where lines and characters are, worked out at the first position asked for: most sources (the
    /// policies of a passing test suite) are never asked for one.
    index: Arc<std::sync::OnceLock<Index>>,
    /// Where the text came from, when it was derived from another source (a policy resolved out of a
    /// template): positions are then reported in that source.
    origin: Option<Arc<Origin>>,
}

/// Where a derived text's bytes came from: another source and, for ranges of the derived text, the span
/// in that source each was produced from (innermost ranges win).
#[derive(Debug)]
pub struct Origin {
    /// The source the text was derived from.
    pub source: Source,
    /// Ranges of the derived text and the span of `source` each came from.
    pub map: Vec<(std::ops::Range<usize>, Span)>,
}

impl Origin {
    /// The span of the origin that the byte at `offset` of the derived text came from: the innermost
    /// range holding it.
    pub fn locate(&self, offset: usize) -> Option<Span> {
        locate(&self.map, offset)
    }
}

/// In a map of (range of a derived text, span it came from), the span the byte at `offset` came from:
/// the innermost range holding it.
pub fn locate(map: &[(std::ops::Range<usize>, Span)], offset: usize) -> Option<Span> {
    map.iter()
        .filter(|(r, _)| r.start <= offset && offset < r.end.max(r.start + 1))
        .min_by_key(|(r, _)| r.end - r.start)
        .map(|(_, s)| *s)
}

/// Where a text's lines and characters are.
#[derive(Debug)]
struct Index {
    /// Byte offsets where each line starts.
    line_starts: Vec<usize>,
    /// (byte offset, characters before it) about every 1 KiB, at character boundaries: a column is
    /// counted from the nearest checkpoint, not from the line's start, so a one-line policy of many
    /// megabytes still gives each position in bounded time.
    checkpoints: Vec<(usize, usize)>,
}

impl Index {
    fn of(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        // Checkpoints only where a line can be long enough to matter (small texts are scanned from the
        // line's start, which is short by construction); characters are counted as the bytes that do
        // not continue a UTF-8 sequence.
        let mut checkpoints = vec![(0, 0)];
        if text.len() > 4 * CHECKPOINT_BYTES {
            let mut chars = 0usize;
            let mut next = CHECKPOINT_BYTES;
            for (i, b) in text.bytes().enumerate() {
                let starts_char = b & 0xC0 != 0x80;
                if starts_char && i >= next {
                    checkpoints.push((i, chars));
                    next = i + CHECKPOINT_BYTES;
                }
                chars += usize::from(starts_char);
            }
        }
        Self {
            line_starts: starts,
            checkpoints,
        }
    }
}

impl Source {
    /// A source named `name` holding `text`.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            index: Arc::default(),
            origin: None,
        }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::of(&self.text))
    }
    /// The same source, derived from `origin`: [`Source::located`] reports positions there.
    #[must_use]
    pub fn with_origin(mut self, origin: Origin) -> Self {
        self.origin = Some(Arc::new(origin));
        self
    }
    /// What this text was derived from, when it was.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_deref()
    }
    /// The file, line and column a byte offset is reported at: in the origin when the text was derived
    /// from another source and the offset maps there, else here.
    pub fn located(&self, offset: usize) -> (&str, usize, usize) {
        if let Some(o) = &self.origin
            && let Some(s) = o.locate(offset)
        {
            let (l, c) = o.source.line_col(s.start);
            return (o.source.name(), l, c);
        }
        let (l, c) = self.line_col(offset);
        (self.name(), l, c)
    }
    /// The file name or label given at construction.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The full text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The text shared as an `Arc`.
    pub fn text_arc(&self) -> &Arc<str> {
        &self.text
    }
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let starts = &self.index().line_starts;
        let line = match starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = starts.get(line).copied().unwrap_or(0);
        let col = match (self.chars_before(offset), self.chars_before(start)) {
            (Some(a), Some(b)) => a.saturating_sub(b),
            // Not at a character boundary: bytes, as before.
            _ => offset - start,
        };
        (line + 1, col + 1)
    }

    /// Characters before byte `offset` (a character boundary), counted from the nearest checkpoint.
    fn chars_before(&self, offset: usize) -> Option<usize> {
        let checkpoints = &self.index().checkpoints;
        let k = checkpoints.partition_point(|(b, _)| *b <= offset);
        let (b, n) = checkpoints.get(k.saturating_sub(1)).copied()?;
        Some(n + self.text.get(b..offset)?.chars().count())
    }
    /// The text covered by `span`, or "" when the span is out of range.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps `value` with `span`.
    pub const fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A derived text reports positions in its origin where the map covers them (innermost range), and
    /// its own positions elsewhere.
    #[test]
    fn derived_text_is_located_in_its_origin() {
        let template = Source::new("t.yaml", "a:\n  b: x\n  c: yy\n");
        let derived =
            Source::new("derived", "{\"b\": \"x\",\n \"c\": \"yy\"}\n!").with_origin(Origin {
                source: template,
                // the whole object ← line 1; "yy" ← line 3, column 6
                map: vec![(0..22, Span::new(0, 18)), (18..22, Span::new(15, 17))],
            });
        assert_eq!(derived.located(19), ("t.yaml", 3, 6));
        assert_eq!(derived.located(2), ("t.yaml", 1, 1));
        assert_eq!(derived.located(23), ("derived", 3, 1));
        assert_eq!(derived.line_col(19), (2, 9));
    }
}
