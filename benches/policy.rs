//! Criterion benches over the public APIs. Inputs are built outside `b.iter`.

use std::hint::black_box;

/// The allocator the `policy-check` binary ships with (mimalloc, without transparent huge pages), so
/// each figure is what the CLI and `serve` see; a library embedding the crates chooses its own.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use authz_core::{Context, Decision, Layer, Request};
use criterion::{Criterion, criterion_group, criterion_main};
use iam_eval::PolicySet;
use iam_policy::{PolicyType, Source, ValidateOptions};

fn managed() -> Vec<(String, String)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/aws-managed/policies.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| {
            Some((
                v["name"].as_str()?.to_string(),
                v["text"].as_str()?.to_string(),
            ))
        })
        .collect()
}

fn parse_benches(c: &mut Criterion) {
    let all = managed();
    assert_eq!(all.len(), 1594);
    let sources: Vec<Source> = all
        .iter()
        .map(|(n, t)| Source::new(n.as_str(), t.as_str()))
        .collect();
    let opts = ValidateOptions::default();
    // The grammar alone: syntax, spans, the document tree (what `compile` needs). The documents are
    // kept and dropped after the timing, as a loader keeps what it parsed.
    c.bench_function("parse-only/all-managed", |b| {
        b.iter_with_large_drop(|| {
            sources
                .iter()
                .map(|s| iam_policy::parse_source(black_box(s)))
                .collect::<Vec<_>>()
        })
    });
    // Parsing and validating every rule for the identity type (what `validate` does per file).
    c.bench_function("parse/all-managed", |b| {
        b.iter_with_large_drop(|| {
            sources
                .iter()
                .map(|s| {
                    let (doc, diags) = iam_policy::parse_source(black_box(s));
                    let doc = doc.unwrap_or_else(|| panic!("{}", s.name()));
                    let findings = iam_policy::validate(&doc, PolicyType::Identity, &opts);
                    (doc, diags, findings)
                })
                .collect::<Vec<_>>()
        })
    });
    // The same, each document dropped as soon as it is validated (`validate` over many files).
    c.bench_function("parse-drop/all-managed", |b| {
        b.iter(|| {
            let mut n = 0;
            for s in &sources {
                let (doc, diags) = iam_policy::parse_source(black_box(s));
                let doc = doc.unwrap_or_else(|| panic!("{}", s.name()));
                n += diags.len() + iam_policy::validate(&doc, PolicyType::Identity, &opts).len();
            }
            black_box(n)
        })
    });
}

