//! A JSON reader that keeps byte spans, finds duplicate keys at every depth and goes on after the mistakes
//! it can step over.
//!
//! Why not serde_json: it stops at the first error, keeps the last of two duplicate keys (silently dropping
//! a statement) and has no spans for values. Reading JSON is the small part; locating and explaining each
//! mistake is what this project is for, so the reader is ours. It is iterative-safe: nesting is limited to
//! [`MAX_DEPTH`] levels, so hostile input such as 100,000 `[` gets an error, not a stack overflow.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::source::Span;

/// Deepest nesting accepted. IAM policies need six levels; anything past this is not a policy.
pub const MAX_DEPTH: usize = 64;

/// A JSON value with its span.
#[derive(Clone, Debug)]
pub struct Value {
    /// What the value is.
    pub kind: Kind,
    /// Where it was written, from its first to its last byte.
    pub span: Span,
}

/// The kinds of JSON value.
#[derive(Clone, Debug)]
pub enum Kind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, kept as written.
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object; members keep their order. Duplicate keys were reported; all are kept here.
    Object(Vec<Member>),
}

impl Kind {
    /// A short name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Number(_) => "a number",
            Kind::String(_) => "a string",
            Kind::Array(_) => "an array",
            Kind::Object(_) => "an object",
        }
    }
}

/// One `"key": value` pair of an object.
#[derive(Clone, Debug)]
pub struct Member {
    /// The key, unescaped.
    pub key: String,
    /// Where the key was written (quotes included).
    pub key_span: Span,
    /// The value.
    pub value: Value,
}

struct Fatal;

/// A diagnostic being built; pushed when dropped, so calls chain like the `Diagnostic` builders.
struct Pending<'v> {
    out: &'v mut Vec<Diagnostic>,
    d: Option<Diagnostic>,
}

impl Pending<'_> {
    fn map(mut self, f: impl FnOnce(Diagnostic) -> Diagnostic) -> Self {
        self.d = self.d.take().map(f);
        self
    }
    fn label(self, l: impl Into<String>) -> Self {
        self.map(|d| d.label(l))
    }
    fn help(self, h: impl Into<String>) -> Self {
        self.map(|d| d.help(h))
    }
    fn related(self, s: Span, l: impl Into<String>) -> Self {
        self.map(|d| d.related(s, l))
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(d) = self.d.take() {
            self.out.push(d);
        }
    }
}

struct Reader<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    diags: &'a mut Vec<Diagnostic>,
    depth: usize,
    /// Runs of web-page spaces seen; only the first is reported, with the count.
    unicode_spaces: usize,
}

/// Reads one JSON document. Recoverable mistakes are pushed to `diags` and reading goes on; the value is
/// `None` when a mistake made the rest unreadable.
pub fn read(src: &str, diags: &mut Vec<Diagnostic>) -> Option<Value> {
    let mut r = Reader {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        diags,
        depth: 0,
        unicode_spaces: 0,
    };
    let value = read_value(&mut r);
    if r.unicode_spaces > 1 {
        let n = r.unicode_spaces;
        if let Some(d) = r
            .diags
            .iter_mut()
            .find(|d| d.code == codes::JSON_UNICODE_SPACE)
        {
            d.label = format!("first of {n} places with such spaces");
        }
    }
    value
}

fn read_value(r: &mut Reader<'_>) -> Option<Value> {
    r.skip_ws();
    if r.pos >= r.bytes.len() {
        r.diags.push(
            Diagnostic::error(codes::JSON_EMPTY, Span::new(0, 0), "the document is empty")
                .label("expected a policy object here")
                .help("a policy is one JSON object: {\"Version\": \"2012-10-17\", \"Statement\": [...]}")
                .aws("JSON_SYNTAX_ERROR"),
        );
        return None;
    }
    let first = r.pos;
    let value = r.value().ok()?;
    r.skip_ws();
    if r.pos < r.bytes.len() {
        let rest = r.pos;
        if matches!(value.kind, Kind::String(_)) && r.bytes.get(rest) == Some(&b':') {
            r.diags.push(
                Diagnostic::error(
                    codes::JSON_MISSING_OPEN_BRACE,
                    Span::new(first, first + 1),
                    "the document starts with a key: its opening `{` is missing",
                )
                .label("a key cannot stand at the top level")
                .help("add `{` before the first key")
                .aws("JSON_SYNTAX_ERROR"),
            );
            return None;
        }
        let end = next_char_end(r.src, rest);
        r.diags.push(
            Diagnostic::error(
                codes::JSON_TRAILING_CONTENT,
                Span::new(rest, end),
                "more than one JSON value: a policy is exactly one object",
            )
            .label("extra content after the policy object")
            .related(value.span, "the policy object ends here")
            .help("merge the statements into one `Statement` array of one policy object")
            .aws("JSON_SYNTAX_ERROR"),
        );
        return None;
    }
    Some(value)
}

