//! Cognito: the verifier's attack battery, JWKS over real HTTP, identity-pool role resolution end to end.

use cognito::Claims as _;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use cognito::{
    JwksSource, MintOptions, SigningKey, TokenCache, TokenUse, Verifier, VerifierConfig, mint,
};
use serde_json::{Value, json};

const POOL: &str = "us-east-1_Example";
const CLIENT: &str = "client123";
const NOW: i64 = 1_700_000_000;

fn key() -> &'static SigningKey {
    static K: OnceLock<SigningKey> = OnceLock::new();
    K.get_or_init(|| SigningKey::generate().unwrap().0)
}

fn other_key() -> &'static SigningKey {
    static K: OnceLock<SigningKey> = OnceLock::new();
    K.get_or_init(|| SigningKey::generate().unwrap().0)
}

fn opts(token_use: TokenUse) -> MintOptions {
    MintOptions {
        token_use,
        user_pool_id: POOL.into(),
        region: None,
        client_id: CLIENT.into(),
        now: NOW,
        lifetime: 3600,
    }
}

fn token(claims: Value) -> String {
    mint(key(), claims.as_object().unwrap(), &opts(TokenUse::Id)).unwrap()
}

fn verifier() -> Verifier {
    Verifier::new(
        VerifierConfig::for_pool(POOL, CLIENT, TokenUse::Id),
        JwksSource::from_json(&key().jwks().to_string()).unwrap(),
    )
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn parts(t: &str) -> (String, String, String) {
    let p: Vec<&str> = t.split('.').collect();
    (p[0].into(), p[1].into(), p[2].into())
}

fn payload(t: &str) -> Value {
    let (_, p, _) = parts(t);
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p)
            .unwrap(),
    )
    .unwrap()
}

fn err(t: &str) -> &'static str {
    verifier().verify_at(t, NOW + 60).unwrap_err().code()
}

#[test]
fn valid_id_and_access_tokens() {
    let v = verifier()
        .verify_at(&token(json!({"sub": "u1"})), NOW + 60)
        .unwrap();
    assert_eq!(v.sub(), "u1");
    assert_eq!(v.client_id(), CLIENT);
    let access = mint(
        key(),
        json!({"sub": "u1"}).as_object().unwrap(),
        &opts(TokenUse::Access),
    )
    .unwrap();
    let av = Verifier::new(
        VerifierConfig::for_pool(POOL, CLIENT, TokenUse::Access),
        JwksSource::from_json(&key().jwks().to_string()).unwrap(),
    );
    assert_eq!(
        av.verify_at(&access, NOW).unwrap().token_use(),
        TokenUse::Access
    );
    // Both issuer forms are accepted.
    let updated =
        token(json!({"iss": format!("https://issuer-cognito-idp.us-east-1.amazonaws.com/{POOL}")}));
    assert!(verifier().verify_at(&updated, NOW).is_ok());
}

