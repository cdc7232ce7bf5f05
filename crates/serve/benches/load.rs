//! Bounded loopback load tests of `IsAuthorizedWithToken`, `SimulateCustomPolicy` and Access Analyzer's
//! `ValidatePolicy` (`cargo bench -p policy-serve --bench load`):
//! seed 003's store, one minted ID token (cached after the first verification), the first AWS managed
//! policy of 1.9–2.1 KB for `ValidatePolicy`, a fixed number of
//! requests over keep-alive connections with a time limit; requests per second, p50 and p99, and the
//! process's resident memory before and after (`LOAD_REQUESTS=1000000` for the memory check). Not a test: it asserts nothing about time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

const CONNECTIONS: usize = 16;
const BUCKETS: usize = 20_000;
const LIMIT: Duration = Duration::from_secs(120);

/// 40,000 requests a round, or `LOAD_REQUESTS` (for the memory check over 1,000,000).
fn requests() -> usize {
    std::env::var("LOAD_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(40_000)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let spec = format!(
        "photos={}",
        root()
            .join("policies/photo-app-avp/store-location")
            .display()
    )
    .parse()
    .unwrap();
    let server = Arc::new(policy_serve::Server::load(vec![spec]).unwrap());
    let pem = std::fs::read_to_string(root().join("fixtures/keys/private.pem")).unwrap();
    let key = cognito::SigningKey::from_pem(&pem).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let o = cognito::MintOptions::new(
        "us-east-1_Example",
        "exampleclient",
        cognito::TokenUse::Id,
        now,
    );
    let claims = json!({"sub": "alice-sub", "custom:location": "USA"});
    let token = cognito::mint(&key, claims.as_object().unwrap(), &o).unwrap();
    let avp_body = json!({"policyStoreId": "photos", "identityToken": token,
        "action": {"actionType": "Action", "actionId": "view"},
        "resource": {"entityType": "Photo", "entityId": "VacationPhoto94.jpg"}})
    .to_string();
    // SimulateCustomPolicy: seed 000's row-level policy with the caller's identity id as leading key.
    let row =
        std::fs::read_to_string(root().join("policies/cognito-groups-dynamodb/row-level.json"))
            .unwrap();
    let iam_body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "SimulateCustomPolicy")
        .append_pair("Version", "2010-05-08")
        .append_pair("PolicyInputList.member.1", &row)
        .append_pair("ActionNames.member.1", "dynamodb:GetItem")
        .append_pair(
            "ResourceArns.member.1",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
        )
        .append_pair(
            "ContextEntries.member.1.ContextKeyName",
            "cognito-identity.amazonaws.com:sub",
        )
        .append_pair(
            "ContextEntries.member.1.ContextKeyValues.member.1",
            "us-east-1:abc",
        )
        .append_pair("ContextEntries.member.1.ContextKeyType", "string")
        .append_pair(
            "ContextEntries.member.2.ContextKeyName",
            "dynamodb:LeadingKeys",
        )
        .append_pair(
            "ContextEntries.member.2.ContextKeyValues.member.1",
            "us-east-1:abc",
        )
        .append_pair("ContextEntries.member.2.ContextKeyType", "stringList")
        .finish();
    // ValidatePolicy: a typical 2 KB identity policy.
    let managed =
        std::fs::read_to_string(root().join("fixtures/aws-managed/policies.jsonl")).unwrap();
    let typical = managed
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| (1900..2100).contains(&v["text"].as_str().unwrap().len()))
        .unwrap();
    let aa_body =
        json!({"policyType": "IDENTITY_POLICY", "policyDocument": typical["text"]}).to_string();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            policy_serve::serve_on(
                listener,
                server,
                policy_serve::HEADER_READ_TIMEOUT,
                std::future::pending(),
            )
            .await
            .unwrap()
        });
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(CONNECTIONS)
            .build()
            .unwrap();
        let url = format!("http://{addr}/");
        let scenarios = [
            ("IsAuthorizedWithToken", "warm-up", avp_body.clone()),
            ("IsAuthorizedWithToken", "measured", avp_body.clone()),
            ("SimulateCustomPolicy", "measured", iam_body.clone()),
            ("ValidatePolicy", "measured", aa_body.clone()),
        ];
        for (op, round, body) in scenarios {
            let rss_before = rss_kib();
            let started = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..CONNECTIONS {
                let (client, url, body) = (client.clone(), url.clone(), body.clone());
                tasks.push(tokio::spawn(async move {
                    // Latencies in a fixed histogram (10 µs buckets up to 200 ms): the measurement
                    // itself must not grow the memory it reports.
                    let mut lat = vec![0u32; BUCKETS];
                    let mut bad = 0usize;
                    for _ in 0..requests() / CONNECTIONS {
                        if started.elapsed() > LIMIT {
                            break;
                        }
                        let t = Instant::now();
                        let target = if op == "ValidatePolicy" {
                            format!("{url}policy/validation")
                        } else {
                            url.clone()
                        };
                        let mut r = client.post(&target).body(body.clone());
                        r = if op == "ValidatePolicy" {
                            r.header("content-type", "application/json")
                        } else if op == "SimulateCustomPolicy" {
                            r.header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
                        } else {
                            r.header("content-type", "application/x-amz-json-1.0")
                                .header("x-amz-target", "VerifiedPermissions.IsAuthorizedWithToken")
                        };
                        let r = r.send().await.unwrap();
                        let ok = r.status() == 200;
                        let text = r.text().await.unwrap();
                        let ok = ok
                            && (text.contains("ALLOW")
                                || text.contains(">allowed<")
                                || text.starts_with("{\"findings\""));
                        let b = (t.elapsed().as_micros() / 10) as usize;
                        lat[b.min(BUCKETS - 1)] += 1;
                        bad += usize::from(!ok);
                    }
                    (lat, bad)
                }));
            }
            let mut all = vec![0u64; BUCKETS];
            let mut bad = 0;
            for t in tasks {
                let (l, b) = t.await.unwrap();
                for (a, x) in all.iter_mut().zip(l) {
                    *a += u64::from(x);
                }
                bad += b;
            }
            let secs = started.elapsed().as_secs_f64();
            let total: u64 = all.iter().sum();
            let pct = |p: f64| {
                let want = (total as f64 * p).ceil() as u64;
                let mut seen = 0;
                let i = all.iter().position(|&c| {
                    seen += c;
                    seen >= want
                });
                Duration::from_micros(i.unwrap_or(BUCKETS) as u64 * 10 + 10)
            };
            println!(
                "serve/{op} ({round}): {} requests, {CONNECTIONS} connections: {:.0} req/s, p50 {:?}, p99 {:?}, not allowed / not answered: {bad}, RSS {} → {} KiB",
                total,
                total as f64 / secs,
                pct(0.5),
                pct(0.99),
                rss_before,
                rss_kib()
            );
        }
    });
}
