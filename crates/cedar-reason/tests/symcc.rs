//! The Cedar checks with cvc5 1.3.1 from PyPI behind our SMT-LIB front end (installed under the target
//! directory on first use; `CVC5` names another). Every counterexample is replayed by the library in
//! Cedar's authorizer; these tests check the verdicts and what the counterexamples show.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::{PolicySet, Schema};
use cedar_reason::{Cvc5, Property, check};

fn cvc5() -> Cvc5 {
    static C: OnceLock<Cvc5> = OnceLock::new();
    C.get_or_init(|| match std::env::var_os("CVC5") {
        Some(p) => Cvc5::at(p),
        None => Cvc5::install_into(&PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cvc5-venv"))
            .unwrap(),
    })
    .clone()
}

fn dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/check/cedar")
        .join(name)
}

fn load(name: &str) -> (Schema, PolicySet) {
    let schema = Schema::from_cedarschema_str(
        &std::fs::read_to_string(dir(name).join("schema.cedarschema")).unwrap(),
    )
    .unwrap()
    .0;
    let set =
        PolicySet::from_str(&std::fs::read_to_string(dir(name).join("photos.cedar")).unwrap())
            .unwrap();
    (schema, set)
}

#[test]
fn implication_and_equivalence_with_counterexamples() {
    let (schema, v1) = load("v1");
    let (_, v2) = load("v2");
    let c = cvc5();
    // v1 allows no more than v2: proven.
    let a = check(Property::Implies, &schema, &v1, Some(&v2), &c).unwrap();
    assert!(a.holds, "{a:?}");
    assert_eq!(a.environments, 2);
    // v2 allows more (admins delete others' photos): a counterexample v2 allows and v1 denies.
    let a = check(Property::Implies, &schema, &v2, Some(&v1), &c).unwrap();
    assert!(!a.holds);
    let cex = &a.counterexamples[0];
    assert_eq!(cex.decisions, vec!["ALLOW", "DENY"]);
    assert!(cex.environment.contains("delete"), "{}", cex.environment);
    assert_eq!(cex.avp_request["action"]["actionId"], "delete");
    assert_eq!(cex.avp_request["principal"]["entityType"], "User");
    assert!(
        cex.avp_request["entities"]["cedarJson"]
            .as_str()
            .unwrap()
            .contains("admins")
    );
    // Equivalence: a set with itself holds; v1 and v2 differ.
    assert!(
        check(Property::Equivalent, &schema, &v1, Some(&v1), &c)
            .unwrap()
            .holds
    );
    let a = check(Property::Equivalent, &schema, &v1, Some(&v2), &c).unwrap();
    assert!(!a.holds);
    assert_eq!(a.counterexamples[0].decisions, vec!["DENY", "ALLOW"]);
}

#[test]
fn always_denies_and_never_errors() {
    let (schema, v1) = load("v1");
    let c = cvc5();
    let a = check(Property::AlwaysDenies, &schema, &v1, None, &c).unwrap();
    assert!(!a.holds);
    assert_eq!(a.counterexamples[0].decisions, vec!["ALLOW"]);
    let none = PolicySet::from_str(r#"forbid(principal, action, resource);"#).unwrap();
    assert!(
        check(Property::AlwaysDenies, &schema, &none, None, &c)
            .unwrap()
            .holds
    );
    assert!(
        check(Property::NeverErrors, &schema, &v1, None, &c)
            .unwrap()
            .holds
    );
    let (risky_schema, risky) = load("risky");
    let a = check(Property::NeverErrors, &risky_schema, &risky, None, &c).unwrap();
    assert!(!a.holds);
    let cex = &a.counterexamples[0];
    assert_eq!(cex.policy.as_deref(), Some("policy0"));
    // The photo's size makes the multiplication overflow.
    assert!(
        cex.avp_request["entities"]["cedarJson"]
            .as_str()
            .unwrap()
            .contains("size")
    );
    // Bad questions are errors, not answers.
    assert!(check(Property::Implies, &schema, &v1, None, &c).is_err());
    assert!(check(Property::AlwaysDenies, &schema, &v1, Some(&v1), &c).is_err());
}