#[test]
fn attack_battery() {
    let good = token(json!({}));
    let (h, p, s) = parts(&good);
    let kid = key().kid().to_string();
    let claims = payload(&good);
    // alg: none
    assert_eq!(
        err(&format!(
            "{}.{p}.",
            b64(&json!({"alg": "none", "kid": kid}))
        )),
        "token::unsupported-algorithm"
    );
    // HS256 signed with the RSA public key as the secret.
    let pubkey = key().jwks()["keys"][0]["n"].as_str().unwrap().to_string();
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            alg: jsonwebtoken::Algorithm::HS256,
            kid: Some(kid.clone()),
            ..Default::default()
        },
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(pubkey.as_bytes()),
    )
    .unwrap();
    assert_eq!(err(&hs), "token::unsupported-algorithm");
    // Missing kid, unknown kid.
    assert_eq!(
        err(&key().sign_raw(&json!({"alg": "RS256"}), &claims).unwrap()),
        "token::missing-kid"
    );
    assert_eq!(
        err(&key()
            .sign_raw(&json!({"alg": "RS256", "kid": "nope"}), &claims)
            .unwrap()),
        "token::unknown-kid"
    );
    // A forged key under a known kid.
    assert_eq!(
        err(&other_key()
            .sign_raw(&json!({"alg": "RS256", "kid": kid}), &claims)
            .unwrap()),
        "token::invalid-signature"
    );
    // Tampered payload and header.
    let mut evil = claims.clone();
    evil["sub"] = json!("admin");
    assert_eq!(
        err(&format!("{h}.{}.{s}", b64(&evil))),
        "token::invalid-signature"
    );
    assert_eq!(
        err(&format!(
            "{}.{p}.{s}",
            b64(&json!({"alg": "RS256", "kid": kid, "x": 1}))
        )),
        "token::invalid-signature"
    );
    // Time.
    let v = verifier();
    assert_eq!(
        v.verify_at(&good, NOW + 3600).unwrap_err().code(),
        "token::expired"
    );
    assert!(v.verify_at(&good, NOW + 3599).is_ok());
    assert_eq!(
        err(&token(json!({"nbf": NOW + 1000}))),
        "token::not-yet-valid"
    );
    assert_eq!(
        err(&token(json!({"iat": NOW + 1000}))),
        "token::issued-in-future"
    );
    assert_eq!(err(&token(json!({"exp": null}))), "token::missing-claim");
    assert_eq!(err(&token(json!({"exp": "soon"}))), "token::missing-claim");
    // Extreme times never overflow.
    let mut cfg = VerifierConfig::for_pool(POOL, CLIENT, TokenUse::Id);
    cfg.leeway = i64::MAX;
    let lenient = Verifier::new(
        cfg,
        JwksSource::from_json(&key().jwks().to_string()).unwrap(),
    );
    assert!(
        lenient
            .verify_at(
                &token(json!({"exp": i64::MAX, "nbf": i64::MIN, "iat": i64::MAX})),
                i64::MAX - 1
            )
            .is_ok()
    );
    assert_eq!(err(&token(json!({"exp": i64::MIN}))), "token::expired");
    // Issuer, token_use, client.
    assert_eq!(
        err(&token(
            json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"})
        )),
        "token::invalid-issuer"
    );
    assert_eq!(
        err(&token(
            json!({"iss": format!("https://cognito-idp.us-west-2.amazonaws.com/{POOL}")})
        )),
        "token::invalid-issuer"
    );
    assert_eq!(
        err(&token(
            json!({"iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}/")})
        )),
        "token::invalid-issuer"
    );
    assert_eq!(
        err(&token(
            json!({"iss": [format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}")]})
        )),
        "token::invalid-issuer"
    );
    assert_eq!(
        err(&token(json!({"token_use": "access"}))),
        "token::invalid-token-use"
    );
    assert_eq!(
        err(&token(json!({"aud": "other-client"}))),
        "token::invalid-client"
    );
    assert_eq!(
        err(&token(json!({"aud": [CLIENT]}))),
        "token::invalid-client"
    );
    // Shape.
    assert_eq!(err("a.b"), "token::malformed");
    assert_eq!(err("a.b.c.d"), "token::malformed");
    assert_eq!(err(&format!("{h}.!!!.{s}")), "token::malformed");
    assert_eq!(
        err(&format!(
            "{}.{p}.{s}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("not json")
        )),
        "token::malformed"
    );
    assert_eq!(
        err(&format!(
            "{}.{p}.{s}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(r#"{"alg":"RS256","alg":"none"}"#)
        )),
        "token::malformed"
    );
    assert_eq!(
        err(&"a".repeat(cognito::MAX_TOKEN_BYTES + 1)),
        "token::too-large"
    );
    // JWK / header algorithm mismatch.
    let rs512 = key()
        .sign_raw(&json!({"alg": "RS512", "kid": kid}), &claims)
        .unwrap();
    assert_eq!(err(&rs512), "token::unsupported-algorithm");
}

#[test]
fn groups_scopes_and_leeway() {
    let mut cfg = VerifierConfig::for_pool(POOL, CLIENT, TokenUse::Id);
    cfg.required_groups = vec!["admins".into()];
    let v = Verifier::new(
        cfg.clone(),
        JwksSource::from_json(&key().jwks().to_string()).unwrap(),
    );
    assert!(
        v.verify_at(&token(json!({"cognito:groups": ["admins", "x"]})), NOW)
            .is_ok()
    );
    assert_eq!(
        v.verify_at(&token(json!({"cognito:groups": ["x"]})), NOW)
            .unwrap_err()
            .code(),
        "token::missing-group"
    );
    cfg.required_groups.clear();
    cfg.leeway = 30;
    let v = Verifier::new(
        cfg,
        JwksSource::from_json(&key().jwks().to_string()).unwrap(),
    );
    assert!(v.verify_at(&token(json!({})), NOW + 3620).is_ok());
    assert!(v.verify_at(&token(json!({})), NOW + 3630).is_err());
}

#[test]
fn cache_hits_and_honours_exp() {
    let v = verifier();
    let cache = TokenCache::new(2);
    let t = token(json!({"sub": "c1"}));
    assert_eq!(cache.verify_at(&v, &t, NOW).unwrap().sub(), "c1");
    assert_eq!(cache.len(), 1);
    assert_eq!(cache.verify_at(&v, &t, NOW + 1).unwrap().sub(), "c1");
    assert_eq!(
        cache.verify_at(&v, &t, NOW + 3600).unwrap_err().code(),
        "token::expired"
    );
    for i in 0..5 {
        cache
            .verify_at(&v, &token(json!({"sub": format!("u{i}")})), NOW)
            .unwrap();
    }
    assert!(cache.len() <= 2);
}

/// A tiny HTTP/1.1 server for one JWKS document, counting requests.
fn serve(body: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            h.fetch_add(1, Ordering::SeqCst);
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (format!("http://{addr}/{POOL}/.well-known/jwks.json"), hits)
}

#[test]
fn jwks_over_http_fetch_cache_refetch_and_down() {
    let (url, hits) = serve(key().jwks().to_string());
    let src = JwksSource::remote_insecure_loopback_for_tests(url.clone())
        .with_limits(Duration::from_millis(300), Duration::from_secs(2));
    let v = Verifier::new(VerifierConfig::for_pool(POOL, CLIENT, TokenUse::Id), src);
    let t = token(json!({}));
    assert!(v.verify_at(&t, NOW).is_ok());
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert!(v.verify_at(&t, NOW).is_ok());
    assert_eq!(hits.load(Ordering::SeqCst), 1, "the cached JWKS is used");
    // An unknown kid triggers one refetch, then fails fast during the cool-down.
    let unknown = key()
        .sign_raw(&json!({"alg": "RS256", "kid": "rotated"}), &payload(&t))
        .unwrap();
    assert_eq!(
        v.verify_at(&unknown, NOW).unwrap_err().code(),
        "token::unknown-kid"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(
        v.verify_at(&unknown, NOW).unwrap_err().code(),
        "token::unknown-kid"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "no refetch inside the cool-down"
    );
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(
        v.verify_at(&unknown, NOW).unwrap_err().code(),
        "token::unknown-kid"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        3,
        "one refetch after the cool-down"
    );
    assert!(v.verify_at(&t, NOW).is_ok(), "known keys keep working");
    // A server that is down.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/jwks.json", dead.local_addr().unwrap());
    drop(dead);
    let v = Verifier::new(
        VerifierConfig::for_pool(POOL, CLIENT, TokenUse::Id),
        JwksSource::remote_insecure_loopback_for_tests(dead_url)
            .with_limits(Duration::from_secs(10), Duration::from_secs(1)),
    );
    assert_eq!(
        v.verify_at(&t, NOW).unwrap_err().code(),
        "token::jwks-unavailable"
    );
    assert_eq!(
        v.verify_at(&t, NOW).unwrap_err().code(),
        "token::jwks-unavailable"
    );
}

// ---- identity pools ----------------------------------------------------------------------------------

fn claims(v: Value) -> cognito::GivenClaims {
    let mut m = json!({"sub": "user-1", "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}"), "aud": CLIENT, "token_use": "id"});
    for (k, x) in v.as_object().unwrap() {
        m[k] = x.clone();
    }
    cognito::GivenClaims::new(m.as_object().unwrap().clone()).unwrap()
}

fn pool(mapping: Value) -> identity_pool::IdentityPool {
    pool_with(mapping, false)
}

fn pool_with(mapping: Value, classic: bool) -> identity_pool::IdentityPool {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool-1"},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"}}}]});
    let guest_trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool-1"},
                      "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "unauthenticated"}}}]});
    let s3 = |a: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": a, "Resource": "*"}]});
    let cfg = json!({
        "identity_pool_id": "us-east-1:pool-1", "account": "123456789012", "allow_unauthenticated": true, "allow_classic_flow": classic,
        "cognito_identity_providers": [{"provider_name": format!("cognito-idp.us-east-1.amazonaws.com/{POOL}"), "client_id": CLIENT}],
        "authenticated_role": "arn:aws:iam::123456789012:role/Auth",
        "unauthenticated_role": "arn:aws:iam::123456789012:role/Guest",
        "roles": {
            "arn:aws:iam::123456789012:role/Auth": {"trust": trust, "policies": [s3("s3:GetObject")]},
            "arn:aws:iam::123456789012:role/Admin": {"trust": trust, "policies": [s3("s3:*")]},
            "arn:aws:iam::123456789012:role/Editors": {"trust": trust, "policies": [s3("s3:PutObject")]},
            "arn:aws:iam::123456789012:role/Guest": {"trust": guest_trust, "policies": [s3("s3:*")]},
            "arn:aws:iam::123456789012:role/Untrusting": {"trust": guest_trust, "policies": [s3("s3:*")]}
        },
        "role_mappings": {format!("cognito-idp.us-east-1.amazonaws.com/{POOL}:{CLIENT}"): mapping}
    });
    identity_pool::IdentityPool::from_config(
        serde_json::from_value(cfg).unwrap(),
        &identity_pool::no_files,
    )
    .unwrap()
}

