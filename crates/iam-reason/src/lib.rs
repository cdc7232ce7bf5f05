//! Universal answers about IAM policies, offline: **no new access** (does a new policy allow anything an
//! existing one does not?), **access not granted** (can a policy ever allow these actions or
//! resources?), **no public access** (can anyone outside the zone of trust get in?), each PASS, FAIL
//! with *witness requests*, or UNKNOWN with the reason — never a guessed PASS.
//!
//! ```no_run
//! use iam_reason::{Checker, PolicyKind, Solver, Verdict};
//! use iam_policy::Source;
//!
//! let old = iam_policy::parse(&Source::new("old.json", r#"{"Version":"2012-10-17","Statement":[
//!   {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::notes/${aws:username}/*"}]}"#)).unwrap();
//! let new = iam_policy::parse(&Source::new("new.json", r#"{"Version":"2012-10-17","Statement":[
//!   {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::notes/*"}]}"#)).unwrap();
//! let checker = Checker::new(Solver::find().unwrap());
//! let answer = checker.no_new_access(&old, &new, PolicyKind::Identity).unwrap();
//! assert_eq!(answer.verdict, Verdict::Fail);
//! // A request the new policy allows and the old one does not, replayed by iam-eval.
//! println!("{}", answer.witnesses[0].to_request());
//! ```
//!
//! ## How, and why the answers are sound
//! Both policies become one SMT-LIB formula over a symbolic request ([`encode`]: action, resource,
//! principal, and each condition key used, with the sort its operators give it), written rule by rule
//! from `iam-eval`'s semantics: wildcards, policy variables (with defaults; unresolved ones match
//! nothing), `NotAction`/`NotResource`/`NotPrincipal`, every condition operator with `IfExists`, the set
//! qualifiers over multivalued keys, `Null`, and Deny over Allow. Z3 decides it (a real solver, over a
//! pipe: see [`Solver`]).
//! - **FAIL** is only ever reported with witnesses, and every witness is replayed through `iam-eval`
//!   before it is shown: if the concrete evaluator disagrees, the answer is UNKNOWN ("a witness did not
//!   replay"), never FAIL.
//! - **PASS** means the solver proved the formula unsatisfiable. The encoding is exact for what it
//!   covers: actions are any `service:name` (a finite catalogue is not assumed, so a PASS also holds
//!   for actions AWS adds later), resources any string, principals any string, and a key's values are a
//!   set of up to one slot per condition on that key — enough, because each condition needs at most one
//!   value to witness it and the set qualifiers are monotone in the others (more conditions on one key
//!   than [`MAX_SLOTS`] makes a PASS UNKNOWN). Constructs outside the encoding
//!   (`BinaryEquals`, `Bool` with a variable, a variable with wildcards on both sides, one key compared
//!   as two types) make the answer UNKNOWN naming the construct and its line and column.
//! - A solver time-out or `unknown` is UNKNOWN with the solver's reason.
//!
//! AWS's checks do not know which actions apply to which resource types, and neither does the default
//! mode here: an action on a resource it could never touch still counts. The `precise` flag
//! (`--precise`) answers for real requests only: actions the bundled Service Authorization Reference
//! lists, each on a resource of one of its resource types' ARN formats (`*` for actions without one), so
//! a grant of `s3:GetObject` on a bucket ARN (not an object ARN) is no access at all.

#![deny(missing_docs)]

use std::time::{Duration, Instant};

use authz_core::{Context, ContextValue, Decision, Layer, Request};
use diag::codes;
use iam_eval::PolicySet;
use iam_policy::PolicyDocument;

mod actions;
pub mod encode;
mod smt;
mod solver;
mod witness;

pub use encode::{MAX_SLOTS, Unsupported};
pub use solver::{Solver, Z3_PACKAGE, install, install_dir, pip_install};
pub use witness::{Witness, WitnessValue};

use encode::{Allow, Encoder, not};
use solver::Sat;

/// Errors: the solver could not be run. (Bad policies are the parser's errors; unsupported constructs
/// and time-outs are UNKNOWN answers.)
#[derive(Debug, thiserror::Error)]
pub enum ReasonError {
    /// `reason::solver`: no solver, or it failed.
    #[error("{0}")]
    Solver(String),
    /// `reason::timeout`: the solver did not answer in time.
    #[error("the solver did not answer within {0:?}")]
    Timeout(Duration),
    /// `reason::input`: the question itself is malformed.
    #[error("{0}")]
    Input(String),
}

impl ReasonError {
    /// The error's code.
    pub fn code(&self) -> &'static str {
        match self {
            ReasonError::Solver(_) => codes::REASON_SOLVER,
            ReasonError::Timeout(_) => codes::REASON_TIMEOUT,
            ReasonError::Input(_) => codes::REASON_INPUT,
        }
    }
}

impl diag::Coded for ReasonError {
    fn code(&self) -> &'static str {
        ReasonError::code(self)
    }
}

