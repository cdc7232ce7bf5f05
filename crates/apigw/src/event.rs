//! The authorizer event as API Gateway sends it to a Lambda function, field for field ("Input to an API
//! Gateway Lambda authorizer" for REST `TOKEN` and `REQUEST`; "Control access to HTTP APIs with AWS Lambda
//! authorizers" for payload formats 1.0 and 2.0; the documented samples are in `fixtures/apigw-events/`).

use serde_json::{Map, Value, json};

use crate::{AuthorizerEvent, AuthorizerType, OutputFormat};

/// Percent-decodes a query or path value (API Gateway hands functions decoded values); invalid escapes
/// are kept as written.
pub(crate) fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| {
            b.get(j)
                .and_then(|x| char::from(*x).to_digit(16))
                .and_then(|x| u8::try_from(x).ok())
        };
        if c == b'%'
            && let (Some(h), Some(l)) = (hex(i + 1), hex(i + 2))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The query string's parameters in order, decoded.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `{name: last value}` and `{name: [values]}` (REST and format 1.0).
fn single_and_multi(pairs: &[(String, String)]) -> (Map<String, Value>, Map<String, Value>) {
    let mut single = Map::new();
    let mut multi = Map::new();
    for (k, v) in pairs {
        single.insert(k.clone(), json!(v));
        match multi
            .entry(k.clone())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(a) => a.push(json!(v)),
            other => *other = json!([v]),
        }
    }
    (single, multi)
}

fn object(pairs: &[(String, String)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect()
}

/// A short deterministic id (API Gateway's `resourceId` is six characters).
fn short_id(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|i| {
            let n = usize::try_from((h >> (i * 8)) % 36).unwrap_or(0);
            char::from(alphabet.get(n).copied().unwrap_or(b'a'))
        })
        .collect()
}