fn role(
    p: &identity_pool::IdentityPool,
    c: Option<&cognito::GivenClaims>,
    custom: Option<&str>,
) -> Result<String, String> {
    p.resolve_role(c.map(|c| c as &dyn cognito::Claims), custom)
        .map(|r| r.role_arn.rsplit('/').next().unwrap().to_string())
        .map_err(|e| e.reason)
}

#[test]
fn token_based_role_choice() {
    let p = pool(json!({"type": "Token", "ambiguous_role_resolution": "AuthenticatedRole"}));
    let admin = "arn:aws:iam::123456789012:role/Admin";
    let editors = "arn:aws:iam::123456789012:role/Editors";
    let c = claims(json!({"cognito:roles": [admin, editors], "cognito:preferred_role": admin}));
    assert_eq!(role(&p, Some(&c), None).unwrap(), "Admin");
    assert_eq!(role(&p, Some(&c), Some(editors)).unwrap(), "Editors");
    assert!(role(&p, Some(&c), Some("arn:aws:iam::123456789012:role/Other")).is_err());
    // Tie on precedence: roles but no preferred role → ambiguous resolution.
    let tie = claims(json!({"cognito:roles": format!("{admin},{editors}")}));
    assert_eq!(role(&p, Some(&tie), None).unwrap(), "Auth");
    let strict = pool(json!({"type": "Token", "ambiguous_role_resolution": "Deny"}));
    assert!(
        role(&strict, Some(&tie), None)
            .unwrap_err()
            .contains("Deny")
    );
    assert!(role(&strict, Some(&claims(json!({}))), None).is_err());
    // Guests.
    assert_eq!(role(&p, None, None).unwrap(), "Guest");
}