/// Which kind of policy is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// Identity-based (no principal element).
    Identity,
    /// Resource-based, including role trust policies (the principal is part of the request).
    Resource,
}

impl PolicyKind {
    fn layer(self) -> Layer {
        match self {
            PolicyKind::Identity => Layer::Identity,
            PolicyKind::Resource => Layer::Resource,
        }
    }
}

/// The answer's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    /// Proven.
    Pass,
    /// Refuted, with witnesses.
    Fail,
    /// Neither: see the reasons.
    Unknown,
}

impl Verdict {
    /// `PASS`, `FAIL`, `UNKNOWN`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Unknown => "UNKNOWN",
        }
    }
}

/// One external-access finding ([`Checker::external_access`]).
#[derive(Clone, Debug)]
pub struct ExternalAccess {
    /// The statement that grants it.
    pub statement: usize,
    /// Who gets in, as Access Analyzer names them (`AWS` → `*` or an account id, `Federated` → a
    /// provider).
    pub principal: (String, String),
    /// The statement's actions as written (`*` for `NotAction`).
    pub actions: Vec<String>,
    /// The statement's conditions: key → values, comma-joined.
    pub condition: Vec<(String, String)>,
    /// Whether the grant is public.
    pub is_public: bool,
    /// A request it allows, replayed by `iam-eval`.
    pub witness: Witness,
}

/// A statement of the checked policy that the answer is about (AWS's `ReasonSummary`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    /// What it does.
    pub description: String,
    /// 0-based statement index.
    pub statement_index: usize,
    /// Its `Sid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_id: Option<String>,
}

/// An answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// PASS, FAIL or UNKNOWN.
    pub verdict: Verdict,
    /// One sentence, as AWS's `message`.
    pub message: String,
    /// The statements responsible (FAIL).
    pub reasons: Vec<Reason>,
    /// One request per responsible statement, each replayed by `iam-eval`.
    pub witnesses: Vec<Witness>,
    /// Why it is UNKNOWN.
    pub unknown: Vec<String>,
    /// `aws` (AWS's default: any action) or `precise` (only actions the service reference lists).
    pub mode: &'static str,
    /// Time waiting for the solver.
    pub solver_time: Duration,
    /// Whole check.
    pub total_time: Duration,
    /// Solver queries made.
    pub queries: usize,
}

/// Runs the checks.
#[derive(Clone, Debug)]
pub struct Checker {
    solver: Solver,
    precise: bool,
    max_queries: usize,
}

/// The most solver queries one check makes by default (action classes × Allow statements): past it the
/// answer is UNKNOWN, so a huge policy costs bounded time instead of an unbounded product.
pub const MAX_QUERIES: usize = 5_000;

/// Resource types AWS's `CheckNoPublicAccess` takes.
pub const PUBLIC_ACCESS_TYPES: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::DynamoDB::Stream",
    "AWS::EFS::FileSystem",
    "AWS::OpenSearchService::Domain",
    "AWS::Kinesis::Stream",
    "AWS::Kinesis::StreamConsumer",
    "AWS::KMS::Key",
    "AWS::Lambda::Function",
    "AWS::S3::Bucket",
    "AWS::S3::AccessPoint",
    "AWS::S3Express::DirectoryBucket",
    "AWS::S3::Glacier",
    "AWS::S3Outposts::Bucket",
    "AWS::S3Outposts::AccessPoint",
    "AWS::S3Tables::TableBucket",
    "AWS::S3Tables::Table",
    "AWS::SecretsManager::Secret",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
    "AWS::IAM::AssumeRolePolicyDocument",
    "AWS::ApiGateway::RestApi",
    "AWS::CodeArtifact::Domain",
    "AWS::Backup::BackupVault",
    "AWS::CloudTrail::Dashboard",
    "AWS::CloudTrail::EventDataStore",
];

/// Condition keys whose fixed values keep a grant inside the zone of trust (Amazon S3 User Guide, "The
/// meaning of 'public'", and IAM Access Analyzer's filter keys): a grant is public only if it holds for a
/// caller whose values of these keys are none of the policy's fixed values.
pub const RESTRICTING_KEYS: &[&str] = &[
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:userid",
    "aws:ResourceAccount",
    "kms:CallerAccount",
    "s3:DataAccessPointAccount",
    "s3:DataAccessPointArn",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "lambda:EventSourceToken",
    "cognito-identity.amazonaws.com:aud",
    "accounts.google.com:aud",
    "graph.facebook.com:app_id",
    "www.amazon.com:app_id",
];

/// Keys that name the caller's (or the calling service's) account: a request inside the zone of trust
/// has the zone's account there.
const ACCOUNT_KEYS: &[&str] = &[
    "aws:PrincipalAccount",
    "aws:SourceAccount",
    "kms:CallerAccount",
    "s3:DataAccessPointAccount",
];