fn doc(name: &str, text: &str) -> iam_policy::PolicyDocument {
    iam_policy::parse(&Source::new(name, text)).unwrap_or_else(|e| panic!("{e}"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_default()
}

const SUB: &str = "us-east-1:11111111-aaaa-4aaa-8aaa-111111111111";
const TABLE: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/Notes";

fn eval_benches(c: &mut Criterion) {
    let row = doc(
        "row-level.json",
        &read("policies/cognito-groups-dynamodb/row-level.json"),
    );
    let set = PolicySet::compile(Layer::Identity, [row]).unwrap();
    let mut ctx = Context::new();
    ctx.insert("cognito-identity.amazonaws.com:sub", SUB);
    ctx.insert_multi("dynamodb:LeadingKeys", [SUB]);
    // The request is prepared once (action lower-cased and split, context keys hashed), as a service
    // or the suite runner makes it; `-unprepared` folds the action's case on every call.
    let get_item = authz_core::Action::new("dynamodb:GetItem");
    let req = Request::for_action(&get_item, TABLE).context(&ctx);
    assert_eq!(set.evaluate(&req).decision, Decision::Allow);
    c.bench_function("evaluate/cognito-dynamodb", |b| {
        b.iter(|| black_box(&set).evaluate(black_box(&req)))
    });
    let unprepared = Request::new("dynamodb:GetItem", TABLE).context(&ctx);
    assert_eq!(set.evaluate(&unprepared).decision, Decision::Allow);
    c.bench_function("evaluate/cognito-dynamodb-unprepared", |b| {
        b.iter(|| black_box(&set).evaluate(black_box(&unprepared)))
    });
    struct Count(u32);
    impl authz_core::Trace for Count {
        fn statement(&mut self, _: authz_core::StatementRef, _: bool) {
            self.0 += 1;
        }
    }
    c.bench_function("evaluate_traced/cognito-dynamodb", |b| {
        b.iter(|| {
            let mut t = Count(0);
            black_box(black_box(&set).evaluate_with(black_box(&req), &mut t));
            t.0
        })
    });

    let ro_text = managed()
        .into_iter()
        .find(|(n, _)| n == "ReadOnlyAccess")
        .map(|(_, t)| t)
        .unwrap_or_default();
    let ro = PolicySet::compile(Layer::Identity, [doc("ReadOnlyAccess", &ro_text)]).unwrap();
    let allow = Request::new(
        "ssm:GetParameter",
        "arn:aws:ssm:us-east-1:123456789012:parameter/x",
    );
    let deny = Request::new("s3:PutObject", "arn:aws:s3:::bucket/key");
    assert_eq!(ro.evaluate(&allow).decision, Decision::Allow);
    assert_eq!(ro.evaluate(&deny).decision, Decision::ImplicitDeny);
    c.bench_function("evaluate/readonlyaccess-allow", |b| {
        b.iter(|| black_box(&ro).evaluate(black_box(&allow)))
    });
    c.bench_function("evaluate/readonlyaccess-deny", |b| {
        b.iter(|| black_box(&ro).evaluate(black_box(&deny)))
    });

    for n in [10usize, 1000, 10000] {
        let stmts: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"Sid":"S{i}","Effect":"Allow","Action":["svc{}:Action{i}","svc{}:Get{i}*"],"Resource":"arn:aws:svc:us-east-1:123456789012:thing/{i}/*","Condition":{{"StringEquals":{{"aws:PrincipalTag/team":"t{i}"}}}}}}"#,
                    i % 50,
                    i % 50
                )
            })
            .collect();
        let text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            stmts.join(",")
        );
        let set = PolicySet::compile(Layer::Identity, [doc("scale", &text)]).unwrap();
        let i = n / 2;
        let action = format!("svc{}:Action{i}", i % 50);
        let resource = format!("arn:aws:svc:us-east-1:123456789012:thing/{i}/x");
        let mut ctx = Context::new();
        ctx.insert("aws:PrincipalTag/team", format!("t{i}"));
        let req = Request::new(&action, &resource).context(&ctx);
        assert_eq!(set.evaluate(&req).decision, Decision::Allow);
        c.bench_function(&format!("evaluate/scale-{n}"), |b| {
            b.iter(|| black_box(&set).evaluate(black_box(&req)))
        });
    }
}

fn compile_benches(c: &mut Criterion) {
    let all = managed();
    // Compiling alone: the documents are parsed before the timing (compile consumes them) and the set is
    // dropped after it (criterion drops a batched routine's outputs outside the measurement).
    c.bench_function("compile/all-managed", |b| {
        b.iter_batched(
            || all.iter().map(|(n, t)| doc(n, t)).collect::<Vec<_>>(),
            |docs| PolicySet::compile(Layer::Identity, docs).unwrap(),
            criterion::BatchSize::LargeInput,
        )
    });
    // Parsing (no validation) and compiling, as a service loading its policies does.
    c.bench_function("parse-compile/all-managed", |b| {
        b.iter(|| {
            let docs: Vec<_> = all.iter().map(|(n, t)| doc(n, t)).collect();
            black_box(PolicySet::compile(Layer::Identity, docs).unwrap().len())
        })
    });
}