#[test]
fn rules_based_role_choice() {
    let p = pool(
        json!({"type": "Rules", "ambiguous_role_resolution": "Deny", "rules": [
            {"claim": "custom:dept", "match_type": "NotEqual", "value": "sales", "role_arn": "arn:aws:iam::123456789012:role/Editors"},
            {"claim": "cognito:groups", "match_type": "Equals", "value": "admins", "role_arn": "arn:aws:iam::123456789012:role/Admin"},
            {"claim": "email", "match_type": "StartsWith", "value": "ops@", "role_arn": "arn:aws:iam::123456789012:role/Admin"},
            {"claim": "email", "match_type": "Contains", "value": "@example", "role_arn": "arn:aws:iam::123456789012:role/Auth"}
        ]}),
    );
    // First match wins: the NotEqual rule matches a present, different value.
    assert_eq!(
        role(
            &p,
            Some(&claims(
                json!({"custom:dept": "eng", "cognito:groups": ["admins"]})
            )),
            None
        )
        .unwrap(),
        "Editors"
    );
    // NotEqual on an absent claim is skipped; array claims match per element.
    assert_eq!(
        role(
            &p,
            Some(&claims(json!({"cognito:groups": ["x", "admins"]}))),
            None
        )
        .unwrap(),
        "Admin"
    );
    assert_eq!(
        role(&p, Some(&claims(json!({"email": "ops@corp.com"}))), None).unwrap(),
        "Admin"
    );
    assert_eq!(
        role(&p, Some(&claims(json!({"email": "bob@example.com"}))), None).unwrap(),
        "Auth"
    );
    assert!(
        role(&p, Some(&claims(json!({"custom:dept": "sales"}))), None)
            .unwrap_err()
            .contains("no rule matched")
    );
}

#[test]
fn end_to_end_decisions() {
    let p = pool(json!({"type": "Token", "ambiguous_role_resolution": "AuthenticatedRole"}));
    let req = |a: &str| identity_pool::PoolRequest {
        action: a.into(),
        resource: "arn:aws:s3:::b/k".into(),
        ..Default::default()
    };
    let admin = claims(
        json!({"cognito:preferred_role": "arn:aws:iam::123456789012:role/Admin", "cognito:roles": ["arn:aws:iam::123456789012:role/Admin"]}),
    );
    let d = p
        .decide(Some(&admin), None, &req("s3:DeleteObject"))
        .unwrap();
    assert_eq!(d.decision, authz_core::Decision::Allow, "{}", d.reason);
    assert!(d.reason.contains("role/Admin"));
    assert_eq!(
        d.context
            .get("cognito-identity.amazonaws.com:aud")
            .unwrap()
            .values(),
        ["us-east-1:pool-1"]
    );
    assert!(
        d.context
            .get("cognito-identity.amazonaws.com:sub")
            .unwrap()
            .values()[0]
            .starts_with("us-east-1:")
    );
    let plain = claims(json!({}));
    assert_eq!(
        p.decide(Some(&plain), None, &req("s3:GetObject"))
            .unwrap()
            .decision,
        authz_core::Decision::Allow
    );
    assert_eq!(
        p.decide(Some(&plain), None, &req("s3:PutObject"))
            .unwrap()
            .decision,
        authz_core::Decision::ImplicitDeny
    );
    // Guests get the role's policies ∩ the managed guest session policy (no S3 there).
    let g = p.decide(None, None, &req("s3:GetObject")).unwrap();
    assert_eq!(
        g.decision,
        authz_core::Decision::ImplicitDeny,
        "{}",
        g.reason
    );
    // A role whose trust policy does not accept authenticated identities is refused, with the reason.
    let untrusting =
        claims(json!({"cognito:preferred_role": "arn:aws:iam::123456789012:role/Untrusting"}));
    let d = p
        .decide(Some(&untrusting), None, &req("s3:GetObject"))
        .unwrap();
    assert_eq!(d.decision, authz_core::Decision::ImplicitDeny);
    assert!(d.reason.contains("trust policy"), "{}", d.reason);
    // Identity ids are stable.
    assert_eq!(p.identity_id(&plain), p.identity_id(&plain));
}