fn next_char_end(src: &str, pos: usize) -> usize {
    src.get(pos..)
        .and_then(|s| s.chars().next())
        .map_or(pos, |c| pos + c.len_utf8())
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn err(&mut self, code: &'static str, span: Span, msg: impl Into<String>) -> Pending<'_> {
        Pending {
            out: self.diags,
            d: Some(Diagnostic::error(code, span, msg).aws("JSON_SYNTAX_ERROR")),
        }
    }

    fn skip_ws(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') if matches!(self.bytes.get(self.pos + 1), Some(b'/' | b'*')) => {
                    let start = self.pos;
                    let block = self.bytes.get(self.pos + 1) == Some(&b'*');
                    if block {
                        match self.src.get(self.pos + 2..).and_then(|s| s.find("*/")) {
                            Some(i) => self.pos += 2 + i + 2,
                            None => self.pos = self.bytes.len(),
                        }
                    } else {
                        match self.src.get(self.pos..).and_then(|s| s.find('\n')) {
                            Some(i) => self.pos += i,
                            None => self.pos = self.bytes.len(),
                        }
                    }
                    self.err(
                        codes::JSON_COMMENT,
                        Span::new(start, self.pos),
                        "comments are not allowed in JSON",
                    )
                    .label("comment")
                    .help("remove the comment; IAM policies are strict JSON");
                }
                Some(0xC2 | 0xE2 | 0xE3) if self.unicode_space().is_some() => {
                    let start = self.pos;
                    let (len, name) = self.unicode_space().unwrap_or((1, ""));
                    let mut end = start + len;
                    while let Some((l, _)) = self.at_unicode_space(end) {
                        end += l;
                    }
                    self.pos = end;
                    self.unicode_spaces += 1;
                    if self.unicode_spaces > 1 {
                        continue;
                    }
                    self.err(
                        codes::JSON_UNICODE_SPACE,
                        Span::new(start, end),
                        format!("{name} is not JSON whitespace"),
                    )
                    .label("looks like a space, is not one")
                    .help("copied from a web page? replace it with ordinary spaces");
                }
                Some(0xEF) if self.pos == 0 && self.bytes.starts_with(&[0xEF, 0xBB, 0xBF]) => {
                    // A UTF-8 byte-order mark: editors write it, AWS's console strips it. Accept.
                    self.pos += 3;
                }
                _ => return,
            }
        }
    }

    fn unicode_space(&self) -> Option<(usize, &'static str)> {
        self.at_unicode_space(self.pos)
    }

    /// Spaces that web pages put into copied code: no-break, em/en/thin spaces, zero-width space.
    fn at_unicode_space(&self, at: usize) -> Option<(usize, &'static str)> {
        let c = self.src.get(at..)?.chars().next()?;
        let name = match c {
            '\u{00A0}' => "a no-break space (U+00A0)",
            '\u{2000}'..='\u{200A}' => "a typographic space",
            '\u{200B}' => "a zero-width space (U+200B)",
            '\u{202F}' => "a narrow no-break space (U+202F)",
            '\u{3000}' => "an ideographic space (U+3000)",
            _ => return None,
        };
        Some((c.len_utf8(), name))
    }

    fn value(&mut self) -> Result<Value, Fatal> {
        let start = self.pos;
        match self.peek() {
            Some(b'{') => self.nested(|r| r.object()),
            Some(b'[') => self.nested(|r| r.array()),
            Some(b'"') => {
                let s = self.string(b'"')?;
                Ok(Value {
                    kind: Kind::String(s),
                    span: Span::new(start, self.pos),
                })
            }
            Some(b'\'') => {
                let s = self.string(b'\'')?;
                self.err(
                    codes::JSON_SINGLE_QUOTE,
                    Span::new(start, self.pos),
                    "strings must use double quotes",
                )
                .label("single-quoted string")
                .help("replace the single quotes with double quotes");
                Ok(Value {
                    kind: Kind::String(s),
                    span: Span::new(start, self.pos),
                })
            }
            Some(b'-' | b'0'..=b'9' | b'+' | b'.') => self.number(),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                let word = self.word();
                let kind = match word {
                    "true" => Kind::Bool(true),
                    "false" => Kind::Bool(false),
                    "null" => Kind::Null,
                    other => {
                        let other = other.to_string();
                        self.err(
                            codes::JSON_UNQUOTED_STRING,
                            Span::new(start, self.pos),
                            format!("`{other}` is not a JSON value"),
                        )
                        .label("unquoted text")
                        .help(format!("strings must be quoted: \"{other}\""));
                        Kind::String(other)
                    }
                };
                Ok(Value {
                    kind,
                    span: Span::new(start, self.pos),
                })
            }
            Some(_) => {
                let end = next_char_end(self.src, start);
                let found = self.src.get(start..end).unwrap_or("?").to_string();
                self.err(
                    codes::JSON_UNEXPECTED,
                    Span::new(start, end),
                    format!("expected a JSON value, found `{found}`"),
                )
                .label("expected a value here")
                .help("a value is an object, array, string, number, `true`, `false` or `null`");
                Err(Fatal)
            }
            None => {
                self.err(
                    codes::JSON_EOF,
                    Span::new(start, start),
                    "the document ends where a value was expected",
                )
                .label("expected a value here");
                Err(Fatal)
            }
        }
    }

    fn nested(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<Value, Fatal>,
    ) -> Result<Value, Fatal> {
        if self.depth >= MAX_DEPTH {
            let at = self.pos;
            self.err(
                codes::JSON_TOO_DEEP,
                Span::new(at, at + 1),
                format!("nesting deeper than {MAX_DEPTH} levels"),
            )
            .label("too deep")
            .help("an IAM policy needs at most six levels of nesting");
            return Err(Fatal);
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn word(&mut self) -> &str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'$' | b'-' | b':' | b'.') {
                self.pos += 1;
            } else {
                break;
            }
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    fn number(&mut self) -> Result<Value, Fatal> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = self.src.get(start..self.pos).unwrap_or("").to_string();
        if !is_json_number(&text) {
            self.err(codes::JSON_NUMBER, Span::new(start, self.pos), format!("`{text}` is not a valid JSON number"))
                .label("invalid number")
                .help("JSON numbers have no leading `+`, no leading zeros and digits on both sides of `.`; quote the value if it is text");
        }
        Ok(Value {
            kind: Kind::Number(text),
            span: Span::new(start, self.pos),
        })
    }

    fn string(&mut self, quote: u8) -> Result<String, Fatal> {
        let start = self.pos;
        self.pos += 1;
        let plain = |r: &Self, from: usize| {
            r.bytes.get(from..).map_or(0, |rest| {
                rest.iter()
                    .position(|&c| c == quote || c == b'\\' || c < 0x20)
                    .unwrap_or(rest.len())
            })
        };
        // Most strings have no escape: copied once, at their exact size.
        let first = plain(self, self.pos);
        if self.bytes.get(self.pos + first) == Some(&quote) {
            let s = self.src.get(self.pos..self.pos + first).unwrap_or("");
            self.pos += first + 1;
            return Ok(s.to_string());
        }
        let mut out = String::with_capacity(first + 8);
        loop {
            // Copy the run of plain bytes at once.
            let run_start = self.pos;
            self.pos += plain(self, self.pos);
            out.push_str(self.src.get(run_start..self.pos).unwrap_or(""));
            match self.peek() {
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out),
                Some(b'\n') | None => {
                    let end = self.pos;
                    self.err(
                        codes::JSON_UNTERMINATED_STRING,
                        Span::new(start, end),
                        "this string is never closed",
                    )
                    .label("string starts here")
                    .help("add the closing `\"` before the end of the line");
                    return Err(Fatal);
                }
                Some(c) => {
                    let at = self.pos;
                    self.pos += 1;
                    self.err(
                        codes::JSON_CONTROL_CHARACTER,
                        Span::new(at, at + 1),
                        format!("control character U+{:04X} inside a string", c),
                    )
                    .label("must be escaped")
                    .help("write it as an escape such as \\t or \\u0009");
                    out.push(char::from(c));
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) {
        let at = self.pos;
        self.pos += 1;
        let c = self.peek();
        self.pos += usize::from(c.is_some());
        let ch = match c {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => match self.hex4() {
                Some(hi @ 0xD800..=0xDBFF) => {
                    let save = self.pos;
                    if self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u") {
                        self.pos += 2;
                        match self.hex4() {
                            Some(lo @ 0xDC00..=0xDFFF) => {
                                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                char::from_u32(cp).unwrap_or('\u{FFFD}')
                            }
                            _ => {
                                self.pos = save;
                                self.bad_escape(at, "an unpaired surrogate");
                                '\u{FFFD}'
                            }
                        }
                    } else {
                        self.bad_escape(at, "an unpaired surrogate");
                        '\u{FFFD}'
                    }
                }
                Some(cp) => match char::from_u32(cp) {
                    Some(c) => c,
                    None => {
                        self.bad_escape(at, "an unpaired surrogate");
                        '\u{FFFD}'
                    }
                },
                None => {
                    self.bad_escape(at, "`\\u` must be followed by four hex digits");
                    '\u{FFFD}'
                }
            },
            _ => {
                // Step back over a multi-byte character so the span stays on a char boundary.
                self.pos = next_char_end(self.src, at + 1).max(at + 1);
                let shown = self.src.get(at..self.pos).unwrap_or("\\").to_string();
                self.bad_escape(at, &format!("`{shown}` is not a JSON escape"));
                return;
            }
        };
        out.push(ch);
    }

    fn bad_escape(&mut self, at: usize, why: &str) {
        let end = self.pos.max(at + 1);
        self.err(codes::JSON_ESCAPE, Span::new(at, end), format!("invalid escape: {why}"))
            .label("invalid escape")
            .help("valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX; write a literal backslash as \\\\");
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.src.get(self.pos..self.pos + 4)?;
        if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        u32::from_str_radix(h, 16).ok()
    }

    fn array(&mut self) -> Result<Value, Fatal> {
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        let mut comma: Option<usize> = None;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b']') => {
                    if let Some(c) = comma {
                        self.trailing_comma(c, "]");
                    }
                    self.pos += 1;
                    return Ok(Value {
                        kind: Kind::Array(items),
                        span: Span::new(open, self.pos),
                    });
                }
                None => return Err(self.unclosed(open, "array", "]")),
                Some(b'}') => {
                    let at = self.pos;
                    self.err(
                        codes::JSON_MISMATCHED_BRACKET,
                        Span::new(at, at + 1),
                        "`}` closes an array",
                    )
                    .label("expected `]`")
                    .related(Span::new(open, open + 1), "the array opens here")
                    .help("close the array with `]` before closing the object");
                    return Err(Fatal);
                }
                Some(b',') if comma.is_some() || items.is_empty() => {
                    let at = self.pos;
                    self.err(
                        codes::JSON_EXTRA_COMMA,
                        Span::new(at, at + 1),
                        "a comma with no value before it",
                    )
                    .label("unexpected comma")
                    .help("remove the extra comma");
                    self.pos += 1;
                    comma = Some(at);
                    continue;
                }
                _ => {}
            }
            if !items.is_empty() && comma.is_none() {
                let at = self.pos;
                self.err(
                    codes::JSON_MISSING_COMMA,
                    Span::new(at, at),
                    "missing `,` between array elements",
                )
                .label("expected `,` here")
                .help("separate array elements with commas");
            }
            items.push(self.value()?);
            self.skip_ws();
            comma = None;
            if self.peek() == Some(b',') {
                comma = Some(self.pos);
                self.pos += 1;
            } else if !matches!(self.peek(), Some(b']' | b'"' | b'{' | b'[' | b'}') | None) {
                let at = self.pos;
                let end = next_char_end(self.src, at);
                self.err(
                    codes::JSON_EXPECTED_COMMA,
                    Span::new(at, end),
                    "expected `,` or `]` after an array element",
                )
                .label("unexpected character")
                .related(Span::new(open, open + 1), "the array opens here");
                return Err(Fatal);
            }
        }
    }

    fn object(&mut self) -> Result<Value, Fatal> {
        let open = self.pos;
        self.pos += 1;
        let mut members: Vec<Member> = Vec::new();
        let mut index: Option<std::collections::HashMap<String, usize>> = None;
        let mut comma: Option<usize> = None;
        loop {
            self.skip_ws();
            let key_start = self.pos;
            let key = match self.peek() {
                Some(b'}') => {
                    if let Some(c) = comma {
                        self.trailing_comma(c, "}");
                    }
                    self.pos += 1;
                    return Ok(Value {
                        kind: Kind::Object(members),
                        span: Span::new(open, self.pos),
                    });
                }
                None => return Err(self.unclosed(open, "object", "}")),
                Some(b']') => {
                    let at = self.pos;
                    self.err(
                        codes::JSON_MISMATCHED_BRACKET,
                        Span::new(at, at + 1),
                        "`]` closes an object",
                    )
                    .label("expected `}`")
                    .related(Span::new(open, open + 1), "the object opens here")
                    .help("close the object with `}` before closing the array");
                    return Err(Fatal);
                }
                Some(b',') => {
                    let at = self.pos;
                    self.err(
                        codes::JSON_EXTRA_COMMA,
                        Span::new(at, at + 1),
                        "a comma with no member before it",
                    )
                    .label("unexpected comma")
                    .help("remove the extra comma");
                    self.pos += 1;
                    comma = Some(at);
                    continue;
                }
                Some(q @ (b'"' | b'\'')) => {
                    if !members.is_empty() && comma.is_none() {
                        self.missing_member_comma(key_start);
                    }
                    let k = self.string(q)?;
                    if q == b'\'' {
                        self.err(
                            codes::JSON_SINGLE_QUOTE,
                            Span::new(key_start, self.pos),
                            "keys must use double quotes",
                        )
                        .label("single-quoted key")
                        .help("replace the single quotes with double quotes");
                    }
                    k
                }
                Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'$' => {
                    if !members.is_empty() && comma.is_none() {
                        self.missing_member_comma(key_start);
                    }
                    let w = self.word().trim_end_matches(':').to_string();
                    self.pos = key_start + w.len();
                    self.err(
                        codes::JSON_UNQUOTED_KEY,
                        Span::new(key_start, self.pos),
                        format!("key `{w}` is not quoted"),
                    )
                    .label("unquoted key")
                    .help(format!("JSON keys are strings: \"{w}\""));
                    w
                }
                Some(_) => {
                    let at = self.pos;
                    let end = next_char_end(self.src, at);
                    self.err(
                        codes::JSON_EXPECTED_KEY,
                        Span::new(at, end),
                        "expected a quoted key or `}`",
                    )
                    .label("unexpected character")
                    .related(Span::new(open, open + 1), "the object opens here");
                    return Err(Fatal);
                }
            };
            let key_span = Span::new(key_start, self.pos);
            self.skip_ws();
            if self.peek() == Some(b':') {
                self.pos += 1;
            } else {
                let at = self.pos;
                let end = next_char_end(self.src, at);
                self.err(
                    codes::JSON_EXPECTED_COLON,
                    Span::new(at, end.max(at)),
                    format!("expected `:` after key `{key}`"),
                )
                .label("expected `:`")
                .related(key_span, "this key");
                return Err(Fatal);
            }
            self.skip_ws();
            let value = self.value()?;
            if members.len() == 16 && index.is_none() {
                // Past a handful of keys, look duplicates up in a map so hostile objects stay linear.
                index = Some(
                    members
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(i, m)| (m.key.clone(), i))
                        .collect(),
                );
            }
            if let Some(first) = find_member(&members, &index, &key) {
                let first_span = first.key_span;
                self.diags.push(
                    Diagnostic::error(codes::JSON_DUPLICATE_KEY, key_span, format!("duplicate key `{key}`"))
                        .label("second occurrence")
                        .related(first_span, "first occurrence")
                        .help(if key == "Statement" {
                            "put all statements in one `Statement` array; JSON readers keep only the last duplicate, which silently drops statements".to_string()
                        } else {
                            format!("keep one `{key}`; JSON readers keep only the last duplicate, which silently changes the policy")
                        })
                        .aws("JSON_SYNTAX_ERROR"),
                );
            }
            if let Some(ix) = index.as_mut() {
                ix.entry(key.clone()).or_insert(members.len());
            }
            members.push(Member {
                key,
                key_span,
                value,
            });
            self.skip_ws();
            comma = None;
            if self.peek() == Some(b',') {
                comma = Some(self.pos);
                self.pos += 1;
            } else if !matches!(self.peek(), Some(b'}' | b'"' | b']') | None) {
                let at = self.pos;
                let end = next_char_end(self.src, at);
                self.err(
                    codes::JSON_EXPECTED_COMMA,
                    Span::new(at, end),
                    "expected `,` or `}` after an object member",
                )
                .label("unexpected character")
                .related(Span::new(open, open + 1), "the object opens here");
                return Err(Fatal);
            }
        }
    }

    fn missing_member_comma(&mut self, at: usize) {
        self.err(
            codes::JSON_MISSING_COMMA,
            Span::new(at, at),
            "missing `,` between object members",
        )
        .label("expected `,` before this key")
        .help("separate members with commas");
    }

    fn trailing_comma(&mut self, at: usize, closer: &str) {
        self.err(
            codes::JSON_TRAILING_COMMA,
            Span::new(at, at + 1),
            format!("trailing comma before `{closer}`"),
        )
        .label("remove this comma")
        .help("JSON does not allow a comma after the last element");
    }

    fn unclosed(&mut self, open: usize, what: &str, closer: &str) -> Fatal {
        let end = self.bytes.len();
        self.err(
            codes::JSON_UNCLOSED,
            Span::new(end, end),
            format!("the document ends inside an {what}"),
        )
        .label(format!("expected `{closer}`"))
        .related(
            Span::new(open, open + 1),
            format!("this {what} is never closed"),
        )
        .help(format!("add the missing `{closer}`"));
        Fatal
    }
}

