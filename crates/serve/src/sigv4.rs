//! Checking AWS Signature Version 4 on incoming requests, when `serve` is given credentials: the SDKs and
//! the CLI sign every request; a test that means to exercise the client's credentials gets AWS's
//! refusals for a wrong key or secret, a stale date, or a malformed header.
//!
//! The algorithm is AWS's ("Create a signed AWS API request", IAM User Guide): a canonical request
//! (method, path, sorted query, the signed headers, the payload's SHA-256), the string to sign over its
//! hash, and an HMAC-SHA256 key derived from the secret, the date, the Region and the service. Written
//! here because it is a check of what the client sent, not a signer: the crates that sign requests do
//! not verify them. HMAC and SHA-256 come from `aws-lc-rs` (already used for TLS and JWT signatures).

use std::collections::HashMap;

use aws_lc_rs::{digest, hmac};
use http::HeaderMap;

/// Why a signature is refused; each names AWS's error for it.
#[derive(Debug, PartialEq, Eq)]
pub enum SigError {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header that is not a SigV4 one, or lacks a part.
    Incomplete(String),
    /// An access key id the server was not given.
    UnknownKey(String),
    /// The signature does not match.
    Mismatch,
    /// The request's date is more than 15 minutes from now.
    Expired(String),
    /// The credential scope names another service or a Region the server does not serve.
    Scope(String),
}

/// What the server expects of a signature besides the key: the service's signing name, the Regions it
/// serves, and the headers that must be signed (so the operation cannot be swapped under a valid
/// signature: `x-amz-target` names the JSON operation).
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The access keys the server was given (id → secret).
    pub credentials: &'a HashMap<String, String>,
    /// The signing name (`verifiedpermissions`, `iam`).
    pub service: &'a str,
    /// The Regions a scope may name.
    pub regions: &'a [String],
    /// Headers that must be among the signed ones (`host`, and `x-amz-date` unless `date` is signed,
    /// are always required).
    pub signed: &'a [&'a str],
}

impl SigError {
    /// AWS's error code and message, for the JSON protocol (`json`) or the Query protocol.
    pub fn code(&self, json: bool) -> &'static str {
        match (self, json) {
            (SigError::Missing, _) => "MissingAuthenticationTokenException",
            (SigError::Incomplete(_), _) => "IncompleteSignature",
            (SigError::UnknownKey(_), true) => "UnrecognizedClientException",
            (SigError::UnknownKey(_), false) => "InvalidClientTokenId",
            (SigError::Mismatch, true) => "InvalidSignatureException",
            (SigError::Mismatch, false) => "SignatureDoesNotMatch",
            (SigError::Expired(_), true) => "InvalidSignatureException",
            (SigError::Expired(_), false) => "RequestExpired",
            (SigError::Scope(_), true) => "InvalidSignatureException",
            (SigError::Scope(_), false) => "SignatureDoesNotMatch",
        }
    }

    /// The message.
    pub fn message(&self) -> String {
        match self {
            SigError::Missing => "Missing Authentication Token".into(),
            SigError::Incomplete(why) => format!("The request signature does not conform to AWS standards: {why}"),
            SigError::UnknownKey(k) => format!("The security token included in the request is invalid: access key id `{k}` is not one the server was given"),
            SigError::Mismatch => "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.".into(),
            SigError::Expired(when) => format!("Signature expired: {when} is more than 15 minutes from the server's time"),
            SigError::Scope(why) => format!("Credential should be scoped to {why}"),
        }
    }

    /// The HTTP status AWS answers with.
    pub fn status(&self, json: bool) -> u16 {
        match self {
            SigError::Missing | SigError::UnknownKey(_) => 403,
            SigError::Mismatch | SigError::Scope(_) if !json => 403,
            _ => 400,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&k, data).as_ref().to_vec()
}

/// RFC 3986 encoding as SigV4 wants it: unreserved characters as they are, everything else `%XX`.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query string sorted by name, then value, each part decoded and encoded again.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Seconds since the epoch of an ISO 8601 basic time (`20261201T163000Z`).
fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), as in Howard Hinnant's algorithm.
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if mo > 2 { mo - 3 } else { mo + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3_600 + mi * 60 + se)
}