#[test]
fn token_cli_mint_verify_decode() {
    use crate::cli::run;
    let dir = std::env::temp_dir().join(format!("pc-token-{}", std::process::id()));
    let claims = dir.join("claims.json");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        &claims,
        r#"{"sub": "cli-user", "cognito:groups": ["admins"]}"#,
    )
    .unwrap();
    let kd = dir.join("keys");
    let (code, tok, err) = run(&[
        "token",
        "mint",
        "--key-dir",
        kd.to_str().unwrap(),
        "--claims",
        claims.to_str().unwrap(),
        "--user-pool-id",
        POOL,
        "--client-id",
        CLIENT,
        "--now",
        "1700000000",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(kd.join("jwks.json").exists() && kd.join("private.pem").exists());
    let tok = tok.trim().to_string();
    let jwks = kd.join("jwks.json").display().to_string();
    let verify = |extra: &[&str]| {
        let mut a = vec![
            "token",
            "verify",
            "--jwks",
            &jwks,
            "--user-pool-id",
            POOL,
            "--client-id",
            CLIENT,
            "--format",
            "json",
        ];
        a.extend_from_slice(extra);
        a.push(&tok);
        run(&a)
    };
    let (code, out, _) = verify(&["--now", "1700000100"]);
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["claims"]["sub"], "cli-user");
    assert_eq!(v["claims"]["cognito:groups"], json!(["admins"]));
    assert_eq!(
        v["claims"]["iss"],
        format!("https://cognito-idp.us-east-1.amazonaws.com/{POOL}")
    );
    let (code, out, _) = verify(&["--now", "1700009999"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["valid"].clone(), v["error"]["code"].clone()),
        (json!(false), json!("token::expired"))
    );
    let (code, out, _) = verify(&["--now", "1700000100", "--token-use", "access"]);
    assert_eq!(code, 1);
    assert!(out.contains("token::invalid-token-use"));
    // A second mint reuses the key.
    let (_, tok2, _) = run(&[
        "token",
        "mint",
        "--key-dir",
        kd.to_str().unwrap(),
        "--now",
        "1700000000",
    ]);
    assert_eq!(
        tok2.split('.').next(),
        tok.split('.').next(),
        "same header, same kid"
    );
    let (code, out, _) = run(&["token", "decode", &tok]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verified"], false);
    assert!(v["warning"].as_str().unwrap().contains("NOT VERIFIED"));
    assert_eq!(v["header"]["alg"], "RS256");
    let (code, _, err) = run(&["token", "decode", "abc"]);
    assert_eq!(code, 1);
    assert!(err.contains("three"), "{err}");
}

#[test]
fn pool_cli_end_to_end() {
    use crate::cli::run;
    let root = crate::root();
    let dir = std::env::temp_dir().join(format!("pc-pool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let req = dir.join("req.json");
    std::fs::write(&req, r#"{"action": "dynamodb:Scan", "resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Notes"}"#).unwrap();
    let pool = root.join("policies/cognito-groups-dynamodb/identity-pool.pool.json");
    let token = root.join("policies/cognito-groups-dynamodb/tokens/user-1.jwt");
    let jwks = root.join("fixtures/keys/jwks.json");
    let (code, out, err) = run(&[
        "pool",
        "eval",
        "--pool",
        pool.to_str().unwrap(),
        "--token",
        token.to_str().unwrap(),
        "--jwks",
        jwks.to_str().unwrap(),
        "--user-pool-id",
        "us-east-1_Example",
        "--client-id",
        "exampleclient",
        "--now",
        "1700000100",
        "--request",
        req.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    let v: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["decision"], "ImplicitDeny");
    assert_eq!(v["role"], "arn:aws:iam::123456789012:role/NotesRowLevel");
    // The JSON shows the identity id and the session context the request was decided with.
    assert!(
        v["identity_id"].as_str().unwrap().starts_with("us-east-1:"),
        "{v}"
    );
    assert_eq!(
        v["session_context"]["cognito-identity.amazonaws.com:aud"],
        "us-east-1:0000aaaa-1111-2222-3333-444455556666"
    );
    assert!(
        v["statements"].as_array().is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    // An expired token is an error (exit 1) naming the failed check, never a decision.
    let (code, out, err) = run(&[
        "pool",
        "eval",
        "--pool",
        pool.to_str().unwrap(),
        "--token",
        token.to_str().unwrap(),
        "--jwks",
        jwks.to_str().unwrap(),
        "--user-pool-id",
        "us-east-1_Example",
        "--client-id",
        "exampleclient",
        "--now",
        "1800000000",
        "--request",
        req.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("token::expired"), "{err}");
}

#[test]
fn basic_flow() {
    let req = |a: &str| identity_pool::PoolRequest {
        action: a.into(),
        resource: "arn:aws:s3:::b/k".into(),
        ..Default::default()
    };
    let admin = "arn:aws:iam::123456789012:role/Admin";
    let plain = claims(json!({}));
    // Disabled by default.
    let p = pool(json!({"type": "Token"}));
    let d = p
        .decide_basic(Some(&plain), admin, &req("s3:DeleteObject"))
        .unwrap();
    assert_eq!(d.decision, authz_core::Decision::ImplicitDeny);
    assert!(d.reason.contains("classic"), "{}", d.reason);
    // Enabled: the client picks any role whose trust policy accepts the identity.
    let p = pool_with(json!({"type": "Token"}), true);
    let d = p
        .decide_basic(Some(&plain), admin, &req("s3:DeleteObject"))
        .unwrap();
    assert_eq!(d.decision, authz_core::Decision::Allow, "{}", d.reason);
    // The trust policy still decides.
    let d = p
        .decide_basic(
            Some(&plain),
            "arn:aws:iam::123456789012:role/Untrusting",
            &req("s3:GetObject"),
        )
        .unwrap();
    assert!(d.reason.contains("trust policy"), "{}", d.reason);
    // Guests get no Cognito scope-down in the basic flow: the role's s3:* applies.
    let guest = "arn:aws:iam::123456789012:role/Guest";
    assert_eq!(
        p.decide_basic(None, guest, &req("s3:GetObject"))
            .unwrap()
            .decision,
        authz_core::Decision::Allow
    );
    assert_eq!(
        p.decide(None, None, &req("s3:GetObject")).unwrap().decision,
        authz_core::Decision::ImplicitDeny
    );
}

/// The session's own keys come from the token and the pool; a request cannot replace them.
#[test]
fn session_keys_cannot_be_overridden() {
    let p = pool(json!({"type": "Token"}));
    let user = claims(json!({}));
    let own = p.identity_id(&user);
    let with = |k: &str, v: &str| {
        let mut c = authz_core::Context::new();
        c.insert(k, v);
        identity_pool::PoolRequest {
            action: "s3:GetObject".into(),
            resource: "arn:aws:s3:::b/k".into(),
            context: c,
            ..Default::default()
        }
    };
    let e = p
        .decide(
            Some(&user),
            None,
            &with(
                "cognito-identity.amazonaws.com:sub",
                "us-east-1:someone-else",
            ),
        )
        .unwrap_err();
    assert_eq!(e.code, "pool::context-override");
    assert!(
        e.message.contains("someone-else") && e.message.contains(&own),
        "{e}"
    );
    // Key names are case-insensitive: the override is caught in any case.
    let e = p
        .decide(
            Some(&user),
            None,
            &with("Cognito-Identity.AmazonAWS.com:SUB", "x"),
        )
        .unwrap_err();
    assert_eq!(e.code, "pool::context-override");
    // A principal tag the session does not carry cannot be invented.
    let e = p
        .decide(Some(&user), None, &with("aws:PrincipalTag/team", "admins"))
        .unwrap_err();
    assert_eq!(e.code, "pool::context-override");
    let e = p
        .decide(
            Some(&user),
            None,
            &with("aws:PrincipalArn", "arn:aws:iam::123456789012:role/Admin"),
        )
        .unwrap_err();
    assert_eq!(e.code, "pool::context-override");
    // The same value is accepted; service keys are added.
    let d = p
        .decide(
            Some(&user),
            None,
            &with("cognito-identity.amazonaws.com:sub", &own),
        )
        .unwrap();
    assert_eq!(d.decision, authz_core::Decision::Allow, "{}", d.reason);
    let d = p
        .decide(Some(&user), None, &with("aws:SourceIp", "203.0.113.9"))
        .unwrap();
    assert_eq!(
        d.context.get("aws:sourceip").unwrap().values(),
        ["203.0.113.9"]
    );
}

/// An identity pool trusts only its configured providers (CreateIdentityPool's
/// CognitoIdentityProviders / OpenIdConnectProviderARNs).
#[test]
fn only_configured_providers_get_credentials() {
    let p = pool(json!({"type": "Token"}));
    let req = identity_pool::PoolRequest {
        action: "s3:GetObject".into(),
        resource: "arn:aws:s3:::b/k".into(),
        ..Default::default()
    };
    let other_pool =
        claims(json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}));
    let e = p.decide(Some(&other_pool), None, &req).unwrap_err();
    assert_eq!(
        (e.code, diag::Coded::aws_code(&e)),
        ("pool::not-authorized", Some("NotAuthorizedException"))
    );
    assert!(e.message.starts_with("Invalid login token"), "{e}");
    let other_client = claims(json!({"aud": "someone-elses-client"}));
    let e = p.decide(Some(&other_client), None, &req).unwrap_err();
    assert_eq!(
        (e.code, diag::Coded::aws_code(&e)),
        ("pool::not-authorized", Some("NotAuthorizedException"))
    );
    assert!(e.message.contains("audience"), "{e}");
    let e = p
        .decide_basic(
            Some(&other_pool),
            "arn:aws:iam::123456789012:role/Auth",
            &req,
        )
        .unwrap_err();
    assert_eq!(
        (e.code, diag::Coded::aws_code(&e)),
        ("pool::not-authorized", Some("NotAuthorizedException"))
    );
    // A listed OIDC provider is accepted.
    let mut cfg = p.config.clone();
    let arn = "arn:aws:iam::123456789012:oidc-provider/login.example.com";
    cfg.openid_connect_provider_arns = vec![arn.into()];
    cfg.openid_connect_client_ids
        .insert(arn.into(), vec![CLIENT.into()]);
    let oidc =
        identity_pool::IdentityPool::from_config(cfg.clone(), &identity_pool::no_files).unwrap();
    let from_oidc = claims(json!({"iss": "https://login.example.com"}));
    assert!(oidc.check_login(Some(&from_oidc)).is_ok());
    assert!(p.check_login(Some(&from_oidc)).is_err());
    // The provider's ClientIDList decides the audience: another client, or no list, is refused.
    let other = claims(json!({"iss": "https://login.example.com", "aud": "someone-else"}));
    let e = oidc.check_login(Some(&other)).unwrap_err();
    assert!(e.to_string().contains("ClientIDList"), "{e}");
    cfg.openid_connect_client_ids.clear();
    let no_list = identity_pool::IdentityPool::from_config(cfg, &identity_pool::no_files).unwrap();
    assert!(no_list.check_login(Some(&from_oidc)).is_err());
    // Guests need no login.
    assert!(p.check_login(None).is_ok());
}

/// A token whose header or payload repeats a key (at any depth) is refused: an attacker must not choose
/// which of two `iss` or `aud` a reader sees.
#[test]
fn duplicate_claims_are_refused() {
    use base64::Engine as _;
    let v = crate::test_verifier(cognito::TokenUse::Id);
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    for (header, payload) in [
        (
            r#"{"alg":"RS256","alg":"none","kid":"k"}"#,
            r#"{"sub":"a"}"#,
        ),
        (
            r#"{"alg":"RS256","kid":"k"}"#,
            r#"{"iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example","iss":"https://evil.example","sub":"a"}"#,
        ),
        (
            r#"{"alg":"RS256","kid":"k"}"#,
            r#"{"sub":"a","address":{"c":"US","c":"FR"}}"#,
        ),
    ] {
        let token = format!("{}.{}.sig", b64(header), b64(payload));
        let e = v.verify_at(&token, 1_700_000_000).unwrap_err();
        assert_eq!(e.code(), "token::malformed", "{header} {payload}: {e}");
        assert!(e.to_string().contains("duplicate key"), "{e}");
    }
}

/// Claims typed in by hand are a separate type, and decisions made with them say they were not verified.
#[test]
fn hand_given_claims_are_marked_unverified() {
    use crate::cli::run;
    let root = crate::root();
    let dir = std::env::temp_dir().join(format!("pc-given-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let claims = dir.join("claims.json");
    std::fs::write(&claims, r#"{"sub": "plain-user", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example", "aud": "exampleclient", "token_use": "id"}"#).unwrap();
    let req = dir.join("req.json");
    std::fs::write(
        &req,
        r#"{"action": "s3:ListBucket", "resource": "arn:aws:s3:::mybucket"}"#,
    )
    .unwrap();
    let pool = root.join("policies/identity-pool/identity-pool.pool.json");
    let args = [
        "pool",
        "eval",
        "--pool",
        pool.to_str().unwrap(),
        "--claims",
        claims.to_str().unwrap(),
        "--request",
        req.to_str().unwrap(),
    ];
    let (_, out, _) = run(&args);
    assert!(out.contains("NOT VERIFIED"), "{out}");
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let (_, out, _) = run(&json_args);
    let v: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["claims_verified"], false, "{v}");
}

/// Tokens of an OpenID Connect provider other than Cognito: exactly the configured issuer, no `token_use`,
/// the client in `aud` as a string or an array; the signature, key and time checks are the same.
#[test]
fn oidc_provider_tokens() {
    const ISS: &str = "https://auth.example.com";
    let sign = |claims: Value| key().sign(claims.as_object().unwrap()).unwrap();
    let base = || json!({"iss": ISS, "sub": "u-9", "aud": ["api", "web-client"], "iat": NOW, "exp": NOW + 600});
    let oidc = |aud: &[&str]| {
        Verifier::new(
            VerifierConfig::for_oidc(
                ISS,
                &aud.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                TokenUse::Id,
            ),
            JwksSource::from_json(&key().jwks().to_string()).unwrap(),
        )
    };
    let code = |v: &Verifier, t: &str| v.verify_at(t, NOW + 60).err().map(|e| e.code());
    let good = sign(base());
    let claims = oidc(&["web-client"]).verify_at(&good, NOW + 60).unwrap();
    assert!(claims.verified());
    assert_eq!(claims.sub(), "u-9");
    assert_eq!(
        code(&oidc(&[]), &good),
        None,
        "no audiences: the check is off"
    );
    assert_eq!(
        code(&oidc(&["other"]), &good),
        Some("token::invalid-client")
    );
    let mut one = base();
    one["aud"] = json!("web-client");
    assert_eq!(code(&oidc(&["web-client"]), &sign(one)), None);
    let mut none = base();
    none.as_object_mut().unwrap().remove("aud");
    assert_eq!(code(&oidc(&[]), &sign(none)), Some("token::invalid-client"));
    let mut other_iss = base();
    other_iss["iss"] = json!("https://auth.example.com/");
    assert_eq!(
        code(&oidc(&[]), &sign(other_iss)),
        Some("token::invalid-issuer")
    );
    assert_eq!(code(&oidc(&[]), &sign(base())), None);
    let expired = oidc(&[]).verify_at(&good, NOW + 600).unwrap_err();
    assert_eq!(expired.code(), "token::expired");
    // The same token under the Cognito profile is refused: it has no `token_use`.
    let mut cognito_cfg = VerifierConfig::for_oidc(ISS, &[], TokenUse::Id);
    cognito_cfg.profile = cognito::Profile::Cognito;
    let as_cognito = Verifier::new(
        cognito_cfg,
        JwksSource::from_json(&key().jwks().to_string()).unwrap(),
    );
    assert_eq!(code(&as_cognito, &good), Some("token::invalid-token-use"));
    // And a Cognito ID token is not an OIDC provider's token.
    assert_eq!(
        code(&oidc(&[]), &token(json!({}))),
        Some("token::invalid-issuer")
    );
}

/// Keys only over HTTPS: a plain-HTTP JWKS URL is refused by the library (whatever the host, unless the
/// loudly named test opt-in is used for a loopback address), by the CLI at once, and by the tower layer
/// (503, never a verified token).
#[test]
fn plain_http_jwks_is_refused() {
    for url in [
        "http://127.0.0.1:9/jwks.json",
        "http://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example/.well-known/jwks.json",
    ] {
        let e = JwksSource::remote(url).key("any").unwrap_err();
        assert!(e.to_string().contains("must be https://"), "{e}");
        assert!(cognito::check_jwks_url(url).is_err());
    }
    // The test opt-in reaches only loopback addresses.
    assert!(cognito::check_jwks_url_with("http://127.0.0.1:9/jwks.json", true).is_ok());
    assert!(cognito::check_jwks_url_with("http://[::1]:9/jwks.json", true).is_ok());
    assert!(cognito::check_jwks_url_with("http://localhost/jwks.json", true).is_ok());
    assert!(cognito::check_jwks_url_with("http://127.0.0.1.evil.example/jwks.json", true).is_err());
    assert!(cognito::check_jwks_url_with("http://evil.example/127.0.0.1", true).is_err());
    assert!(
        cognito::check_jwks_url(
            "https://cognito-idp.us-east-1.amazonaws.com/x/.well-known/jwks.json"
        )
        .is_ok()
    );
    let (code, _, err) = crate::cli::run(&[
        "token",
        "verify",
        "--jwks",
        "http://127.0.0.1:9/jwks.json",
        "--user-pool-id",
        "us-east-1_Example",
        "--client-id",
        "exampleclient",
        "--token-use",
        "access",
        "abc",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("must be https://"), "{err}");
}

/// A `crit` header naming an extension is refused (RFC 7515 §4.1.11), an empty `sub` is refused, and a
/// string `cognito:groups` means the same groups to every consumer.
#[test]
fn crit_headers_empty_sub_and_group_strings() {
    let good = token(json!({"sub": "u-1"}));
    let claims = payload(&good);
    let kid = key().kid().to_string();
    let crit = key()
        .sign_raw(
            &json!({"alg": "RS256", "kid": kid, "crit": ["exp-ext"], "exp-ext": true}),
            &claims,
        )
        .unwrap();
    assert_eq!(err(&crit), "token::malformed");
    assert_eq!(err(&token(json!({"sub": ""}))), "token::missing-claim");
    assert!(verifier().verify_at(&good, NOW + 60).is_ok());
    for (v, want) in [
        (json!(["a", "b"]), vec!["a", "b"]),
        (json!("a,b"), vec!["a", "b"]),
        (json!("a b"), vec!["a", "b"]),
        (json!(" a , b "), vec!["a", "b"]),
        (json!(""), vec![]),
    ] {
        assert_eq!(cognito::string_list(Some(&v)), want, "{v}");
        let mut m = serde_json::Map::new();
        m.insert("cognito:groups".into(), v.clone());
        let src = cedar_bridge::claims::IdentitySource::cognito(
            "us-east-1_Example",
            "User",
            Some("Group"),
        );
        assert_eq!(src.groups(&m), want, "{v}");
    }
}

/// A store whose identity source names a plain-HTTP JWKS is refused when it loads.
#[test]
fn identity_source_with_plain_http_jwks_is_refused_at_load() {
    let v = json!({"user_pool_id": "us-east-1_Example", "principal_entity_type": "User",
        "jwks": "http://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example/.well-known/jwks.json"});
    let e = cedar_bridge::claims::IdentitySource::from_json(&v).unwrap_err();
    assert!(e.to_string().contains("must be https://"), "{e}");
    let ok = json!({"user_pool_id": "us-east-1_Example", "principal_entity_type": "User",
        "jwks": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example/.well-known/jwks.json"});
    assert!(cedar_bridge::claims::IdentitySource::from_json(&ok).is_ok());
}

/// `decide_fast` (the engines prepared at load, no explanation) gives exactly `decide`'s decision, role,
/// reason and deciding statement, for signed-in users, guests, trust refusals and denials across the seed
/// pools; only the explanation is left out.
#[test]
fn fast_pool_decisions_equal_explained_ones() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let claims = |sub: &str, extra: serde_json::Value| {
        let mut m = serde_json::json!({"sub": sub,
            "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
            "aud": "exampleclient", "token_use": "id"});
        if let (Some(o), Some(e)) = (m.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        cognito::GivenClaims::new(m.as_object().unwrap().clone()).unwrap()
    };
    let mut compared = 0;
    for (pool, requests) in [
        (
            "policies/s3-web-app/identity-pool.pool.json",
            vec![
                ("s3:ListBucket", "arn:aws:s3:::msn-web-app-bucket"),
                ("cognito-sync:ListRecords", "*"),
                (
                    "dynamodb:GetItem",
                    "arn:aws:dynamodb:us-east-1:123456789012:table/T",
                ),
            ],
        ),
        (
            "policies/identity-pool/identity-pool.pool.json",
            vec![
                (
                    "s3:GetObject",
                    "arn:aws:s3:::mybucket/us-east-1:33333333-cccc-4ccc-8ccc-333333333333/a.jpg",
                ),
                ("s3:PutObject", "arn:aws:s3:::MYBUCKET/x"),
                ("s3:ListBucket", "arn:aws:s3:::mybucket"),
            ],
        ),
        (
            "policies/cognito-groups-dynamodb/identity-pool.pool.json",
            vec![(
                "dynamodb:PutItem",
                "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
            )],
        ),
    ] {
        let p = policy_check::input::load_pool(&root.join(pool)).unwrap();
        let who: Vec<Option<cognito::GivenClaims>> = vec![
            Some(claims("plain-user", serde_json::json!({}))),
            Some(claims(
                "user-1",
                serde_json::json!({"cognito:groups": ["row-writers"],
                "cognito:roles": ["arn:aws:iam::123456789012:role/NotesRowLevel"],
                "cognito:preferred_role": "arn:aws:iam::123456789012:role/NotesRowLevel"}),
            )),
            None,
        ];
        for c in &who {
            for (action, resource) in &requests {
                let req = identity_pool::PoolRequest {
                    action: (*action).into(),
                    resource: (*resource).into(),
                    ..Default::default()
                };
                let c = c.as_ref().map(|c| c as &dyn cognito::Claims);
                let (slow, fast) = (p.decide(c, None, &req), p.decide_fast(c, None, &req));
                match (slow, fast) {
                    (Ok(s), Ok(f)) => {
                        assert_eq!(s.decision, f.decision, "{pool} {action}");
                        assert_eq!(s.reason, f.reason, "{pool} {action}");
                        assert_eq!(
                            s.role.as_ref().map(|r| &r.role_arn),
                            f.role.as_ref().map(|r| &r.role_arn)
                        );
                        assert_eq!(s.answer(), f.answer(), "{pool} {action}");
                        assert!(f.explanation.is_none());
                        compared += 1;
                    }
                    (Err(s), Err(f)) => assert_eq!(s.code, f.code),
                    (s, f) => panic!("{pool} {action}: {s:?} vs {f:?}"),
                }
            }
        }
    }
    assert!(compared >= 12, "only {compared} decisions compared");
}
