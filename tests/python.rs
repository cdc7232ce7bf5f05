//! The Python package (`crates/python`), built and tested as a user would get it: a virtual environment
//! under `target/tmp/python-venv` with maturin and pytest from PyPI, the wheel built by maturin (in its own
//! target directory, `target/python`: this test runs while cargo holds the main one), installed, and
//! `pytest crates/python/tests` run against it. The test hands pytest what to compare with: the CLI's
//! answers for every seed case (`policy-check test --format json policies/`, computed in-process) and a
//! battery of forged tokens with the code each must be refused with.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../crates/serve/tests/common/venv.rs"]
mod venv;

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use cognito::{MintOptions, SigningKey, TokenUse, mint};
use serde_json::{Value, json};

const PACKAGES: &[&str] = &["maturin==1.16.0", "pytest==8.4.2"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The virtual environment with maturin and pytest (made on first use).
fn venv() -> PathBuf {
    let maturin = venv::venv("python-venv", PACKAGES, "maturin");
    maturin
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap()
}

/// The CLI's answer for every seed case, one JSON line a case.
fn cli_answers(dir: &Path) -> PathBuf {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let policies = root().join("policies");
    let code = policy_check::run_args(
        [
            "policy-check",
            "test",
            "--format",
            "json",
            policies.to_str().unwrap(),
        ],
        &mut out,
        &mut err,
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    // Suite paths relative to the repository, as the Python side reads them.
    let text = String::from_utf8(out).unwrap();
    let prefix = format!("{}/", root().display());
    let lines: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            let s = v["suite"]
                .as_str()
                .unwrap()
                .trim_start_matches(&prefix)
                .to_string();
            v["suite"] = json!(s);
            v.to_string()
        })
        .collect();
    assert!(lines.len() > 50, "{} answers", lines.len());
    let path = dir.join("cli-answers.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

/// Forged and broken tokens against the test key of `fixtures/keys` (the pool `us-east-1_Example`, client
/// `exampleclient`, ID tokens), each with the code every consumer refuses it with.
fn attacks(dir: &Path) -> PathBuf {
    let pem = std::fs::read_to_string(root().join("fixtures/keys/private.pem")).unwrap();
    let key = SigningKey::from_pem(&pem).unwrap();
    let other = SigningKey::generate().unwrap().0;
    let now = 1_700_000_000;
    let o = MintOptions::new("us-east-1_Example", "exampleclient", TokenUse::Id, now);
    let tok = |c: Value| mint(&key, c.as_object().unwrap(), &o).unwrap();
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let good = tok(json!({"sub": "u1"}));
    let p: Vec<&str> = good.split('.').collect();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p[1])
            .unwrap(),
    )
    .unwrap();
    let kid = key.kid().to_string();
    let mut evil = claims.clone();
    evil["sub"] = json!("admin");
    let at = now + 60;
    let cases: Vec<(&str, String, i64, &str)> = vec![
        (
            "alg none",
            format!("{}.{}.", b64(&json!({"alg": "none", "kid": kid})), p[1]),
            at,
            "token::unsupported-algorithm",
        ),
        (
            "missing kid",
            key.sign_raw(&json!({"alg": "RS256"}), &claims).unwrap(),
            at,
            "token::missing-kid",
        ),
        (
            "unknown kid",
            key.sign_raw(&json!({"alg": "RS256", "kid": "nope"}), &claims)
                .unwrap(),
            at,
            "token::unknown-kid",
        ),
        (
            "another key under the kid",
            other
                .sign_raw(&json!({"alg": "RS256", "kid": kid}), &claims)
                .unwrap(),
            at,
            "token::invalid-signature",
        ),
        (
            "tampered payload",
            format!("{}.{}.{}", p[0], b64(&evil), p[2]),
            at,
            "token::invalid-signature",
        ),
        (
            "tampered header",
            format!(
                "{}.{}.{}",
                b64(&json!({"alg": "RS256", "kid": kid, "x": 1})),
                p[1],
                p[2]
            ),
            at,
            "token::invalid-signature",
        ),
        ("expired", good.clone(), now + 3600, "token::expired"),
        (
            "not yet valid",
            tok(json!({"sub": "u1", "nbf": now + 1000})),
            at,
            "token::not-yet-valid",
        ),
        (
            "issued in the future",
            tok(json!({"sub": "u1", "iat": now + 1000})),
            at,
            "token::issued-in-future",
        ),
        (
            "no exp",
            tok(json!({"sub": "u1", "exp": null})),
            at,
            "token::missing-claim",
        ),
        (
            "exp a string",
            tok(json!({"sub": "u1", "exp": "soon"})),
            at,
            "token::missing-claim",
        ),
        (
            "exp at the minimum",
            tok(json!({"sub": "u1", "exp": i64::MIN})),
            at,
            "token::expired",
        ),
        (
            "another pool",
            tok(
                json!({"sub": "u1", "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}),
            ),
            at,
            "token::invalid-issuer",
        ),
        (
            "another client",
            tok(json!({"sub": "u1", "aud": "otherclient"})),
            at,
            "token::invalid-client",
        ),
        (
            "an access token",
            tok(json!({"sub": "u1", "token_use": "access"})),
            at,
            "token::invalid-token-use",
        ),
        (
            "empty sub",
            tok(json!({"sub": ""})),
            at,
            "token::missing-claim",
        ),
        ("not a JWT", "not.a.jwt".to_string(), at, "token::malformed"),
        (
            "two parts",
            format!("{}.{}", p[0], p[1]),
            at,
            "token::malformed",
        ),
        ("empty", String::new(), at, "token::malformed"),
        (
            "crit header",
            key.sign_raw(
                &json!({"alg": "RS256", "kid": kid, "crit": ["exp"]}),
                &claims,
            )
            .unwrap(),
            at,
            "token::malformed",
        ),
    ];
    // Each case's code as the Rust verifier gives it: the battery must agree with it before Python is
    // held to it.
    let v = cognito::Verifier::new(
        cognito::VerifierConfig::for_pool("us-east-1_Example", "exampleclient", TokenUse::Id),
        cognito::JwksSource::from_json(&key.jwks().to_string()).unwrap(),
    );
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(name, token, now, code)| {
            let got = v.verify_at(token, *now).err().map(|e| e.code());
            (got != Some(*code)).then(|| format!("{name}: {got:?}, not {code}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
    let lines: Vec<String> = cases
        .into_iter()
        .map(|(name, token, now, code)| {
            json!({"name": name, "token": token, "now": now, "code": code}).to_string()
        })
        .collect();
    let path = dir.join("attacks.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

#[test]
fn the_python_package_answers_as_the_cli() {
    let venv = venv();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("python-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let answers = cli_answers(&dir);
    let attacks = attacks(&dir);
    // The wheel: release (the bench's numbers and the million-evaluation test need it), in its own
    // target directory.
    let wheels = dir.join("wheels");
    let ok = Command::new(venv.join("bin/maturin"))
        .current_dir(root().join("crates/python"))
        .env("CARGO_TARGET_DIR", root().join("target/python"))
        .args(["build", "--release", "--quiet", "-o"])
        .arg(&wheels)
        .status()
        .unwrap()
        .success();
    assert!(ok, "maturin build failed");
    let wheel = std::fs::read_dir(&wheels)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let ok = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--force-reinstall",
            "--no-deps",
            "--disable-pip-version-check",
        ])
        .arg(&wheel)
        .status()
        .unwrap()
        .success();
    assert!(ok, "pip install {} failed", wheel.display());
    let out = Command::new(venv.join("bin/python"))
        .current_dir(root())
        .env("POLICY_CHECK_ANSWERS", &answers)
        .env("POLICY_CHECK_ATTACKS", &attacks)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "crates/python/tests",
        ])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pytest failed:\n{text}");
    // Nothing skipped in silence: pytest's summary names every test that passed.
    assert!(
        text.contains(" passed") && !text.contains("skipped"),
        "{text}"
    );
    the_example_authorizer_under_the_local_lambda_runtime(&venv);
}

/// The example Python authorizer (`crates/python/examples/authorizer.py`, on the installed wheel) as a
/// Lambda function in the local execution environment, behind the seed's API: every request gets what the
/// Rust group authorizer gets (status, cache, deciding statement, context).
fn the_example_authorizer_under_the_local_lambda_runtime(venv: &Path) {
    use apigw::{
        Api, AuthorizerCache, FunctionAuthorizer, GroupAuthorizer, GroupStore, HttpRequest,
    };
    use lambda_local::{Code, FunctionSpec, LocalFunction};

    let petstore = root().join("policies/apigw-petstore");
    let api = Api::from_json(&std::fs::read_to_string(petstore.join("petstore.api.json")).unwrap())
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let key = SigningKey::from_pem(
        &std::fs::read_to_string(root().join("fixtures/keys/private.pem")).unwrap(),
    )
    .unwrap();
    let token = |sub: &str, groups: &[&str]| {
        let claims = json!({"sub": sub, "username": sub, "cognito:groups": groups});
        let o = MintOptions::new("us-east-1_Example", "exampleclient", TokenUse::Access, now);
        mint(&key, claims.as_object().unwrap(), &o).unwrap()
    };
    let (vet, groomer, both, nobody) = (
        token("vet", &["pet-veterinarian"]),
        token("groomer", &["pet-groomer"]),
        token("both", &["pet-veterinarian", "pet-groomer"]),
        token("nobody", &["visitors"]),
    );
    let req = |m: &str, p: &str, t: &str, ip: &str| {
        HttpRequest::new(m, p)
            .header("Authorization", &format!("Bearer {t}"))
            .source_ip(ip)
    };
    let requests = [
        req("GET", "/petstore/v2/status", &vet, "192.0.2.10"),
        req("GET", "/petstore/v2/pets", &vet, "192.0.2.10"),
        req("DELETE", "/petstore/v1/pets/7", &vet, "198.51.100.7"),
        req("GET", "/petstore/v2/status", &vet, "203.0.113.5"),
        req("GET", "/petstore/v2/pets", &groomer, "203.0.113.5"),
        req("GET", "/petstore/v2/pets", &both, "203.0.113.5"),
        req("GET", "/petstore/v2/pets", &nobody, "192.0.2.10"),
        req("GET", "/petstore/v2/pets", "not-a-token", "192.0.2.10"),
        HttpRequest::new("GET", "/petstore/v2/pets"),
    ];
    let mut spec = FunctionSpec::new(
        Code::handler(
            &root()
                .join("crates/python/examples/authorizer.handler")
                .to_string_lossy(),
        )
        .unwrap(),
    )
    .env("USER_POOL_ID", "us-east-1_Example")
    .env("CLIENT_ID", "exampleclient")
    .env(
        "JWKS",
        &root().join("fixtures/keys/jwks.json").to_string_lossy(),
    )
    .env("GROUPS", &petstore.join("groups").to_string_lossy())
    .timeout(std::time::Duration::from_secs(10));
    spec.interpreter = Some(venv.join("bin/python"));
    let python = FunctionAuthorizer::new(LocalFunction::new(spec).unwrap());
    let verifier = cognito::Verifier::new(
        cognito::VerifierConfig::for_pool("us-east-1_Example", "exampleclient", TokenUse::Access),
        cognito::JwksSource::from_json(
            &std::fs::read_to_string(root().join("fixtures/keys/jwks.json")).unwrap(),
        )
        .unwrap(),
    );
    let rust = GroupAuthorizer::new(
        verifier,
        GroupStore::from_path(&petstore.join("groups")).unwrap(),
        apigw::InvalidToken::Unauthorized,
    );
    let (mut c1, mut c2) = (AuthorizerCache::default(), AuthorizerCache::default());
    let mut statuses = Vec::new();
    for r in &requests {
        let a = api.invoke(r, &python, &mut c1, now);
        let b = api.invoke(r, &rust, &mut c2, now);
        let view = |i: &apigw::Invocation| {
            (
                i.status,
                i.cache_hit,
                i.function_called,
                i.deciding().and_then(|d| d.sid.clone()),
                i.backend_context.clone(),
                i.output.as_ref().map(|o| o["policyDocument"].clone()),
            )
        };
        assert_eq!(
            view(&a),
            view(&b),
            "{} {}: the Python function under the runtime ({}) and the Rust authorizer ({})",
            r.method,
            r.path,
            a.reason,
            b.reason
        );
        statuses.push(a.status);
    }
    assert_eq!(
        statuses,
        vec![200, 403, 200, 403, 200, 200, 403, 401, 401],
        "the seed's outcomes"
    );
    assert_eq!(python.function().starts(), 1, "one warm Python process");
}