/// Checks a request's SigV4 signature against `credentials` (access key id → secret access key) at
/// `now` (seconds since the epoch).
pub fn verify(
    expect: &Expect<'_>,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), SigError> {
    let auth = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(SigError::Missing)?
        .to_str()
        .map_err(|_| SigError::Incomplete("the Authorization header is not text".into()))?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        SigError::Incomplete("not an AWS4-HMAC-SHA256 Authorization header".into())
    })?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(SigError::Incomplete(
            "Credential, SignedHeaders and Signature are required".into(),
        ));
    };
    let scope: Vec<&str> = credential.splitn(5, '/').collect();
    let [key_id, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(SigError::Incomplete(format!(
            "the credential scope `{credential}` is not KEY/DATE/REGION/SERVICE/aws4_request"
        )));
    };
    let secret = expect
        .credentials
        .get(*key_id)
        .ok_or_else(|| SigError::UnknownKey((*key_id).to_string()))?;
    if *service != expect.service {
        return Err(SigError::Scope(format!(
            "correct service: '{}', not '{service}'",
            expect.service
        )));
    }
    if !expect.regions.iter().any(|r| r == region) {
        return Err(SigError::Scope(format!(
            "a valid region ({}), not '{region}'",
            expect.regions.join(", ")
        )));
    }
    let amz_date = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| SigError::Incomplete("no X-Amz-Date header".into()))?;
    let at = parse_amz_date(amz_date).ok_or_else(|| {
        SigError::Incomplete(format!("X-Amz-Date `{amz_date}` is not YYYYMMDDTHHMMSSZ"))
    })?;
    if (now - at).abs() > 15 * 60 {
        return Err(SigError::Expired(amz_date.to_string()));
    }
    if !amz_date.starts_with(date) {
        return Err(SigError::Incomplete(
            "the credential scope's date is not X-Amz-Date's".into(),
        ));
    }
    let names: Vec<&str> = signed.split(';').collect();
    let dated = names.contains(&"x-amz-date") || names.contains(&"date");
    if let Some(missing) = ["host"]
        .iter()
        .chain(expect.signed)
        .find(|h| !names.contains(h))
    {
        return Err(SigError::Incomplete(format!(
            "the `{missing}` header must be signed"
        )));
    }
    if !dated {
        return Err(SigError::Incomplete(
            "the `x-amz-date` (or `date`) header must be signed".into(),
        ));
    }
    let mut canonical_headers = String::new();
    for name in &names {
        let values: Vec<String> = headers
            .get_all(*name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(SigError::Incomplete(format!(
                "signed header `{name}` is missing"
            )));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    // The payload's hash is computed from the body received, never taken from a header: a claimed
    // `x-amz-content-sha256` must equal it (these services take no unsigned payloads).
    let payload = sha256_hex(body);
    if let Some(claimed) = headers.get("x-amz-content-sha256")
        && claimed.to_str().ok() != Some(payload.as_str())
    {
        return Err(SigError::Mismatch);
    }
    let canonical_request = format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{signed}\n{payload}",
        canonical_query(query)
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    );
    let mut key = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [*region, *service, "aws4_request"] {
        key = hmac_sha256(&key, part.as_bytes());
    }
    let expected = hex(&hmac_sha256(&key, to_sign.as_bytes()));
    // Compared in constant time: the signature is a secret's proof.
    let same = expected.len() == signature.len()
        && expected
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(SigError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example ("Signature Version 4 test suite", get-vanilla): the credentials
    /// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, service `service`, Region `us-east-1`,
    /// 20150830T123600Z, `GET /` with Host `example.amazonaws.com`.
    #[test]
    fn aws_test_suite_get_vanilla() {
        let creds = HashMap::from([(
            "AKIDEXAMPLE".to_string(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_string(),
        )]);
        let mut h = HeaderMap::new();
        h.insert("host", "example.amazonaws.com".parse().unwrap());
        h.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        h.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                .parse()
                .unwrap(),
        );
        let at = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(at, 1_440_938_160);
        let regions = ["us-east-1".to_string()];
        let verify = |c: &HashMap<String, String>,
                      m: &str,
                      p: &str,
                      q: &str,
                      h: &HeaderMap,
                      b: &[u8],
                      at: i64| {
            let e = Expect {
                credentials: c,
                service: "service",
                regions: &regions,
                signed: &[],
            };
            super::verify(&e, m, p, q, h, b, at)
        };
        assert_eq!(verify(&creds, "GET", "/", "", &h, b"", at), Ok(()));
        // Any change breaks it: another method, a late clock, an unknown key, a wrong secret.
        assert_eq!(
            verify(&creds, "POST", "/", "", &h, b"", at),
            Err(SigError::Mismatch)
        );
        assert!(matches!(
            verify(&creds, "GET", "/", "", &h, b"", at + 16 * 60),
            Err(SigError::Expired(_))
        ));
        let other = HashMap::from([("AKIDOTHER".to_string(), "x".to_string())]);
        assert!(matches!(
            verify(&other, "GET", "/", "", &h, b"", at),
            Err(SigError::UnknownKey(_))
        ));
        let wrong = HashMap::from([("AKIDEXAMPLE".to_string(), "not-the-secret".to_string())]);
        assert_eq!(
            verify(&wrong, "GET", "/", "", &h, b"", at),
            Err(SigError::Mismatch)
        );
        // The scope must name the expected service and a served Region.
        let other_region = ["eu-west-3".to_string()];
        let scoped = |service, regions: &[String]| {
            super::verify(
                &Expect {
                    credentials: &creds,
                    service,
                    regions,
                    signed: &[],
                },
                "GET",
                "/",
                "",
                &h,
                b"",
                at,
            )
        };
        assert!(matches!(scoped("s3", &regions), Err(SigError::Scope(_))));
        assert!(matches!(
            scoped("service", &other_region),
            Err(SigError::Scope(_))
        ));
        // A required header that is not signed.
        let target = Expect {
            credentials: &creds,
            service: "service",
            regions: &regions,
            signed: &["x-amz-target"],
        };
        assert!(matches!(
            super::verify(&target, "GET", "/", "", &h, b"", at),
            Err(SigError::Incomplete(_))
        ));
        // A claimed payload hash must be the body's: the signature covers the body, not the claim.
        let mut claimed = h.clone();
        claimed.insert("x-amz-content-sha256", sha256_hex(b"{}").parse().unwrap());
        assert_eq!(
            verify(&creds, "GET", "/", "", &claimed, b"", at),
            Err(SigError::Mismatch)
        );
        claimed.insert("x-amz-content-sha256", sha256_hex(b"").parse().unwrap());
        assert_eq!(verify(&creds, "GET", "/", "", &claimed, b"", at), Ok(()));
        h.remove("authorization");
        assert_eq!(
            verify(&creds, "GET", "/", "", &h, b"", at),
            Err(SigError::Missing)
        );
    }
}