/// cedar-policy's Authorizer on the Cedar policy equivalent to the seed's LeadingKeys policy.
fn cedar_benches(c: &mut Criterion) {
    use cedar_policy::{
        Authorizer, Context as CContext, Entities, EntityUid, PolicySet as CPolicySet,
        Request as CRequest,
    };
    use std::str::FromStr;
    let policies = CPolicySet::from_str(
        r#"permit(principal, action in [Action::"GetItem", Action::"PutItem", Action::"Query"], resource == Table::"arn:aws:dynamodb:us-east-1:123456789012:table/Notes")
           when { [principal.sub].containsAll(context.leadingKeys) };"#,
    )
    .unwrap();
    let entities = Entities::from_json_value(
        serde_json::json!([{"uid": {"type": "User", "id": SUB}, "attrs": {"sub": SUB}, "parents": []}]),
        None,
    )
    .unwrap();
    let ctx = CContext::from_json_value(serde_json::json!({"leadingKeys": [SUB]}), None).unwrap();
    let req = CRequest::new(
        EntityUid::from_str(&format!("User::\"{SUB}\"")).unwrap(),
        EntityUid::from_str("Action::\"GetItem\"").unwrap(),
        EntityUid::from_str(&format!("Table::\"{TABLE}\"")).unwrap(),
        ctx,
        None,
    )
    .unwrap();
    let auth = Authorizer::new();
    assert_eq!(
        auth.is_authorized(&req, &policies, &entities).decision(),
        cedar_policy::Decision::Allow
    );
    c.bench_function("cedar/equivalent-cognito", |b| {
        b.iter(|| {
            black_box(&auth)
                .is_authorized(black_box(&req), &policies, &entities)
                .decision()
        })
    });
}

fn cognito_benches(c: &mut Criterion) {
    use cognito::{
        JwksSource, MintOptions, SigningKey, TokenCache, TokenUse, Verifier, VerifierConfig,
    };
    let (key, _) = SigningKey::generate().expect("key generation");
    let now = 1_700_000_000;
    let o = MintOptions {
        token_use: TokenUse::Id,
        user_pool_id: "us-east-1_Example".into(),
        region: None,
        client_id: "client123".into(),
        now,
        lifetime: 3600,
    };
    let claims =
        serde_json::json!({"sub": "u-1", "cognito:groups": ["admins"], "email": "a@example.com"});
    let token = cognito::mint(&key, claims.as_object().expect("object"), &o).expect("mint");
    let jwks = JwksSource::from_json(&key.jwks().to_string()).expect("jwks");
    let v = Verifier::new(
        VerifierConfig::for_pool("us-east-1_Example", "client123", TokenUse::Id),
        jwks,
    );
    assert!(v.verify_at(&token, now + 1).is_ok());
    c.bench_function("cognito/verify-cold", |b| {
        b.iter(|| black_box(&v).verify_at(black_box(&token), now + 1).is_ok())
    });
    let cache = TokenCache::new(1024);
    assert!(cache.verify_at(&v, &token, now + 1).is_ok());
    c.bench_function("cognito/verify-cache-hit", |b| {
        b.iter(|| cache.verify_at(&v, black_box(&token), now + 1).is_ok())
    });
}

#[path = "../tests/support/cedar_gen.rs"]
mod cedar_gen;

