//! Layer combinations (resource-based policy × principal kind × boundary × session policy × SCP ×
//! cross-account) against a small reference evaluator written from AWS's documented same-account table
//! (IAM User Guide, "Policy evaluation logic" and "Permissions boundaries for IAM entities"), not from the
//! engine's code; plus the golden suite with one case per row.

use authz_core::{Decision, Layer, Request};
use iam_eval::{Authorizer, PolicySet};
use iam_policy::PolicyType;
use proptest::prelude::*;

use crate::root;

const A: &str = "111122223333";
const B: &str = "444455556666";
const USER: &str = "arn:aws:iam::111122223333:user/alice";
const BOB: &str = "arn:aws:iam::111122223333:user/bob";
const ROLE: &str = "arn:aws:iam::111122223333:role/app";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/app/s1";
const FED: &str = "arn:aws:sts::111122223333:federated-user/bob";

#[test]
fn golden_layer_suite_every_row() {
    let path = root().join("fixtures/eval/layers.suite.json");
    let results = policy_check::suite::run_suites(&[path.display().to_string()]).unwrap();
    assert_eq!(results.len(), 77, "{} cases", results.len());
    let failed: Vec<_> = results
        .iter()
        .filter(|r| !r.pass)
        .map(|r| {
            format!(
                "{}: {} (expected {})\n{}",
                r.name, r.actual, r.expect, r.detail
            )
        })
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    User,
    Session,
    /// A request written as the role ARN: a session of the role.
    RoleArn,
    /// A federated-user session made by IAM user bob.
    Federated,
}

/// Whom the resource policy's statement names.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Named {
    User,
    Role,
    Session,
    Federated,
    FederatedIssuer,
    Account,
    Root,
    Star,
    OtherAccount,
}

/// A layer's policy: absent, allows the action, allows something else, denies the action.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Pol {
    Absent,
    Allows,
    Silent,
    Denies,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    caller: Caller,
    named: Option<(Named, bool)>, // (principal, deny?)
    identity: Pol,
    boundary: Pol,
    session: Pol,
    scp: Pol,
    resource_account: Option<&'static str>,
}

/// The reference: AWS's table, row by row.
fn reference(c: &Case) -> Decision {
    use Caller as C;
    use Named as N;
    // How the named principal relates to the caller, by the table's rows.
    #[derive(PartialEq)]
    enum Kind {
        Own,
        Behind,
        Acct,
    }
    let kind = c.named.and_then(|(n, _)| match (n, c.caller) {
        (N::User, C::User) | (N::Session, C::Session) | (N::Federated, C::Federated) => {
            Some(Kind::Own)
        }
        (N::Star, _) => Some(Kind::Own),
        (N::Role, C::Session | C::RoleArn) => Some(Kind::Behind),
        (N::FederatedIssuer, C::Federated) => Some(Kind::Behind),
        (N::Account | N::Root, _) => Some(Kind::Acct),
        _ => None,
    });
    let rp_deny = c.named.is_some_and(|(_, deny)| deny) && kind.is_some();
    let denies = [c.identity, c.boundary, c.session, c.scp].contains(&Pol::Denies);
    if rp_deny || denies {
        return Decision::ExplicitDeny;
    }
    if c.scp == Pol::Silent {
        return Decision::ImplicitDeny;
    }
    let rp_allow = c.named.is_some_and(|(_, deny)| !deny);
    let grant = if rp_allow { kind } else { None };
    let ok = |p: Pol| p != Pol::Silent;
    let cross = c.resource_account.is_some_and(|r| r != A);
    if !cross {
        match grant {
            Some(Kind::Own) => return Decision::Allow,
            Some(Kind::Behind) if ok(c.boundary) && ok(c.session) => return Decision::Allow,
            _ => {}
        }
    }
    if c.identity != Pol::Allows || !ok(c.boundary) || !ok(c.session) {
        return Decision::ImplicitDeny;
    }
    if cross && grant.is_none() {
        return Decision::ImplicitDeny;
    }
    Decision::Allow
}

fn compile(layer: Layer, ty: PolicyType, text: &str) -> PolicySet {
    let checked = iam_policy::check("p.json", text.as_bytes(), ty, &Default::default());
    assert!(!checked.has_errors(), "{text}: {:?}", checked.diagnostics);
    PolicySet::compile(layer, [checked.document.unwrap()]).unwrap()
}

fn layer_policy(p: Pol) -> Option<String> {
    let st = |effect: &str, action: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Action":"{action}","Resource":"*"}}]}}"#
        )
    };
    match p {
        Pol::Absent => None,
        Pol::Allows => Some(st("Allow", "s3:GetObject")),
        Pol::Silent => Some(st("Allow", "ec2:*")),
        Pol::Denies => Some(st("Deny", "s3:GetObject")),
    }
}