/// The audience keys of web identity providers.
const AUDIENCE_KEYS: &[&str] = &[
    "cognito-identity.amazonaws.com:aud",
    "accounts.google.com:aud",
    "graph.facebook.com:app_id",
    "www.amazon.com:app_id",
];

/// `(=> present (test value))` for every slot of a string-sorted key the encoding has.
fn string_slots(enc: &Encoder, key: &str, test: &dyn Fn(&str) -> String) -> Vec<String> {
    let Some(j) = enc.key_index(key) else {
        return Vec::new();
    };
    let Some(k) = enc.keys.get(j) else {
        return Vec::new();
    };
    if k.kind != encode::Kind::Str {
        return Vec::new();
    }
    (0..k.slots)
        .map(|i| format!("(=> k{j}_a{i} {})", test(&format!("k{j}_v{i}"))))
        .collect()
}

/// Every (key, wildcard-free string value) the policy's conditions name.
fn fixed_values(policy: &PolicyDocument) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for st in &policy.statements {
        for c in &st.conditions {
            for v in &c.values {
                if let iam_policy::TypedValue::String(t) = &v.typed
                    && let Some(l) = t.as_literal()
                {
                    out.push((c.key.value.clone(), l));
                }
            }
        }
    }
    out
}

/// Web identity providers anyone can sign in to: a trust policy federating one of them is public unless
/// a condition pins the application (`…:aud` / `…:app_id`).
pub const PUBLIC_PROVIDERS: &[&str] = &[
    "cognito-identity.amazonaws.com",
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
    "appleid.apple.com",
];

struct Run {
    started: Instant,
    queries: usize,
    unknown: Vec<String>,
}

impl Checker {
    /// A checker answering as AWS does (any action counts).
    pub fn new(solver: Solver) -> Checker {
        Checker {
            solver,
            precise: false,
            max_queries: MAX_QUERIES,
        }
    }

    /// Only actions the bundled service reference lists count (`--precise`).
    pub fn precise(mut self, on: bool) -> Checker {
        self.precise = on;
        self
    }

    /// At most `n` solver queries per check ([`MAX_QUERIES`] by default); past them the answer is
    /// UNKNOWN (a FAIL found before stays a FAIL).
    pub fn with_max_queries(mut self, n: usize) -> Checker {
        self.max_queries = n;
        self
    }

