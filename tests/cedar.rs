//! The Cedar bridge: token mapping, Verified Permissions shapes, store loading, the index.

use cedar_bridge::avp::{self, TokenClaims};
use cedar_bridge::claims::{
    AttrType, AttrTypes, IdentitySource, Notation, access_token_context, principal_attrs,
};
use cedar_bridge::{BridgeError, Link, PolicyStore};
use serde_json::{Map, Value, json};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn src(notation: Notation) -> IdentitySource {
    let mut s = IdentitySource::cognito("us-east-1_Example", "App::User", Some("App::Group"));
    s.notation = notation;
    s
}

#[test]
fn claims_become_attributes_in_both_notations() {
    let c = obj(
        json!({"sub": "s1", "custom:location": "USA", "cognito:username": "alice", "email_verified": true,
        "cognito:groups": ["g"], "address": {"country": "US"}, "amr": ["pwd"], "nothing": null, "age": 42, "score": 1.5, "aud": "c1"}),
    );
    let mut notes = Vec::new();
    let a = principal_attrs(&src(Notation::Both), &c, None, &mut notes).unwrap();
    assert_eq!(a["custom:location"], "USA");
    assert_eq!(a["custom"]["location"], "USA");
    assert_eq!(a["cognito"]["username"], "alice");
    assert_eq!(a["email_verified"], true);
    assert_eq!(a["address"]["country"], "US");
    assert_eq!(a["amr"], json!(["pwd"]));
    assert_eq!(a["age"], 42);
    assert_eq!(a["aud"], "c1");
    assert!(
        !a.contains_key("cognito:groups"),
        "groups are parents, not attributes"
    );
    assert!(!a.contains_key("nothing"));
    assert!(!a.contains_key("score"), "floats have no Cedar type");
    assert!(notes.iter().any(|n| n.contains("score")));
    let bracket = principal_attrs(&src(Notation::Bracket), &c, None, &mut Vec::new()).unwrap();
    assert!(bracket.contains_key("custom:location") && !bracket.contains_key("custom"));
    let dot = principal_attrs(&src(Notation::Dot), &c, None, &mut Vec::new()).unwrap();
    assert!(!dot.contains_key("custom:location") && dot.contains_key("custom"));
}

#[test]
fn reserved_claim_names_are_rejected() {
    let c = obj(json!({"sub": "s1", "custom:x": "1", "custom": "boom"}));
    assert!(matches!(
        principal_attrs(&src(Notation::Both), &c, None, &mut Vec::new()),
        Err(BridgeError::Claims(_))
    ));
    let c = obj(json!({"sub": "s1", "dev": "x"}));
    assert!(principal_attrs(&src(Notation::Both), &c, None, &mut Vec::new()).is_err());
}

#[test]
fn schema_projects_and_coerces() {
    let mut attrs = std::collections::BTreeMap::new();
    attrs.insert("custom:age".to_string(), AttrType::Named("Long".into()));
    attrs.insert(
        "custom:admin".to_string(),
        AttrType::Named("Boolean".into()),
    );
    let mut custom = std::collections::BTreeMap::new();
    custom.insert("age".to_string(), AttrType::Named("Long".into()));
    attrs.insert("custom".to_string(), AttrType::Record(custom));
    let types = AttrTypes { attrs };
    let c = obj(
        json!({"sub": "s1", "custom:age": "41", "custom:admin": "true", "email": "x@y", "custom:bad": "z"}),
    );
    let mut notes = Vec::new();
    let a = principal_attrs(&src(Notation::Both), &c, Some(&types), &mut notes).unwrap();
    assert_eq!(a["custom:age"], 41);
    assert_eq!(a["custom:admin"], true);
    assert_eq!(a["custom"]["age"], 41);
    assert!(
        !a.contains_key("email"),
        "undeclared attributes are dropped under a schema"
    );
    assert!(notes.iter().any(|n| n.contains("email")));
    let c = obj(json!({"sub": "s1", "custom:age": "forty"}));
    let mut notes = Vec::new();
    let a = principal_attrs(&src(Notation::Bracket), &c, Some(&types), &mut notes).unwrap();
    assert!(!a.contains_key("custom:age"));
    assert!(notes.iter().any(|n| n.contains("not a Long")));
}

#[test]
fn access_token_claims_go_to_context_token() {
    let c = obj(
        json!({"sub": "s1", "scope": "openid photos/read", "client_id": "c1", "cognito:groups": ["g"]}),
    );
    let t = access_token_context(&src(Notation::Both), &c, None, &mut Vec::new());
    assert_eq!(t["scope"], json!(["openid", "photos/read"]));
    assert_eq!(t["client_id"], "c1");
    assert!(!t.contains_key("cognito:groups"));
}

#[test]
fn identity_source_config() {
    let s = IdentitySource::from_json(&json!({"issuer": "https://idp.example.com", "principal_entity_type": "App::User", "group_claim": "roles"})).unwrap();
    assert_eq!(s.entity_id_prefix, "idp.example.com");
    assert_eq!(s.notation, Notation::Bracket);
    assert_eq!(s.groups(&obj(json!({"roles": "a b"}))), ["a", "b"]);
    assert!(
        IdentitySource::from_json(
            &json!({"issuer": "https://x", "principal_entity_type": "U", "notation": "dot"})
        )
        .is_err()
    );
    assert!(
        IdentitySource::from_json(
            &json!({"user_pool_id": "p", "principal_entity_type": "Bad Type"})
        )
        .is_err()
    );
    assert!(
        IdentitySource::from_json(
            &json!({"user_pool_id": "p", "principal_entity_type": "U", "typo": 1})
        )
        .is_err()
    );
    // A value of the wrong type is refused, never read as absent (a numeric `group_claim` used to fall
    // back to `cognito:groups` silently).
    let e = IdentitySource::from_json(
        &json!({"user_pool_id": "p", "principal_entity_type": "U", "group_claim": 7}),
    )
    .unwrap_err();
    assert!(e.to_string().contains("expected a string"), "{e}");
    // The file form says where: unknown, repeated and mistyped fields with their line and column.
    for (text, says) in [
        (
            "{\"user_pool_id\": \"p\",\n \"principal_entity_typ\": \"U\"}",
            "unknown field `principal_entity_typ`",
        ),
        (
            "{\"user_pool_id\": \"p\", \"principal_entity_type\": \"U\",\n \"user_pool_id\": \"q\"}",
            "duplicate field `user_pool_id`",
        ),
        (
            "{\"user_pool_id\": \"p\", \"principal_entity_type\": \"U\",\n \"client_ids\": \"c\"}",
            "expected a sequence",
        ),
    ] {
        let e = IdentitySource::from_json_text("identity-source.json", text).unwrap_err();
        let m = e.to_string();
        assert!(
            m.starts_with("identity-source.json: ") && m.contains(says) && m.contains("line 2"),
            "{m}"
        );
        assert_eq!(e.code(), diag::codes::CEDAR_CONFIG);
    }
}