/// Claims → Cedar decision through the bridge (10 and 1,000 policies), and cedar-policy's Authorizer
/// over the whole 1,000-policy set for the same request.
fn bridge_benches(c: &mut Criterion) {
    use cedar_bridge::avp::{self, TokenClaims};
    use std::str::FromStr;
    let claims = serde_json::json!({"sub": "u7", "custom:location": "USA", "cognito:groups": ["g0"], "aud": "client123"});
    let tokens = TokenClaims::given(claims.as_object().cloned(), None);
    let req = serde_json::json!({"action": "Action::\"a7\"", "resource": "Doc::\"d7\"", "context": {"contextMap": {"level": {"long": 4}}}});
    for n in [10usize, 1000] {
        let store = cedar_gen::generated_store(n);
        black_box(avp::decide(&store, &req, &tokens, None).expect("bridge decision"));
        c.bench_function(&format!("cedar/bridge-{n}"), |b| {
            b.iter(|| {
                avp::decide(black_box(&store), black_box(&req), &tokens, None)
                    .map(|a| a.result.decision)
            })
        });
    }
    // The floor: Cedar's own authorizer on the indexed subset of the 10-policy store, with the entities,
    // context and request built once (what `cedar/bridge-10` adds is the request decoding and mapping).
    let store = cedar_gen::generated_store(10);
    let ents10 = cedar_policy::Entities::from_json_value(
        serde_json::json!([
            {"uid": {"type": "App::User", "id": "us-east-1_Example|u7"}, "attrs": {"custom:location": "USA"}, "parents": [{"type": "App::Group", "id": "us-east-1_Example|g0"}]},
            {"uid": {"type": "App::Group", "id": "us-east-1_Example|g0"}, "attrs": {}, "parents": []}
        ]),
        None,
    )
    .expect("entities");
    let req10 = cedar_policy::Request::new(
        cedar_policy::EntityUid::from_str("App::User::\"us-east-1_Example|u7\"").expect("uid"),
        cedar_policy::EntityUid::from_str("Action::\"a7\"").expect("uid"),
        cedar_policy::EntityUid::from_str("Doc::\"d7\"").expect("uid"),
        cedar_policy::Context::from_json_value(serde_json::json!({"level": 4}), None)
            .expect("context"),
        None,
    )
    .expect("request");
    c.bench_function("cedar/authorizer-only-10", |b| {
        b.iter(|| {
            store
                .is_authorized(black_box(&req10), black_box(&ents10))
                .map(|r| r.decision())
        })
    });
    // Every request from a user the bridge has not mapped yet (a new `sub` each time): the full mapping
    // of claims to entities, as every request paid before principals were kept.
    let store = cedar_gen::generated_store(10);
    let mut i = 0u64;
    c.bench_function("cedar/bridge-10-new-user", |b| {
        b.iter(|| {
            i += 1;
            let mut id = tokens.identity().cloned().unwrap_or_default();
            id.insert("sub".into(), serde_json::json!(format!("u{i}")));
            let fresh = avp::TokenClaims::given(Some(id), tokens.access().cloned());
            avp::decide(black_box(&store), black_box(&req), &fresh, None).map(|a| a.result.decision)
        })
    });
    // The same request without the bridge's mapping: entities and request built once.
    let store = cedar_gen::generated_store(1000);
    let ents = cedar_policy::Entities::from_json_value(
        serde_json::json!([
            {"uid": {"type": "App::User", "id": "us-east-1_Example|u7"}, "attrs": {}, "parents": [{"type": "App::Group", "id": "us-east-1_Example|g0"}]},
            {"uid": {"type": "App::Group", "id": "us-east-1_Example|g0"}, "attrs": {}, "parents": []}
        ]),
        None,
    )
    .expect("entities");
    let p = cedar_policy::EntityUid::from_str("App::User::\"us-east-1_Example|u7\"").expect("uid");
    let a = cedar_policy::EntityUid::from_str("Action::\"a7\"").expect("uid");
    let r = cedar_policy::EntityUid::from_str("Doc::\"d7\"").expect("uid");
    let ctx = cedar_policy::Context::from_json_value(serde_json::json!({"level": 4}), None)
        .expect("context");
    let request = cedar_policy::Request::new(p, a, r, ctx, None).expect("request");
    let auth = cedar_policy::Authorizer::new();
    let full = auth.is_authorized(&request, store.policies(), &ents);
    let fast = store.is_authorized(&request, &ents).expect("indexed");
    assert_eq!(full.decision(), fast.decision());
    c.bench_function("cedar/authorizer-1000", |b| {
        b.iter(|| {
            auth.is_authorized(black_box(&request), store.policies(), &ents)
                .decision()
        })
    });
    c.bench_function("cedar/indexed-1000", |b| {
        b.iter(|| {
            store
                .is_authorized(black_box(&request), &ents)
                .map(|r| r.decision())
        })
    });
}

