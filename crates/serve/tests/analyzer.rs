//! Access Analyzer on localhost, driven by AWS's own clients installed from PyPI (the AWS CLI,
//! `cfn-policy-validator`, `tf-policy-validator`), run unchanged with the endpoint environment variables
//! and signing with a key the server checks. Every answer is compared with what `iam_lint::validate` (the
//! library `policy-check lint` calls) gives for the same policy.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::expect_used
)]

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use iam_lint::{FindingType, PolicyType, ResourceType};
use policy_serve::Server;
use serde_json::{Value, json};

use common::{aws_cli, root, start, venv};

/// The validators' versions the tests pin.
const VALIDATORS: &[&str] = &["cfn-policy-validator==0.0.37", "tf-policy-validator==0.0.9"];

const KEY: (&str, &str) = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");

fn server() -> Server {
    Server::load(Vec::new())
        .unwrap()
        .with_credentials(vec![(KEY.0.into(), KEY.1.into())])
}

fn policy(name: &str) -> String {
    std::fs::read_to_string(root().join("fixtures/serve/validators").join(name)).unwrap()
}

/// What `policy-check lint` (its library) finds, as Access Analyzer's JSON.
fn ours(text: &str, ty: PolicyType, rt: Option<ResourceType>) -> Vec<Value> {
    iam_lint::validate(text, ty, rt, &iam_lint::Options::default())
        .iter()
        .map(|f| serde_json::to_value(f).unwrap())
        .collect()
}