/// `12/Mar/2020:19:03:58 +0000` (HTTP APIs' `requestContext.time`).
fn clf_time(now: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    match time::OffsetDateTime::from_unix_timestamp(now) {
        Ok(t) => format!(
            "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
            t.day(),
            MONTHS
                .get(usize::from(u8::from(t.month())) - 1)
                .copied()
                .unwrap_or("Jan"),
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => String::new(),
    }
}

impl AuthorizerEvent {
    /// The event's JSON at `now` (Unix seconds), in the shape of the API's authorizer: REST `TOKEN`,
    /// REST `REQUEST`, HTTP API payload format 1.0 or 2.0.
    pub fn to_json(&self, now: i64) -> Value {
        let d = &self.deployment;
        let request_id = request_id(&self.method_arn, now);
        let (path_only, query) = self.path_and_query();
        let query = query_pairs(query);
        if self.kind == AuthorizerType::Token && self.format == OutputFormat::Rest {
            return json!({
                "type": "TOKEN",
                "authorizationToken": self.authorization_token.clone().unwrap_or_default(),
                "methodArn": self.method_arn,
            });
        }
        if let OutputFormat::Http2 { .. } = self.format {
            let mut headers = Map::new();
            let mut cookies = Vec::new();
            for (k, v) in &self.headers {
                let k = k.to_ascii_lowercase();
                if k == "cookie" {
                    cookies.extend(v.split(';').map(str::trim).filter(|c| !c.is_empty()));
                    continue;
                }
                match headers.get_mut(&k) {
                    Some(Value::String(prev)) => {
                        prev.push(',');
                        prev.push_str(v);
                    }
                    _ => {
                        headers.insert(k, json!(v));
                    }
                }
            }
            let mut qs = Map::new();
            for (k, v) in &query {
                match qs.get_mut(k) {
                    Some(Value::String(prev)) => {
                        prev.push(',');
                        prev.push_str(v);
                    }
                    _ => {
                        qs.insert(k.clone(), json!(v));
                    }
                }
            }
            let user_agent = self
                .headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("user-agent"))
                .map_or("", |(_, v)| v.as_str());
            let mut e = json!({
                "version": "2.0",
                "type": "REQUEST",
                "routeArn": self.method_arn,
                "identitySource": self.identity_source,
                "routeKey": self.route_key,
                "rawPath": path_only,
                "rawQueryString": self.path.split_once('?').map_or("", |(_, q)| q),
                "headers": headers,
                "requestContext": {
                    "accountId": d.account,
                    "apiId": d.api_id,
                    "domainName": format!("{}.execute-api.{}.amazonaws.com", d.api_id, d.region),
                    "domainPrefix": d.api_id,
                    "http": {
                        "method": self.http_method,
                        "path": path_only,
                        "protocol": "HTTP/1.1",
                        "sourceIp": self.source_ip,
                        "userAgent": user_agent,
                    },
                    "requestId": request_id,
                    "routeKey": self.route_key,
                    "stage": d.stage,
                    "time": clf_time(now),
                    "timeEpoch": now.saturating_mul(1000),
                },
                "pathParameters": object(&self.path_parameters),
                "stageVariables": object(&self.stage_variables),
            });
            if let Some(o) = e.as_object_mut() {
                if !cookies.is_empty() {
                    o.insert("cookies".into(), json!(cookies));
                }
                if !qs.is_empty() {
                    o.insert("queryStringParameters".into(), Value::Object(qs));
                }
            }
            return e;
        }
        // REST `REQUEST` and HTTP API format 1.0.
        let (headers, multi_headers) = single_and_multi(&self.headers);
        let (qs, multi_qs) = single_and_multi(&query);
        let rest_path = format!("/{}{path_only}", d.stage);
        let mut e = json!({
            "type": "REQUEST",
            "methodArn": self.method_arn,
            "resource": self.resource,
            "path": path_only,
            "httpMethod": self.http_method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": qs,
            "multiValueQueryStringParameters": multi_qs,
            "pathParameters": object(&self.path_parameters),
            "stageVariables": object(&self.stage_variables),
            "requestContext": {
                "path": if self.format == OutputFormat::Rest { rest_path } else { path_only.to_string() },
                "accountId": d.account,
                "resourceId": short_id(&self.resource),
                "stage": d.stage,
                "requestId": request_id,
                "identity": {"apiKey": Value::Null, "sourceIp": self.source_ip},
                "resourcePath": self.resource,
                "httpMethod": self.http_method,
                "apiId": d.api_id,
                "domainName": format!("{}.execute-api.{}.amazonaws.com", d.api_id, d.region),
                "protocol": "HTTP/1.1",
                "requestTimeEpoch": now.saturating_mul(1000),
            },
        });
        if self.format == OutputFormat::Http1
            && let Some(o) = e.as_object_mut()
        {
            let joined = self.identity_source.join(",");
            o.insert("version".into(), json!("1.0"));
            o.insert("identitySource".into(), json!(joined));
            o.insert("authorizationToken".into(), json!(joined));
        }
        e
    }

    fn path_and_query(&self) -> (&str, &str) {
        self.path
            .split_once('?')
            .unwrap_or((self.path.as_str(), ""))
    }
}

/// A request id in the UUID layout, the same for the same request at the same second.
fn request_id(arn: &str, now: i64) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ now.cast_unsigned();
    let mut next = |s: &[u8]| {
        for b in s {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    let a = next(arn.as_bytes());
    let b = next(b"request-id");
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | (b >> 48 & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_decoded_and_grouped() {
        let pairs = query_pairs("a=1&a=2&b=x%20y&c&d=%zz");
        let (single, multi) = single_and_multi(&pairs);
        assert_eq!(
            single["a"], "2",
            "the last value wins in the single-value map"
        );
        assert_eq!(multi["a"], json!(["1", "2"]));
        assert_eq!(single["b"], "x y");
        assert_eq!(single["c"], "");
        assert_eq!(single["d"], "%zz", "an invalid escape stays as written");
    }

    #[test]
    fn times_are_in_http_apis_format() {
        assert_eq!(clf_time(1_583_348_638), "04/Mar/2020:19:03:58 +0000");
        assert_eq!(short_id("/pets").len(), 6);
    }
}
