//! What a case expects and how it is compared: the decision, the exact error code, and the stated fields
//! of the shared result.

use authz_core::Decision;

use crate::Failure;
use crate::suite::CaseResult;

/// The decision a case expects (`expect`).
pub(crate) fn expected_decision(expect: Option<&str>, what: &str) -> Result<Decision, Failure> {
    expect
        .ok_or_else(|| format!("{what}: missing `expect` (Allow, ExplicitDeny or ImplicitDeny)"))?
        .parse()
        .map_err(|e| Failure::from(e).at(what))
}

/// The error a case expects (`expect_error`), if it expects one.
pub(crate) fn expected_error<'o>(
    expect_error: Option<&'o str>,
    what: &str,
) -> Result<Option<&'o str>, Failure> {
    match expect_error {
        None => Ok(None),
        // A registered code (`iam::effect`), or an AWS error name (`ValidationException`): a misspelt
        // code could never match, so the case could never pass or fail for the reason it states.
        Some(s)
            if diag::codes::is_registered(s)
                || (!s.contains("::")
                    && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && s.chars().all(|c| c.is_ascii_alphanumeric())) =>
        {
            Ok(Some(s))
        }
        Some(s) => Err(Failure::from(format!(
            "{what}: `expect_error` `{s}` is not a registered code (see the README's error codes) or an AWS error name"
        ))),
    }
}

/// The row of a case that expects the error `want`: `got` is the failure (`Err`), or what was decided
/// instead (`Ok`). The case passes when `want` is exactly the failure's registered code or its AWS error
/// name. A failure without a code (a file the CLI could not read) leaves the expectation uncheckable: an
/// error, not a failed case.
pub(crate) fn error_row(
    (name, case_name): (&std::sync::Arc<str>, &str),
    want: &str,
    got: Result<String, Failure>,
    what: &str,
) -> Result<CaseResult, Failure> {
    let (actual, pass, detail) = match got {
        Err(f) if f.code.is_none() => return Err(Failure::from(format!("{what}: {f}"))),
        Err(f) if f.is(want) => (format!("Error {want}"), true, String::new()),
        Err(f) => (
            format!("Error {}", f.code.unwrap_or_default()),
            false,
            f.message,
        ),
        Ok(decided) => ("accepted".to_string(), false, decided),
    };
    Ok(CaseResult::new(
        name,
        case_name,
        format!("Error {want}"),
        actual,
        pass,
        detail,
    ))
}

/// Compares a case's expectations with what happened: the decision, then each optional field the case
/// states (`sid`, `role`, `determining`). Every stated field is checked; each one that is stated shows in
/// both the expected and the actual column, so a failing row says what differed.
pub(crate) struct Compare {
    pub(crate) expect: String,
    pub(crate) actual: String,
    pub(crate) pass: bool,
    pub(crate) detail: String,
}

impl Compare {
    /// Compares the shared result of any engine with a case: the decision, then `sid` (the deciding
    /// statement's `Sid`) and `determining` (the determining policies, in any order) when the case states
    /// them. Which fields a kind of case may state is checked when the suite is read.
    pub(crate) fn answer(
        sid: Option<&str>,
        determining: Option<&[String]>,
        expect: Decision,
        answer: &authz_core::Answer,
    ) -> Self {
        let mut c = Self {
            expect: expect.to_string(),
            actual: answer.decision.to_string(),
            pass: expect == answer.decision,
            detail: String::new(),
        };
        if let Some(want) = sid {
            c.field("Sid", want, answer.sid());
        }
        if let Some(want) = determining {
            let mut want: Vec<&str> = want.iter().map(String::as_str).collect();
            want.sort_unstable();
            let mut got: Vec<&str> = answer
                .determining
                .iter()
                .map(|d| d.policy.as_str())
                .collect();
            got.sort_unstable();
            c.field("determining", &want.join(", "), Some(&got.join(", ")));
        }
        c
    }

    /// Checks one stated field.
    pub(crate) fn field(&mut self, label: &str, want: &str, got: Option<&str>) {
        let got_s = got.unwrap_or("none");
        self.expect.push_str(&format!(", {label} {want}"));
        self.actual.push_str(&format!(", {label} {got_s}"));
        if got != Some(want) {
            self.pass = false;
            self.detail
                .push_str(&format!("expected {label} `{want}`, got `{got_s}`\n"));
        }
    }
}
