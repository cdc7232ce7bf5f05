//! JSON tree → policy syntax tree, with every content mistake of the document reported in one pass.

use crate::ast::*;
use crate::catalog::catalog;
use crate::grammar::{self, GrammarError, TemplateMode};
use crate::value::{self, DateForm, Decimal};
use diag::Diagnostic;
use diag::codes;
use diag::json::{self, Kind, Member, Value};
use diag::{Source, Span, Spanned};

/// Largest document accepted, in bytes. The largest AWS managed policy is about 230 KB and IAM's own
/// limits are far smaller (6,144 characters for a managed policy); 8 MiB leaves room for generated
/// resource policies while bounding time and memory.
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;

/// Parses a policy from bytes (checks UTF-8 first). See [`parse_source`].
pub fn parse_bytes(name: &str, bytes: &[u8]) -> (Source, Option<PolicyDocument>, Vec<Diagnostic>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            let src = Source::new(name, s);
            let (doc, d) = parse_source(&src);
            (src, doc, d)
        }
        Err(e) => {
            let at = e.valid_up_to();
            let src = Source::new(name, String::from_utf8_lossy(bytes).into_owned());
            // Lossy decoding keeps the valid prefix byte for byte, so the offset still points at the bad byte.
            let d = Diagnostic::error(
                codes::JSON_UTF8,
                Span::new(at, at + 1),
                format!("invalid UTF-8 at byte {at}"),
            )
            .label("not UTF-8")
            .help("save the policy as UTF-8; IAM policies are UTF-8 JSON")
            .aws("JSON_SYNTAX_ERROR");
            (src, None, vec![d])
        }
    }
}

/// Parses a policy document and returns it with every diagnostic. The document is returned whenever the
/// JSON could be read, even when content errors were found (so type validation can still run and report
/// its findings in the same pass); callers must check the diagnostics for errors before using it.
pub fn parse_source(src: &Source) -> (Option<PolicyDocument>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let text = src.text();
    if text.len() > MAX_DOCUMENT_BYTES {
        diags.push(
            Diagnostic::error(
                codes::IAM_TOO_LARGE,
                Span::new(0, 0),
                format!(
                    "the document is {} bytes; the limit is {} bytes",
                    text.len(),
                    MAX_DOCUMENT_BYTES
                ),
            )
            .label("document starts here")
            .help("IAM policies are at most a few kilobytes; split the document"),
        );
        return (None, diags);
    }
    let Some(root) = json::read(text, &mut diags) else {
        return (None, diags);
    };
    let doc = Builder {
        src: text,
        diags: &mut diags,
        variables: true,
    }
    .document(src, &root);
    (doc, diags)
}

/// Builds a policy document from a JSON object already read with [`diag::json::read`] out of `src`: an
/// inline policy inside a larger file (a test suite), built without writing it out and reading it again,
/// and located on that file's own lines. `src` is the whole file; `root` one of its nodes.
pub fn parse_node(src: &Source, root: &Value) -> (Option<PolicyDocument>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let len = root.span.end.saturating_sub(root.span.start);
    if len > MAX_DOCUMENT_BYTES {
        diags.push(
            Diagnostic::error(
                codes::IAM_TOO_LARGE,
                Span::new(root.span.start, root.span.start),
                format!("the document is {len} bytes; the limit is {MAX_DOCUMENT_BYTES} bytes"),
            )
            .label("document starts here")
            .help("IAM policies are at most a few kilobytes; split the document"),
        );
        return (None, diags);
    }
    let doc = Builder {
        src: src.text(),
        diags: &mut diags,
        variables: true,
    }
    .document(src, root);
    (doc, diags)
}

struct Builder<'a> {
    src: &'a str,
    diags: &'a mut Vec<Diagnostic>,
    variables: bool,
}

const TOP_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STMT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const PRINCIPAL_KEYS: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