fn find_member<'m>(
    members: &'m [Member],
    index: &Option<std::collections::HashMap<String, usize>>,
    key: &str,
) -> Option<&'m Member> {
    match index {
        Some(ix) => ix.get(key).and_then(|&i| members.get(i)),
        None => members.iter().find(|m| m.key == key),
    }
}

fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 || (int_len > 1 && b.get(int_start) == Some(&b'0')) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let f = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == f {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let e = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<&'static str> {
        let mut d = Vec::new();
        read(src, &mut d);
        d.iter().map(|d| d.code).collect()
    }

    #[test]
    fn valid() {
        assert!(codes(r#"{"a": [1, -2.5e3, "x\u00e9\n", true, false, null, {}]}"#).is_empty());
    }
    #[test]
    fn trailing_comma() {
        assert_eq!(
            codes(r#"{"a": [1,],}"#),
            [codes::JSON_TRAILING_COMMA, codes::JSON_TRAILING_COMMA]
        );
    }
    #[test]
    fn duplicate_nested() {
        assert_eq!(
            codes(r#"{"a": {"b": 1, "b": 2}}"#),
            [codes::JSON_DUPLICATE_KEY]
        );
    }
    #[test]
    fn comments_and_unquoted() {
        assert_eq!(
            codes("{/* c */ a: 1 // x\n}"),
            [
                codes::JSON_COMMENT,
                codes::JSON_UNQUOTED_KEY,
                codes::JSON_COMMENT
            ]
        );
    }
    #[test]
    fn web_page_spaces() {
        assert_eq!(
            codes("{\n\u{a0}\u{a0}\"a\": 1}"),
            [codes::JSON_UNICODE_SPACE]
        );
    }
    #[test]
    fn many_keys_duplicate() {
        let mut s: String = (0..100).map(|i| format!("\"k{i}\": 1,")).collect();
        s.push_str("\"k3\": 2");
        assert_eq!(codes(&format!("{{{s}}}")), [codes::JSON_DUPLICATE_KEY]);
    }
    #[test]
    fn two_values() {
        assert_eq!(codes("{} {}"), [codes::JSON_TRAILING_CONTENT]);
    }
    #[test]
    fn bad_escape_and_numbers() {
        assert_eq!(
            codes(r#"{"a": "\q", "b": 01, "c": +1}"#),
            [codes::JSON_ESCAPE, codes::JSON_NUMBER, codes::JSON_NUMBER]
        );
    }
    #[test]
    fn deep() {
        let s = "[".repeat(100_000);
        assert_eq!(codes(&s), [codes::JSON_TOO_DEEP]);
    }
    #[test]
    fn unclosed() {
        assert_eq!(codes(r#"{"a": [1, 2"#), [codes::JSON_UNCLOSED]);
        assert_eq!(codes(r#"{"a": "x"#), [codes::JSON_UNTERMINATED_STRING]);
    }
    #[test]
    fn missing_open_brace() {
        assert_eq!(
            codes(r#""Version": "x"}"#),
            [codes::JSON_MISSING_OPEN_BRACE]
        );
    }
    #[test]
    fn number_grammar() {
        for ok in ["0", "-0", "10", "1.5", "1e3", "1E-3", "-2.5e+10"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in ["", "-", "01", "+1", ".5", "1.", "1e", "1e+", "1-2"] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