/// `links.json`: a link value that is not a string, or a misspelt field, is refused (a number used to
/// become an empty entity id).
#[test]
fn links_are_decoded_strictly() {
    let dir = std::env::temp_dir().join(format!("pc-links-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("t.cedar"),
        "@id(\"T\") permit(principal == ?principal, action, resource);",
    )
    .unwrap();
    for (links, says) in [
        (
            r#"[{"template": "T", "id": "L", "values": {"?principal": 5}}]"#,
            "invalid type: integer `5`, expected a string",
        ),
        (
            r#"[{"template": "T", "id": "L", "valeus": {"?principal": "U::\"a\""}}]"#,
            "unknown field `valeus`",
        ),
    ] {
        std::fs::write(dir.join("links.json"), links).unwrap();
        let files = cedar_bridge::StoreFiles::from_dir(&dir).unwrap();
        let e = cedar_bridge::PolicyStore::from_files(&files).unwrap_err();
        assert!(e.to_string().contains(says), "{e}");
        assert_eq!(e.code(), diag::codes::CEDAR_CONFIG);
    }
    std::fs::write(
        dir.join("links.json"),
        r#"[{"template": "T", "id": "L", "values": {"?principal": "U::\"a\""}}]"#,
    )
    .unwrap();
    let files = cedar_bridge::StoreFiles::from_dir(&dir).unwrap();
    assert!(cedar_bridge::PolicyStore::from_files(&files).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn attribute_values_in_both_cases() {
    let v = avp::attribute_value(&json!({"record": {"a": {"Long": 5}, "b": {"set": [{"string": "x"}]}, "c": {"entityIdentifier": {"entityType": "T", "entityId": "i"}}, "d": {"ipaddr": "10.0.0.1"}}}), "x").unwrap();
    assert_eq!(
        v,
        json!({"a": 5, "b": ["x"], "c": {"__entity": {"type": "T", "id": "i"}}, "d": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}})
    );
    assert!(avp::attribute_value(&json!({"string": "a", "long": 1}), "x").is_err());
    assert!(avp::attribute_value(&json!({"float": 1.5}), "x").is_err());
}

fn store(policies: &str) -> PolicyStore {
    PolicyStore::from_parts(
        &[("p.cedar".into(), policies.into())],
        None,
        Some(src(Notation::Both)),
        Vec::new(),
        true,
    )
    .unwrap()
}

#[test]
fn batch_and_forbid_and_errors() {
    let s = store(
        r#"@id("p1") permit(principal, action == Action::"read", resource);
                     @id("f1") forbid(principal == App::User::"bob", action, resource);
                     @id("e1") permit(principal, action == Action::"write", resource) when { principal.missing == 1 };"#,
    );
    let req = json!({"entities": {"entityList": []}, "requests": [
        {"principal": "App::User::\"alice\"", "action": "Action::\"read\"", "resource": "Doc::\"d\""},
        {"principal": "App::User::\"bob\"", "action": "Action::\"read\"", "resource": "Doc::\"d\""},
        {"principal": "App::User::\"alice\"", "action": "Action::\"write\"", "resource": "Doc::\"d\""}]});
    let mut decisions = Vec::new();
    for r in req["requests"].as_array().unwrap() {
        decisions.push(avp::decide(&s, r, &TokenClaims::default(), req.get("entities")).unwrap());
    }
    assert_eq!(decisions[0].response()["decision"], "ALLOW");
    assert_eq!(
        decisions[1].result.decision,
        authz_core::Decision::ExplicitDeny
    );
    assert_eq!(
        decisions[1].response()["determiningPolicies"],
        json!([{"policyId": "f1"}])
    );
    assert_eq!(
        decisions[2].result.decision,
        authz_core::Decision::ImplicitDeny
    );
    assert_eq!(
        decisions[2].response()["errors"].as_array().unwrap().len(),
        1,
        "an erroring policy is skipped and reported"
    );
    // The shared result says the same: the determining policy by id, the error with its code and policy,
    // and no identity (a request that names its principal has no token to verify).
    assert_eq!(
        decisions[1].result.determining,
        [authz_core::Determining {
            layer: authz_core::Layer::Cedar,
            policy: "f1".into(),
            sid: None,
            statement: None
        }]
    );
    let e = &decisions[2].result.errors;
    assert_eq!(
        e.iter()
            .map(|e| (e.code, e.policy.as_deref()))
            .collect::<Vec<_>>(),
        [(diag::codes::CEDAR_EVALUATION, Some("e1"))]
    );
    assert!(decisions.iter().all(|d| d.result.verified.is_none()));
}

#[test]
fn bad_cedar_and_schema_violations_are_clear_errors() {
    let e = PolicyStore::from_parts(
        &[(
            "bad.cedar".into(),
            "permit(principal, action, resource) when { principal.x == };".into(),
        )],
        None,
        None,
        Vec::new(),
        true,
    )
    .unwrap_err();
    let m = e.to_string();
    assert!(m.starts_with("bad.cedar:1:"), "{m}");
    let (schema, _) = cedar_policy::Schema::from_cedarschema_str(
        r#"entity User { custom?: { location?: String } }; entity Photo; action view appliesTo { principal: User, resource: Photo };"#,
    )
    .unwrap();
    let unguarded = r#"@id("u") permit(principal, action == Action::"view", resource) when { principal.custom.location == "USA" };"#;
    let e = strict_store(unguarded, schema.clone()).unwrap_err();
    let m = e.to_string();
    assert!(m.contains("policy `u`") && m.contains("has"), "{m}");
    let guarded = r#"@id("g") permit(principal, action == Action::"view", resource) when { principal has custom && principal.custom has location && principal.custom.location == "USA" };"#;
    assert!(strict_store(guarded, schema).is_ok());
}

#[test]
fn templates_and_links() {
    let t = r#"@id("viewer") permit(principal == ?principal, action == Action::"view", resource in ?resource);"#;
    let links = vec![Link {
        template: "viewer".into(),
        id: "alice-trip".into(),
        values: vec![
            ("?principal".into(), "User::\"alice\"".into()),
            ("?resource".into(), "Album::\"trip\"".into()),
        ],
    }];
    let s =
        PolicyStore::from_parts(&[("t.cedar".into(), t.into())], None, None, links, true).unwrap();
    let r = |p: &str| json!({"principal": p, "action": "Action::\"view\"", "resource": "Album::\"trip\""});
    let a = avp::decide(&s, &r("User::\"alice\""), &TokenClaims::default(), None).unwrap();
    assert_eq!(
        a.response()["determiningPolicies"],
        json!([{"policyId": "alice-trip"}])
    );
    assert_eq!(
        avp::decide(&s, &r("User::\"bob\""), &TokenClaims::default(), None)
            .unwrap()
            .response()["decision"],
        "DENY"
    );
}

#[path = "support/cedar_gen.rs"]
mod cedar_gen;
use cedar_gen::generated_store;

#[test]
fn index_gives_the_same_decisions_and_determining_policies() {
    use std::str::FromStr;
    let s = generated_store(1000);
    let mut checked = 0;
    for u in 0..12 {
        for a in (0..100).step_by(7) {
            for d in [0, 3, 17] {
                for level in [0, 4] {
                    let p = cedar_policy::EntityUid::from_str(&format!(
                        "App::User::\"us-east-1_Example|u{u}\""
                    ))
                    .unwrap();
                    let act =
                        cedar_policy::EntityUid::from_str(&format!("Action::\"a{a}\"")).unwrap();
                    let r = cedar_policy::EntityUid::from_str(&format!("Doc::\"d{d}\"")).unwrap();
                    let ctx = cedar_policy::Context::from_json_value(json!({"level": level}), None)
                        .unwrap();
                    let req = cedar_policy::Request::new(p, act, r, ctx, None).unwrap();
                    let ents = cedar_policy::Entities::from_json_value(
                        json!([{"uid": {"type": "App::User", "id": format!("us-east-1_Example|u{u}")}, "attrs": {}, "parents": [{"type": "App::Group", "id": format!("us-east-1_Example|g{}", u % 7)}]}]),
                        None,
                    )
                    .unwrap();
                    let fast = s.is_authorized(&req, &ents).unwrap();
                    let full = s.is_authorized_unindexed(&req, &ents);
                    assert_eq!(fast.decision(), full.decision());
                    let mut a1: Vec<_> = fast
                        .diagnostics()
                        .reason()
                        .map(ToString::to_string)
                        .collect();
                    let mut a2: Vec<_> = full
                        .diagnostics()
                        .reason()
                        .map(ToString::to_string)
                        .collect();
                    a1.sort();
                    a2.sort();
                    assert_eq!(a1, a2);
                    assert_eq!(
                        fast.diagnostics().errors().count(),
                        full.diagnostics().errors().count()
                    );
                    checked += 1;
                }
            }
        }
    }
    // 12 users × 15 actions × 3 documents × 2 levels, every one compared.
    assert_eq!(checked, 12 * 15 * 3 * 2);
}

/// The index also narrows by the entities a scope names (`principal == X`, `principal in X`,
/// `resource == X`, `resource in X`), against the request's entities: through a hierarchy two levels
/// deep, for an entity the request does not describe (only `in` itself), for a template-linked policy
/// (kept whole) and with errors in conditions, every answer (decision, determining policies, error
/// count) equals the unindexed one, and a narrowed set is really narrower.
#[test]
fn index_narrows_by_scope_entities_without_changing_answers() {
    use std::str::FromStr;
    let text = r#"
@id("eq-alice") permit(principal == U::"alice", action == Action::"read", resource);
@id("in-team") permit(principal in G::"team", action == Action::"read", resource) when { context.n > 1 };
@id("in-org") forbid(principal in G::"org", action == Action::"read", resource in F::"secret");
@id("res-doc") permit(principal, action == Action::"read", resource == D::"d1");
@id("res-tree") permit(principal is U, action == Action::"read", resource in F::"root") when { context.bad.x };
@id("any") permit(principal, action == Action::"read", resource is D) when { context.n > 5 };
@id("tpl") permit(principal == ?principal, action == Action::"read", resource);
"#;
    let links = vec![cedar_bridge::Link {
        id: "link-bob".into(),
        template: "tpl".into(),
        values: vec![("?principal".into(), "U::\"bob\"".into())],
    }];
    let store = cedar_bridge::PolicyStore::from_parts(
        &[("t.cedar".into(), text.to_string())],
        None,
        None,
        links,
        false,
    )
    .unwrap();
    let ents = cedar_policy::Entities::from_json_value(
        json!([
            {"uid": {"type": "U", "id": "alice"}, "attrs": {}, "parents": [{"type": "G", "id": "team"}]},
            {"uid": {"type": "U", "id": "bob"}, "attrs": {}, "parents": []},
            {"uid": {"type": "G", "id": "team"}, "attrs": {}, "parents": [{"type": "G", "id": "org"}]},
            {"uid": {"type": "D", "id": "d1"}, "attrs": {}, "parents": [{"type": "F", "id": "sub"}]},
            {"uid": {"type": "D", "id": "d2"}, "attrs": {}, "parents": []},
            {"uid": {"type": "F", "id": "sub"}, "attrs": {}, "parents": [{"type": "F", "id": "secret"}, {"type": "F", "id": "root"}]}
        ]),
        None,
    )
    .unwrap();
    let uid = |s: &str| cedar_policy::EntityUid::from_str(s).unwrap();
    let mut narrowed = 0;
    let mut checked = 0;
    for p in ["U::\"alice\"", "U::\"bob\"", "U::\"carol\"", "G::\"team\""] {
        for r in ["D::\"d1\"", "D::\"d2\"", "D::\"d9\"", "F::\"sub\""] {
            for n in [0, 3, 9] {
                let ctx = cedar_policy::Context::from_json_value(json!({"n": n, "bad": {}}), None)
                    .unwrap();
                let req =
                    cedar_policy::Request::new(uid(p), uid("Action::\"read\""), uid(r), ctx, None)
                        .unwrap();
                let fast = store.is_authorized(&req, &ents).unwrap();
                let full = store.is_authorized_unindexed(&req, &ents);
                let ids = |x: &cedar_policy::Response| {
                    let mut v: Vec<String> =
                        x.diagnostics().reason().map(ToString::to_string).collect();
                    v.sort();
                    v
                };
                assert_eq!(fast.decision(), full.decision(), "{p} {r} {n}");
                assert_eq!(ids(&fast), ids(&full), "{p} {r} {n}");
                assert_eq!(
                    fast.diagnostics().errors().count(),
                    full.diagnostics().errors().count(),
                    "{p} {r} {n}"
                );
                let whole = store
                    .subset(&uid(p), &uid("Action::\"read\""), &uid(r))
                    .unwrap()
                    .policies()
                    .count();
                if store.candidates(&req, &ents).unwrap().policies().count() < whole {
                    narrowed += 1;
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4 * 4 * 3);
    assert!(narrowed > 0, "no request was narrowed");
}

#[test]
fn authorize_cli_formats_and_exit_codes() {
    use crate::cli::run;
    let root = crate::root();
    let dir = std::env::temp_dir().join(format!("pc-cedar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = root.join("policies/photo-app-avp/store-location");
    let req = dir.join("req.json");
    let token =
        std::fs::read_to_string(root.join("policies/photo-app-avp/tokens/alice.jwt")).unwrap();
    std::fs::write(&req, json!({"identityToken": token.trim(), "action": {"actionType": "Action", "actionId": "view"}, "resource": {"entityType": "Photo", "entityId": "p"}}).to_string()).unwrap();
    let authorize = |now: &str, json: bool| {
        let mut args = vec![
            "authorize",
            "--store",
            store.to_str().unwrap(),
            "--request",
            req.to_str().unwrap(),
            "--now",
        ];
        args.push(now);
        if json {
            args.extend(["--format", "json"]);
        }
        run(&args)
    };
    let (code, out, err) = authorize("1700000100", true);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["decision"], "ALLOW");
    assert_eq!(
        v["principal"],
        json!({"entityType": "User", "entityId": "us-east-1_Example|alice-sub"})
    );
    // An expired token is an error with AVP's exception, never a DENY decision.
    let (code, out, err) = authorize("1900000000", false);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("ValidationException") && err.contains("token::expired"),
        "{err}"
    );
    let (code, out, _) = authorize("1900000000", true);
    assert_eq!(code, 1, "{out}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["__type"], "ValidationException");
    assert!(
        v["message"].as_str().unwrap().contains("token::expired"),
        "{v}"
    );
    assert!(v.get("decision").is_none(), "{v}");
    // cedar CLI request + entities files.
    let creq = dir.join("creq.json");
    let cent = dir.join("ents.json");
    std::fs::write(&creq, r#"{"principal": "User::\"alice\"", "action": "Action::\"update\"", "resource": "Photo::\"VacationPhoto94.jpg\"", "context": {}}"#).unwrap();
    std::fs::write(&cent, "[]").unwrap();
    let (code, out, _) = run(&[
        "authorize",
        "--store",
        store.to_str().unwrap(),
        "--request",
        creq.to_str().unwrap(),
        "--entities",
        cent.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("alice-update"));
    // Batch: 31 requests are refused.
    let many: Vec<Value> = (0..31).map(|_| json!({"principal": "User::\"a\"", "action": "Action::\"view\"", "resource": "Photo::\"p\""})).collect();
    std::fs::write(&creq, json!({"requests": many}).to_string()).unwrap();
    let (code, _, err) = run(&[
        "authorize",
        "--store",
        store.to_str().unwrap(),
        "--request",
        creq.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("1 to 30"), "{err}");
}

#[test]
fn validate_checks_cedar_stores() {
    use crate::cli::run;
    let dir = std::env::temp_dir().join(format!("pc-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("schema.cedarschema"), r#"entity User { custom?: { location?: String } }; entity Photo; action view appliesTo { principal: User, resource: Photo };"#).unwrap();
    std::fs::write(dir.join("p.cedar"), "@id(\"usa\")\npermit(principal, action == Action::\"view\", resource) when { principal.custom.location == \"USA\" };\n").unwrap();
    let (code, _, err) = run(&["validate", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("policy `usa`") && err.contains("principal has custom"),
        "{err}"
    );
    std::fs::write(dir.join("p.cedar"), "@id(\"usa\")\npermit(principal, action == Action::\"view\", resource) when { principal has custom && principal.custom has location && principal.custom.location == \"USA\" };\n").unwrap();
    let (code, _, err) = run(&["validate", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn typed_values_reach_policies_without_a_schema() {
    let s = store(
        r#"@id("typed") permit(principal, action == Action::"get", resource)
           when { resource.ip.isInRange(ip("10.0.0.0/8")) && resource.owner == principal && resource.tags.contains("a")
                  && resource.meta.level == 3 && resource.price.lessThan(decimal("2.5")) && context.flag };"#,
    );
    let req = |owner: &str| {
        json!({"principal": "App::User::\"alice\"", "action": "Action::\"get\"", "resource": "Doc::\"d\"",
            "context": {"contextMap": {"flag": {"boolean": true}}},
            "entities": {"entityList": [
                {"identifier": {"entityType": "Doc", "entityId": "other"}, "attributes": {}},
                {"identifier": {"entityType": "Doc", "entityId": "d"}, "attributes": {"ip": {"ipaddr": "10.1.2.3"},
                 "owner": {"entityIdentifier": {"entityType": "App::User", "entityId": owner}},
                 "tags": {"set": [{"string": "a"}, {"string": "b"}]}, "meta": {"record": {"level": {"long": 3}}},
                 "price": {"decimal": "1.25"}}}]}})
    };
    let a = avp::decide(&s, &req("alice"), &TokenClaims::default(), None).unwrap();
    assert_eq!(a.response()["decision"], "ALLOW", "{}", a.response());
    let b = avp::decide(&s, &req("bob"), &TokenClaims::default(), None).unwrap();
    assert_eq!(b.response()["decision"], "DENY");
}

#[test]
fn entity_references_in_every_form() {
    let uid = |v: Value| avp::entity_uid(&v, "x").map(|u| u.to_string());
    assert_eq!(
        uid(json!("App::User::\"alice\"")).unwrap(),
        "App::User::\"alice\""
    );
    assert_eq!(
        uid(json!({"entityType": "App::User", "entityId": "a|b"})).unwrap(),
        "App::User::\"a|b\""
    );
    assert_eq!(
        uid(json!({"actionType": "Action", "actionId": "view"})).unwrap(),
        "Action::\"view\""
    );
    assert_eq!(
        uid(json!({"__entity": {"type": "T", "id": "i"}})).unwrap(),
        "T::\"i\""
    );
    // Escapes go through Cedar's parser and give the same entity as the structured form.
    let escaped = avp::entity_uid(&json!(r#"User::"a\"b""#), "x").unwrap();
    let structured = avp::entity_uid(&json!({"type": "User", "id": "a\"b"}), "x").unwrap();
    assert_eq!(escaped, structured);
    assert!(uid(json!("1User::\"x\"")).is_err());
    assert!(uid(json!({"entityType": "Bad Type", "entityId": "x"})).is_err());
    assert!(uid(json!(42)).is_err());
}

#[test]
fn duplicate_entities_keep_the_last_and_escaped_uids_stay_distinct() {
    let s = store(
        r#"@id("r") permit(principal, action == Action::"get", resource) when { resource.level == 2 };"#,
    );
    let req = json!({"principal": "App::User::\"a\"", "action": "Action::\"get\"", "resource": "Doc::\"d\"",
        "entities": [
            {"uid": {"__entity": {"type": "Doc", "id": "x"}}, "attrs": {"level": 1}, "parents": []},
            {"uid": {"type": "Doc", "id": "d"}, "attrs": {"level": 1}, "parents": []},
            {"uid": {"__entity": {"type": "Doc", "id": "y"}}, "attrs": {"level": 1}, "parents": []},
            {"uid": {"type": "Doc", "id": "d"}, "attrs": {"level": 2}, "parents": []}]});
    let a = avp::decide(&s, &req, &TokenClaims::default(), None).unwrap();
    assert_eq!(a.response()["decision"], "ALLOW", "{}", a.response());
}

fn plain_store() -> PolicyStore {
    PolicyStore::from_parts(
        &[(
            "p.cedar".into(),
            r#"@id("tagged") permit(principal, action == Action::"view", resource) when { resource.hasTag("team") && resource.getTag("team") == "red" };
               @id("ancestors") permit(principal in Group::"g0", action == Action::"edit", resource);"#
                .into(),
        )],
        None,
        None,
        Vec::new(),
        false,
    )
    .unwrap()
}

fn decide_json(
    store: &PolicyStore,
    req: Value,
) -> Result<authz_core::Decision, cedar_bridge::BridgeError> {
    cedar_bridge::avp::decide(store, &req, &Default::default(), None).map(|a| a.result.decision)
}

/// Verified Permissions' documented request rules: unions with exactly one member, action entities with
/// only an identifier, at most 99 transitive parents, entity tags kept.
#[test]
fn avp_request_contract() {
    let store = plain_store();
    let p = json!({"entityType": "User", "entityId": "u"});
    let view = json!({"actionType": "Action", "actionId": "view"});
    let photo = json!({"entityType": "Photo", "entityId": "p"});
    // Tags in entityList and in cedarJson reach the policies.
    let tagged = |tags: Value| json!({"entityList": [{"identifier": photo, "tags": tags}]});
    let r = json!({"principal": p, "action": view, "resource": photo, "entities": tagged(json!({"team": {"string": "red"}}))});
    assert_eq!(decide_json(&store, r).unwrap(), authz_core::Decision::Allow);
    let r = json!({"principal": p, "action": view, "resource": photo, "entities": tagged(json!({"team": {"string": "blue"}}))});
    assert_eq!(
        decide_json(&store, r).unwrap(),
        authz_core::Decision::ImplicitDeny
    );
    let cj = json!([{"uid": {"type": "Photo", "id": "p"}, "attrs": {}, "parents": [], "tags": {"team": "red"}}]).to_string();
    let r =
        json!({"principal": p, "action": view, "resource": photo, "entities": {"cedarJson": cj}});
    assert_eq!(decide_json(&store, r).unwrap(), authz_core::Decision::Allow);
    // Unions: exactly one member.
    let r = json!({"principal": p, "action": view, "resource": photo, "context": {"contextMap": {}, "cedarJson": "{}"}});
    let e = decide_json(&store, r).unwrap_err();
    assert_eq!(e.exception(), Some("ValidationException"));
    assert!(e.to_string().contains("exactly one"), "{e}");
    let r = json!({"principal": p, "action": view, "resource": photo, "entities": {"entityList": [], "cedarJson": "[]"}});
    assert!(
        decide_json(&store, r)
            .unwrap_err()
            .to_string()
            .contains("exactly one")
    );
    let r = json!({"principal": p, "action": view, "resource": photo, "context": {"cedarJson": {"a": 1}}});
    assert!(
        decide_json(&store, r)
            .unwrap_err()
            .to_string()
            .contains("string")
    );
    // An attribute value with two members.
    let r = json!({"principal": p, "action": view, "resource": photo, "context": {"contextMap": {"a": {"string": "x", "long": 1}}}});
    assert_eq!(
        decide_json(&store, r).unwrap_err().exception(),
        Some("ValidationException")
    );
    // Action entities carry only their identifier.
    let r = json!({"principal": p, "action": view, "resource": photo, "entities": {"entityList": [
        {"identifier": {"entityType": "Action", "entityId": "view"}, "attributes": {"x": {"long": 1}}}]}});
    assert!(
        decide_json(&store, r)
            .unwrap_err()
            .to_string()
            .contains("only its identifier")
    );
    let r = json!({"principal": p, "action": view, "resource": photo, "entities": {"entityList": [
        {"identifier": {"entityType": "Action", "entityId": "view"}}]}});
    assert!(decide_json(&store, r).is_ok());
    // Transitive parents: a chain of 99 groups is accepted, 100 refused.
    let chain = |n: usize| {
        let mut list = vec![
            json!({"identifier": p, "parents": [{"entityType": "Group", "entityId": format!("g{}", n - 1)}]}),
        ];
        for i in (1..n).rev() {
            list.push(json!({"identifier": {"entityType": "Group", "entityId": format!("g{i}")}, "parents": [{"entityType": "Group", "entityId": format!("g{}", i - 1)}]}));
        }
        json!({"principal": p, "action": {"actionType": "Action", "actionId": "edit"}, "resource": photo, "entities": {"entityList": list}})
    };
    assert_eq!(
        decide_json(&store, chain(99)).unwrap(),
        authz_core::Decision::Allow
    );
    let e = decide_json(&store, chain(100)).unwrap_err();
    assert!(e.to_string().contains("100 transitive parents"), "{e}");
}

/// BatchIsAuthorized varies the principal or the resource, not both; the token batch names no principal;
/// the entities stay within the API reference's limits.
#[test]
fn avp_batch_rules() {
    let store = plain_store();
    let dir = std::path::Path::new(".");
    let r = |p: &str, res: &str| json!({"principal": {"entityType": "User", "entityId": p}, "action": {"actionType": "Action", "actionId": "view"}, "resource": {"entityType": "Photo", "entityId": res}});
    let ok = json!({"requests": [r("a", "p"), r("b", "p")]});
    assert!(
        policy_check::input::run_request(&store, dir, &ok, None, None, &Default::default()).is_ok()
    );
    let ok = json!({"requests": [r("a", "p"), r("a", "q")]});
    assert!(
        policy_check::input::run_request(&store, dir, &ok, None, None, &Default::default()).is_ok()
    );
    let bad = json!({"requests": [r("a", "p"), r("b", "q")]});
    let e = policy_check::input::run_request(&store, dir, &bad, None, None, &Default::default())
        .unwrap_err();
    assert_eq!(e.exception(), Some("ValidationException"));
    assert!(e.to_string().contains("same principal"), "{e}");
    // The entities may hold at most 100 principals and 100 resources (API reference); at the limit the
    // batch is decided.
    let with_entities =
        |users: usize, photos: usize| {
            let mut list: Vec<serde_json::Value> = (0..users)
                .map(|i| json!({"identifier": {"entityType": "User", "entityId": format!("u{i}")}}))
                .collect();
            list.extend((0..photos).map(
                |i| json!({"identifier": {"entityType": "Photo", "entityId": format!("p{i}")}}),
            ));
            json!({"requests": [r("u0", "p0"), r("u0", "p1")], "entities": {"entityList": list}})
        };
    let run = |req: &serde_json::Value| {
        policy_check::input::run_request(&store, dir, req, None, None, &Default::default())
    };
    assert!(run(&with_entities(100, 100)).is_ok());
    let e = run(&with_entities(101, 2)).unwrap_err();
    assert_eq!(e.exception(), Some("ValidationException"));
    assert!(e.to_string().contains("up to 100 principals"), "{e}");
    let e = run(&with_entities(1, 101)).unwrap_err();
    assert_eq!(e.exception(), Some("ValidationException"));
    assert!(e.to_string().contains("up to 100 resources"), "{e}");
    // With a token: at most 99 user groups (the token's groups).
    let groups = |n: usize| {
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), json!("s"));
        claims.insert(
            "cognito:groups".into(),
            json!((0..n).map(|i| format!("g{i}")).collect::<Vec<_>>()),
        );
        cedar_bridge::avp::TokenClaims::given(Some(claims), None)
    };
    let token_batch = json!({"requests": [
        {"action": {"actionType": "Action", "actionId": "view"}, "resource": {"entityType": "Photo", "entityId": "p"}}]});
    let e = cedar_bridge::avp::run(&store, &token_batch, &groups(100), None).unwrap_err();
    assert!(e.to_string().contains("up to 99 user groups"), "{e}");
    let e = cedar_bridge::avp::run(&store, &token_batch, &groups(99), None).unwrap_err();
    assert!(!e.to_string().contains("user groups"), "{e}");
}

/// The `has`-guard hint names a guard that can be true: bracket attributes get a quoted `has`.
#[test]
fn has_guard_hint_matches_the_notation() {
    assert_eq!(
        cedar_bridge::store_has_guard(r#"principal["custom:location"]"#).as_deref(),
        Some(r#"principal has "custom:location" && principal["custom:location"]"#)
    );
    assert_eq!(
        cedar_bridge::store_has_guard("principal.custom.location").as_deref(),
        Some("principal has custom && principal.custom has location && principal.custom.location")
    );
    let (schema, _) = cedar_policy::Schema::from_cedarschema_str(
        r#"entity User { "custom:location"?: String }; entity Photo; action view appliesTo { principal: User, resource: Photo };"#,
    )
    .unwrap();
    let bracket = r#"@id("b") permit(principal, action == Action::"view", resource) when { principal["custom:location"] == "USA" };"#;
    let e = strict_store(bracket, schema.clone())
        .unwrap_err()
        .to_string();
    assert!(e.contains(r#"principal has "custom:location""#), "{e}");
    assert!(!e.contains("principal.custom"), "{e}");
    assert!(e.contains("s.cedar:1:"), "{e}");
    let guarded = r#"@id("b") permit(principal, action == Action::"view", resource) when { principal has "custom:location" && principal["custom:location"] == "USA" };"#;
    assert!(strict_store(guarded, schema).is_ok());
}

/// With a schema that declares only some access-token claims under `context.token` (as AVP's documented
/// schema does), the other claims are left out, not a validation error.
#[test]
fn access_token_claims_outside_the_schema_are_left_out() {
    let dir = std::env::temp_dir().join(format!("pc-token-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("schema.cedarschema"),
        r#"type ReusedContext = { token?: { scope?: Set<String>, client_id?: String } };
           entity UserGroup; entity User in [UserGroup] { sub?: String }; entity Photo;
           action list appliesTo { principal: User, resource: Photo, context: ReusedContext };"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("p.cedar"),
        r#"@id("scope") permit(principal, action == Action::"list", resource) when { context has token && context.token has scope && context.token.scope.contains("photos/read") };"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("identity-source.json"),
        r#"{"user_pool_id": "us-east-1_Example", "principal_entity_type": "User", "group_entity_type": "UserGroup", "client_ids": []}"#,
    )
    .unwrap();
    let store = policy_check::input::load_store(&dir).unwrap();
    assert!(store.token_types().is_some());
    let access = json!({"sub": "s1", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
        "token_use": "access", "client_id": "c", "scope": "photos/read openid", "username": "alice", "auth_time": 1700000000,
        "origin_jti": "x", "event_id": "e"});
    let tokens =
        cedar_bridge::avp::TokenClaims::given(None, Some(access.as_object().unwrap().clone()));
    let req = json!({"action": {"actionType": "Action", "actionId": "list"}, "resource": {"entityType": "Photo", "entityId": "p"}});
    let a = cedar_bridge::avp::decide(&store, &req, &tokens, None).unwrap();
    assert_eq!(
        a.result.decision,
        authz_core::Decision::Allow,
        "{:?}",
        a.response()
    );
    assert_eq!(
        a.result.verified,
        Some(false),
        "claims given by hand are marked unverified"
    );
    assert!(
        a.notes.iter().any(|n| n.contains("`username`")),
        "{:?}",
        a.notes
    );
}

/// Cedar cases check every stated field: a wrong `determining` list fails and shows both lists; a batch
/// cannot be checked by one case; a malformed `determining` is bad input.
#[test]
fn cedar_cases_check_determining_and_refuse_batches() {
    use crate::cli::run;
    let root = crate::root();
    let dir = std::env::temp_dir().join(format!("pc-cedar-case-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = root.join("policies/photo-app-avp/store-location");
    let req = json!({"principal": {"entityType": "User", "entityId": "alice"},
        "action": {"actionType": "Action", "actionId": "update"},
        "resource": {"entityType": "Photo", "entityId": "VacationPhoto94.jpg"}});
    let write = |name: &str, case: Value| {
        let p = dir.join(name);
        std::fs::write(
            &p,
            json!({"cedar_store": store, "cases": [case]}).to_string(),
        )
        .unwrap();
        p.to_str().unwrap().to_string()
    };
    let s = write(
        "ok.suite.json",
        json!({"name": "right", "avp_request": req, "expect": "Allow", "determining": ["alice-update"]}),
    );
    assert_eq!(run(&["test", &s]).0, 0);
    let s = write(
        "wrong.suite.json",
        json!({"name": "wrong", "avp_request": req, "expect": "Allow", "determining": ["usa-view"]}),
    );
    let (code, out, _) = run(&["test", &s]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("FAIL  wrong"), "{out}");
    assert!(
        out.contains("determining usa-view") && out.contains("determining alice-update"),
        "{out}"
    );
    let s = write(
        "bad.suite.json",
        json!({"name": "bad", "avp_request": req, "expect": "Allow", "determining": "alice-update"}),
    );
    assert_eq!(run(&["test", &s]).0, 1);
    let batch = json!({"requests": [req, req]});
    let s = write(
        "batch.suite.json",
        json!({"name": "batch", "avp_request": batch, "expect": "Allow"}),
    );
    let (code, _, err) = run(&["test", &s]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("one request"), "{err}");
}

/// A store of one policy file `s.cedar`, validated strictly against `schema`.
fn strict_store(
    text: &str,
    schema: cedar_policy::Schema,
) -> Result<PolicyStore, cedar_bridge::BridgeError> {
    PolicyStore::from_parts(
        &[("s.cedar".into(), text.into())],
        Some(schema),
        None,
        Vec::new(),
        true,
    )
}

/// An OIDC identity source verifies its tokens: exactly its issuer, `aud` against its client ids, the
/// provider's keys; the principal is `<entityIdPrefix>|<sub>` and the answer says the claims were verified.
#[test]
fn oidc_identity_source_verifies_tokens() {
    const ISS: &str = "https://auth.example.com";
    let (key, _) = cognito::SigningKey::generate().unwrap();
    let jwks = key.jwks().to_string();
    let src = IdentitySource::from_json(&json!({
        "issuer": ISS, "principal_entity_type": "User", "client_ids": ["web-client"], "jwks": "jwks.json"
    }))
    .unwrap();
    let store = PolicyStore::from_parts(
        &[(
            "p.cedar".into(),
            r#"@id("u9") permit(principal == User::"auth.example.com|u-9", action, resource);"#
                .into(),
        )],
        None,
        Some(src),
        Vec::new(),
        false,
    )
    .unwrap();
    let now = 1_700_000_000;
    let token = |aud: &str| {
        key.sign(&obj(
            json!({"iss": ISS, "sub": "u-9", "aud": aud, "iat": now, "exp": now + 600}),
        ))
        .unwrap()
    };
    let req = |t: String| {
        json!({"identityToken": t, "action": {"actionType": "Action", "actionId": "view"},
               "resource": {"entityType": "Photo", "entityId": "p"}})
    };
    let ok = req(token("web-client"));
    let claims = avp::verify_request_tokens(&store, &ok, Some(&jwks), Some(now + 60)).unwrap();
    assert!(claims.is_verified());
    let a = avp::decide(&store, &ok, &claims, None).unwrap();
    assert_eq!(
        a.result.decision,
        authz_core::Decision::Allow,
        "{}",
        a.response()
    );
    assert_eq!(a.result.verified, Some(true));
    assert_eq!(
        a.response()["principal"]["entityId"],
        "auth.example.com|u-9"
    );
    let e = avp::verify_request_tokens(&store, &req(token("other")), Some(&jwks), Some(now + 60))
        .unwrap_err();
    assert_eq!(
        (e.code(), e.exception()),
        ("token::invalid-client", Some("ValidationException"))
    );
    let e = avp::verify_request_tokens(&store, &ok, Some(&jwks), Some(now + 600)).unwrap_err();
    assert_eq!(e.code(), "token::expired");
}

/// The bridge keeps principals it has mapped from token claims, but reuses one only for exactly the same
/// claims: the same user with another attribute or other groups is mapped again, and a request that
/// brings its own entities is never served from the kept principal.
#[test]
fn mapped_principals_are_reused_only_for_identical_claims() {
    let s = store(
        r#"@id("usa") permit(principal, action == Action::"view", resource) when { principal has "custom:location" && principal["custom:location"] == "USA" };
           @id("admins") permit(principal in App::Group::"us-east-1_Example|admins", action == Action::"delete", resource);"#,
    );
    let tokens = |loc: &str, groups: Value| {
        TokenClaims::given(
            Some(obj(
                json!({"sub": "same-sub", "custom:location": loc, "cognito:groups": groups, "aud": "c1"}),
            )),
            None,
        )
    };
    let decide = |action: &str, t: &TokenClaims, ents: Option<&Value>| {
        let req = json!({"action": format!("Action::\"{action}\""), "resource": "Photo::\"p\""});
        avp::decide(&s, &req, t, ents).unwrap().result.decision
    };
    use authz_core::Decision::{Allow, ImplicitDeny};
    let usa = tokens("USA", json!([]));
    let canada = tokens("Canada", json!([]));
    let admin = tokens("USA", json!(["admins"]));
    let mut seen = Vec::new();
    for t in [&usa, &canada, &usa, &admin, &usa, &canada, &admin] {
        seen.push((decide("view", t, None), decide("delete", t, None)));
    }
    assert_eq!(
        seen,
        [
            (Allow, ImplicitDeny),
            (ImplicitDeny, ImplicitDeny),
            (Allow, ImplicitDeny),
            (Allow, Allow),
            (Allow, ImplicitDeny),
            (ImplicitDeny, ImplicitDeny),
            (Allow, Allow),
        ]
    );
    // With entities of its own, the request is mapped afresh (and a resource's parents still count).
    let ents = json!({"entityList": [{"identifier": {"entityType": "Photo", "entityId": "p"}}]});
    assert_eq!(decide("view", &canada, Some(&ents)), ImplicitDeny);
    assert_eq!(decide("view", &usa, Some(&ents)), Allow);
    // A token's groups are the principal's parents: 99 are accepted, 100 refused, as for entities.
    let many = |n: usize| {
        tokens(
            "USA",
            json!((0..n).map(|i| format!("g{i}")).collect::<Vec<_>>()),
        )
    };
    let req = json!({"action": "Action::\"view\"", "resource": "Photo::\"p\""});
    assert!(avp::decide(&s, &req, &many(99), None).is_ok());
    let e = avp::decide(&s, &req, &many(100), None).unwrap_err();
    assert!(e.to_string().contains("100 transitive parents"), "{e}");
}

#[test]
fn explain_says_scope_clause_and_error_per_policy() {
    let policies = vec![(
        "p.cedar".to_string(),
        r#"
        @id("p1") permit(principal, action, resource) when { context.a == 1 } unless { context.b == 2 };
        @id("p2") forbid(principal == User::"x", action, resource);
        @id("p3") permit(principal, action, resource) when { context.c.d == 1 };
        @id("p4") permit(principal, action == Action::"view", resource) when { context.a == 1 };
        "#
        .to_string(),
    )];
    let store =
        cedar_bridge::PolicyStore::from_parts(&policies, None, None, Vec::new(), true).unwrap();
    let req = serde_json::json!({
        "principal": {"entityType": "User", "entityId": "y"},
        "action": {"actionType": "Action", "actionId": "view"},
        "resource": {"entityType": "Photo", "entityId": "p"},
        "context": {"contextMap": {"a": {"long": 1}, "b": {"long": 2}, "c": {"long": 3}}}
    });
    let (answer, ex) = cedar_bridge::avp::explain(
        &store,
        &req,
        &cedar_bridge::avp::TokenClaims::default(),
        None,
    )
    .unwrap();
    assert_eq!(answer.result.decision, authz_core::Decision::Allow);
    let by = |id: &str| ex.iter().find(|x| x.id == id).unwrap();
    assert_eq!(
        (by("p1").outcome, by("p1").failed_clause),
        ("condition false", Some(1)),
        "the unless clause"
    );
    assert!(by("p1").scope_matched);
    assert_eq!(
        (by("p2").outcome, by("p2").scope_matched),
        ("scope not matched", false)
    );
    assert_eq!(by("p2").effect, "forbid");
    assert_eq!(by("p3").outcome, "error");
    assert!(by("p3").error.is_some());
    assert_eq!(by("p4").outcome, "satisfied");
    // The explanation's decisions agree with the store's answer.
    let satisfied: Vec<&str> = ex
        .iter()
        .filter(|x| x.outcome == "satisfied")
        .map(|x| x.id.as_str())
        .collect();
    let determining: Vec<&str> = answer
        .result
        .determining
        .iter()
        .map(|d| d.policy.as_str())
        .collect();
    assert_eq!(satisfied, determining);
}

#[test]
fn the_store_validation_mode_is_verified_permissions_setting() {
    let files = |mode: Option<&str>| {
        cedar_bridge::StoreFiles {
        name: "store".into(),
        policies: vec![(
            "s.cedar".into(),
            r#"@id("u") permit(principal, action == Action::"view", resource) when { principal.custom.location == "USA" };"#.into(),
        )],
        others: [
            Some((
                "schema.cedarschema".to_string(),
                r#"entity User { custom?: { location?: String } }; entity Photo; action view appliesTo { principal: User, resource: Photo };"#.to_string(),
            )),
            mode.map(|m| ("policy-store.json".to_string(), format!(r#"{{"validationSettings": {{"mode": "{m}"}}}}"#))),
        ]
        .into_iter()
        .flatten()
        .collect(),
    }
    };
    // A schema and no settings: strict, so the unguarded attribute access is refused.
    assert!(PolicyStore::from_files(&files(None)).is_err());
    assert!(PolicyStore::from_files(&files(Some("STRICT"))).is_err());
    let off = PolicyStore::from_files(&files(Some("OFF"))).unwrap();
    assert_eq!(off.validation_mode(), "OFF");
    let e = PolicyStore::from_files(&files(Some("LAX")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("STRICT or OFF"), "{e}");
}

/// The cedar CLI's `run-tests` files run under `test --policies [--schema]`: decisions, `reason` as a
/// subset of the determining policies (ids from `@id` or Cedar's `policyN`), `num_errors` exactly, strict
/// validation with a schema, and the run's exit codes.
#[test]
fn cedar_run_tests_format() {
    use crate::cli::run;
    let f = |p: &str| {
        crate::root()
            .join("fixtures/cedar-run-tests")
            .join(p)
            .display()
            .to_string()
    };
    let (code, out, err) = run(&["test", &f("tests.json"), "--policies", &f("policies.cedar")]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("6 passed, 0 failed"), "{out}");
    // The same policies in Cedar's JSON policy format (by extension, or named with --policy-format):
    // the same ids, the same results; read as Cedar text, the JSON is a usage error.
    let (code, out, err) = run(&["test", &f("tests.json"), "--policies", &f("policies.json")]);
    assert_eq!(
        (code, out.contains("6 passed, 0 failed")),
        (0, true),
        "{out}{err}"
    );
    let (code, _, _) = run(&[
        "test",
        &f("tests.json"),
        "--policies",
        &f("policies.json"),
        "--policy-format",
        "json",
    ]);
    assert_eq!(code, 0);
    let (code, _, err) = run(&[
        "test",
        &f("tests.json"),
        "--policies",
        &f("policies.json"),
        "--policy-format",
        "cedar",
    ]);
    assert_eq!(code, 1, "{err}");
    // With the schema, the same cases (no evaluation error now) pass against the guarded policies.
    let (code, out, _) = run(&[
        "test",
        &f("schema.tests.json"),
        "--policies",
        &f("policies.checked.cedar"),
        "--schema",
        &f("schema.cedarschema"),
    ]);
    assert_eq!(
        (code, out.contains("6 passed, 0 failed")),
        (0, true),
        "{out}"
    );
    // Strict validation refuses the unguarded optional attribute, located in the policy file: the run
    // is an error (exit 1), not a row of failures.
    let (code, _, err) = run(&[
        "test",
        &f("tests.json"),
        "--policies",
        &f("policies.cedar"),
        "--schema",
        &f("schema.cedarschema"),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("policies.cedar:22:8: policy `policy3`"),
        "{err}"
    );
    // Each way a case can fail, with the cedar CLI's wording and the determining policies.
    let (code, out, _) = run(&[
        "test",
        &f("failing.tests.json"),
        "--policies",
        &f("policies.cedar"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 2);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let details: Vec<&str> = rows.iter().map(|r| r["detail"].as_str().unwrap()).collect();
    assert!(rows.iter().all(|r| r["pass"] == false), "{out}");
    assert!(
        details[0].starts_with("expected Deny, got Allow (determining: policy1)"),
        "{details:?}"
    );
    assert!(
        details[1].starts_with("missing reason(s): `policy1`"),
        "{details:?}"
    );
    assert!(
        details[2].starts_with("expected 0 error(s), but got 1 runtime error(s)"),
        "{details:?}"
    );
    // The JUnit report of the same run, read as CI reads it.
    let report = std::env::temp_dir().join(format!("pc-cedar-junit-{}.xml", std::process::id()));
    let (code, _, _) = run(&[
        "test",
        &f("failing.tests.json"),
        "--policies",
        &f("policies.cedar"),
        "--junit",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    let xml = std::fs::read(&report).unwrap();
    let parsed = junit_parser::from_reader(std::io::Cursor::new(xml)).unwrap();
    assert_eq!((parsed.tests, parsed.failures, parsed.errors), (3, 3, 0));
    // A run-tests file without policies, a case with an unknown field, a bad entity id: usage errors.
    let (code, _, err) = run(&["test", &f("tests.json")]);
    assert_eq!(code, 1);
    assert!(err.contains("`--policies FILE`"), "{err}");
    let dir = std::env::temp_dir().join(format!("pc-cedar-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (body, want) in [
        (
            r#"[{"request": {"principal": "User::\"a\"", "action": "Action::\"view\"", "resource": "Document::\"d\""}, "entities": [], "decision": "allow", "reason": [], "num_errors": 0, "expect": "x"}]"#,
            "t.json:1:180: unknown field `expect`, expected one of `name`, `request`, `entities`, `decision`, `reason`, `num_errors`",
        ),
        (
            r#"[{"request": {"principal": "User::\"a\"", "action": "Action::\"view\"", "resource": "Document::\"d\"", "contxt": {}}, "entities": [], "decision": "allow", "reason": [], "num_errors": 0}]"#,
            "t.json:1:111: unknown field `contxt`",
        ),
        (
            r#"[{"request": {"principal": "User::\"a\"", "action": "Action::\"view\"", "resource": "Document::\"d\""}, "entities": [], "decision": "allow", "reason": "p", "num_errors": 0}]"#,
            "t.json:1:154: invalid type: string \"p\", expected a sequence",
        ),
        (
            r#"[{"request": {"principal": "not an euid", "action": "Action::\"view\"", "resource": "Document::\"d\""}, "entities": [], "decision": "allow", "reason": [], "num_errors": 0}]"#,
            "failed to parse principal `not an euid`",
        ),
        (
            r#"[{"request": {"principal": "User::\"a\"", "action": "Action::\"view\"", "resource": "Document::\"d\""}, "entities": [], "decision": "allow", "reason": []}]"#,
            "t.json:1:154: missing field `num_errors`",
        ),
        (
            r#"[{"request": {"principal": "User::\"a\"", "action": "Action::\"view\"", "resource": "Document::\"d\""}, "entities": [], "decision": "maybe", "reason": [], "num_errors": 0}]"#,
            "t.json:1:139: unknown variant `maybe`, expected `allow` or `deny`",
        ),
        ("[]", "no test cases"),
    ] {
        let t = dir.join("t.json");
        std::fs::write(&t, body).unwrap();
        let (code, _, err) = run(&[
            "test",
            t.to_str().unwrap(),
            "--policies",
            &f("policies.cedar"),
        ]);
        assert_eq!(code, 1, "{body}");
        assert!(err.contains(want), "{want}: {err}");
    }
}

/// `serve --template T --template-store LOGICAL_ID=STORE_ID`: a Verified Permissions store of a
/// CloudFormation template answers `IsAuthorized` over HTTP as the suites' store does (alice may update
/// her photo; bob may not). The server runs on a loopback port for the rest of the test process.
#[test]
fn serve_answers_for_a_template_store() {
    use std::io::{Read, Write};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let template = root.join("policies/photo-app-avp/photo-app.template.yaml");
    // A wrong logical id fails at start, naming the stores there are.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args(
        [
            "policy-check",
            "serve",
            "--listen",
            "127.0.0.1:1",
            "--template",
            template.to_str().unwrap(),
            "--template-store",
            "Nope",
        ]
        .map(String::from),
        &mut out,
        &mut err,
    );
    let err = String::from_utf8_lossy(&err);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no policy store `Nope`") && err.contains("StoreLocation"),
        "{err}"
    );
    let args = [
        "policy-check".to_string(),
        "serve".into(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--template".into(),
        template.display().to_string(),
        "--template-store".into(),
        "StoreLocation=photos".into(),
        "--jwks".into(),
        root.join("fixtures/keys/jwks.json").display().to_string(),
    ];
    std::thread::spawn(move || {
        let _ = policy_check::run_args(args, &mut std::io::sink(), &mut std::io::sink());
    });
    let ask = |principal: &str| -> String {
        let body = format!(
            r#"{{"policyStoreId":"photos","principal":{{"entityType":"User","entityId":"{principal}"}},"action":{{"actionType":"Action","actionId":"update"}},"resource":{{"entityType":"Photo","entityId":"VacationPhoto94.jpg"}}}}"#
        );
        let request = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: VerifiedPermissions.IsAuthorized\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        // The server starts in its thread: a bounded number of tries.
        for _ in 0..100 {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .unwrap();
                s.write_all(request.as_bytes()).unwrap();
                let mut text = String::new();
                let _ = s.read_to_string(&mut text);
                return text;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("serve did not start on 127.0.0.1:{port}");
    };
    let alice = ask("alice");
    assert!(alice.starts_with("HTTP/1.1 200"), "{alice}");
    assert!(alice.contains(r#""decision":"ALLOW""#), "{alice}");
    let bob = ask("bob");
    assert!(bob.contains(r#""decision":"DENY""#), "{bob}");
}

/// A template store with an OpenID Connect identity source (`OpenIdConnectConfiguration`): principals
/// are `EntityIdPrefix|<PrincipalIdClaim>`, groups come from `GroupClaim`, the ID token's `aud` must be
/// one of `ClientIds`, and `TokenSelection: IdentityTokenOnly` refuses an access token.
#[test]
fn an_oidc_identity_source_from_a_template() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("pc-oidc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tokens = root.join("policies/photo-app-avp/tokens");
    let run = |field: &str, token: &str, action: &str| {
        let t = std::fs::read_to_string(tokens.join(token)).unwrap();
        let req = dir.join(format!("{token}-{action}.json"));
        std::fs::write(
            &req,
            format!(
                r#"{{"policyStoreId": "x", "{field}": "{}", "action": {{"actionType": "Action", "actionId": "{action}"}}, "resource": {{"entityType": "Photo", "entityId": "p"}}}}"#,
                t.trim()
            ),
        )
        .unwrap();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = policy_check::run_args(
            [
                "policy-check".to_string(),
                "authorize".into(),
                "--template".into(),
                root.join("fixtures/templates/oidc-store.yaml")
                    .display()
                    .to_string(),
                "--policy-store".into(),
                "OidcStore".into(),
                "--jwks".into(),
                root.join("fixtures/keys/jwks.json").display().to_string(),
                "--now".into(),
                "1700000100".into(),
                "--request".into(),
                req.display().to_string(),
            ],
            &mut out,
            &mut err,
        );
        (
            code,
            String::from_utf8_lossy(&out).to_string() + &String::from_utf8_lossy(&err),
        )
    };
    let (code, out) = run("identityToken", "alice.jwt", "view");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(r#"User::"idp|alice-sub""#) && out.contains("[alice-views]"),
        "{out}"
    );
    let (code, out) = run("identityToken", "carol-contractor.jwt", "list");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("[contractors-list]"), "{out}");
    let (code, out) = run("identityToken", "carol-contractor.jwt", "view");
    assert_eq!(code, 2, "{out}");
    // Another client's ID token.
    let (code, out) = run("identityToken", "alice-other-client.jwt", "view");
    assert_eq!(code, 1, "{out}");
    // An access token where the source takes ID tokens only.
    let (code, out) = run("accessToken", "alice-access.jwt", "view");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("TokenSelection IdentityTokenOnly"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One rule for "a token inline or a file", everywhere: a Verified Permissions request naming a token
/// file that is not there is refused as a missing file (exit 1), not sent as a malformed token.
#[test]
fn a_missing_token_file_is_said_to_be_missing() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("pc-token-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let req = dir.join("req.json");
    std::fs::write(
        &req,
        r#"{"policyStoreId": "x", "identityToken": "tokens/nothere.jwt", "action": {"actionType": "Action", "actionId": "view"}, "resource": {"entityType": "Photo", "entityId": "p"}}"#,
    )
    .unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = policy_check::run_args(
        [
            "policy-check".to_string(),
            "authorize".into(),
            "--store".into(),
            root.join("policies/photo-app-avp/store-location")
                .display()
                .to_string(),
            "--request".into(),
            req.display().to_string(),
        ],
        &mut out,
        &mut err,
    );
    let err = String::from_utf8_lossy(&err);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("identityToken") && err.contains("no such file"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `run-tests` file past 1 MiB is read case by case and decided on every core: the results keep the
/// file's order, the first failing case in that order is reported, and a repeated key, a syntax error, an
/// object instead of an array and an empty array are refused as for small files.
#[test]
fn large_run_tests_files_stream_in_order() {
    use crate::cli::run;
    let dir = std::env::temp_dir().join(format!("pc-run-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policies = crate::root()
        .join("fixtures/cedar-run-tests/policies.cedar")
        .display()
        .to_string();
    // Alice owns the document: every case is allowed by owner-access; padding makes the file large.
    let case = |i: usize, decision: &str| {
        serde_json::json!({
            "name": format!("case {i:04}"),
            "request": {"principal": "User::\"alice\"", "action": "Action::\"edit\"",
                        "resource": "Document::\"d\"", "context": {}},
            "entities": [
                {"uid": {"type": "Team", "id": "t"}, "attrs": {}, "parents": []},
                {"uid": {"type": "User", "id": "alice"}, "attrs": {"team": {"__entity": {"type": "Team", "id": "t"}}, "pad": "x".repeat(600)}, "parents": []},
                {"uid": {"type": "Document", "id": "d"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}, "team": {"__entity": {"type": "Team", "id": "t"}}, "archived": false}, "parents": []}
            ],
            "decision": decision, "reason": ["owner-access"], "num_errors": 0
        })
    };
    let n = 2000;
    let write = |name: &str, cases: &[serde_json::Value]| {
        let p = dir.join(name);
        std::fs::write(&p, serde_json::to_string(cases).unwrap()).unwrap();
        p.display().to_string()
    };
    let all: Vec<_> = (0..n).map(|i| case(i, "allow")).collect();
    let big = write("big.tests.json", &all);
    assert!(std::fs::metadata(&big).unwrap().len() > 1 << 20);
    let (code, out, err) = run(&["test", &big, "--policies", &policies, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let names: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let want: Vec<String> = (0..n).map(|i| format!("case {i:04}")).collect();
    assert_eq!(names, want, "results in the file's order");
    // Two wrong expectations: both fail, in order; a malformed case late in the file is the error.
    let mut wrong = all.clone();
    wrong[1500] = case(1500, "deny");
    wrong[700] = case(700, "deny");
    let (code, out, _) = run(&[
        "test",
        &write("wrong.tests.json", &wrong),
        "--policies",
        &policies,
    ]);
    assert_eq!(code, 2);
    let fails: Vec<&str> = out.lines().filter(|l| l.contains("FAIL")).collect();
    assert_eq!(fails.len(), 2, "{out}");
    assert!(
        fails[0].contains("case 0700") && fails[1].contains("case 1500"),
        "{fails:?}"
    );
    let mut broken = all.clone();
    broken[1900]["request"] = serde_json::json!("not an object");
    broken[1200]["decision"] = serde_json::json!("maybe");
    let (code, _, err) = run(&[
        "test",
        &write("broken.tests.json", &broken),
        "--policies",
        &policies,
    ]);
    assert_eq!(code, 1);
    // The first mistake in file order (case 1200's decision, located; not case 1900's request).
    assert!(
        err.contains("broken.tests.json:1:")
            && err.contains("unknown variant `maybe`, expected `allow` or `deny`")
            && !err.contains("not an object"),
        "{err}"
    );
    // A repeated key and a syntax error: refused at their place, coded, as the spanned reader says.
    let text = serde_json::to_string(&all).unwrap();
    let dup = text.replacen("\"num_errors\":0", "\"num_errors\":0,\"num_errors\":1", 1);
    let p = dir.join("dup.tests.json");
    std::fs::write(&p, &dup).unwrap();
    let (code, _, err) = run(&["test", p.to_str().unwrap(), "--policies", &policies]);
    assert_eq!(code, 1);
    assert!(err.contains(diag::codes::JSON_DUPLICATE_KEY), "{err}");
    let p = dir.join("cut.tests.json");
    std::fs::write(&p, &text[..text.len() - 2]).unwrap();
    let (code, _, err) = run(&["test", p.to_str().unwrap(), "--policies", &policies]);
    assert_eq!(code, 1);
    assert!(err.contains("cut.tests.json:1:"), "{err}");
    // Not an array, and an empty array (padded past the size where files are streamed).
    let p = dir.join("object.tests.json");
    std::fs::write(&p, format!("{{\"cases\": {text}}}")).unwrap();
    let (code, _, err) = run(&["test", p.to_str().unwrap(), "--policies", &policies]);
    assert_eq!(code, 1);
    assert!(err.contains("is a JSON array of test cases"), "{err}");
    let p = dir.join("empty.tests.json");
    std::fs::write(&p, format!("[{}]", " ".repeat(2 << 20))).unwrap();
    let (code, _, err) = run(&["test", p.to_str().unwrap(), "--policies", &policies]);
    assert_eq!(code, 1);
    assert!(err.contains("no test cases"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