fn engine(c: &Case) -> Decision {
    let identity = match layer_policy(c.identity) {
        Some(t) => compile(Layer::Identity, PolicyType::Identity, &t),
        None => PolicySet::compile(Layer::Identity, []).unwrap(),
    };
    let mut auth = Authorizer::new(identity);
    auth.boundary =
        layer_policy(c.boundary).map(|t| compile(Layer::Boundary, PolicyType::Boundary, &t));
    auth.session =
        layer_policy(c.session).map(|t| compile(Layer::Session, PolicyType::Session, &t));
    if let Some(t) = layer_policy(c.scp) {
        auth.scps = vec![compile(Layer::Scp(0), PolicyType::Scp, &t)];
    }
    if let Some((n, deny)) = c.named {
        let principal = match n {
            Named::User => format!(r#"{{"AWS":"{USER}"}}"#),
            Named::Role => format!(r#"{{"AWS":"{ROLE}"}}"#),
            Named::Session => format!(r#"{{"AWS":"{SESSION}"}}"#),
            Named::Federated => format!(r#"{{"AWS":"{FED}"}}"#),
            Named::FederatedIssuer => format!(r#"{{"AWS":"{BOB}"}}"#),
            Named::Account => format!(r#"{{"AWS":"{A}"}}"#),
            Named::Root => format!(r#"{{"AWS":"arn:aws:iam::{A}:root"}}"#),
            Named::Star => r#""*""#.to_string(),
            Named::OtherAccount => r#"{"AWS":"999988887777"}"#.to_string(),
        };
        let effect = if deny { "Deny" } else { "Allow" };
        let t = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}}]}}"#
        );
        auth.resource = Some(compile(Layer::Resource, PolicyType::Resource, &t));
    }
    let principal = match c.caller {
        Caller::User => USER,
        Caller::Session => SESSION,
        Caller::RoleArn => ROLE,
        Caller::Federated => FED,
    };
    let mut req = Request::new("s3:GetObject", "arn:aws:s3:::bkt/key").principal(principal);
    if c.caller == Caller::Federated {
        req = req.session_issuer(BOB);
    }
    if let Some(r) = c.resource_account {
        req = req.resource_account(r);
    }
    let fast = auth.evaluate(&req);
    let explained = auth.explain(&req);
    assert_eq!(
        fast, explained.outcome,
        "explain disagrees with evaluate: {c:?}"
    );
    // The shared result names the same decision and deciding statement, whether built from the hot
    // path's outcome or from the explanation.
    let answer = auth.answer(&req);
    assert_eq!(answer, explained.answer(), "{c:?}");
    assert_eq!(
        (answer.decision, answer.blocked_by),
        (fast.decision, fast.blocked_by)
    );
    let named = fast.decided_by.and_then(|at| auth.statement(at));
    assert_eq!(
        answer
            .determining
            .first()
            .map(|d| (d.layer, d.policy.as_str(), d.statement)),
        named.map(|i| (i.at.layer, i.document.source.name(), Some(i.at.statement))),
        "{c:?}"
    );
    assert_eq!(
        answer.determining.len(),
        usize::from(fast.decided_by.is_some())
    );
    fast.decision
}

fn pol() -> impl Strategy<Value = Pol> {
    prop_oneof![
        Just(Pol::Absent),
        Just(Pol::Allows),
        Just(Pol::Silent),
        Just(Pol::Denies)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let caller = prop_oneof![
        Just(Caller::User),
        Just(Caller::Session),
        Just(Caller::RoleArn),
        Just(Caller::Federated)
    ];
    let named = prop_oneof![
        Just(Named::User),
        Just(Named::Role),
        Just(Named::Session),
        Just(Named::Federated),
        Just(Named::FederatedIssuer),
        Just(Named::Account),
        Just(Named::Root),
        Just(Named::Star),
        Just(Named::OtherAccount)
    ];
    let named = proptest::option::weighted(0.8, (named, proptest::bool::weighted(0.15)));
    let acct = prop_oneof![Just(None), Just(Some(A)), Just(Some(B))];
    (caller, named, pol(), pol(), pol(), pol(), acct).prop_map(
        |(caller, named, identity, boundary, session, scp, resource_account)| Case {
            caller,
            named,
            identity,
            boundary,
            session,
            // An SCP that denies is rare enough in practice; keep the mix interesting.
            scp,
            resource_account,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_the_documented_table(c in case()) {
        prop_assert_eq!(engine(&c), reference(&c), "{:?}", c);
    }
}

/// The space is small enough to walk completely as well: every combination, once.
#[test]
fn every_combination_agrees_with_the_documented_table() {
    let callers = [
        Caller::User,
        Caller::Session,
        Caller::RoleArn,
        Caller::Federated,
    ];
    let named = [
        None,
        Some((Named::User, false)),
        Some((Named::Role, false)),
        Some((Named::Session, false)),
        Some((Named::Federated, false)),
        Some((Named::FederatedIssuer, false)),
        Some((Named::Account, false)),
        Some((Named::Root, false)),
        Some((Named::Star, false)),
        Some((Named::OtherAccount, false)),
        Some((Named::Role, true)),
        Some((Named::Account, true)),
    ];
    let pols = [Pol::Absent, Pol::Allows, Pol::Silent];
    let mut n = 0;
    for caller in callers {
        for named in named {
            for identity in pols {
                for boundary in pols {
                    for session in pols {
                        for resource_account in [None, Some(A), Some(B)] {
                            let c = Case {
                                caller,
                                named,
                                identity,
                                boundary,
                                session,
                                scp: Pol::Absent,
                                resource_account,
                            };
                            assert_eq!(engine(&c), reference(&c), "{c:?}");
                            n += 1;
                        }
                    }
                }
            }
        }
    }
    assert_eq!(n, 4 * 12 * 27 * 3);
}