/// An AWS tool's environment: the endpoint for every service it calls, the test key, no profile.
fn aws_env(cmd: &mut Command, endpoint: &str) {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", env!("CARGO_TARGET_TMPDIR"))
        .env("AWS_ACCESS_KEY_ID", KEY.0)
        .env("AWS_SECRET_ACCESS_KEY", KEY.1)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_ACCESSANALYZER", endpoint)
        .env("AWS_ENDPOINT_URL_STS", endpoint)
        .env("AWS_ENDPOINT_URL_IAM", endpoint);
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn aws(endpoint: &str, args: &[&str]) -> (i32, Value, String) {
    let mut cmd = Command::new(aws_cli());
    aws_env(&mut cmd, endpoint);
    cmd.args(["--output", "json"]).args(args);
    let (code, out, err) = run(&mut cmd);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

/// `aws accessanalyzer validate-policy` on identity, resource (with and without a resource type), trust
/// and SCP policies gets exactly the findings `lint` computes, position by position; paging gives the
/// same findings a page at a time.
#[test]
fn the_aws_cli_validates_policies_offline() {
    let ep = start(Arc::new(server()));
    let cases: &[(&str, &str, Option<&str>, PolicyType)] = &[
        ("deploy.json", "IDENTITY_POLICY", None, PolicyType::Identity),
        ("broken.json", "IDENTITY_POLICY", None, PolicyType::Identity),
        ("clean.json", "IDENTITY_POLICY", None, PolicyType::Identity),
        ("bucket.json", "RESOURCE_POLICY", None, PolicyType::Resource),
        (
            "bucket.json",
            "RESOURCE_POLICY",
            Some("AWS::S3::Bucket"),
            PolicyType::Resource,
        ),
        (
            "trust.json",
            "RESOURCE_POLICY",
            Some("AWS::IAM::AssumeRolePolicyDocument"),
            PolicyType::Trust,
        ),
        ("scp.json", "SERVICE_CONTROL_POLICY", None, PolicyType::Scp),
    ];
    let mut seen = BTreeSet::new();
    for (file, ty, rt, our_ty) in cases {
        let text = policy(file);
        let mut args = vec![
            "accessanalyzer",
            "validate-policy",
            "--policy-type",
            ty,
            "--policy-document",
            &text,
        ];
        if let Some(rt) = rt {
            args.extend(["--validate-policy-resource-type", rt]);
        }
        let (code, got, err) = aws(&ep, &args);
        assert_eq!(code, 0, "{file}: {err}");
        let want = ours(&text, *our_ty, rt.and_then(ResourceType::parse));
        assert_eq!(got["findings"], json!(want), "{file} as {ty} {rt:?}");
        for f in &want {
            seen.insert(f["issueCode"].as_str().unwrap().to_string());
        }
        // A page at a time: the CLI follows nextToken and gets the same list.
        let (code, paged, err) = aws(&ep, &[&args[..], &["--page-size", "1"]].concat());
        assert_eq!(code, 0, "{file}: {err}");
        assert_eq!(paged["findings"], got["findings"], "{file} paged");
    }
    // The trust policy was checked as one: OIDC without a condition.
    assert!(
        seen.contains("MISSING_CONDITION_KEY_FOR_OIDC_PRINCIPAL"),
        "{seen:?}"
    );
    assert!(seen.contains("UNSUPPORTED_ACTION_IN_POLICY"), "{seen:?}");
    assert!(seen.contains("INVALID_ACTION"), "{seen:?}");
    // One page, and the token for the next.
    let text = policy("deploy.json");
    let (code, first, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "validate-policy",
            "--policy-type",
            "IDENTITY_POLICY",
            "--policy-document",
            &text,
            "--max-items",
            "1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(first["findings"].as_array().unwrap().len(), 1);
    assert!(first["NextToken"].is_string(), "{first}");
    // An unknown resource type is refused by the CLI itself (its model's enum); the raw API refuses it
    // too (`bad_requests_get_access_analyzers_errors`).
    // A wrong secret: Access Analyzer's signature error.
    let mut cmd = Command::new(aws_cli());
    aws_env(&mut cmd, &ep);
    cmd.env("AWS_SECRET_ACCESS_KEY", "not-the-secret").args([
        "accessanalyzer",
        "validate-policy",
        "--policy-type",
        "IDENTITY_POLICY",
        "--policy-document",
        &text,
    ]);
    let (code, _, err) = run(&mut cmd);
    assert_ne!(code, 0);
    assert!(err.contains("InvalidSignatureException"), "{err}");
}

/// What the tools call before validating: STS `GetCallerIdentity` answers the configured account, IAM
/// `GetPolicy` / `GetPolicyVersion` answer AWS managed policies from the bundled snapshot, and the
/// analyzer calls keep one account analyzer for the server's life.
#[test]
fn caller_identity_managed_policies_and_analyzers() {
    let ep = start(Arc::new(server().with_account("111122223333".into())));
    let (code, me, err) = aws(&ep, &["sts", "get-caller-identity"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(me["Account"], "111122223333");
    let arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
    let (code, p, err) = aws(&ep, &["iam", "get-policy", "--policy-arn", arn]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(p["Policy"]["Arn"], arn);
    assert_eq!(p["Policy"]["Path"], "/service-role/");
    let version = p["Policy"]["DefaultVersionId"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, v, err) = aws(
        &ep,
        &[
            "iam",
            "get-policy-version",
            "--policy-arn",
            arn,
            "--version-id",
            &version,
        ],
    );
    assert_eq!(code, 0, "{err}");
    // The CLI decodes the URL-encoded document, as from IAM.
    let corpus =
        std::fs::read_to_string(root().join("fixtures/aws-managed/policies.jsonl")).unwrap();
    let text = corpus
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|x| x["name"] == "AWSLambdaBasicExecutionRole")
        .unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        v["PolicyVersion"]["Document"],
        serde_json::from_str::<Value>(&text).unwrap()
    );
    let (code, _, err) = aws(
        &ep,
        &[
            "iam",
            "get-policy-version",
            "--policy-arn",
            arn,
            "--version-id",
            "v999",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("NoSuchEntity"), "{err}");
    let (code, _, err) = aws(
        &ep,
        &[
            "iam",
            "get-policy",
            "--policy-arn",
            "arn:aws:iam::111122223333:policy/Mine",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("NoSuchEntity"), "{err}");

    let (code, list, err) = aws(
        &ep,
        &["accessanalyzer", "list-analyzers", "--type", "ACCOUNT"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(list["analyzers"], json!([]));
    let (code, created, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "create-analyzer",
            "--analyzer-name",
            "ci",
            "--type",
            "ACCOUNT",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        created["arn"],
        "arn:aws:access-analyzer:us-east-1:111122223333:analyzer/ci"
    );
    let (code, _, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "create-analyzer",
            "--analyzer-name",
            "other",
            "--type",
            "ACCOUNT",
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("ConflictException"), "{err}");
    let (code, got, err) = aws(
        &ep,
        &["accessanalyzer", "get-analyzer", "--analyzer-name", "ci"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(got["analyzer"]["status"], "ACTIVE");
    let (code, list, _) = aws(&ep, &["accessanalyzer", "list-analyzers"]);
    assert_eq!(code, 0);
    assert_eq!(list["analyzers"].as_array().unwrap().len(), 1);
    let (code, _, err) = aws(
        &ep,
        &["accessanalyzer", "get-analyzer", "--analyzer-name", "nope"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("ResourceNotFoundException"), "{err}");
}

/// The identity policies of `fixtures/serve/validators` (name, file).
const IDENTITY: &[(&str, &str)] = &[
    ("Deploy", "deploy.json"),
    ("Reader", "reader.json"),
    ("Clean", "clean.json"),
    ("Broken", "broken.json"),
];

/// What `lint` finds per policy name: the (issue code, finding type) pairs.
fn ours_by_policy() -> std::collections::BTreeMap<String, BTreeSet<(String, String)>> {
    IDENTITY
        .iter()
        .map(|(name, file)| {
            let set = ours(&policy(file), PolicyType::Identity, None)
                .iter()
                .map(|f| {
                    (
                        f["issueCode"].as_str().unwrap().to_string(),
                        f["findingType"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            (name.to_string(), set)
        })
        .collect()
}

/// A validator's report, per policy name: the (issue code, finding type) pairs, blocking or not.
fn theirs(
    report: &Value,
    policy_key: &str,
) -> std::collections::BTreeMap<String, BTreeSet<(String, String)>> {
    let mut out: std::collections::BTreeMap<String, BTreeSet<(String, String)>> =
        std::collections::BTreeMap::new();
    for k in ["BlockingFindings", "NonBlockingFindings"] {
        for f in report[k].as_array().unwrap() {
            out.entry(f[policy_key].as_str().unwrap().to_string())
                .or_default()
                .insert((
                    f["code"].as_str().unwrap().to_string(),
                    f["findingType"].as_str().unwrap().to_string(),
                ));
        }
    }
    out
}

fn tmp(name: &str) -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("aa-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// AWS's `cfn-policy-validator`, unchanged, on a CloudFormation template of users, a group and managed
/// policies (one AWS managed, read through `GetPolicy`): the same findings as `lint` for every policy, and
/// the exit code its blocking rules give. A role's trust policy needs an access preview, which `serve`
/// refuses with Access Analyzer's error: the run fails, never passes empty.
#[test]
fn cfn_policy_validator_runs_offline_against_serve() {
    let tool = venv("aa-validators-venv", VALIDATORS, "cfn-policy-validator");
    let ep = start(Arc::new(checking_server()));
    let doc = |file: &str| serde_json::from_str::<Value>(&policy(file)).unwrap();
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Team": {"Type": "String"}},
        "Resources": {
            "Deployers": {"Type": "AWS::IAM::Group", "Properties": {
                "ManagedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
                "Policies": [{"PolicyName": "Deploy", "PolicyDocument": doc("deploy.json")}]}},
            "Ci": {"Type": "AWS::IAM::User", "Properties": {
                "Groups": [{"Ref": "Deployers"}],
                "Tags": [{"Key": "team", "Value": {"Ref": "Team"}}],
                "Policies": [{"PolicyName": "Reader", "PolicyDocument": doc("reader.json")},
                             {"PolicyName": "Clean", "PolicyDocument": doc("clean.json")}]}},
            "Broken": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
                "Users": [{"Ref": "Ci"}], "PolicyDocument": doc("broken.json")}},
        }
    });
    let path = tmp("template.json");
    std::fs::write(&path, template.to_string()).unwrap();
    let validate = |extra: &[&str]| {
        let mut cmd = Command::new(&tool);
        aws_env(&mut cmd, &ep);
        cmd.args(["validate", "--template-path"])
            .arg(&path)
            .args(["--region", "us-east-1", "--parameters", "Team=blue"])
            .args(extra);
        run(&mut cmd)
    };
    let (code, out, err) = validate(&[]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}"));
    // Managed policies are reported under their logical id; inline ones under their name.
    let mut want = ours_by_policy();
    want.retain(|_, v| !v.is_empty());
    assert_eq!(theirs(&report, "policyName"), want, "{report:#}");
    // ERROR and SECURITY_WARNING block by default: exit 2 (the tool's code for blocking findings).
    assert_eq!(code, 2, "{err}");
    // Only suggestions block: REDUNDANT_ACTION (Deploy) and EQUIVALENT_TO_NULL_FALSE (Reader).
    let (code, _, err) = validate(&["--treat-finding-type-as-blocking", "SUGGESTION"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = validate(&["--treat-finding-type-as-blocking", "NONE"]);
    assert_eq!(code, 0, "{err}");
    // Every finding the tool would block on, ignored: the run passes.
    let (code, _, err) = validate(&[
        "--ignore-finding",
        "PASS_ROLE_WITH_STAR_IN_RESOURCE,INVALID_ACTION,INVALID_REGION",
    ]);
    assert_eq!(code, 0, "{err}");

    // A role: its trust policy goes to an access preview. Federating Cognito identities with no
    // audience pinned lets anyone in (a public finding, which blocks); pinned to an identity pool, none.
    let role = |trust: Value| {
        let path = tmp("role.json");
        std::fs::write(
            &path,
            json!({"Resources": {"App": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": trust}}}})
            .to_string(),
        )
        .unwrap();
        let mut cmd = Command::new(&tool);
        aws_env(&mut cmd, &ep);
        cmd.args(["validate", "--template-path"])
            .arg(&path)
            .args(["--region", "us-east-1"]);
        run(&mut cmd)
    };
    let (code, out, err) = role(doc("trust.json"));
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("App") && out.contains("SECURITY_WARNING"),
        "{out}"
    );
    let mut pinned = doc("trust.json");
    pinned["Statement"][0]["Condition"] = json!({"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:12345678-aaaa-bbbb-cccc-123456789012"}});
    let (code, out, err) = role(pinned);
    assert_eq!(code, 0, "{out}{err}");
}

/// AWS's `tf-policy-validator`, unchanged, on a Terraform plan (`terraform show -json`) of our own: the
/// same findings as `lint`.
#[test]
fn tf_policy_validator_runs_offline_against_serve() {
    let tool = venv("aa-validators-venv", VALIDATORS, "tf-policy-validator");
    let ep = start(Arc::new(server()));
    // The tool's own default configuration, shipped in its package.
    let config = tool
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("lib")
        .read_dir()
        .unwrap()
        .map(|d| {
            d.unwrap()
                .path()
                .join("site-packages/iam_check/config/default.yaml")
        })
        .find(|p| p.exists())
        .unwrap();
    let resources: Vec<Value> = IDENTITY
        .iter()
        .map(|(name, file)| {
            json!({
                "address": format!("aws_iam_policy.{name}"), "mode": "managed", "type": "aws_iam_policy",
                "name": name, "provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 0,
                "values": {"name": name, "path": "/", "description": "", "policy": policy(file)},
                "sensitive_values": {}
            })
        })
        .collect();
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.6.6",
        "planned_values": {"root_module": {"resources": resources}},
        "resource_changes": [],
        "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}}, "root_module": {"resources": []}}
    });
    let path = tmp("plan.json");
    std::fs::write(&path, plan.to_string()).unwrap();
    let mut cmd = Command::new(&tool);
    aws_env(&mut cmd, &ep);
    cmd.args(["validate", "--config"])
        .arg(&config)
        .arg("--template-path")
        .arg(&path)
        .args(["--region", "us-east-1"]);
    let (code, out, err) = run(&mut cmd);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("{out}\n{err}"));
    let mut want = ours_by_policy();
    want.retain(|_, v| !v.is_empty());
    let got: std::collections::BTreeMap<_, _> = theirs(&report, "resourceName");
    assert_eq!(got, want, "{report:#}");
    assert_eq!(code, 2, "{err}");
    assert!(
        want.values()
            .flatten()
            .any(|(_, t)| t == FindingType::SecurityWarning.as_str())
    );
}

/// Bad requests get Access Analyzer's error shapes and statuses, never a panic and never an empty
/// success: a body that is not JSON, a missing or unknown member value, a 10 MB document, a bad page
/// token; a policy that is not JSON is Access Analyzer's `JSON_SYNTAX_ERROR` finding.
#[test]
fn bad_requests_get_access_analyzers_errors() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s = Arc::new(Server::load(Vec::new()).unwrap());
    let call = |method: &str, path: &str, body: Vec<u8>| {
        let s = s.clone();
        let headers = vec![("content-type".to_string(), "application/json".to_string())];
        let (status, bytes) = rt.block_on(s.answer(method, path, &headers, body)).unwrap();
        (
            status,
            serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
        )
    };
    let validate = |v: Value| call("POST", "/policy/validation", v.to_string().into_bytes());
    let clean = policy("clean.json");
    let (status, v) = validate(json!({"policyDocument": clean, "policyType": "IDENTITY_POLICY"}));
    assert_eq!((status, v), (200, json!({"findings": []})));
    let (status, v) = call("POST", "/policy/validation", b"{not json".to_vec());
    assert_eq!(status, 400);
    assert_eq!(v["reason"], "cannotParse");
    for (body, field) in [
        (json!({"policyType": "IDENTITY_POLICY"}), "policyDocument"),
        (json!({"policyDocument": clean}), "policyType"),
        (
            json!({"policyDocument": clean, "policyType": "IDENTITY"}),
            "policyType",
        ),
        (
            json!({"policyDocument": clean, "policyType": "RESOURCE_POLICY", "validatePolicyResourceType": "AWS::SQS::Queue"}),
            "validatePolicyResourceType",
        ),
        (
            json!({"policyDocument": clean, "policyType": "IDENTITY_POLICY", "validatePolicyResourceType": "AWS::S3::Bucket"}),
            "validatePolicyResourceType",
        ),
        (
            json!({"policyDocument": clean, "policyType": "IDENTITY_POLICY", "locale": "XX"}),
            "locale",
        ),
    ] {
        let (status, v) = validate(body.clone());
        assert_eq!(status, 400, "{body}");
        assert_eq!(v["fieldList"][0]["name"], field, "{body}: {v}");
        assert_eq!(v["reason"], "fieldValidationFailed");
    }
    // Not JSON: Access Analyzer's finding, not an empty answer.
    let (status, v) =
        validate(json!({"policyDocument": "{\"Version\": ", "policyType": "IDENTITY_POLICY"}));
    assert_eq!(status, 200);
    assert_eq!(v["findings"][0]["issueCode"], "JSON_SYNTAX_ERROR");
    assert_eq!(v["findings"][0]["findingType"], "ERROR");
    // 10 MB: refused before it is read, in the JSON shape.
    let big = json!({"policyDocument": "x".repeat(10 << 20), "policyType": "IDENTITY_POLICY"});
    let (status, v) = validate(big);
    assert_eq!(status, 413);
    assert!(v["message"].as_str().unwrap().contains("smaller than"));
    // Paging: maxResults at least 1; a token from another request is refused.
    let deploy = policy("deploy.json");
    let (status, v) = call(
        "POST",
        "/policy/validation?maxResults=0",
        json!({"policyDocument": deploy, "policyType": "IDENTITY_POLICY"})
            .to_string()
            .into_bytes(),
    );
    assert_eq!(
        (status, v["fieldList"][0]["name"].clone()),
        (400, json!("maxResults"))
    );
    let (status, v) = call(
        "POST",
        "/policy/validation?maxResults=1",
        json!({"policyDocument": deploy, "policyType": "IDENTITY_POLICY"})
            .to_string()
            .into_bytes(),
    );
    assert_eq!(status, 200);
    let token = v["nextToken"].as_str().unwrap().to_string();
    let (status, v2) = call(
        "POST",
        &format!("/policy/validation?nextToken={token}"),
        json!({"policyDocument": deploy, "policyType": "IDENTITY_POLICY"})
            .to_string()
            .into_bytes(),
    );
    assert_eq!(status, 200);
    assert_eq!(v2["findings"].as_array().unwrap().len(), 1);
    assert_ne!(v2["findings"][0], v["findings"][0]);
    let (status, v) = call(
        "POST",
        &format!("/policy/validation?nextToken={token}"),
        json!({"policyDocument": clean, "policyType": "IDENTITY_POLICY"})
            .to_string()
            .into_bytes(),
    );
    assert_eq!(
        (status, v["fieldList"][0]["name"].clone()),
        (400, json!("nextToken"))
    );
    // What is not served says so.
    let (status, v) = call("PUT", "/access-preview", b"{}".to_vec());
    assert_eq!(
        (status, v["fieldList"][0]["name"].clone()),
        (400, json!("analyzerArn"))
    );
    let (status, v) = call(
        "GET",
        "/access-preview/nope?analyzerArn=arn:aws:access-analyzer:us-east-1:123456789012:analyzer/none",
        Vec::new(),
    );
    assert_eq!(
        (status, v["resourceId"].clone()),
        (
            404,
            json!("arn:aws:access-analyzer:us-east-1:123456789012:analyzer/none")
        )
    );
    // The custom checks refuse a request without its members as AWS does, before any solver runs.
    for (p, member) in [
        ("/policy/check-no-new-access", "newPolicyDocument"),
        ("/policy/check-access-not-granted", "policyDocument"),
        ("/policy/check-no-public-access", "policyDocument"),
    ] {
        let (status, v) = call("POST", p, b"{}".to_vec());
        assert_eq!(
            (status, v["fieldList"][0]["name"].clone()),
            (400, json!(member)),
            "{p}"
        );
    }
    let (status, v) = call("GET", "/analyzer/missing", Vec::new());
    assert_eq!((status, v["resourceId"].clone()), (404, json!("missing")));
}

/// `cfn-policy-validator parse` (AWS's template reader, offline against `serve`'s STS) and `iac` find the
/// same policies on the same resources in `fixtures/templates/notes-app.yaml` (its `Fn::ImportValue`
/// replaced: the tool asks CloudFormation's `ListExports` for it). Where the tool's resolved text differs
/// from what CloudFormation documents, we follow CloudFormation; the README lists each difference, and
/// this test pins them, so a change on either side shows.
#[test]
fn cfn_policy_validator_parse_finds_the_policies_iac_finds() {
    let tool = venv("aa-validators-venv", VALIDATORS, "cfn-policy-validator");
    let ep = start(Arc::new(server()));
    let text = std::fs::read_to_string(root().join("fixtures/templates/notes-app.yaml"))
        .unwrap()
        .replace(
            "!ImportValue shared-topic-arn",
            "arn:aws:sns:us-east-1:123456789012:shared",
        );
    let path = tmp("notes-app.yaml");
    std::fs::write(&path, &text).unwrap();
    let mut cmd = Command::new(&tool);
    aws_env(&mut cmd, &ep);
    cmd.args(["parse", "--template-path"]).arg(&path).args([
        "--region",
        "us-east-1",
        "--parameters",
        "Stage=dev",
        "TableName=Notes",
    ]);
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    let theirs: Value = serde_json::from_str(&out).unwrap();

    let t = iac::Template::read("notes-app.yaml", &text).unwrap();
    let found = t.policies(&iac::Settings::default()).unwrap();
    let doc = |i: usize| -> Value {
        serde_json::from_str(&iac::render(&found.policies[i].document).0).unwrap()
    };

    // The same policies on the same resources.
    let role = &theirs["Roles"][0];
    assert_eq!(role["RoleName"], "notes-dev-authenticated");
    let names: Vec<&str> = role["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["own-rows", "own-prefix"]);
    let ours: Vec<String> = found.policies.iter().map(iac::Policy::name).collect();
    assert_eq!(
        ours,
        [
            "AuthenticatedRole.AssumeRolePolicyDocument",
            "AuthenticatedRole.Policies[0] (own-rows)",
            "AuthenticatedRole.Policies[1] (own-prefix)",
            "BucketPolicy.PolicyDocument",
            "EventsPolicy.PolicyDocument",
        ]
    );
    // The tool lists resource policies in no fixed order.
    let by_type = |ty: &str| {
        theirs["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["ResourceType"] == ty)
            .unwrap_or_else(|| panic!("no {ty} in {theirs:#}"))
            .clone()
    };
    let (bucket, queue) = (by_type("AWS::S3::Bucket"), by_type("AWS::SQS::Queue"));
    assert_eq!(theirs["Resources"].as_array().unwrap().len(), 2);
    assert_eq!(bucket["ResourceName"], "notes-123456789012-dev");
    assert_eq!(found.policies[3].attached_to, ["notes-123456789012-dev"]);
    // Identical documents where both resolve as CloudFormation does.
    assert_eq!(doc(3), bucket["Policy"]["Policy"], "the bucket policy");

    // The differences, each ours as CloudFormation documents it:
    // 1. `Ref` of an identity pool "returns the IdentityPoolId" (AWS::Cognito::IdentityPool, Return
    //    values); the tool gives the logical id.
    assert_eq!(
        role["TrustPolicy"]["Statement"][0]["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"],
        "IdentityPool"
    );
    assert_eq!(
        doc(0)["Statement"][0]["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"],
        "us-east-1:00000000-0000-4000-8000-000000000000"
    );
    // 2. `Fn::GetAtt Table.Arn` is the table's ARN, with the table's name (TableName, from the
    //    parameter); the tool uses the logical id.
    assert_eq!(
        role["Policies"][0]["Policy"]["Statement"][0]["Resource"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/NotesTable"
    );
    assert_eq!(
        doc(1)["Statement"][0]["Resource"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/Notes"
    );
    // 3. `${!Literal}` in Fn::Sub "is rendered as ${Literal}" (Fn::Sub); the tool keeps the `!`.
    assert_eq!(
        role["Policies"][1]["Policy"]["Statement"][0]["Resource"],
        "arn:aws:s3:::notes-123456789012-dev/private/${!cognito-identity.amazonaws.com:sub}/*"
    );
    assert_eq!(
        doc(2)["Statement"][0]["Resource"],
        "arn:aws:s3:::notes-123456789012-dev/private/${cognito-identity.amazonaws.com:sub}/*"
    );
    // 4. A queue without QueueName gets a generated name (AWS::SQS::Queue, QueueName: "AWS
    //    CloudFormation generates a unique physical ID"); the tool uses the logical id.
    assert_eq!(queue["ResourceName"], "Events");
    let arn = doc(4)["Statement"][0]["Resource"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        arn.starts_with("arn:aws:sqs:us-east-1:123456789012:stack-Events-"),
        "{arn}"
    );
}

/// A server that answers the custom policy checks with Z3 from PyPI (installed under the target directory
/// on first use, or `POLICY_CHECK_Z3`).
fn checking_server() -> Server {
    let z3 = match std::env::var_os("POLICY_CHECK_Z3") {
        Some(p) => PathBuf::from(p),
        None => venv("z3-venv", &[iam_reason::Z3_PACKAGE], "z3"),
    };
    server().with_solver(iam_reason::Solver::at(z3))
}

fn check_fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("fixtures/check").join(name)).unwrap()
}

/// `aws accessanalyzer check-no-new-access`, `check-access-not-granted` and `check-no-public-access`,
/// run unchanged against `serve`: AWS's result and reasons, the same as `iam_reason` gives in-process.
#[test]
fn aws_cli_custom_policy_checks_run_offline() {
    let ep = start(Arc::new(checking_server()));
    let own = tmp("rows-own.json");
    let all = tmp("rows-all.json");
    std::fs::write(&own, check_fixture("rows-own.json")).unwrap();
    std::fs::write(&all, check_fixture("rows-all.json")).unwrap();
    let file = |p: &PathBuf| format!("file://{}", p.display());
    let (code, v, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "check-no-new-access",
            "--new-policy-document",
            &file(&all),
            "--existing-policy-document",
            &file(&own),
            "--policy-type",
            "IDENTITY_POLICY",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["result"], "FAIL", "{v:#}");
    assert_eq!(v["reasons"][0]["statementIndex"], 0);
    assert_eq!(v["reasons"][0]["statementId"], "AllRows");
    let (_, v, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "check-no-new-access",
            "--new-policy-document",
            &file(&own),
            "--existing-policy-document",
            &file(&all),
            "--policy-type",
            "IDENTITY_POLICY",
        ],
    );
    assert_eq!(v["result"], "PASS", "{err}");
    for (action, want) in [("dynamodb:DeleteItem", "PASS"), ("dynamodb:Query", "FAIL")] {
        let access = json!([{"actions": [action]}]).to_string();
        let (_, v, err) = aws(
            &ep,
            &[
                "accessanalyzer",
                "check-access-not-granted",
                "--policy-document",
                &file(&own),
                "--access",
                &access,
                "--policy-type",
                "IDENTITY_POLICY",
            ],
        );
        assert_eq!(v["result"], want, "{action}: {err}");
    }
    for (fixture, want) in [
        ("public-bucket.json", "FAIL"),
        ("cloudfront-bucket.json", "PASS"),
    ] {
        let p = tmp(fixture);
        std::fs::write(&p, check_fixture(fixture)).unwrap();
        let (_, v, err) = aws(
            &ep,
            &[
                "accessanalyzer",
                "check-no-public-access",
                "--policy-document",
                &file(&p),
                "--resource-type",
                "AWS::S3::Bucket",
            ],
        );
        assert_eq!(v["result"], want, "{fixture}: {err}");
    }
    // What the reasoning cannot decide is an error, never a PASS.
    let odd = tmp("binary.json");
    std::fs::write(&odd, check_fixture("binary.json")).unwrap();
    let (code, _, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "check-no-new-access",
            "--new-policy-document",
            &file(&odd),
            "--existing-policy-document",
            &file(&own),
            "--policy-type",
            "IDENTITY_POLICY",
        ],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("UnprocessableEntityException") && err.contains("BinaryEquals"),
        "{err}"
    );
}

/// AWS's `cfn-policy-validator` `check-no-new-access`, `check-access-not-granted` and
/// `check-no-public-access`, unchanged, on templates with a role and bucket policies, public and
/// restricted: its exit code says whether it found what it blocks on.
#[test]
fn cfn_policy_validator_custom_checks_run_offline() {
    let tool = venv("aa-validators-venv", VALIDATORS, "cfn-policy-validator");
    let ep = start(Arc::new(checking_server()));
    let doc = |name: &str| serde_json::from_str::<Value>(&check_fixture(name)).unwrap();
    let template = json!({
        "Resources": {
            "NotesRole": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:12345678-aaaa-bbbb-cccc-123456789012"}}}]},
                "Policies": [{"PolicyName": "Rows", "PolicyDocument": doc("rows-all.json")}]}},
        }
    });
    let path = tmp("checks-role.json");
    std::fs::write(&path, template.to_string()).unwrap();
    let reference = tmp("checks-reference.json");
    let check = |args: &[&str], template: &PathBuf| {
        let mut cmd = Command::new(&tool);
        aws_env(&mut cmd, &ep);
        cmd.args([args[0], "--template-path"])
            .arg(template)
            .args(["--region", "us-east-1"])
            .args(&args[1..]);
        run(&mut cmd)
    };
    let r = reference.display().to_string();
    std::fs::write(&reference, check_fixture("rows-own.json")).unwrap();
    let (code, out, err) = check(
        &[
            "check-no-new-access",
            "--reference-policy",
            &r,
            "--reference-policy-type",
            "identity",
        ],
        &path,
    );
    assert_eq!(code, 2, "new access is blocking: {out}{err}");
    assert!(
        out.contains("AllRows") || out.contains("FAIL") || out.contains("new access"),
        "{out}"
    );
    std::fs::write(&reference, check_fixture("rows-all.json")).unwrap();
    let (code, out, err) = check(
        &[
            "check-no-new-access",
            "--reference-policy",
            &r,
            "--reference-policy-type",
            "identity",
        ],
        &path,
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = check(
        &[
            "check-access-not-granted",
            "--actions",
            "dynamodb:DeleteItem,s3:PutObject",
        ],
        &path,
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = check(
        &["check-access-not-granted", "--actions", "dynamodb:Query"],
        &path,
    );
    assert_eq!(code, 2, "{out}{err}");

    let bucket = |statement: Value| {
        json!({"Resources": {
            "Site": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "site"}},
            "SitePolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
                "Bucket": {"Ref": "Site"},
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}}}})
    };
    let public = tmp("checks-public.json");
    std::fs::write(
        &public,
        bucket(doc("public-bucket.json")["Statement"][0].clone()).to_string(),
    )
    .unwrap();
    let (code, out, err) = check(&["check-no-public-access"], &public);
    assert_eq!(code, 2, "{out}{err}");
    let restricted = tmp("checks-restricted.json");
    std::fs::write(
        &restricted,
        bucket(doc("cloudfront-bucket.json")["Statement"][0].clone()).to_string(),
    )
    .unwrap();
    let (code, out, err) = check(&["check-no-public-access"], &restricted);
    assert_eq!(code, 0, "{out}{err}");
}

/// Access previews with the AWS CLI: `create-access-preview` for a public bucket, a queue shared with
/// another account (restricted by a condition Access Analyzer still reports), a KMS key kept in the account,
/// and a role trusting another account; `get-access-preview` and `list-access-preview-findings` as AWS
/// answers them, each finding backed by a witness request the evaluator allows.
#[test]
fn aws_cli_access_previews_run_offline() {
    let ep = start(Arc::new(checking_server()));
    let (code, v, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "create-analyzer",
            "--analyzer-name",
            "zone",
            "--type",
            "ACCOUNT",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let analyzer = v["arn"].as_str().unwrap().to_string();
    let doc =
        |statements: Value| json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let configurations = json!({
        "arn:aws:s3:::site": {"s3Bucket": {"bucketPolicy": doc(json!([
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]))}},
        "arn:aws:sqs:us-east-1:123456789012:jobs": {"sqsQueue": {"queuePolicy": doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "sqs:SendMessage",
             "Resource": "arn:aws:sqs:us-east-1:123456789012:jobs",
             "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}]))}},
        "arn:aws:kms:us-east-1:123456789012:key/k1": {"kmsKey": {"keyPolicies": {"default": doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]))}}},
        "arn:aws:iam::123456789012:role/Partner": {"iamRole": {"trustPolicy": doc(json!([
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::777788889999:role/Deployer"}, "Action": "sts:AssumeRole"}]))}},
    });
    let (code, v, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "create-access-preview",
            "--analyzer-arn",
            &analyzer,
            "--configurations",
            &configurations.to_string(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let id = v["id"].as_str().unwrap().to_string();
    let (code, v, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "get-access-preview",
            "--access-preview-id",
            &id,
            "--analyzer-arn",
            &analyzer,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["accessPreview"]["status"], "COMPLETED", "{v:#}");
    let (code, v, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "list-access-preview-findings",
            "--access-preview-id",
            &id,
            "--analyzer-arn",
            &analyzer,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let findings = v["findings"].as_array().unwrap();
    let by = |resource: &str| {
        findings
            .iter()
            .filter(|f| f["resource"] == resource)
            .collect::<Vec<_>>()
    };
    let site = by("arn:aws:s3:::site");
    assert_eq!(site.len(), 1, "{v:#}");
    assert_eq!(site[0]["isPublic"], true);
    assert_eq!(site[0]["principal"]["AWS"], "*");
    assert_eq!(site[0]["action"][0], "s3:GetObject");
    assert_eq!(site[0]["resourceType"], "AWS::S3::Bucket");
    assert_eq!(
        (site[0]["status"].clone(), site[0]["changeType"].clone()),
        (json!("ACTIVE"), json!("NEW"))
    );
    let jobs = by("arn:aws:sqs:us-east-1:123456789012:jobs");
    assert_eq!(jobs.len(), 1, "{v:#}");
    assert_eq!(jobs[0]["isPublic"], false);
    assert_eq!(jobs[0]["principal"]["AWS"], "444455556666");
    assert_eq!(jobs[0]["condition"]["aws:SourceIp"], "203.0.113.0/24");
    assert!(
        by("arn:aws:kms:us-east-1:123456789012:key/k1").is_empty(),
        "the key stays in the account: {v:#}"
    );
    let partner = by("arn:aws:iam::123456789012:role/Partner");
    assert_eq!(partner.len(), 1);
    assert_eq!(partner[0]["principal"]["AWS"], "777788889999");
    assert_eq!(partner[0]["resourceType"], "AWS::IAM::Role");
    // A configuration this server cannot preview is refused, never previewed without it.
    let acl = json!({"arn:aws:s3:::acl": {"s3Bucket": {"bucketAclGrants": [{"permission": "READ", "grantee": {"uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}]}}});
    let (code, _, err) = aws(
        &ep,
        &[
            "accessanalyzer",
            "create-access-preview",
            "--analyzer-arn",
            &analyzer,
            "--configurations",
            &acl.to_string(),
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("bucketAclGrants"), "{err}");
    // A policy the reasoning cannot decide fails the preview.
    let odd = json!({"arn:aws:sqs:us-east-1:123456789012:odd": {"sqsQueue": {"queuePolicy": doc(json!([
        {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*", "Condition": {"BinaryEquals": {"aws:x": "QUJD"}}}]))}}});
    let (_, v, _) = aws(
        &ep,
        &[
            "accessanalyzer",
            "create-access-preview",
            "--analyzer-arn",
            &analyzer,
            "--configurations",
            &odd.to_string(),
        ],
    );
    let odd_id = v["id"].as_str().unwrap().to_string();
    let (_, v, _) = aws(
        &ep,
        &[
            "accessanalyzer",
            "get-access-preview",
            "--access-preview-id",
            &odd_id,
            "--analyzer-arn",
            &analyzer,
        ],
    );
    assert_eq!(v["accessPreview"]["status"], "FAILED");
    assert_eq!(
        v["accessPreview"]["statusReason"]["code"],
        "INVALID_CONFIGURATION"
    );
}