/// API Gateway: one request through the seed 004 API and group authorizer.
fn apigw_benches(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect("fixture");
    let api =
        apigw::Api::from_json(&read("policies/apigw-petstore/petstore.api.json")).expect("api");
    let groups = ["pet-veterinarian", "pet-groomer", "suspended"]
        .map(|g| (g, read(&format!("policies/apigw-petstore/groups/{g}.json"))));
    let store = apigw::GroupStore::from_policies(groups.iter().map(|(g, t)| (*g, t.as_str())))
        .expect("groups");
    let verifier = cognito::Verifier::new(
        cognito::VerifierConfig::for_pool(
            "us-east-1_Example",
            "exampleclient",
            cognito::TokenUse::Access,
        ),
        cognito::JwksSource::from_json(&read("fixtures/keys/jwks.json")).expect("jwks"),
    );
    let authorizer =
        apigw::GroupAuthorizer::new(verifier, store, apigw::InvalidToken::Unauthorized);
    let token = read("policies/apigw-petstore/tokens/vet.jwt");
    let req = apigw::HttpRequest::new("GET", "/petstore/v2/status")
        .header("Authorization", &format!("Bearer {}", token.trim()))
        .source_ip("192.0.2.10");
    let now = 1_700_000_100;
    let mut cache = apigw::AuthorizerCache::default();
    assert_eq!(api.invoke(&req, &authorizer, &mut cache, now).status, 200);
    // Cached token and group policies: route, methodArn, identity source, cache lookup, IAM decision
    // (the request path of a service: `authorize`).
    c.bench_function("apigw/authorize-cached", |b| {
        b.iter(|| {
            api.authorize(black_box(&req), &authorizer, &mut cache, now)
                .status
        })
    });
    // The same with the report the CLI prints (body, deciding statement by name, output).
    c.bench_function("apigw/invoke-cached", |b| {
        b.iter(|| {
            api.invoke(black_box(&req), &authorizer, &mut cache, now)
                .status
        })
    });
    // A cold cache: the RS256 verification, the group lookup and merge, validating the output (its
    // policy compiled once per distinct text, as for every user of the same groups), then the decision.
    c.bench_function("apigw/authorize-cold", |b| {
        b.iter(|| {
            let mut cold = apigw::AuthorizerCache::default();
            api.authorize(black_box(&req), &authorizer, &mut cold, now)
                .status
        })
    });
    // A cold cache and a policy never seen: parsing and compiling the returned policy too.
    c.bench_function("apigw/authorize-cold-new-policy", |b| {
        b.iter_batched(
            || {
                apigw::Api::from_json(&read("policies/apigw-petstore/petstore.api.json"))
                    .expect("api")
            },
            |fresh| {
                let mut cold = apigw::AuthorizerCache::default();
                fresh
                    .authorize(black_box(&req), &authorizer, &mut cold, now)
                    .status
            },
            criterion::BatchSize::SmallInput,
        )
    });
    let key = format!("Bearer {}", token.trim());
    c.bench_function("apigw/cache-hit", |b| {
        b.iter(|| cache.get(black_box(&key), 300, now).is_some())
    });
}

/// An identity-pool decision end to end (role choice, trust policy, the role's policies) on seed 001's
/// pool: with the explanation (`decide`, what `pool eval` prints) and without (`decide_fast`, what suites
/// and services use).
fn pool_benches(c: &mut Criterion) {
    let pool = policy_check::input::load_pool(std::path::Path::new(&format!(
        "{}/policies/identity-pool/identity-pool.pool.json",
        env!("CARGO_MANIFEST_DIR")
    )))
    .unwrap_or_else(|e| panic!("{e}"));
    let claims = cognito::GivenClaims::new(
        serde_json::json!({"sub": "plain-user",
            "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
            "aud": "exampleclient", "token_use": "id"})
        .as_object()
        .cloned()
        .unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let id = pool.identity_id(&claims);
    let req = identity_pool::PoolRequest {
        action: "s3:GetObject".into(),
        resource: format!("arn:aws:s3:::mybucket/{id}/a.jpg"),
        ..Default::default()
    };
    let c_ = Some(&claims as &dyn cognito::Claims);
    assert_eq!(
        pool.decide_fast(c_, None, &req).map(|d| d.decision).ok(),
        Some(Decision::Allow)
    );
    c.bench_function("pool/decide-explained", |b| {
        b.iter(|| black_box(pool.decide(c_, None, black_box(&req))))
    });
    c.bench_function("pool/decide-fast", |b| {
        b.iter(|| black_box(pool.decide_fast(c_, None, black_box(&req))))
    });
}

criterion_group!(
    benches,
    pool_benches,
    apigw_benches,
    parse_benches,
    compile_benches,
    eval_benches,
    cedar_benches,
    cognito_benches,
    bridge_benches
);
criterion_main!(benches);