    fn mode(&self) -> &'static str {
        if self.precise { "precise" } else { "aws" }
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        run: Run,
        reasons: Vec<Reason>,
        witnesses: Vec<Witness>,
        spent: Duration,
        enc: &Encoder,
        pass_message: &str,
        fail_message: &str,
    ) -> Answer {
        let mut unknown = run.unknown;
        let verdict = if !witnesses.is_empty() {
            Verdict::Fail
        } else {
            if enc.capped {
                unknown.push(format!(
                    "more than {MAX_SLOTS} conditions on one multivalued key: a PASS is not proven"
                ));
            }
            if unknown.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Unknown
            }
        };
        let message = match verdict {
            Verdict::Pass => pass_message.to_string(),
            Verdict::Fail => fail_message.to_string(),
            Verdict::Unknown => format!("Could not decide: {}", unknown.join("; ")),
        };
        Answer {
            verdict,
            message,
            reasons,
            witnesses,
            unknown,
            mode: self.mode(),
            solver_time: spent,
            total_time: run.started.elapsed(),
            queries: run.queries,
        }
    }

    fn unsupported_answer(&self, enc: &Encoder, started: Instant) -> Option<Answer> {
        if enc.unsupported.is_empty() {
            return None;
        }
        let unknown: Vec<String> = enc
            .unsupported
            .iter()
            .map(|u| {
                format!(
                    "{}:{}:{}: {} is not covered by the encoding",
                    u.policy, u.line, u.column, u.what
                )
            })
            .collect();
        Some(Answer {
            verdict: Verdict::Unknown,
            message: format!("Could not decide: {}", unknown.join("; ")),
            reasons: Vec::new(),
            witnesses: Vec::new(),
            unknown,
            mode: self.mode(),
            solver_time: Duration::ZERO,
            total_time: started.elapsed(),
            queries: 0,
        })
    }

    /// Per Allow statement of `policy` (named `name` in the encoding), asks whether it can apply with
    /// `extra` true, for each class of actions (see [`actions`]) that `action_ok` admits; replays each
    /// witness with `replay`. One witness per statement.
    #[allow(clippy::too_many_arguments)]
    fn per_statement(
        &self,
        enc: &Encoder,
        allows: &[Allow],
        docs: &[&PolicyDocument],
        deny: &str,
        extra: &str,
        action_ok: &dyn Fn(&actions::Action) -> bool,
        describe: &dyn Fn(&Witness) -> String,
        replay: &dyn Fn(&Witness) -> Result<(), String>,
        run: &mut Run,
    ) -> Result<(Vec<Reason>, Vec<Witness>, Duration), ReasonError> {
        let matchers: Vec<actions::Matcher> = enc
            .action_blocks
            .iter()
            .map(|(_, b)| actions::Matcher::new(b.as_ref()))
            .collect();
        let refs: Vec<&actions::Matcher> = matchers.iter().collect();
        let extras = actions::extras(&refs, self.precise);
        // Precise mode: actions of one class also share their resource types, and each query keeps
        // the resource to one of the action's ARN formats (`*` for actions without resource types).
        let precise = self.precise;
        let split = |a: &actions::Action| {
            if precise {
                actions::resource_globs(a)
                    .map(|g| g.join(" "))
                    .unwrap_or_default()
            } else {
                String::new()
            }
        };
        let classes = actions::classes(actions::universe(&extras), &refs, action_ok, &split);
        let mut session = self.solver.start()?;
        if let Some(dump) = std::env::var_os("POLICY_CHECK_SMT_DUMP") {
            // For debugging the encoding: the declarations and the first query's constraint, as sent.
            let first = allows
                .first()
                .map(|a| a.formula.as_str())
                .unwrap_or("false");
            let _ = std::fs::write(
                dump,
                format!(
                    "(set-logic ALL)\n{}(assert (and {first} (not {deny}) {extra}))\n",
                    enc.decls
                ),
            );
        }
        let names = enc.model_names();
        let mut reasons = Vec::new();
        let mut witnesses = Vec::new();
        'statements: for allow in allows {
            let (i, s) = (&allow.index, &allow.formula);
            let Some(doc) = docs.get(allow.doc) else {
                continue;
            };
            let Some(pos) = enc.action_blocks.iter().position(|(n, _)| *n == allow.act) else {
                continue;
            };
            for (sig, rep) in &classes {
                if !sig.get(pos).copied().unwrap_or(false) {
                    continue;
                }
                if run.queries >= self.max_queries {
                    run.unknown.push(format!(
                        "more than {} solver queries ({} action classes for {} Allow statements): not all were asked",
                        self.max_queries,
                        classes.len(),
                        allows.len()
                    ));
                    break 'statements;
                }
                run.queries += 1;
                let fixed: Vec<String> = enc
                    .action_blocks
                    .iter()
                    .zip(sig.iter())
                    .map(|((n, _), b)| if *b { n.clone() } else { format!("(not {n})") })
                    .collect();
                let resource_ok = match (precise, actions::resource_globs(rep)) {
                    (true, Some(globs)) if globs.is_empty() => "(= res \"*\")".to_string(),
                    (true, Some(globs)) => format!(
                        "(or {})",
                        globs
                            .iter()
                            .map(|g| format!("(str.in_re res {})", glob_regex(g)))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    _ => "true".to_string(),
                };
                let query = format!(
                    "(assert (and (= svc {}) (= name {}) {} {resource_ok}))\n(assert (and {s} (not {deny}) {extra}))\n",
                    smt::lit(&rep.svc),
                    smt::lit(&rep.name),
                    fixed.join(" ")
                );
                if let Some(dump) = std::env::var_os("POLICY_CHECK_SMT_DUMP") {
                    use std::io::Write as _;
                    if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(dump) {
                        let _ = writeln!(f, "(push 1)\n{query}(check-sat)\n(pop 1)");
                    }
                }
                // A fresh context per query (see `Session::reset`).
                session.reset()?;
                session.send(&enc.decls)?;
                session.send(&query)?;
                let r = session.check()?;
                let mut found = false;
                match r {
                    Sat::Yes => {
                        let values = session.values(&names)?;
                        let mut w = witness::build(enc, &values, *i, doc)?;
                        w.claim = describe(&w);
                        match replay(&w) {
                            Ok(()) => {
                                let st = doc.statements.get(*i);
                                reasons.push(Reason {
                                    description: w.claim.clone(),
                                    statement_index: *i,
                                    statement_id: st.and_then(|s| s.sid.as_ref()).map(|s| s.value.clone()),
                                });
                                witnesses.push(w);
                                found = true;
                            }
                            Err(why) => run.unknown.push(format!(
                                "a witness for statement {i} did not replay in iam-eval ({why}): please report this"
                            )),
                        }
                    }
                    Sat::No => {}
                    Sat::Unknown(why) => run.unknown.push(format!(
                        "statement {i}, action {}:{}: the solver answered unknown ({why})",
                        rep.svc, rep.name
                    )),
                }
                if found {
                    break;
                }
            }
        }
        let spent = session.spent;
        Ok((reasons, witnesses, spent))
    }

    /// A property over every request in `scope` (one Allow statement: its `Action`, `Resource` and
    /// `Condition` say which requests): `expect_allow` — every one is allowed by `policies` (one layer,
    /// as AWS combines them: an Allow in any, no Deny in any); otherwise — none is. FAIL comes with a
    /// request in scope that breaks it.
    pub fn property(
        &self,
        policies: &[&PolicyDocument],
        scope: &PolicyDocument,
        expect_allow: bool,
        kind: PolicyKind,
    ) -> Result<Answer, ReasonError> {
        let started = Instant::now();
        if scope.statements.len() != 1
            || scope
                .statements
                .iter()
                .any(|s| s.effect.value != iam_policy::Effect::Allow)
        {
            return Err(ReasonError::Input(
                "a property's scope is one statement".into(),
            ));
        }
        let mut all: Vec<&PolicyDocument> = policies.to_vec();
        all.push(scope);
        let mut enc = Encoder::new(&all);
        let allows = enc.policies("Pset", policies);
        let scope_allows = enc.policy("Pscope", scope);
        if let Some(a) = self.unsupported_answer(&enc, started) {
            return Ok(a);
        }
        let set = PolicySet::compile(kind.layer(), policies.iter().map(|d| (*d).clone()))
            .map_err(|e| ReasonError::Input(e.to_string()))?;
        let scope_set = compile(Layer::Identity, scope)?;
        let mut run = Run {
            started,
            queries: 0,
            unknown: Vec::new(),
        };
        let in_scope = |w: &Witness| {
            let (ctx, req) = w.request_parts();
            scope_set.evaluate(&req.context(&ctx)).decision == Decision::Allow
        };
        let decide = |w: &Witness| {
            let (ctx, req) = w.request_parts();
            set.evaluate(&req.context(&ctx)).decision
        };
        // expect_allow: a witness is a request in scope the policies do not allow (searched from the
        // scope's statement); otherwise one they allow (searched from their Allow statements).
        let (targets, docs, deny, extra, label): (
            &[Allow],
            Vec<&PolicyDocument>,
            &str,
            String,
            &str,
        ) = if expect_allow {
            (
                &scope_allows,
                vec![scope],
                "Pscope_deny",
                and_identity(kind, &not("Pset")),
                "Not allowed",
            )
        } else {
            (
                &allows,
                policies.to_vec(),
                "Pset_deny",
                and_identity(kind, "Pscope"),
                "Allowed",
            )
        };
        let (reasons, witnesses, spent) = self.per_statement(
            &enc,
            targets,
            &docs,
            deny,
            &extra,
            &|_| true,
            &|w| format!("{label}: {} on {}", w.action, w.resource),
            &|w| {
                let d = decide(w);
                if in_scope(w) && (d == Decision::Allow) != expect_allow {
                    Ok(())
                } else {
                    Err(format!(
                        "in scope: {}, decision {}",
                        in_scope(w),
                        d.as_str()
                    ))
                }
            },
            &mut run,
        )?;
        Ok(self.finish(
            run,
            reasons,
            witnesses,
            spent,
            &enc,
            "The property holds for every request in its scope.",
            "A request in the property's scope breaks it.",
        ))
    }

    /// Access Analyzer's external-access findings for a resource policy (or role trust policy) whose
    /// zone of trust is the account `zone_account`: one per Allow statement that lets a caller outside the
    /// account in (anonymous, a web identity provider, or a principal of another account), each with
    /// whether it is public (as [`Checker::no_public_access`] decides) and a witness. `Err` with the
    /// reasons when that cannot be decided (never an empty list for an undecided policy).
    pub fn external_access(
        &self,
        policy: &PolicyDocument,
        zone_account: &str,
    ) -> Result<Result<Vec<ExternalAccess>, Vec<String>>, ReasonError> {
        let public = self.no_public_access(policy, "AWS::S3::Bucket")?;
        if public.verdict == Verdict::Unknown {
            return Ok(Err(public.unknown));
        }
        let started = Instant::now();
        let mut enc = Encoder::new(&[policy]);
        let allows = enc.policy("Ppol", policy);
        if let Some(a) = self.unsupported_answer(&enc, started) {
            return Ok(Err(a.unknown));
        }
        let set = compile(Layer::Resource, policy)?;
        let providers: Vec<String> = PUBLIC_PROVIDERS
            .iter()
            .map(|p| format!("(= po {})", smt::lit(p)))
            .collect();
        // The caller is outside the account; the account keys, when the request has them, name another
        // account; a web identity provider's audience is not one the policy pins (an identity pool or
        // app the policy names is the account's own).
        let mut parts = vec![format!(
            "(or (not hp) (and (not pa) (or (= po \"anonymous\") {})) (and pa (not (= p4 {})) (str.in_re p4 ((_ re.loop 12 12) (re.range \"0\" \"9\")))))",
            providers.join(" "),
            smt::lit(zone_account)
        )];
        for key in ACCOUNT_KEYS {
            parts.extend(string_slots(&enc, key, &|v| {
                format!("(not (= {v} {}))", smt::lit(zone_account))
            }));
        }
        let fixed = fixed_values(policy);
        for key in AUDIENCE_KEYS {
            let lits: Vec<String> = fixed
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone())
                .collect();
            parts.extend(string_slots(&enc, key, &|v| {
                let ne: Vec<String> = lits
                    .iter()
                    .map(|l| format!("(not (= {v} {}))", smt::lit(l)))
                    .collect();
                format!("(and true {})", ne.join(" "))
            }));
        }
        let external = format!("(and {})", parts.join(" "));
        let mut run = Run {
            started,
            queries: 0,
            unknown: Vec::new(),
        };
        let (_, witnesses, _) = self.per_statement(
            &enc,
            &allows,
            &[policy],
            "Ppol_deny",
            &external,
            &|_| true,
            &|w| format!("External access: {} on {}", w.action, w.resource),
            &|w| {
                let (ctx, req) = w.request_parts();
                let d = set.evaluate(&req.context(&ctx)).decision;
                if d == Decision::Allow {
                    Ok(())
                } else {
                    Err(format!("decision {}", d.as_str()))
                }
            },
            &mut run,
        )?;
        if enc.capped {
            run.unknown.push(format!(
                "more than {MAX_SLOTS} conditions on one multivalued key: findings are not proven complete"
            ));
        }
        if !run.unknown.is_empty() {
            return Ok(Err(run.unknown));
        }
        let mut out = Vec::new();
        for w in witnesses {
            let Some(st) = policy.statements.get(w.statement) else {
                continue;
            };
            let is_public = public
                .reasons
                .iter()
                .any(|r| r.statement_index == w.statement);
            let principal = match (&w.principal, is_public) {
                (_, true) | (None, _) => ("AWS".to_string(), "*".to_string()),
                (Some(p), _) if p == "anonymous" => ("AWS".to_string(), "*".to_string()),
                (Some(p), _) => match encode::split_arn6(p) {
                    Some([_, _, _, _, acct, _]) => ("AWS".to_string(), acct.to_string()),
                    None => ("Federated".to_string(), p.clone()),
                },
            };
            let actions = match &st.action {
                Some(ab) if !ab.negated => ab.items.iter().map(|a| a.raw.clone()).collect(),
                _ => vec!["*".to_string()],
            };
            let condition = st
                .conditions
                .iter()
                .map(|c| {
                    let vals: Vec<&str> = c.values.iter().map(|v| v.raw.text()).collect();
                    (c.key.value.clone(), vals.join(","))
                })
                .collect();
            out.push(ExternalAccess {
                statement: w.statement,
                principal,
                actions,
                condition,
                is_public,
                witness: w,
            });
        }
        Ok(Ok(out))
    }

    /// AWS's `CheckNoNewAccess`: does `new` allow any request `existing` does not?
    pub fn no_new_access(
        &self,
        existing: &PolicyDocument,
        new: &PolicyDocument,
        kind: PolicyKind,
    ) -> Result<Answer, ReasonError> {
        let started = Instant::now();
        let mut enc = Encoder::new(&[existing, new]);
        let allows = enc.policy("Pnew", new);
        enc.policy("Pold", existing);
        if let Some(a) = self.unsupported_answer(&enc, started) {
            return Ok(a);
        }
        let layer = kind.layer();
        let new_set = compile(layer, new)?;
        let old_set = compile(layer, existing)?;
        let mut run = Run {
            started,
            queries: 0,
            unknown: Vec::new(),
        };
        let (reasons, witnesses, spent) = self.per_statement(
            &enc,
            &allows,
            &[new],
            "Pnew_deny",
            &and_identity(kind, &not("Pold")),
            &|_| true,
            &|w| format!("New access: {} on {}", w.action, w.resource),
            &|w| {
                let (ctx, req) = w.request_parts();
                let req = req.context(&ctx);
                let n = new_set.evaluate(&req).decision;
                let o = old_set.evaluate(&req).decision;
                if n == Decision::Allow && o != Decision::Allow {
                    Ok(())
                } else {
                    Err(format!(
                        "new policy: {}, existing policy: {}",
                        n.as_str(),
                        o.as_str()
                    ))
                }
            },
            &mut run,
        )?;
        Ok(self.finish(
            run,
            reasons,
            witnesses,
            spent,
            &enc,
            "The policy grants no access the existing policy does not.",
            "The policy grants new access compared to the existing policy.",
        ))
    }

    /// AWS's `CheckAccessNotGranted`: can `policy` allow any of `actions` (on any resource when
    /// `resources` is empty), or any action on `resources` (when `actions` is empty)? Both are IAM
    /// wildcard patterns.
    pub fn access_not_granted(
        &self,
        policy: &PolicyDocument,
        actions: &[String],
        resources: &[String],
        kind: PolicyKind,
    ) -> Result<Answer, ReasonError> {
        let started = Instant::now();
        if actions.is_empty() && resources.is_empty() {
            return Err(ReasonError::Input(
                "give at least one action or one resource".into(),
            ));
        }
        let mut enc = Encoder::new(&[policy]);
        let allows = enc.policy("Ppol", policy);
        if let Some(a) = self.unsupported_answer(&enc, started) {
            return Ok(a);
        }
        for a in actions {
            if a != "*" && !a.contains(':') {
                return Err(ReasonError::Input(format!(
                    "action `{a}` is not service:action"
                )));
            }
        }
        let res = if resources.is_empty() {
            "true".to_string()
        } else {
            format!(
                "(or false {})",
                resources
                    .iter()
                    .map(|r| format!("(str.in_re res {})", glob_regex(r)))
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        let set = compile(kind.layer(), policy)?;
        let mut run = Run {
            started,
            queries: 0,
            unknown: Vec::new(),
        };
        let (reasons, witnesses, spent) = self.per_statement(
            &enc,
            &allows,
            &[policy],
            "Ppol_deny",
            &and_identity(kind, &res),
            &|a| actions.is_empty() || actions.iter().any(|p| actions::pattern_matches(p, a)),
            &|w| format!("Grants {} on {}", w.action, w.resource),
            &|w| {
                let (ctx, req) = w.request_parts();
                let req = req.context(&ctx);
                let d = set.evaluate(&req).decision;
                let a_ok = actions.is_empty()
                    || actions.iter().any(|a| {
                        iam_policy::catalog::glob(
                            &a.to_ascii_lowercase(),
                            &w.action.to_ascii_lowercase(),
                        )
                    });
                let r_ok = resources.is_empty()
                    || resources
                        .iter()
                        .any(|r| iam_policy::catalog::glob(r, &w.resource));
                if d == Decision::Allow && a_ok && r_ok {
                    Ok(())
                } else {
                    Err(format!(
                        "decision {}, in the access asked about: {}",
                        d.as_str(),
                        a_ok && r_ok
                    ))
                }
            },
            &mut run,
        )?;
        Ok(self.finish(
            run,
            reasons,
            witnesses,
            spent,
            &enc,
            "The policy does not grant the specified access.",
            "The policy grants access to the specified actions or resources.",
        ))
    }

    /// AWS's `CheckNoPublicAccess` for a resource policy (or a role trust policy, type
    /// `AWS::IAM::AssumeRolePolicyDocument`).
    pub fn no_public_access(
        &self,
        policy: &PolicyDocument,
        resource_type: &str,
    ) -> Result<Answer, ReasonError> {
        let started = Instant::now();
        if !PUBLIC_ACCESS_TYPES.contains(&resource_type) {
            return Err(ReasonError::Input(format!(
                "resource type `{resource_type}` is not one CheckNoPublicAccess takes ({})",
                PUBLIC_ACCESS_TYPES.join(", ")
            )));
        }
        let mut enc = Encoder::new(&[policy]);
        let allows = enc.policy("Ppol", policy);
        if let Some(a) = self.unsupported_answer(&enc, started) {
            return Ok(a);
        }
        let text = policy.source.text();
        let accounts = twelve_digit_runs(text);
        let outsider = public_caller(&accounts);
        let fresh = fresh_keys(&enc, policy);
        let set = compile(Layer::Resource, policy)?;
        let mut run = Run {
            started,
            queries: 0,
            unknown: Vec::new(),
        };
        let (reasons, witnesses, spent) = self.per_statement(
            &enc,
            &allows,
            &[policy],
            "Ppol_deny",
            &format!("(and {outsider} {fresh})"),
            &|_| true,
            &|w| {
                format!(
                    "Public access: {} on {} to {}",
                    w.action,
                    w.resource,
                    w.principal.as_deref().unwrap_or("an anonymous caller")
                )
            },
            &|w| {
                let (ctx, req) = w.request_parts();
                let req = req.context(&ctx);
                let d = set.evaluate(&req).decision;
                if d == Decision::Allow {
                    Ok(())
                } else {
                    Err(format!("decision {}", d.as_str()))
                }
            },
            &mut run,
        )?;
        Ok(self.finish(
            run,
            reasons,
            witnesses,
            spent,
            &enc,
            "The resource policy does not grant public access for the given resource type.",
            "The resource policy grants public access for the given resource type.",
        ))
    }
}

/// Identity policies have no principal element: their witnesses carry no principal either.
fn and_identity(kind: PolicyKind, f: &str) -> String {
    match kind {
        PolicyKind::Identity => format!("(and (not hp) {f})"),
        PolicyKind::Resource => f.to_string(),
    }
}

fn compile(layer: Layer, doc: &PolicyDocument) -> Result<PolicySet, ReasonError> {
    PolicySet::compile(layer, [doc.clone()]).map_err(|e| ReasonError::Input(e.to_string()))
}

/// A whole-string IAM wildcard pattern as a regular expression over `res`.
fn glob_regex(pattern: &str) -> String {
    let mut parts = Vec::new();
    let mut buf = String::new();
    for c in pattern.chars() {
        if c == '*' || c == '?' {
            if !buf.is_empty() {
                parts.push(format!(
                    "(str.to_re {})",
                    smt::lit(&std::mem::take(&mut buf))
                ));
            }
            parts.push(if c == '*' {
                "(re.* re.allchar)".into()
            } else {
                "re.allchar".into()
            });
        } else {
            buf.push(c);
        }
    }
    if !buf.is_empty() {
        parts.push(format!("(str.to_re {})", smt::lit(&buf)));
    }
    match parts.len() {
        0 => "(str.to_re \"\")".into(),
        1 => parts.concat(),
        _ => format!("(re.++ {})", parts.join(" ")),
    }
}

/// Every run of exactly twelve digits in the policy's text (the accounts it names).
fn twelve_digit_runs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            if run.len() == 12 && !out.contains(&run) {
                out.push(run.clone());
            }
            run.clear();
        }
    }
    out
}

