//! The server driven by the official AWS CLI (installed from PyPI into a virtual environment under the
//! target directory by this test when it is missing), and by raw HTTP for what the CLI cannot send.
//! Every decision is compared with the one `policy-check authorize` computes (`cedar_bridge::avp::run`
//! on the same request, with the same token verification).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::expect_used
)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use policy_serve::{Server, StoreSpec};
use serde_json::{Value, json};

use common::{aws_cli, root, start};

/// A server with seed 003's store as `photos`.
fn photos() -> Server {
    Server::load(vec![spec(
        "photos",
        "policies/photo-app-avp/store-location",
    )])
    .unwrap()
}

fn spec(id: &str, dir: &str) -> StoreSpec {
    format!("{id}={}", root().join(dir).display())
        .parse()
        .unwrap()
}

/// Runs `aws verifiedpermissions …` against the endpoint: (exit code, stdout JSON or Null, stderr).
fn aws(endpoint: &str, args: &[&str]) -> (i32, Value, String) {
    aws_service(endpoint, "verifiedpermissions", args)
}

/// Runs `aws iam …` against the endpoint.
fn aws_iam(endpoint: &str, args: &[&str]) -> (i32, Value, String) {
    aws_service(endpoint, "iam", args)
}

/// Runs `aws SERVICE …` against the endpoint with throw-away credentials.
fn aws_service(endpoint: &str, service: &str, args: &[&str]) -> (i32, Value, String) {
    aws_as(endpoint, ("AKIDEXAMPLE", "secret"), service, args)
}