impl Builder<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// The offset of a string's content when it was written without escapes.
    fn content_base(&self, v: &Value, s: &str) -> Option<usize> {
        let inner = self
            .src
            .get(v.span.start + 1..v.span.end.saturating_sub(1))?;
        (inner == s).then_some(v.span.start + 1)
    }

    fn grammar_diag(&self, e: GrammarError, v: &Value, s: &str) -> Diagnostic {
        let span = match self.content_base(v, s) {
            Some(b) => Span::new(b + e.offset, b + e.offset + e.len.max(1)),
            None => v.span,
        };
        let mut d = Diagnostic::error(e.code, span, e.message).label("here");
        if let Some(h) = e.help {
            d = d.help(h);
        }
        if let Some(a) = e.aws {
            d = d.aws(a);
        }
        d
    }

    /// An unknown member: Access Analyzer's `INVALID_POLICY_ELEMENT`, or `INVALID_PRINCIPAL_KEY` inside
    /// `Principal`.
    fn unknown_key(&mut self, m: &Member, known: &[&str], what: &str) {
        let mut d = Diagnostic::error(
            codes::IAM_UNKNOWN_ELEMENT,
            m.key_span,
            format!("unknown {what} element `{}`", m.key),
        )
        .label("not an element of a policy")
        .aws(if what == "principal" {
            "INVALID_PRINCIPAL_KEY"
        } else {
            "INVALID_POLICY_ELEMENT"
        });
        if let Some(s) = grammar::did_you_mean(&m.key, known) {
            d = d.help(format!(
                "did you mean `{s}`? element names are case-sensitive"
            ));
        } else {
            d = d.help(format!("{what} elements are {}", known.join(", ")));
        }
        self.push(d);
    }

    fn expect_string<'v>(&mut self, v: &'v Value, what: &str) -> Option<&'v str> {
        match &v.kind {
            Kind::String(s) => Some(s),
            other => {
                self.push(
                    Diagnostic::error(
                        codes::IAM_TYPE,
                        v.span,
                        format!("{what} must be a string, found {}", other.name()),
                    )
                    .label("expected a string")
                    .aws("DATA_TYPE_MISMATCH"),
                );
                None
            }
        }
    }

    fn document(&mut self, src: &Source, root: &Value) -> Option<PolicyDocument> {
        let Kind::Object(members) = &root.kind else {
            self.push(
                Diagnostic::error(
                    codes::IAM_NOT_OBJECT,
                    root.span,
                    format!("a policy is a JSON object, found {}", root.kind.name()),
                )
                .label("expected `{`")
                .help("a policy is {\"Version\": \"2012-10-17\", \"Statement\": [...]}")
                .aws("JSON_SYNTAX_ERROR"),
            );
            return None;
        };
        let mut version = None;
        let mut id = None;
        let mut stmt_value = None;
        for m in members {
            match m.key.as_str() {
                "Version" => {
                    if let Some(s) = self.expect_string(&m.value, "`Version`") {
                        match s {
                            "2012-10-17" => version = Some(Spanned::new(Version::V2012_10_17, m.value.span)),
                            "2008-10-17" => version = Some(Spanned::new(Version::V2008_10_17, m.value.span)),
                            other => self.push(
                                Diagnostic::error(codes::IAM_VERSION, m.value.span, format!("unknown policy version `{other}`"))
                                    .label("not a policy language version")
                                    .help("use \"2012-10-17\" (the only other version is the legacy \"2008-10-17\")")
                                    .aws("INVALID_VERSION"),
                            ),
                        }
                    }
                }
                "Id" => {
                    if let Some(s) = self.expect_string(&m.value, "`Id`") {
                        id = Some(Spanned::new(s.to_string(), m.value.span));
                    }
                }
                "Statement" => stmt_value = Some(m),
                _ => self.unknown_key(m, TOP_KEYS, "policy"),
            }
        }
        self.variables = version
            .as_ref()
            .is_some_and(|v: &Spanned<Version>| v.value == Version::V2012_10_17);
        if !self.variables && self.src.contains("${") {
            let at = self.src.find("${").unwrap_or(0);
            self.push(
                Diagnostic::warning(
                    codes::IAM_VARIABLE_VERSION,
                    Span::new(at, at + 2),
                    "`${…}` is literal text: policy variables need \"Version\": \"2012-10-17\"",
                )
                .label("not substituted")
                .help("add \"Version\": \"2012-10-17\" to use policy variables")
                .aws("VARIABLE_UNSUPPORTED_IN_VERSION"),
            );
        }
        let Some(sm) = stmt_value else {
            self.push(
                Diagnostic::error(
                    codes::IAM_MISSING_STATEMENT,
                    Span::new(root.span.start, root.span.start + 1),
                    "the policy has no `Statement`",
                )
                .label("this object needs a `Statement` element")
                .help("add \"Statement\": [{\"Effect\": …, \"Action\": …, \"Resource\": …}]")
                .aws("MISSING_STATEMENT"),
            );
            return None;
        };
        let mut statements = Vec::new();
        let array = match &sm.value.kind {
            Kind::Object(_) => {
                statements.extend(self.statement(&sm.value));
                false
            }
            Kind::Array(items) => {
                if items.is_empty() {
                    self.push(
                        Diagnostic::error(
                            codes::IAM_EMPTY_STATEMENT,
                            sm.value.span,
                            "`Statement` is an empty array",
                        )
                        .label("no statements")
                        .help("a policy needs at least one statement"),
                    );
                }
                for it in items {
                    if matches!(it.kind, Kind::Object(_)) {
                        statements.extend(self.statement(it));
                    } else {
                        self.push(
                            Diagnostic::error(
                                codes::IAM_TYPE,
                                it.span,
                                format!("a statement must be an object, found {}", it.kind.name()),
                            )
                            .label("expected a statement object")
                            .aws("DATA_TYPE_MISMATCH"),
                        );
                    }
                }
                true
            }
            other => {
                self.push(
                    Diagnostic::error(
                        codes::IAM_TYPE,
                        sm.value.span,
                        format!(
                            "`Statement` must be an object or an array, found {}",
                            other.name()
                        ),
                    )
                    .label("expected a statement or an array of statements")
                    .aws("DATA_TYPE_MISMATCH"),
                );
                false
            }
        };
        // Sids must be unique within a policy.
        let mut seen: std::collections::HashMap<&str, &Spanned<String>> =
            std::collections::HashMap::new();
        for s in &statements {
            let Some(sid) = &s.sid else { continue };
            if sid.value.is_empty() {
                continue;
            }
            if let Some(first) = seen.insert(sid.value.as_str(), sid) {
                self.push(
                    Diagnostic::error(
                        codes::IAM_DUPLICATE_SID,
                        sid.span,
                        format!("duplicate statement id `{}`", sid.value),
                    )
                    .label("second use")
                    .related(first.span, "first use")
                    .help("statement ids (Sid) must be unique within a policy")
                    .aws("UNIQUE_SIDS_REQUIRED"),
                );
            }
        }
        Some(PolicyDocument {
            source: src.clone(),
            version,
            id,
            statements,
            statement_array: array,
            span: root.span,
        })
    }

    fn statement(&mut self, v: &Value) -> Option<Statement> {
        let Kind::Object(members) = &v.kind else {
            return None;
        };
        let mut sid = None;
        let mut effect = None;
        let mut principal: Option<(&Member, bool)> = None;
        let mut action: Option<(&Member, bool)> = None;
        let mut resource: Option<(&Member, bool)> = None;
        let mut condition = None;
        let mut ok = true;
        for m in members {
            match m.key.as_str() {
                "Sid" => {
                    if let Some(s) = self.expect_string(&m.value, "`Sid`") {
                        if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
                            self.push(
                                Diagnostic::warning(codes::IAM_SID_CHARACTERS, m.value.span, format!("statement id `{s}` has characters IAM does not accept"))
                                    .label("only A-Z, a-z and 0-9 in IAM policies")
                                    .help("IAM policies accept only ASCII letters and digits in Sid; other services are looser")
                                    .aws("UNSUPPORTED_SID"),
                            );
                        }
                        sid = Some(Spanned::new(s.to_string(), m.value.span));
                    }
                }
                "Effect" => {
                    if let Some(s) = self.expect_string(&m.value, "`Effect`") {
                        match s {
                            "Allow" => effect = Some(Spanned::new(Effect::Allow, m.value.span)),
                            "Deny" => effect = Some(Spanned::new(Effect::Deny, m.value.span)),
                            other => {
                                ok = false;
                                let mut d = Diagnostic::error(
                                    codes::IAM_EFFECT,
                                    m.value.span,
                                    format!("invalid effect `{other}`"),
                                )
                                .label("must be `Allow` or `Deny`")
                                .aws("INVALID_EFFECT");
                                d = if other.eq_ignore_ascii_case("allow")
                                    || other.eq_ignore_ascii_case("deny")
                                {
                                    let fixed = if other.eq_ignore_ascii_case("allow") {
                                        "Allow"
                                    } else {
                                        "Deny"
                                    };
                                    d.help(format!("Effect is case-sensitive: write `{fixed}`"))
                                } else {
                                    d.help("Effect is `Allow` or `Deny`")
                                };
                                self.push(d);
                            }
                        }
                    } else {
                        ok = false;
                    }
                }
                "Principal" => self.pair(&mut principal, m, false, ("Principal", "NotPrincipal")),
                "NotPrincipal" => self.pair(&mut principal, m, true, ("Principal", "NotPrincipal")),
                "Action" => self.pair(&mut action, m, false, ("Action", "NotAction")),
                "NotAction" => self.pair(&mut action, m, true, ("Action", "NotAction")),
                "Resource" => self.pair(&mut resource, m, false, ("Resource", "NotResource")),
                "NotResource" => self.pair(&mut resource, m, true, ("Resource", "NotResource")),
                "Condition" => condition = Some(m),
                _ => self.unknown_key(m, STMT_KEYS, "statement"),
            }
        }
        let brace = Span::new(v.span.start, v.span.start + 1);
        if effect.is_none() && ok {
            self.push(
                Diagnostic::error(
                    codes::IAM_MISSING_EFFECT,
                    brace,
                    "the statement has no `Effect`",
                )
                .label("this statement")
                .help("add \"Effect\": \"Allow\" or \"Effect\": \"Deny\"")
                .aws("MISSING_EFFECT"),
            );
        }
        if action.is_none() {
            self.push(
                Diagnostic::error(
                    codes::IAM_MISSING_ACTION,
                    brace,
                    "the statement has no `Action` or `NotAction`",
                )
                .label("this statement")
                .help("add an Action element such as \"Action\": \"s3:GetObject\"")
                .aws("MISSING_ACTION"),
            );
        }
        let principal = principal.and_then(|(m, neg)| self.principal(&m.value, neg));
        let action = action.and_then(|(m, neg)| self.actions(&m.value, neg, &m.key));
        let resource = resource.and_then(|(m, neg)| self.resources(&m.value, neg, &m.key));
        let conditions = condition
            .map(|m| self.conditions(&m.value))
            .unwrap_or_default();
        Some(Statement {
            sid,
            effect: effect?,
            principal,
            action,
            resource,
            conditions,
            has_condition_element: condition.is_some(),
            span: v.span,
        })
    }

    fn pair<'m>(
        &mut self,
        slot: &mut Option<(&'m Member, bool)>,
        m: &'m Member,
        neg: bool,
        (a, b): (&str, &str),
    ) {
        if let Some((first, _)) = slot {
            if first.key != m.key {
                self.push(
                    Diagnostic::error(
                        codes::IAM_ELEMENT_COMBINATION,
                        m.key_span,
                        format!("`{a}` and `{b}` cannot be in the same statement"),
                    )
                    .label("second element")
                    .related(first.key_span, "first element")
                    .help(format!("keep either `{a}` or `{b}`"))
                    .aws("UNSUPPORTED_ELEMENT_COMBINATION"),
                );
            }
            return;
        }
        *slot = Some((m, neg));
    }

    /// A string or a non-empty array of strings.
    fn string_list<'v>(
        &mut self,
        v: &'v Value,
        what: &str,
    ) -> Option<(Vec<(&'v str, &'v Value)>, bool)> {
        match &v.kind {
            Kind::String(s) => Some((vec![(s.as_str(), v)], false)),
            Kind::Array(items) => {
                if items.is_empty() {
                    self.push(
                        Diagnostic::error(
                            codes::IAM_EMPTY_LIST,
                            v.span,
                            format!("`{what}` is an empty array"),
                        )
                        .label("nothing listed")
                        .help(format!("list at least one value in `{what}`"))
                        .aws(if what.ends_with("Action") {
                            "EMPTY_ARRAY_ACTION"
                        } else if what.ends_with("Resource") {
                            "EMPTY_ARRAY_RESOURCE"
                        } else {
                            "EMPTY_ARRAY_PRINCIPAL"
                        }),
                    );
                    return None;
                }
                let mut out = Vec::with_capacity(items.len());
                for it in items {
                    // The label is written only for an entry that is not a string.
                    let s = match &it.kind {
                        Kind::String(s) => Some(s.as_str()),
                        _ => self.expect_string(it, &format!("each `{what}` entry")),
                    };
                    if let Some(s) = s {
                        out.push((s, it));
                    }
                }
                Some((out, true))
            }
            other => {
                self.push(
                    Diagnostic::error(
                        codes::IAM_TYPE,
                        v.span,
                        format!(
                            "`{what}` must be a string or an array of strings, found {}",
                            other.name()
                        ),
                    )
                    .label("expected a string or array")
                    .aws("DATA_TYPE_MISMATCH"),
                );
                None
            }
        }
    }

    fn actions(&mut self, v: &Value, negated: bool, what: &str) -> Option<ActionBlock> {
        let (list, array) = self.string_list(v, what)?;
        let mut items = Vec::with_capacity(list.len());
        for (s, sv) in list {
            match grammar::action(s, sv.span) {
                Ok(a) => {
                    if s.chars().any(char::is_whitespace) {
                        self.push(
                            Diagnostic::warning(
                                codes::IAM_ACTION_WHITESPACE,
                                sv.span,
                                format!("action `{s}` contains whitespace and will never match"),
                            )
                            .label("whitespace")
                            .help("remove the spaces"),
                        );
                    }
                    items.push(a);
                }
                Err(e) => {
                    let d = self.grammar_diag(e, sv, s);
                    self.push(d);
                }
            }
        }
        Some(ActionBlock {
            negated,
            items,
            array,
            span: v.span,
        })
    }

    /// Only single-valued keys can be substituted [VAR]. IAM stores a policy that names a documented
    /// multivalued key as a variable (no validator refuses it), and the element holding it matches
    /// nothing: a warning, and the evaluator never resolves such a variable.
    fn multivalued_variables<'v>(
        &mut self,
        vars: impl Iterator<Item = &'v crate::ast::PolicyVariable>,
    ) {
        for var in vars {
            if catalog().is_multivalued(&var.key) {
                self.push(
                    Diagnostic::warning(
                        codes::IAM_VARIABLE_MULTIVALUED,
                        var.span,
                        format!(
                            "`{}` is multivalued and cannot be a policy variable",
                            var.key
                        ),
                    )
                    .label("multivalued key: this element matches nothing")
                    .help("only single-valued keys can be substituted; AWS stores the policy, but the element holding this variable never matches"),
                );
            }
        }
    }

    fn resources(&mut self, v: &Value, negated: bool, what: &str) -> Option<ResourceBlock> {
        let (list, array) = self.string_list(v, what)?;
        let mut items = Vec::with_capacity(list.len());
        for (s, sv) in list {
            if s == "*" {
                items.push(ResourcePattern {
                    raw: s.into(),
                    kind: ResourceKind::Any,
                    span: sv.span,
                });
                continue;
            }
            let base = self.content_base(sv, s);
            let parsed = if let Some(rest) = s.strip_prefix("execute-api:") {
                // API Gateway resource policies may abbreviate `arn:aws:execute-api:region:account:api-id/…`
                // as `execute-api:/…`; API Gateway fills in the rest for the API the policy is attached to.
                let expanded = format!("arn:*:execute-api:*:*:*{rest}");
                grammar::arn_pattern(&expanded, self.variables, None, sv.span).map_err(|mut e| {
                    e.offset = 0;
                    e.len = s.len();
                    e
                })
            } else {
                grammar::arn_pattern(s, self.variables, base, sv.span)
            };
            match parsed {
                Ok(p) => {
                    self.arn_lints(&p, sv, s);
                    self.multivalued_variables(p.segments.iter().flat_map(|t| t.variables()));
                    items.push(ResourcePattern {
                        raw: s.into(),
                        kind: ResourceKind::Arn(p),
                        span: sv.span,
                    });
                }
                Err(e) => {
                    let d = self.grammar_diag(e, sv, s);
                    self.push(d);
                }
            }
        }
        Some(ResourceBlock {
            negated,
            items,
            array,
            span: v.span,
        })
    }

    fn arn_lints(&mut self, p: &ArnPattern, sv: &Value, raw: &str) {
        let base = self.content_base(sv, raw);
        let seg_span = |idx: usize| -> Span {
            let Some(b) = base else { return sv.span };
            let mut off = 0;
            for (i, part) in raw.splitn(6, ':').enumerate() {
                if i == idx {
                    return Span::new(b + off, b + off + part.len().max(1));
                }
                off += part.len() + 1;
            }
            sv.span
        };
        let lit = |i: usize| p.segments.get(i).and_then(Template::literal);
        if let Some(svc) = lit(2)
            && svc.chars().any(|c| c.is_ascii_uppercase())
        {
            self.push(
                Diagnostic::warning(
                    codes::IAM_ARN_SERVICE_CASE,
                    seg_span(2),
                    format!("service `{svc}` in an ARN should be lower case"),
                )
                .label("upper case never matches")
                .help("ARNs compare case-sensitively; service names are lower case")
                .aws("INVALID_ARN_SERVICE_CASE"),
            );
        }
        if let Some(region) = lit(3) {
            let valid = region.is_empty() || is_region(&region);
            if !valid {
                self.push(
                    Diagnostic::error(
                        codes::IAM_ARN_REGION,
                        seg_span(3),
                        format!("`{region}` is not a valid Region"),
                    )
                    .label("invalid Region")
                    .help("a Region looks like us-east-1; leave it empty or use `*` for any Region")
                    .aws("INVALID_ARN_REGION"),
                );
            }
        }
        if let Some(account) = lit(4)
            && !(account.is_empty() || account == "aws" || is_account(&account))
        {
            self.push(
                Diagnostic::error(
                    codes::IAM_ARN_ACCOUNT,
                    seg_span(4),
                    format!("`{account}` is not a valid account id"),
                )
                .label("an account id is 12 digits")
                .help("use the 12-digit account id, leave it empty, or use `*`")
                .aws("INVALID_ARN_ACCOUNT"),
            );
        }
    }

    fn principal(&mut self, v: &Value, negated: bool) -> Option<PrincipalBlock> {
        let value = match &v.kind {
            Kind::String(s) if s == "*" => PrincipalValue::Any,
            Kind::Object(members) => {
                let mut entries = Vec::new();
                for m in members {
                    let kind = match m.key.as_str() {
                        "AWS" => PrincipalKind::Aws,
                        "Service" => PrincipalKind::Service,
                        "Federated" => PrincipalKind::Federated,
                        "CanonicalUser" => PrincipalKind::CanonicalUser,
                        _ => {
                            self.unknown_key(m, PRINCIPAL_KEYS, "principal");
                            continue;
                        }
                    };
                    if let Some((list, array)) = self.string_list(&m.value, kind.as_str()) {
                        // Policy variables are allowed in resources and condition values only [VAR].
                        for (s, sv) in &list {
                            if s.contains("${") {
                                self.push(
                                    Diagnostic::error(
                                        codes::IAM_VARIABLE_PLACE,
                                        sv.span,
                                        format!("policy variables are not allowed in principals: `{s}`"),
                                    )
                                    .label("variable in a principal")
                                    .help("name the principal; to match callers by a value, use a condition such as aws:PrincipalArn with ArnLike")
                                    .aws("VARIABLE_UNSUPPORTED_IN_ELEMENT"),
                                );
                            }
                        }
                        entries.push(PrincipalEntry {
                            kind,
                            values: list
                                .into_iter()
                                .map(|(s, sv)| Spanned::new(s.to_string(), sv.span))
                                .collect(),
                            array,
                        });
                    }
                }
                if members.is_empty() {
                    self.push(
                        Diagnostic::error(codes::IAM_EMPTY_PRINCIPAL, v.span, "the principal is an empty object")
                            .label("no principal")
                            .help("name a principal: {\"AWS\": \"arn:aws:iam::123456789012:root\"} or \"*\"")
                            .aws("EMPTY_OBJECT_PRINCIPAL"),
                    );
                }
                PrincipalValue::Map(entries)
            }
            Kind::String(s) => {
                self.push(
                    Diagnostic::error(
                        codes::IAM_PRINCIPAL_FORMAT,
                        v.span,
                        format!("principal `{s}` must be `*` or an object such as {{\"AWS\": …}}"),
                    )
                    .label("bare principal")
                    .help("write {\"AWS\": \"…\"}, {\"Service\": \"…\"} or {\"Federated\": \"…\"}")
                    .aws("INVALID_PRINCIPAL_FORMAT"),
                );
                return None;
            }
            other => {
                self.push(
                    Diagnostic::error(
                        codes::IAM_TYPE,
                        v.span,
                        format!(
                            "a principal must be `*` or an object, found {}",
                            other.name()
                        ),
                    )
                    .label("expected an object")
                    .aws("DATA_TYPE_MISMATCH"),
                );
                return None;
            }
        };
        Some(PrincipalBlock {
            negated,
            value,
            span: v.span,
        })
    }

    fn conditions(&mut self, v: &Value) -> Vec<Condition> {
        let mut out = Vec::new();
        let Kind::Object(ops) = &v.kind else {
            self.push(
                Diagnostic::error(
                    codes::IAM_TYPE,
                    v.span,
                    format!("`Condition` must be an object, found {}", v.kind.name()),
                )
                .label("expected {\"Operator\": {\"key\": \"value\"}}")
                .aws("DATA_TYPE_MISMATCH"),
            );
            return out;
        };
        for op in ops {
            let operator = match grammar::operator(&op.key) {
                Ok(o) => o,
                Err(e) => {
                    let mut d = Diagnostic::error(e.code, op.key_span, e.message)
                        .label("not a condition operator");
                    if let Some(a) = e.aws {
                        d = d.aws(a);
                    }
                    if let Some(s) = grammar::did_you_mean(
                        op.key.rsplit(':').next().unwrap_or(&op.key),
                        &BaseOperator::ALL.map(BaseOperator::as_str),
                    ) {
                        d = d.help(format!("did you mean `{s}`?"));
                    } else if let Some(h) = e.help {
                        d = d.help(h);
                    }
                    self.push(d);
                    if !matches!(op.value.kind, Kind::Object(_)) {
                        self.push(
                            Diagnostic::error(
                                codes::IAM_CONDITION_BLOCK,
                                op.value.span,
                                "an operator's value must be an object of context keys",
                            )
                            .label("expected {\"key\": \"value\"}")
                            .help("write \"StringEquals\": {\"aws:PrincipalTag/team\": \"a\"}"),
                        );
                    }
                    continue;
                }
            };
            let opv = Spanned::new(operator, op.key_span);
            let Kind::Object(keys) = &op.value.kind else {
                self.push(
                    Diagnostic::error(
                        codes::IAM_CONDITION_BLOCK,
                        op.value.span,
                        format!(
                            "the value of `{}` must be an object of context keys",
                            op.key
                        ),
                    )
                    .label("expected {\"key\": \"value\"}")
                    .help("write \"StringEquals\": {\"aws:PrincipalTag/team\": \"a\"}"),
                );
                continue;
            };
            if keys.is_empty() {
                self.push(
                    Diagnostic::warning(
                        codes::IAM_CONDITION_EMPTY,
                        op.value.span,
                        format!("`{}` tests no key", op.key),
                    )
                    .label("empty")
                    .help("remove the operator or add a key"),
                );
            }
            for k in keys {
                if let Some(c) = self.condition(opv.clone(), k) {
                    out.push(c);
                }
            }
        }
        out
    }

    fn condition(&mut self, operator: Spanned<ConditionOperator>, k: &Member) -> Option<Condition> {
        let op = operator.value;
        if k.key.is_empty() {
            self.push(
                Diagnostic::error(codes::IAM_CONDITION_KEY, k.key_span, "empty condition key")
                    .label("name a context key here")
                    .aws("INVALID_CONDITION_KEY_FORMAT"),
            );
            return None;
        }
        if k.key.contains("${") {
            self.push(
                Diagnostic::error(
                    codes::IAM_VARIABLE_PLACE,
                    k.key_span,
                    "policy variables are not allowed in condition keys",
                )
                .label("variable in a key")
                .aws("VARIABLE_UNSUPPORTED_IN_ELEMENT"),
            );
            return None;
        }
        let (vals, array): (Vec<&Value>, bool) = match &k.value.kind {
            Kind::Array(items) => (items.iter().collect(), true),
            _ => (vec![&k.value], false),
        };
        if vals.is_empty() {
            self.push(
                Diagnostic::error(
                    codes::IAM_CONDITION_VALUES,
                    k.value.span,
                    format!("condition key `{}` has no values", k.key),
                )
                .label("empty array")
                .help("list at least one value")
                .aws(match op.qualifier {
                    Some(Qualifier::ForAllValues) => "EMPTY_ARRAY_CONDITION_FORALLVALUES",
                    Some(Qualifier::ForAnyValue) => "EMPTY_ARRAY_CONDITION_FORANYVALUE",
                    None if op.if_exists => "EMPTY_ARRAY_CONDITION_IFEXISTS",
                    None => "EMPTY_ARRAY_CONDITION",
                }),
            );
            return None;
        }
        let multivalued = catalog().is_multivalued(&k.key);
        let family = op.base.family();
        if op.qualifier.is_none() && multivalued && family != Family::Null {
            self.push(
                // The reference asks for an error here, but AWS accepts it: AWS managed policies
                // (CloudTrailEventContext, SageMakerStudioProjectProvisioningRolePolicy) use bare
                // StringEquals on `events:detail-type`, which the catalogue types ArrayOfString.
                Diagnostic::warning(codes::IAM_MISSING_QUALIFIER, k.key_span, format!("`{}` is multivalued: `{}` needs `ForAllValues:` or `ForAnyValue:`", k.key, operator_name(op)))
                    .label("multivalued key")
                    .related(operator.span, "operator without a set qualifier")
                    .help(format!("write ForAnyValue:{op} (some value matches) or ForAllValues:{op} (every value matches)"))
                    .aws("MISSING_QUALIFIER"),
            );
        }
        if op.qualifier.is_some() && family == Family::Null {
            self.push(
                Diagnostic::warning(codes::IAM_NULL_WITH_QUALIFIER, operator.span, format!("`{}` has a fixed result", operator_name(op)))
                    .label("set qualifier on Null")
                    .help("ForAllValues:Null is always true and ForAnyValue:Null always false; use Null alone")
                    .aws("NULL_WITH_QUALIFIER"),
            );
        }
        if op.qualifier == Some(Qualifier::ForAllValues)
            && catalog().key_type(&k.key) == Some(crate::catalog::KeyType::Single)
        {
            self.push(
                Diagnostic::warning(
                    codes::IAM_FORALLVALUES_SINGLE,
                    k.key_span,
                    format!(
                        "`ForAllValues:` with the single-valued key `{}` can be overly permissive",
                        k.key
                    ),
                )
                .label("single-valued key")
                .related(operator.span, "ForAllValues is true when the key is absent")
                .help("remove ForAllValues: (an absent key then fails the test)")
                .aws("FORALLVALUES_WITH_SINGLE_VALUED_KEY"),
            );
        }
        if family == Family::Bool && vals.len() > 1 {
            self.push(
                Diagnostic::error(
                    codes::IAM_BOOL_MULTIPLE,
                    k.value.span,
                    "`Bool` takes a single value",
                )
                .label("more than one value")
                .help("test one value: \"true\" or \"false\"")
                .aws("INVALID_CONDITION_MULTIPLE_BOOLEAN"),
            );
        }
        let mut values = Vec::with_capacity(vals.len());
        for v in vals {
            let raw = match &v.kind {
                Kind::String(s) => RawScalar::String(s.clone()),
                Kind::Number(n) => RawScalar::Number(n.clone()),
                Kind::Bool(b) => RawScalar::Bool(*b),
                other => {
                    self.push(
                        Diagnostic::error(
                            codes::IAM_TYPE,
                            v.span,
                            format!(
                                "a condition value must be a string, number or boolean, found {}",
                                other.name()
                            ),
                        )
                        .label("expected a scalar")
                        .aws("DATA_TYPE_MISMATCH"),
                    );
                    continue;
                }
            };
            let typed = self.typed(op, &k.key, &raw, v);
            values.push(ConditionValue {
                raw,
                typed,
                span: v.span,
            });
        }
        Some(Condition {
            operator,
            key: Spanned::new(k.key.clone(), k.key_span),
            values,
            array,
        })
    }

    fn typed(
        &mut self,
        op: ConditionOperator,
        key: &str,
        raw: &RawScalar,
        v: &Value,
    ) -> TypedValue {
        let text = raw.text();
        let family = op.base.family();
        let has_var = self.variables && text.contains("${");
        let mismatch =
            |me: &mut Self, code: &'static str, aws: &'static str, what: &str, help: &str| {
                me.push(
                    Diagnostic::error(
                        code,
                        v.span,
                        format!("`{text}` is not {what} for `{}`", operator_name(op)),
                    )
                    .label(format!("expected {what}"))
                    .help(help.to_string())
                    .aws(aws),
                );
                TypedValue::Invalid
            };
        if has_var && !matches!(family, Family::String | Family::Arn | Family::Bool) {
            self.push(
                Diagnostic::error(
                    codes::IAM_VARIABLE_OPERATOR,
                    v.span,
                    format!(
                        "policy variables cannot be used with `{}`",
                        operator_name(op)
                    ),
                )
                .label("variable in a non-string value")
                .help("policy variables work with String and ARN operators")
                .aws("INVALID_VARIABLE_FOR_OPERATOR"),
            );
            return TypedValue::Invalid;
        }
        if has_var {
            // Only single-valued keys can be substituted.
            let base = if let RawScalar::String(s) = raw {
                self.content_base(v, s)
            } else {
                None
            };
            if let Ok(t) = grammar::template(
                text,
                TemplateMode {
                    wildcards: false,
                    variables: true,
                },
                base,
                v.span,
            ) {
                self.multivalued_variables(t.variables());
            }
        }
        match family {
            Family::String => {
                let like = matches!(
                    op.base,
                    BaseOperator::StringLike | BaseOperator::StringNotLike
                );
                if !like
                    && text.contains('*')
                    && matches!(
                        op.base,
                        BaseOperator::StringEquals
                            | BaseOperator::StringNotEquals
                            | BaseOperator::StringEqualsIgnoreCase
                            | BaseOperator::StringNotEqualsIgnoreCase
                    )
                {
                    self.push(
                        Diagnostic::warning(
                            codes::IAM_WILDCARD_WITHOUT_LIKE,
                            v.span,
                            format!("`*` is a literal character in `{}`", operator_name(op)),
                        )
                        .label("not a wildcard here")
                        .help("use StringLike to match with wildcards")
                        .aws("WILDCARD_WITHOUT_LIKE_OPERATOR"),
                    );
                }
                self.template_value(
                    text,
                    raw,
                    v,
                    TemplateMode {
                        wildcards: like,
                        variables: self.variables,
                    },
                )
                .map_or(TypedValue::Invalid, TypedValue::String)
            }
            Family::Numeric => match Decimal::parse(text) {
                Some(d) => TypedValue::Number(d),
                None => mismatch(
                    self,
                    codes::IAM_TYPE_NUMBER,
                    "TYPE_MISMATCH_NUMBER",
                    "a number",
                    "write a decimal number such as 10 or 2.5: no exponent, sign `+`, spaces or units",
                ),
            },
            Family::Date => match value::parse_date(text) {
                Some((t, form)) => {
                    if form == DateForm::IsoNoOffset {
                        self.push(
                            Diagnostic::warning(
                                codes::IAM_DATE_OFFSET,
                                v.span,
                                format!("`{text}` has no time zone; it is read as UTC"),
                            )
                            .label("no offset")
                            .help("end the time with Z or an offset such as +02:00"),
                        );
                    }
                    TypedValue::Date(t)
                }
                None => mismatch(
                    self,
                    codes::IAM_TYPE_DATE,
                    "TYPE_MISMATCH_DATE",
                    "a date",
                    "write an ISO 8601 date such as 2020-01-01T00:00:00Z, or epoch seconds",
                ),
            },
            Family::Bool => {
                if has_var {
                    self.push(
                        Diagnostic::warning(codes::IAM_VARIABLE_BOOL, v.span, "a policy variable in a `Bool` value")
                            .label("substituted, then read as a boolean")
                            .help("the IAM variables page allows variables only with String and ARN operators")
                            .aws("INVALID_VARIABLE_FOR_OPERATOR"),
                    );
                    return self
                        .template_value(
                            text,
                            raw,
                            v,
                            TemplateMode {
                                wildcards: false,
                                variables: true,
                            },
                        )
                        .map_or(TypedValue::Invalid, |t| {
                            TypedValue::Bool(BoolValue::Template(t))
                        });
                }
                match value::parse_bool(text) {
                    Some(b) => TypedValue::Bool(BoolValue::Literal(b)),
                    None => mismatch(
                        self,
                        codes::IAM_TYPE_BOOL,
                        "TYPE_MISMATCH_BOOLEAN",
                        "a boolean",
                        "write true or false",
                    ),
                }
            }
            Family::Binary => match value::parse_base64(text) {
                Some(b) => TypedValue::Binary(b),
                None => mismatch(
                    self,
                    codes::IAM_TYPE_BINARY,
                    "TYPE_MISMATCH_STRING",
                    "base64",
                    "BinaryEquals compares base64-encoded bytes",
                ),
            },
            Family::Ip => match value::parse_ip_net(text) {
                Some((net, host_bits)) => {
                    if host_bits {
                        self.push(
                            Diagnostic::warning(
                                codes::IAM_IP_HOST_BITS,
                                v.span,
                                format!("`{text}` has host bits set; it means `{net}`"),
                            )
                            .label("host bits after the prefix")
                            .help(format!("write {net}"))
                            .aws("IMPROVE_IP_RANGE"),
                        );
                    }
                    TypedValue::Ip(net)
                }
                None => mismatch(
                    self,
                    codes::IAM_TYPE_IP,
                    "TYPE_MISMATCH_IP_RANGE",
                    "an IP address or CIDR",
                    "write an address or CIDR such as 203.0.113.0/24 or 2001:db8::/32",
                ),
            },
            Family::Arn => {
                let base = if let RawScalar::String(s) = raw {
                    self.content_base(v, s)
                } else {
                    None
                };
                match grammar::arn_value(text, self.variables, base, v.span) {
                    Ok(parts) => TypedValue::Arn(parts),
                    Err(e) => {
                        let d = self.grammar_diag(e, v, text);
                        self.push(d);
                        TypedValue::Invalid
                    }
                }
            }
            Family::Null => match value::parse_bool(text) {
                Some(b) => TypedValue::Null(b),
                None => {
                    let _ = key;
                    mismatch(
                        self,
                        codes::IAM_TYPE_BOOL,
                        "TYPE_MISMATCH_BOOLEAN",
                        "a boolean",
                        "Null takes true (key absent) or false (key present)",
                    )
                }
            },
        }
    }

    fn template_value(
        &mut self,
        text: &str,
        raw: &RawScalar,
        v: &Value,
        mode: TemplateMode,
    ) -> Option<Template> {
        let base = if let RawScalar::String(s) = raw {
            self.content_base(v, s)
        } else {
            None
        };
        match grammar::template(text, mode, base, v.span) {
            Ok(t) => Some(t),
            Err(e) => {
                let d = self.grammar_diag(e, v, text);
                self.push(d);
                None
            }
        }
    }
}

fn operator_name(op: ConditionOperator) -> String {
    op.to_string()
}

/// `us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-iso-east-1`, with `*`/`?` allowed for patterns.
fn is_region(s: &str) -> bool {
    if s.contains(['*', '?']) || s.contains("${") {
        return true;
    }
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts
            .first()
            .is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn is_account(s: &str) -> bool {
    if s.contains(['*', '?']) || s.contains("${") {
        return true;
    }
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions() {
        for ok in [
            "us-east-1",
            "us-gov-west-1",
            "cn-north-1",
            "eu-central-2",
            "*",
            "us-*",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [" <YOUR_REGION>", "US-EAST-1", "useast1", "us-east"] {
            assert!(!is_region(bad), "{bad}");
        }
    }
}