/// The caller of a public request: anonymous, a web identity provider anyone can use, or a session in
/// an account the policy does not name.
fn public_caller(accounts: &[String]) -> String {
    let providers: Vec<String> = PUBLIC_PROVIDERS
        .iter()
        .map(|p| format!("(= po {})", smt::lit(p)))
        .collect();
    let not_named: Vec<String> = accounts
        .iter()
        .map(|a| format!("(not (= p4 {}))", smt::lit(a)))
        .collect();
    format!(
        "(or (not hp) (and (not pa) (or (= po \"anonymous\") {})) \
         (and pa (= p0 \"arn\") (= p1 \"aws\") (= p2 \"sts\") (= p3 \"\") (str.in_re p4 ((_ re.loop 12 12) (re.range \"0\" \"9\"))) \
         (= p5 \"assumed-role/outsider/session\") {}))",
        providers.join(" "),
        not_named.join(" ")
    )
}

/// Each restricting key present in the request holds only values the policy does not fix.
fn fresh_keys(enc: &Encoder, policy: &PolicyDocument) -> String {
    use iam_policy::TypedValue;
    let mut parts = Vec::new();
    for key in RESTRICTING_KEYS {
        let Some(j) = enc.key_index(key) else {
            continue;
        };
        let Some(k) = enc.keys.get(j) else { continue };
        let mut fixed_strings = Vec::new();
        let mut nets = Vec::new();
        for st in &policy.statements {
            for c in &st.conditions {
                if !c.key.value.eq_ignore_ascii_case(key) {
                    continue;
                }
                for v in &c.values {
                    match &v.typed {
                        TypedValue::String(t) => {
                            if let Some(l) = t.as_literal() {
                                fixed_strings.push(l);
                            }
                        }
                        TypedValue::Arn(ts) => {
                            let ls: Option<Vec<String>> =
                                ts.iter().map(iam_policy::Template::as_literal).collect();
                            if let Some(ls) = ls {
                                fixed_strings.push(ls.join(":"));
                            }
                        }
                        TypedValue::Ip(n) => nets.push(*n),
                        _ => {}
                    }
                }
            }
        }
        for i in 0..k.slots {
            let mut conds = Vec::new();
            match k.kind {
                encode::Kind::Str => {
                    for s in &fixed_strings {
                        conds.push(format!("(not (= k{j}_v{i} {}))", smt::lit(s)));
                    }
                }
                encode::Kind::Ip => {
                    for n in &nets {
                        match n {
                            ipnet::IpNet::V4(n) if n.prefix_len() >= 8 => conds.push(format!(
                                "(not (and (= k{j}_t{i} 4) (= (bvand k{j}_4{i} #x{:08x}) #x{:08x})))",
                                u32::from(n.netmask()),
                                u32::from(n.network())
                            )),
                            ipnet::IpNet::V6(n) if n.prefix_len() >= 32 => conds.push(format!(
                                "(not (and (= k{j}_t{i} 6) (= (bvand k{j}_6{i} #x{:032x}) #x{:032x})))",
                                u128::from(n.netmask()),
                                u128::from(n.network())
                            )),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            if !conds.is_empty() {
                parts.push(format!("(=> k{j}_a{i} (and {}))", conds.join(" ")));
            }
        }
    }
    if parts.is_empty() {
        "true".into()
    } else {
        format!("(and {})", parts.join(" "))
    }
}

/// The context and request of a witness, for replaying.
impl Witness {
    /// The request (borrowing this witness) and its context, to evaluate with `req.context(&ctx)`.
    pub fn request_parts(&self) -> (Context, Request<'_>) {
        let mut ctx = Context::new();
        for (k, v) in &self.context {
            match v {
                WitnessValue::One(s) => {
                    ctx.insert(k, s.clone());
                }
                WitnessValue::Many(vs) => {
                    ctx.insert_value(k, ContextValue::multi(vs.clone()));
                }
            }
        }
        let mut req = Request::new(&self.action, &self.resource);
        if let Some(p) = &self.principal {
            req = req.principal(p);
        }
        if let Some(i) = &self.session_issuer {
            req = req.session_issuer(i);
        }
        (ctx, req)
    }
}