/// Runs `aws SERVICE …` against the endpoint signing with the given access key id and secret.
fn aws_as(
    endpoint: &str,
    (key_id, secret): (&str, &str),
    service: &str,
    args: &[&str],
) -> (i32, Value, String) {
    let out = Command::new(aws_cli())
        .env_clear()
        .env("AWS_ACCESS_KEY_ID", key_id)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .args(["--endpoint-url", endpoint, "--output", "json", service])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(&stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn mint(claims: Value, token_use: cognito::TokenUse) -> String {
    let pem = std::fs::read_to_string(root().join("fixtures/keys/private.pem")).unwrap();
    let key = cognito::SigningKey::from_pem(&pem).unwrap();
    let o = cognito::MintOptions::new("us-east-1_Example", "exampleclient", token_use, now());
    cognito::mint(&key, claims.as_object().unwrap(), &o).unwrap()
}

/// What `policy-check authorize` answers for the same request document.
fn local(dir: &str, req: &Value) -> Value {
    let d = root().join(dir);
    let files = cedar_bridge::StoreFiles::from_dir(&d).unwrap();
    let store = cedar_bridge::PolicyStore::from_files(&files).unwrap();
    let jwks = std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap();
    let tokens = cedar_bridge::avp::verify_request_tokens(&store, req, Some(&jwks), None).unwrap();
    cedar_bridge::avp::run(&store, req, &tokens, None)
        .unwrap()
        .0
}

#[test]
fn the_aws_cli_gets_the_decisions_policy_check_computes() {
    let server = Arc::new(
        Server::load(vec![
            spec("photos", "policies/photo-app-avp/store-location"),
            spec("public", "policies/photo-app-avp/store-public"),
        ])
        .unwrap(),
    );
    let ep = start(server);
    let store = "policies/photo-app-avp/store-location";
    let photo = r#"{"entityType": "Photo", "entityId": "VacationPhoto94.jpg"}"#;
    let action = |a: &str| format!(r#"{{"actionType": "Action", "actionId": "{a}"}}"#);

    // IsAuthorized.
    for who in ["alice", "bob"] {
        let principal = format!(r#"{{"entityType": "User", "entityId": "{who}"}}"#);
        let (code, got, err) = aws(
            &ep,
            &[
                "is-authorized",
                "--policy-store-id",
                "photos",
                "--principal",
                &principal,
                "--action",
                &action("update"),
                "--resource",
                photo,
            ],
        );
        assert_eq!(code, 0, "{err}");
        let want = local(
            store,
            &json!({"principal": serde_json::from_str::<Value>(&principal).unwrap(),
            "action": {"actionType": "Action", "actionId": "update"},
            "resource": {"entityType": "Photo", "entityId": "VacationPhoto94.jpg"}}),
        );
        assert_eq!(got, want, "{who}");
    }

    // IsAuthorizedWithToken: seed 003 with a minted ID token; the claim decides.
    for (location, decision) in [("USA", "ALLOW"), ("Canada", "DENY")] {
        let tok = mint(
            json!({"sub": "alice-sub", "custom:location": location, "cognito:groups": ["family"]}),
            cognito::TokenUse::Id,
        );
        let (code, got, err) = aws(
            &ep,
            &[
                "is-authorized-with-token",
                "--policy-store-id",
                "photos",
                "--identity-token",
                &tok,
                "--action",
                &action("view"),
                "--resource",
                photo,
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(got["decision"], decision, "{location}: {got}");
        assert_eq!(got["principal"]["entityId"], "us-east-1_Example|alice-sub");
        let want = local(
            store,
            &json!({"identityToken": tok,
            "action": {"actionType": "Action", "actionId": "view"},
            "resource": {"entityType": "Photo", "entityId": "VacationPhoto94.jpg"}}),
        );
        assert_eq!(got, want, "{location}");
    }

    // An access token: its claims are `context.token`.
    let access = mint(
        json!({"sub": "alice-sub", "scope": "photos/read openid"}),
        cognito::TokenUse::Access,
    );
    let (code, got, err) = aws(
        &ep,
        &[
            "is-authorized-with-token",
            "--policy-store-id",
            "photos",
            "--access-token",
            &access,
            "--action",
            &action("list"),
            "--resource",
            photo,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(got["decision"], "ALLOW", "{got}");
    assert_eq!(got["determiningPolicies"][0]["policyId"], "scope-list");

    // BatchIsAuthorizedWithToken.
    let id_tok = mint(
        json!({"sub": "alice-sub", "custom:location": "USA"}),
        cognito::TokenUse::Id,
    );
    let requests = json!([
        {"action": {"actionType": "Action", "actionId": "view"}, "resource": {"entityType": "Photo", "entityId": "a.jpg"}},
        {"action": {"actionType": "Action", "actionId": "update"}, "resource": {"entityType": "Photo", "entityId": "a.jpg"}},
    ]);
    let (code, got, err) = aws(
        &ep,
        &[
            "batch-is-authorized-with-token",
            "--policy-store-id",
            "photos",
            "--identity-token",
            &id_tok,
            "--requests",
            &requests.to_string(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let want = local(
        store,
        &json!({"identityToken": id_tok, "requests": requests}),
    );
    assert_eq!(got, want);
    assert_eq!(got["results"][0]["decision"], "ALLOW");
    assert_eq!(got["results"][1]["decision"], "DENY");

    // Tokens that fail verification, and unknown stores, as AWS answers them.
    let expired = {
        let pem = std::fs::read_to_string(root().join("fixtures/keys/private.pem")).unwrap();
        let key = cognito::SigningKey::from_pem(&pem).unwrap();
        let o = cognito::MintOptions::new(
            "us-east-1_Example",
            "exampleclient",
            cognito::TokenUse::Id,
            now() - 7200,
        );
        cognito::mint(&key, json!({"sub": "alice-sub"}).as_object().unwrap(), &o).unwrap()
    };
    for bad in ["not.a.token", expired.as_str()] {
        let (code, got, err) = aws(
            &ep,
            &[
                "is-authorized-with-token",
                "--policy-store-id",
                "photos",
                "--identity-token",
                bad,
                "--action",
                &action("view"),
                "--resource",
                photo,
            ],
        );
        assert_ne!(code, 0, "{got}");
        assert!(err.contains("(ValidationException)"), "{err}");
    }
    let (code, _, err) = aws(&ep, &["get-policy-store", "--policy-store-id", "nope"]);
    assert_ne!(code, 0);
    assert!(err.contains("(ResourceNotFoundException)"), "{err}");

    // The read-only operations.
    let (code, got, err) = aws(&ep, &["list-policy-stores"]);
    assert_eq!(code, 0, "{err}");
    let ids: Vec<_> = got["policyStores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["policyStoreId"].clone())
        .collect();
    assert_eq!(ids, [json!("photos"), json!("public")]);
    let (code, got, err) = aws(&ep, &["list-policies", "--policy-store-id", "photos"]);
    assert_eq!(code, 0, "{err}");
    let mut pids: Vec<_> = got["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["policyId"].as_str().unwrap().to_string())
        .collect();
    pids.sort();
    assert_eq!(pids, ["alice-update", "scope-list", "usa-view"]);
    let (code, got, err) = aws(
        &ep,
        &[
            "get-policy",
            "--policy-store-id",
            "photos",
            "--policy-id",
            "usa-view",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        got["definition"]["static"]["statement"]
            .as_str()
            .unwrap()
            .contains("custom.location"),
        "{got}"
    );
    let (code, got, err) = aws(
        &ep,
        &["list-identity-sources", "--policy-store-id", "photos"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(got["identitySources"][0]["principalEntityType"], "User");
    assert_eq!(
        got["identitySources"][0]["configuration"]["cognitoUserPoolConfiguration"]["clientIds"],
        json!(["exampleclient"])
    );
    let (code, _, err) = aws(&ep, &["get-policy-store", "--policy-store-id", "photos"]);
    assert_eq!(code, 0, "{err}");
}

/// What the CLI cannot send: malformed bodies, unknown members and operations, oversized bodies.
#[test]
fn bad_input_gets_aws_shaped_errors() {
    let server = Arc::new(photos());
    let ep = start(server);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // Gives up after 10 s: a hung server fails the test instead of stalling it.
        let c = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap();
        let call = |target: &str, body: Vec<u8>| {
            c.post(format!("{ep}/"))
                .header("content-type", "application/x-amz-json-1.0")
                .header("x-amz-target", target)
                .body(body)
                .send()
        };
        let check = |r: reqwest::Response, status: u16, kind: &'static str| async move {
            assert_eq!(r.status().as_u16(), status);
            assert_eq!(r.headers()["x-amzn-errortype"], kind);
            let v: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
            assert_eq!(v["__type"], kind, "{v}");
            assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
        };
        check(call("VerifiedPermissions.IsAuthorized", b"{nope".to_vec()).await.unwrap(), 400, "SerializationException").await;
        check(call("VerifiedPermissions.IsAuthorized", br#"{"policyStoreId": "photos", "principal": {"entityType": "User", "entityId": "alice"}, "action": {"actionType": "Action", "actionId": "update"}, "resource": {"entityType": "Photo", "entityId": "x"}, "extra": 1}"#.to_vec()).await.unwrap(), 400, "ValidationException").await;
        check(call("VerifiedPermissions.IsAuthorized", br#"{"policyStoreId": 7}"#.to_vec()).await.unwrap(), 400, "ValidationException").await;
        check(call("VerifiedPermissions.IsAuthorized", br#"{"policyStoreId": "photos", "action": "x"}"#.to_vec()).await.unwrap(), 400, "ValidationException").await;
        check(call("VerifiedPermissions.IsAuthorizedWithToken", br#"{"policyStoreId": "photos", "action": {"actionType": "Action", "actionId": "view"}, "resource": {"entityType": "Photo", "entityId": "x"}}"#.to_vec()).await.unwrap(), 400, "ValidationException").await;
        check(call("VerifiedPermissions.DeletePolicyStore", b"{}".to_vec()).await.unwrap(), 400, "UnknownOperationException").await;
        check(call("DynamoDB_20120810.GetItem", b"{}".to_vec()).await.unwrap(), 400, "UnknownOperationException").await;
        check(call("VerifiedPermissions.GetPolicy", br#"{"policyStoreId": "photos", "policyId": "nope"}"#.to_vec()).await.unwrap(), 404, "ResourceNotFoundException").await;
        // Past 1 MiB the body is refused before it is read whole.
        let big = vec![b' '; policy_serve::MAX_BODY + 1];
        // The declared length is answered 413 at once; a client still writing the body may see the
        // connection close before it reads the answer (`oversized_and_stalled_bodies` reads the 413
        // on a raw socket).
        match call("VerifiedPermissions.IsAuthorized", big).await {
            Ok(r) => assert_eq!(r.status().as_u16(), 413),
            Err(e) => assert!(e.is_request(), "{e}"),
        }
        // On a new connection: the pool may still hold the one the server closed after the 413.
        let fresh = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
        assert_eq!(fresh.get(format!("{ep}/health")).send().await.unwrap().status().as_u16(), 200);
        // IAM's Query protocol answers in XML.
        let form = |body: &'static str| {
            c.post(format!("{ep}/"))
                .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
                .body(body)
                .send()
        };
        for (body, code) in [
            ("Action=SimulateCustomPolicy", "InvalidInput"),
            ("Action=CreateUser&Version=2010-05-08", "InvalidAction"),
            ("Action=SimulateCustomPolicy&Version=2010-05-08&ActionNames.member.1=s3:GetObject", "InvalidInput"),
            ("Action=SimulateCustomPolicy&Version=2010-05-08&Version=2010-05-08", "InvalidInput"),
            ("Action=SimulateCustomPolicy&Version=2010-05-08&PolicyInputList.member.1=%7B&ActionNames.member.1=s3:GetObject", "MalformedPolicyDocument"),
        ] {
            let r = form(body).await.unwrap();
            assert_eq!(r.status().as_u16(), 400, "{body}");
            let text = r.text().await.unwrap();
            assert!(text.starts_with("<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"), "{text}");
            assert!(text.contains(&format!("<Code>{code}</Code>")), "{body}: {text}");
        }
    });
}

#[test]
fn a_broken_store_is_refused_on_reload_and_the_old_one_serves() {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.cedar"),
        r#"@id("all") permit(principal, action, resource);"#,
    )
    .unwrap();
    let server =
        Arc::new(Server::load(vec![format!("s={}", dir.display()).parse().unwrap()]).unwrap());
    let ep = start(server.clone());
    let ask = || {
        let (code, got, err) = aws(
            &ep,
            &[
                "is-authorized",
                "--policy-store-id",
                "s",
                "--principal",
                r#"{"entityType": "User", "entityId": "u"}"#,
                "--action",
                r#"{"actionType": "Action", "actionId": "a"}"#,
                "--resource",
                r#"{"entityType": "R", "entityId": "r"}"#,
            ],
        );
        assert_eq!(code, 0, "{err}");
        got["decision"].as_str().unwrap().to_string()
    };
    assert_eq!(ask(), "ALLOW");
    std::fs::write(dir.join("p.cedar"), "permit(principal, action, resource").unwrap();
    let e = server.reload().unwrap_err();
    assert!(e.to_string().contains("store `s`"), "{e}");
    // Typed: the store's id and Cedar's own error, with its code.
    assert!(
        matches!(&e, policy_serve::ServeError::Store { id, .. } if id == "s"),
        "{e:?}"
    );
    assert_eq!(diag::Coded::code(&e), diag::codes::CEDAR_POLICY, "{e}");
    assert_eq!(ask(), "ALLOW", "the old store keeps serving");
    std::fs::write(
        dir.join("p.cedar"),
        r#"@id("none") forbid(principal, action, resource);"#,
    )
    .unwrap();
    server.reload().unwrap();
    assert_eq!(ask(), "DENY");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The AWS CLI takes a list of policy texts as a JSON array (a bare `file://` value is split into
/// characters by the CLI itself).
fn policy_list(paths: &[&str]) -> String {
    let texts: Vec<String> = paths
        .iter()
        .map(|p| std::fs::read_to_string(root().join(p)).unwrap())
        .collect();
    serde_json::to_string(&texts).unwrap()
}

/// What policy-check's engine decides for the same policy and context.
fn local_iam(path: &str, action: &str, resource: &str, ctx: &authz_core::Context) -> &'static str {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let doc = iam_policy::parse(&iam_policy::Source::new(path, text.as_str())).unwrap();
    let auth = iam_eval::Authorizer::new(
        iam_eval::PolicySet::compile(authz_core::Layer::Identity, [doc]).unwrap(),
    );
    match auth
        .evaluate(&authz_core::Request::new(action, resource).context(ctx))
        .decision
    {
        authz_core::Decision::Allow => "allowed",
        authz_core::Decision::ExplicitDeny => "explicitDeny",
        authz_core::Decision::ImplicitDeny => "implicitDeny",
    }
}

#[test]
fn the_iam_policy_simulator_over_the_query_protocol() {
    let server = Arc::new(photos());
    let ep = start(server);
    let row = "policies/cognito-groups-dynamodb/row-level.json";
    let table = "arn:aws:dynamodb:us-east-1:123456789012:table/Notes";
    // Seed 000's row-level policy: the caller's identity id must lead every key.
    for (leading, want) in [
        ("us-east-1:abc", "allowed"),
        ("us-east-1:someone-else", "implicitDeny"),
    ] {
        let entries = [
            "ContextKeyName=cognito-identity.amazonaws.com:sub,ContextKeyValues=us-east-1:abc,ContextKeyType=string".to_string(),
            format!("ContextKeyName=dynamodb:LeadingKeys,ContextKeyValues={leading},ContextKeyType=stringList"),
        ];
        let (code, got, err) = aws_iam(
            &ep,
            &[
                "simulate-custom-policy",
                "--policy-input-list",
                &policy_list(&[row]),
                "--action-names",
                "dynamodb:GetItem",
                "--resource-arns",
                table,
                "--context-entries",
                &entries[0],
                &entries[1],
            ],
        );
        assert_eq!(code, 0, "{err}");
        let r = &got["EvaluationResults"][0];
        assert_eq!(r["EvalDecision"], want, "{got}");
        let mut ctx = authz_core::Context::new();
        ctx.insert("cognito-identity.amazonaws.com:sub", "us-east-1:abc");
        ctx.insert_multi("dynamodb:LeadingKeys", [leading]);
        assert_eq!(local_iam(row, "dynamodb:GetItem", table, &ctx), want);
        if want == "allowed" {
            let m = &r["MatchedStatements"][0];
            assert_eq!(m["SourcePolicyId"], "PolicyInputList.1");
            assert_eq!(
                (
                    m["StartPosition"]["Line"].as_u64(),
                    m["StartPosition"]["Column"].as_u64()
                ),
                (Some(4), Some(9)),
                "{m}"
            );
        }
    }
    // Missing context: the simulator names the keys the policy needed.
    let (code, got, err) = aws_iam(
        &ep,
        &[
            "simulate-custom-policy",
            "--policy-input-list",
            &policy_list(&[row]),
            "--action-names",
            "dynamodb:GetItem",
            "dynamodb:DeleteItem",
            "--resource-arns",
            table,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let results = got["EvaluationResults"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(
        results[1]["EvalDecision"], "implicitDeny",
        "DeleteItem is not in the policy"
    );
    // With an individual resource, they are listed per resource, as the policy spells them.
    assert_eq!(results[0]["MissingContextValues"], json!([]));
    assert_eq!(
        results[0]["ResourceSpecificResults"][0]["MissingContextValues"],
        json!(["cognito-identity.amazonaws.com:sub", "dynamodb:LeadingKeys"])
    );
    // The keys a policy reads.
    let (code, got, err) = aws_iam(
        &ep,
        &[
            "get-context-keys-for-custom-policy",
            "--policy-input-list",
            &policy_list(&[row]),
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        got["ContextKeyNames"],
        json!(["dynamodb:LeadingKeys", "cognito-identity.amazonaws.com:sub"])
    );
    // Beyond AWS: the identity pool role's trust policy for AssumeRoleWithWebIdentity.
    let trust = std::fs::read_to_string(root().join("policies/cognito-groups-dynamodb/trust.json"))
        .unwrap();
    for (aud, want) in [
        ("us-east-1:0000aaaa-1111-2222-3333-444455556666", "allowed"),
        ("us-east-1:another-pool", "implicitDeny"),
    ] {
        let aud_entry = format!(
            "ContextKeyName=cognito-identity.amazonaws.com:aud,ContextKeyValues={aud},ContextKeyType=string"
        );
        let (code, got, err) = aws_iam(
            &ep,
            &[
                "simulate-custom-policy",
                "--policy-input-list",
                &policy_list(&[row]),
                "--resource-policy",
                &trust,
                "--action-names",
                "sts:AssumeRoleWithWebIdentity",
                "--resource-arns",
                "arn:aws:iam::123456789012:role/Cognito_Auth",
                "--context-entries",
                &aud_entry,
                "ContextKeyName=cognito-identity.amazonaws.com:amr,ContextKeyValues=authenticated,ContextKeyType=stringList",
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            got["EvaluationResults"][0]["EvalDecision"], want,
            "{aud}: {got}"
        );
    }
    // Refusals in IAM's XML error shape.
    let (code, _, err) = aws_iam(
        &ep,
        &[
            "simulate-custom-policy",
            "--policy-input-list",
            r#"["{\"Version\": \"2012-10-17\", \"Statement\": ["]"#,
            "--action-names",
            "s3:GetObject",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("(MalformedPolicyDocument)"), "{err}");
}

#[test]
fn principal_policies_from_the_iam_configuration() {
    let iam = policy_serve::IamConfig::from_file(&root().join("fixtures/serve/iam.json")).unwrap();
    let server = Arc::new(photos().with_iam(iam));
    let ep = start(server);
    let table = "arn:aws:dynamodb:us-east-1:123456789012:table/Notes";
    // A user whose boundary allows no Scan: Query allowed, Scan blocked by the boundary.
    let (code, got, err) = aws_iam(
        &ep,
        &[
            "simulate-principal-policy",
            "--policy-source-arn",
            "arn:aws:iam::123456789012:user/alice",
            "--action-names",
            "dynamodb:Query",
            "dynamodb:Scan",
            "--resource-arns",
            table,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let r = got["EvaluationResults"].as_array().unwrap();
    assert_eq!(r[0]["EvalDecision"], "allowed", "{got}");
    assert_eq!(
        r[0]["MatchedStatements"][0]["SourcePolicyId"],
        "readonly-scan"
    );
    assert_eq!(r[0]["MatchedStatements"][0]["SourcePolicyType"], "user");
    assert_eq!(
        r[0]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"],
        true
    );
    assert_eq!(r[1]["EvalDecision"], "implicitDeny");
    assert_eq!(
        r[1]["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"],
        false
    );
    // The identity-pool role: its own trust policy decides AssumeRoleWithWebIdentity.
    let (code, got, err) = aws_iam(
        &ep,
        &[
            "simulate-principal-policy",
            "--policy-source-arn",
            "arn:aws:iam::123456789012:role/Cognito_NotesAuth_Role",
            "--action-names",
            "sts:AssumeRoleWithWebIdentity",
            "--resource-arns",
            "arn:aws:iam::123456789012:role/Cognito_NotesAuth_Role",
            "--context-entries",
            "ContextKeyName=cognito-identity.amazonaws.com:aud,ContextKeyValues=us-east-1:0000aaaa-1111-2222-3333-444455556666,ContextKeyType=string",
            "ContextKeyName=cognito-identity.amazonaws.com:amr,ContextKeyValues=authenticated,ContextKeyType=stringList",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        got["EvaluationResults"][0]["EvalDecision"], "allowed",
        "{got}"
    );
    let (code, got, err) = aws_iam(
        &ep,
        &[
            "get-context-keys-for-principal-policy",
            "--policy-source-arn",
            "arn:aws:iam::123456789012:role/Cognito_NotesAuth_Role",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        got["ContextKeyNames"],
        json!(["dynamodb:LeadingKeys", "cognito-identity.amazonaws.com:sub"])
    );
    // An unknown principal: NoSuchEntity.
    let (code, _, err) = aws_iam(
        &ep,
        &[
            "simulate-principal-policy",
            "--policy-source-arn",
            "arn:aws:iam::123456789012:user/nobody",
            "--action-names",
            "s3:GetObject",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("(NoSuchEntity)"), "{err}");
}

/// A client that trickles its request headers is cut off after the header-read timeout; other clients
/// are served meanwhile.
#[test]
fn a_slow_client_is_cut_off_and_others_are_served() {
    use std::io::{Read, Write};
    let server = Arc::new(photos());
    let ep = start(server);
    let addr = ep.trim_start_matches("http://").to_string();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(std::time::Duration::from_secs(8)))
        .unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    // Meanwhile another client is answered.
    let mut other = std::net::TcpStream::connect(&addr).unwrap();
    other
        .set_read_timeout(Some(std::time::Duration::from_secs(8)))
        .unwrap();
    other
        .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    other.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The slow one: closed (possibly after a 408) within the timeout and well before the read timeout.
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let closed = slow.read_to_end(&mut rest).is_ok();
    let text = String::from_utf8_lossy(&rest);
    assert!(closed, "the slow connection was not closed");
    assert!(
        rest.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// With credentials, the server checks the AWS CLI's SigV4 signatures: the right key and secret pass,
/// a wrong secret or an unknown key gets AWS's error for it, on both protocols; an unsigned request is
/// refused.
#[test]
fn signatures_are_checked_when_credentials_are_given() {
    let server = Arc::new(
        photos().with_credentials(vec![("AKIDPOLICYCHECK".into(), "s3cr3t/key+value".into())]),
    );
    let ep = start(server);
    let good = ("AKIDPOLICYCHECK", "s3cr3t/key+value");
    let (code, v, err) = aws_as(&ep, good, "verifiedpermissions", &["list-policy-stores"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["policyStores"][0]["policyStoreId"], "photos");
    let policy = r#"["{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]}"]"#;
    let simulate = [
        "simulate-custom-policy",
        "--policy-input-list",
        policy,
        "--action-names",
        "s3:GetObject",
    ];
    let (code, v, err) = aws_as(&ep, good, "iam", &simulate);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["EvaluationResults"][0]["EvalDecision"], "allowed");
    // A wrong secret, an unknown key: refused with AWS's codes for each protocol.
    for (who, vp_code, iam_code) in [
        (
            ("AKIDPOLICYCHECK", "wrong"),
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
        ),
        (
            ("AKIDUNKNOWN", "s3cr3t/key+value"),
            "UnrecognizedClientException",
            "InvalidClientTokenId",
        ),
    ] {
        let (code, _, err) = aws_as(&ep, who, "verifiedpermissions", &["list-policy-stores"]);
        assert_ne!(code, 0);
        assert!(err.contains(vp_code), "{vp_code}: {err}");
        let (code, _, err) = aws_as(&ep, who, "iam", &simulate);
        assert_ne!(code, 0);
        assert!(err.contains(iam_code), "{iam_code}: {err}");
    }
    // Unsigned.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let r = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap()
            .post(format!("{ep}/"))
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "VerifiedPermissions.ListPolicyStores")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        assert_eq!(
            r.headers()["x-amzn-errortype"],
            "MissingAuthenticationTokenException"
        );
    });
}

/// Sends raw bytes on a new connection and reads the answer (or `None` when closed without one) within
/// `wait`.
fn raw(addr: &str, bytes: &[u8], wait: std::time::Duration) -> Option<String> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(wait)).unwrap();
    c.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    (!out.is_empty()).then(|| String::from_utf8_lossy(&out).into_owned())
}

/// Bodies: a declared length over the limit is answered 413 at once, in the protocol's shape; a body
/// that does not arrive is cut off with 408 after the body timeout; `/health` is served meanwhile.
#[test]
fn oversized_and_stalled_bodies() {
    let server = Arc::new(photos().with_body_timeout(std::time::Duration::from_millis(800)));
    let ep = start(server);
    let addr = ep.trim_start_matches("http://").to_string();
    let wait = std::time::Duration::from_secs(5);
    let started = std::time::Instant::now();
    let json = raw(
        &addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: VerifiedPermissions.ListPolicyStores\r\nContent-Length: 100000000\r\n\r\n",
        wait,
    )
    .unwrap();
    assert!(json.starts_with("HTTP/1.1 413"), "{json}");
    assert!(
        json.contains(r#""__type":"RequestEntityTooLarge""#),
        "{json}"
    );
    let xml = raw(
        &addr,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000000\r\n\r\n",
        wait,
    )
    .unwrap();
    assert!(xml.starts_with("HTTP/1.1 413"), "{xml}");
    assert!(xml.contains("<Code>RequestEntityTooLarge</Code>"), "{xml}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "413 waited for the body"
    );
    // Half a body, then silence: 408 after the body timeout.
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let a = addr.clone();
        stalled.push(std::thread::spawn(move || {
            raw(
                &a,
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: VerifiedPermissions.ListPolicyStores\r\nContent-Length: 100\r\n\r\n{\"a\":",
                std::time::Duration::from_secs(5),
            )
        }));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let health = raw(
        &addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        wait,
    )
    .unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    for t in stalled {
        let answer = t.join().unwrap().unwrap_or_default();
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("RequestTimeout"), "{answer}");
    }
}

/// More connections than the cap (idle ones that never send a byte): the oldest are closed and
/// `/health` is still answered.
#[test]
fn connections_beyond_the_cap_close_the_oldest() {
    let server = Arc::new(photos().with_max_connections(8));
    let ep = start(server);
    let addr = ep.trim_start_matches("http://").to_string();
    // Well within the 1 s header timeout of `start`, so only the cap can close them.
    let idle: Vec<std::net::TcpStream> = (0..40)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(150));
    let health = raw(
        &addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // The first idle connections were closed by the server.
    use std::io::Read;
    let mut first = &idle[0];
    first
        .set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 16];
    let closed = match first.read(&mut buf) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    assert!(
        closed,
        "the oldest connection was not closed (a read timeout means it is still open)"
    );
}

/// POSTs a form (IAM's Query protocol) and returns the whole HTTP answer.
fn post_form(addr: &str, body: &str) -> String {
    let req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    raw(addr, req.as_bytes(), std::time::Duration::from_secs(10)).unwrap_or_default()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The simulator never drops input silently: list members numbered other than 1, 2, 3, … and misspelt
/// parameters are `InvalidInput`; so is a context value that is not of its declared type and a control
/// character XML cannot carry back. A Deny at `member.3` with no `member.2` used to vanish (allowed).
#[test]
fn query_input_is_never_dropped() {
    let ep = start(Arc::new(photos()));
    let addr = ep.trim_start_matches("http://").to_string();
    let allow = enc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
    );
    let deny = enc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NumericGreaterThan":{"s3:max-keys":"10"}}}}"#,
    );
    let base = "Action=SimulateCustomPolicy&Version=2010-05-08&ActionNames.member.1=s3:ListBucket";
    for (body, why) in [
        (
            format!("{base}&PolicyInputList.member.1={allow}&PolicyInputList.member.3={deny}"),
            "without gaps",
        ),
        (
            format!("{base}&PolicyInputList.member.0={allow}"),
            "numbered 1, 2, 3",
        ),
        (
            format!("{base}&PolicyInputList.member.01={allow}"),
            "numbered 1, 2, 3",
        ),
        (
            format!("{base}&PolicyInputList.member.1={allow}&ActionName.member.1=s3:GetObject"),
            "not a parameter",
        ),
        (
            format!(
                "{base}&PolicyInputList.member.1={deny}&ContextEntries.member.1.ContextKeyName=s3:max-keys&ContextEntries.member.1.ContextKeyType=numeric&ContextEntries.member.1.ContextKeyValues.member.1=lots"
            ),
            "declared type",
        ),
        (
            format!("{base}&PolicyInputList.member.1={allow}&CallerArn=a%01b"),
            "control character",
        ),
    ] {
        let answer = post_form(&addr, &body);
        assert!(answer.starts_with("HTTP/1.1 400"), "{why}: {answer}");
        assert!(
            answer.contains("<Code>InvalidInput</Code>"),
            "{why}: {answer}"
        );
        assert!(answer.contains(why), "{why}: {answer}");
        let xml = answer.split("\r\n\r\n").nth(1).unwrap_or("");
        let mut reader = quick_xml::Reader::from_str(xml);
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("ill-formed XML for {why}: {e}\n{xml}"),
            }
        }
    }
    // Numeric values that are numbers are decided.
    let ok = post_form(
        &addr,
        &format!(
            "{base}&PolicyInputList.member.1={allow}&PolicyInputList.member.2={deny}&ContextEntries.member.1.ContextKeyName=s3:max-keys&ContextEntries.member.1.ContextKeyType=numeric&ContextEntries.member.1.ContextKeyValues.member.1=50"
        ),
    );
    assert!(
        ok.contains("<EvalDecision>explicitDeny</EvalDecision>"),
        "{ok}"
    );
    // Duplicate JSON keys over the JSON protocol: refused, as `authorize` refuses them.
    let body = r#"{"policyStoreId": "photos", "policyStoreId": "other"}"#;
    let answer = raw(
        &addr,
        format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: VerifiedPermissions.GetPolicyStore\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes(),
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("given twice"), "{answer}");
}

/// `SimulateCustomPolicy` pages its answers as the IAM API reference defines (`MaxItems`, default 100,
/// at most 1,000; `Marker`; `IsTruncated`): only a page is decided per request, and the AWS CLI's
/// paginator gets every result.
#[test]
fn simulator_pages_its_answers() {
    let ep = start(Arc::new(photos()));
    let addr = ep.trim_start_matches("http://").to_string();
    let allow = enc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
    );
    let actions: String = (1..=250)
        .map(|i| format!("&ActionNames.member.{i}=s3:Action{i}"))
        .collect();
    let base = format!(
        "Action=SimulateCustomPolicy&Version=2010-05-08&PolicyInputList.member.1={allow}{actions}"
    );
    let count = |xml: &str| xml.matches("<EvalActionName>").count();
    let marker = |xml: &str| {
        xml.split("<Marker>")
            .nth(1)
            .and_then(|r| r.split("</Marker>").next())
            .map(str::to_string)
    };
    let first = post_form(&addr, &base);
    assert!(first.contains("<IsTruncated>true</IsTruncated>"), "{first}");
    assert_eq!(count(&first), 100);
    let m = marker(&first).unwrap();
    let second = post_form(&addr, &format!("{base}&MaxItems=1000&Marker={}", enc(&m)));
    assert!(
        second.contains("<IsTruncated>false</IsTruncated>"),
        "{second}"
    );
    assert_eq!(count(&second), 150);
    assert!(second.contains("<EvalActionName>s3:Action101</EvalActionName>"));
    for bad in ["&MaxItems=0", "&MaxItems=1001", "&Marker=forged"] {
        let a = post_form(&addr, &format!("{base}{bad}"));
        assert!(a.contains("<Code>InvalidInput</Code>"), "{bad}: {a}");
    }
    // A million pairs asked for: one page is decided (work and memory of ten results).
    let resources: String = (1..=1000)
        .map(|i| format!("&ResourceArns.member.{i}=arn:aws:s3:::b/{i}"))
        .collect();
    let actions: String = (1..=1000)
        .map(|i| format!("&ActionNames.member.{i}=s3:Action{i}"))
        .collect();
    let big = post_form(
        &addr,
        &format!(
            "Action=SimulateCustomPolicy&Version=2010-05-08&PolicyInputList.member.1={allow}{actions}{resources}&MaxItems=10"
        ),
    );
    assert_eq!(count(&big), 10, "{}", &big[..big.len().min(400)]);
    assert!(big.contains("<IsTruncated>true</IsTruncated>"));
    // The AWS CLI follows the markers itself.
    let names: Vec<String> = (1..=150).map(|i| format!("s3:Action{i}")).collect();
    let mut args = vec![
        "simulate-custom-policy",
        "--policy-input-list",
        r#"["{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"}]}"]"#,
        "--action-names",
    ];
    args.extend(names.iter().map(String::as_str));
    let (code, v, err) = aws_iam(&ep, &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["EvaluationResults"].as_array().unwrap().len(), 150);
}

/// The child half of `a_lowered_descriptor_limit_keeps_health_served`, not a test of its own: the
/// parent re-executes this binary under `prlimit` with `--ignored`; it serves for a bounded time and
/// prints its address.
#[test]
#[ignore = "the child process of a_lowered_descriptor_limit_keeps_health_served"]
fn serve_child_for_descriptor_test() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("ADDR {}", listener.local_addr().unwrap());
        use std::io::Write;
        std::io::stdout().flush().unwrap();
        policy_serve::serve_on(
            listener,
            Arc::new(photos()),
            std::time::Duration::from_secs(30),
            tokio::time::sleep(std::time::Duration::from_secs(20)),
        )
        .await
        .unwrap();
    });
}

/// With the process limited to 64 descriptors, 100 idle connections neither exhaust them nor lock
/// `/health` out: the connection cap follows the descriptor limit and closes the oldest. `prlimit` comes
/// with util-linux (Debian's base system); without it the test says it is skipped.
#[test]
fn a_lowered_descriptor_limit_keeps_health_served() {
    use std::io::BufRead;
    if Command::new("prlimit").arg("--version").output().is_err() {
        eprintln!(
            "SKIPPED a_lowered_descriptor_limit_keeps_health_served: `prlimit` (util-linux) is not installed"
        );
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("prlimit")
        .args(["--nofile=64:64", "--"])
        .arg(&exe)
        .args([
            "--exact",
            "serve_child_for_descriptor_test",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let addr = loop {
        let Some(line) = lines.next() else {
            let mut why = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut why);
            panic!("the child printed no address: {seen:?} {why}");
        };
        let line = line.unwrap();
        seen.push(line.clone());
        // libtest may print the test's name on the same line first.
        if let Some((_, a)) = line.split_once("ADDR ") {
            break a.trim().to_string();
        }
    };
    let idle: Vec<std::net::TcpStream> = (0..100)
        .filter_map(|_| std::net::TcpStream::connect(&addr).ok())
        .collect();
    assert!(idle.len() > 64, "the connections were made: {}", idle.len());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let health = raw(
        &addr,
        b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        std::time::Duration::from_secs(5),
    );
    let _ = child.kill();
    let _ = child.wait();
    let health = health.expect("an answer to /health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
}
