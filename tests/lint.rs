//! `lint`: Access Analyzer's issue codes and finding types, locations as Access Analyzer gives them,
//! the Cognito checks, `--fail-on`, and the SARIF and JSON reports.

use serde_json::Value;

use crate::cli::run;
use crate::root;

fn path(p: &str) -> String {
    root().join(p).display().to_string()
}

/// The findings of one file in Access Analyzer's JSON shape.
fn findings(args: &[&str]) -> (u8, Vec<Value>) {
    let mut a = vec!["lint", "--format", "json"];
    a.extend_from_slice(args);
    let (code, out, err) = run(&a);
    let list = out
        .lines()
        .flat_map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{err}"));
            v["findings"].as_array().cloned().unwrap_or_default()
        })
        .collect();
    (code, list)
}

fn codes(f: &[Value]) -> Vec<&str> {
    f.iter().filter_map(|x| x["issueCode"].as_str()).collect()
}

/// Access Analyzer's issue codes: its check catalogue (shipped in `crates/iam-lint/data/`) and the
/// newer check `lint` knows.
pub fn access_analyzer_codes() -> std::collections::BTreeSet<String> {
    let catalogue: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("crates/iam-lint/data/access-analyzer-checks.json"))
            .unwrap(),
    )
    .unwrap();
    let mut all: std::collections::BTreeSet<String> = catalogue["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["issueCode"].as_str().unwrap().to_string())
        .collect();
    all.insert("STRING_LIKE_OPERATOR_WITH_ARN_CONDITION_KEYS".into());
    all.insert("EQUIVALENT_TO_NULL_FALSE".into());
    all
}

#[test]
fn access_analyzer_codes_types_and_locations() {
    let (code, f) = findings(&[
        "--type",
        "identity",
        &path("fixtures/golden/013-effect-lowercase/policy.json"),
    ]);
    assert_eq!(code, 1, "an ERROR fails the run");
    let x = &f[0];
    assert_eq!(x["issueCode"], "INVALID_EFFECT");
    assert_eq!(x["findingType"], "ERROR");
    // Our snippet beside Access Analyzer's shape: the line the finding starts on.
    assert!(x["snippet"].as_str().unwrap().contains("\"allow\""), "{x}");
    assert!(
        x["learnMoreLink"]
            .as_str()
            .unwrap()
            .ends_with("#access-analyzer-reference-policy-checks-error-invalid-effect")
    );
    let loc = &x["locations"][0];
    // `Statement` is an object here, so no index.
    assert_eq!(
        loc["path"],
        serde_json::json!([{"value": "Statement"}, {"value": "Effect"}])
    );
    assert_eq!(
        (
            loc["span"]["start"]["line"].as_u64(),
            loc["span"]["start"]["column"].as_u64()
        ),
        // Access Analyzer's `Position`: the column counts from 0 (the editor's column 15).
        (Some(4), Some(14))
    );
    // Every diagnostic `validate` reports on the golden policies appears in `lint` at the same place,
    // under Access Analyzer's code when it has one.
    for dir in std::fs::read_dir(root().join("fixtures/golden")).unwrap() {
        let p = dir.unwrap().path().join("policy.json");
        if !p.is_file() {
            continue;
        }
        let p = p.display().to_string();
        let (_, out, _) = run(&["validate", "--format", "json", &p]);
        let (_, f) = findings(&[&p]);
        for line in out.lines() {
            let d: Value = serde_json::from_str(line).unwrap();
            let found = f.iter().any(|x| {
                let s = &x["locations"][0]["span"]["start"];
                // `validate` counts columns from 1, Access Analyzer's `Position` from 0.
                s["line"] == d["line"]
                    && s["column"].as_u64().map(|c| c + 1) == d["column"].as_u64()
            });
            assert!(found, "{p}: {d} has no finding");
        }
    }
}

#[test]
fn cognito_checks_trigger_and_stay_quiet() {
    let (code, f) = findings(&[&path("fixtures/lint/trust-without-aud.json")]);
    assert_eq!(codes(&f), ["cognito::trust-without-aud"]);
    assert_eq!(f[0]["findingType"], "SECURITY_WARNING");
    assert_eq!(code, 1);
    let (_, f) = findings(&[&path("fixtures/lint/amr-without-foranyvalue.json")]);
    // `amr` without `ForAnyValue:` is Access Analyzer's own MISSING_QUALIFIER (from the service
    // reference: the key is multivalued).
    assert_eq!(codes(&f), ["MISSING_QUALIFIER"]);
    let (code, f) = findings(&[&path("policies/identity-pool/trust.json")]);
    // The console's trust policy: no security finding; its empty `Sid` is only Access Analyzer's
    // suggestion.
    assert_eq!((code, codes(&f)), (0, vec!["EMPTY_SID_VALUE"]));
    // `ForAllValues:` on LeadingKeys without a Null guard is a security warning.
    let (_, f) = findings(&[&path("policies/cognito-groups-dynamodb/row-level.json")]);
    assert_eq!(codes(&f), ["iam::forallvalues-absent-key"]);
    assert_eq!(f[0]["findingType"], "SECURITY_WARNING");
    assert_eq!(
        f[0]["locations"][0]["path"],
        serde_json::json!([{"value": "Statement"}, {"index": 0}, {"value": "Condition"},
            {"value": "ForAllValues:StringEquals"}, {"key": "dynamodb:LeadingKeys"}])
    );
}

#[test]
fn fail_on_chooses_the_failing_types() {
    let p = path("policies/cognito-groups-dynamodb/row-level.json");
    assert_eq!(run(&["lint", &p]).0, 1, "SECURITY_WARNING fails by default");
    assert_eq!(run(&["lint", "--fail-on", "ERROR", &p]).0, 0);
    let trust = path("policies/identity-pool/trust.json");
    assert_eq!(
        run(&[
            "lint",
            "--fail-on",
            "ERROR,SECURITY_WARNING,WARNING",
            &trust
        ])
        .0,
        0
    );
    assert_eq!(
        run(&["lint", "--fail-on", "SUGGESTION", &trust]).0,
        1,
        "its empty Sid is a suggestion"
    );
    assert_eq!(
        run(&["lint", "--fail-on", "NOPE", &p]).0,
        1,
        "a usage error"
    );
    // A resource type as Access Analyzer takes it: a trust document is checked as a trust policy.
    let (code, f) = findings(&[
        "--resource-type",
        "AWS::IAM::AssumeRolePolicyDocument",
        &path("fixtures/lint/trust-without-aud.json"),
    ]);
    assert_eq!((code, codes(&f)), (1, vec!["cognito::trust-without-aud"]));
}

#[test]
fn sarif_is_well_formed() {
    let (code, out, err) = run(&[
        "lint",
        "--format",
        "sarif",
        &path("fixtures/golden/013-effect-lowercase/policy.json"),
        &path("fixtures/lint/trust-without-aud.json"),
    ]);
    assert_eq!(code, 1, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "policy-check");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run0["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i]["id"], r["ruleId"], "ruleIndex points at its rule");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(region["startColumn"].as_u64().unwrap() >= 1);
        assert!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with(".json")
        );
    }
    let ids: Vec<_> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["INVALID_EFFECT", "cognito::trust-without-aud"]);
    assert!(
        rules[0]["helpUri"]
            .as_str()
            .unwrap()
            .starts_with("https://docs.aws.amazon.com/")
    );
}

#[test]
fn pool_aware_cognito_checks() {
    // The guest role's policy is linted because the pool names it: `sns:Publish` and `s3:GetObject` are
    // beyond the guest session policy, `polly:SynthesizeSpeech` is not.
    let (code, f) = findings(&[
        "--pool",
        &path("fixtures/lint/guest.pool.json"),
        &path("fixtures/lint/trust-without-aud.json"),
    ]);
    let beyond: Vec<&Value> = f
        .iter()
        .filter(|x| x["issueCode"] == "cognito::unauth-beyond-session-policy")
        .collect();
    assert_eq!(beyond.len(), 2, "{f:?}");
    assert!(beyond.iter().all(|x| x["findingType"] == "WARNING"));
    let details: Vec<&str> = beyond
        .iter()
        .map(|x| x["findingDetails"].as_str().unwrap())
        .collect();
    assert!(
        details[0].contains("sns:Publish") && details[1].contains("s3:GetObject"),
        "{details:?}"
    );
    assert_eq!(
        code, 1,
        "the trust policy's SECURITY_WARNING still fails the run"
    );
    // The sub variable in a policy the pool's roles use is fine; in one they do not use, it never
    // resolves.
    let pool = path("policies/identity-pool/identity-pool.pool.json");
    let (_, f) = findings(&[
        "--pool",
        &pool,
        &path("policies/identity-pool/s3-prefix.json"),
    ]);
    assert!(
        !codes(&f).contains(&"cognito::sub-variable-unused"),
        "{f:?}"
    );
    let (_, f) = findings(&[
        "--pool",
        &pool,
        &path("policies/cognito-groups-dynamodb/row-level.json"),
    ]);
    assert!(codes(&f).contains(&"cognito::sub-variable-unused"), "{f:?}");
    // Without --pool neither check runs.
    let (_, f) = findings(&[
        &path("fixtures/lint/guest-role.json"),
        &path("policies/cognito-groups-dynamodb/row-level.json"),
    ]);
    assert!(
        !codes(&f).iter().any(|c| c.starts_with("cognito::")),
        "{f:?}"
    );
}

/// `fixtures/lint/checks.json`: per check, a policy that triggers it and one that does not.
fn checks_spec() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/lint/checks.json")).unwrap(),
    )
    .unwrap()
}

/// A case's policy as file text: a string is the exact text, anything else a JSON document.
fn case_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => serde_json::to_string_pretty(v).unwrap(),
    }
}

/// Every Access Analyzer check `lint` decides has a policy that triggers it and one that does not
/// (`fixtures/lint/checks.json`); the catalogue's other checks are listed there with the reason, and in
/// the README.
#[test]
fn every_check_fires_and_stays_quiet() {
    let spec = checks_spec();
    let dir = std::env::temp_dir().join(format!("pc-lint-checks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    let mut covered = std::collections::BTreeSet::new();
    for (i, c) in spec["cases"].as_array().unwrap().iter().enumerate() {
        let code = c["code"].as_str().unwrap();
        covered.insert(code.to_string());
        for (side, want) in [("fires", true), ("quiet", false)] {
            let text = case_text(&c[side]);
            let file = dir.join(format!("{i}-{side}.json"));
            std::fs::write(&file, text).unwrap();
            let mut args = vec!["--type", c["type"].as_str().unwrap()];
            if let Some(rt) = c["resource_type"].as_str() {
                args.extend(["--resource-type", rt]);
            }
            let f = file.display().to_string();
            args.push(&f);
            let (_, found) = findings(&args);
            let got = codes(&found);
            if got.contains(&code) != want {
                failures.push(format!("{code} {side}: {got:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The cases and the reasons cover the whole catalogue (and the newer check), each once.
    let all = access_analyzer_codes();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut not_decided = std::collections::BTreeSet::new();
    for (code, why) in spec["not_decided"].as_object().unwrap() {
        assert!(!why.as_str().unwrap().is_empty());
        assert!(!covered.contains(code), "{code} has cases and a reason");
        assert!(
            readme.contains(&format!("`{code}`")),
            "README does not name {code}"
        );
        not_decided.insert(code.clone());
    }
    let both: std::collections::BTreeSet<String> = covered.union(&not_decided).cloned().collect();
    assert_eq!(
        both, all,
        "cases + not_decided must be exactly the catalogue"
    );
}

/// `lint --format sarif` validates against the SARIF 2.1.0 JSON schema (OASIS, `fixtures/sarif`), over
/// findings of every kind: the triggering policy of every check, several locations included.
#[test]
fn sarif_validates_against_the_schema() {
    let spec = checks_spec();
    let dir = std::env::temp_dir().join(format!("pc-sarif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, c) in spec["cases"].as_array().unwrap().iter().enumerate() {
        let text = case_text(&c["fires"]);
        std::fs::write(dir.join(format!("{i:03}.json")), text).unwrap();
    }
    let (code, out, err) = run(&["lint", "--format", "sarif", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let log: Value = serde_json::from_str(&out).unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/sarif/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() > 100, "{} results", results.len());
    assert!(
        results
            .iter()
            .any(|r| !r["relatedLocations"].as_array().unwrap().is_empty()),
        "some findings have several locations"
    );
    // The validator is not a rubber stamp: a level SARIF does not define is refused.
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&bad));
}

/// `lint --api`: the API Gateway cache check on every identity policy linted, a warning naming the routes
/// a cached policy does not allow; nothing with caching off.
#[test]
fn lint_api_cache_coverage() {
    let api = path("policies/apigw-petstore/petstore.api.json");
    let (_, f) = findings(&[
        "--type",
        "identity",
        "--api",
        &api,
        &path("policies/apigw-petstore/groups/suspended.json"),
    ]);
    let cache: Vec<&Value> = f
        .iter()
        .filter(|x| x["issueCode"] == "apigw::cache-coverage")
        .collect();
    assert_eq!(cache.len(), 1, "{f:?}");
    assert_eq!(cache[0]["findingType"], "WARNING");
    let details = cache[0]["findingDetails"].as_str().unwrap();
    assert!(details.contains("TTL 300 s"), "{details}");
    assert!(
        details.contains("ANY /{proxy+} [GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS]"),
        "{details}"
    );
    // The same API with caching off: no finding.
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&api).unwrap()).unwrap();
    v["authorizer"]["ttl"] = Value::from(0);
    let off = std::env::temp_dir().join(format!("pc-api-ttl0-{}.json", std::process::id()));
    std::fs::write(&off, v.to_string()).unwrap();
    let (_, f) = findings(&[
        "--type",
        "identity",
        "--api",
        off.to_str().unwrap(),
        &path("policies/apigw-petstore/groups/suspended.json"),
    ]);
    assert!(!codes(&f).contains(&"apigw::cache-coverage"), "{f:?}");
}

/// Every Access Analyzer answer the corpus records (`fixtures/golden/*/aws.txt`, `by: access-analyzer`)
/// is what `lint` answers for the same file and policy type: the issue code and the finding type.
#[test]
fn corpus_access_analyzer_answers() {
    let golden = root().join("fixtures/golden");
    let mut checked = 0;
    let mut wrong = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("aws.txt").exists())
        .collect();
    dirs.sort();
    for d in dirs {
        let text = std::fs::read_to_string(d.join("aws.txt")).unwrap();
        let ty = text
            .lines()
            .find_map(|l| l.strip_prefix("policy-type: "))
            .unwrap_or("identity")
            .trim()
            .to_string();
        // The access-analyzer entries: `issue-code:` and `finding-type:` after `by: access-analyzer`.
        let mut want = Vec::new();
        let mut in_aa = false;
        for l in text.lines() {
            let l = l.trim();
            if let Some(by) = l.strip_prefix("- by: ") {
                in_aa = by == "access-analyzer";
            } else if in_aa && let Some(c) = l.strip_prefix("issue-code: ") {
                want.push((c.to_string(), String::new()));
            } else if in_aa
                && let Some(t) = l.strip_prefix("finding-type: ")
                && let Some(last) = want.last_mut()
            {
                last.1 = t.to_string();
            }
        }
        if want.is_empty() {
            continue;
        }
        let file = d.join("policy.json").display().to_string();
        let (_, f) = findings(&["--type", &ty, &file]);
        for (code, finding_type) in want {
            checked += 1;
            let hit = f.iter().any(|x| {
                x["issueCode"] == code.as_str() && x["findingType"] == finding_type.as_str()
            });
            if !hit {
                wrong.push(format!(
                    "{}: want {code} {finding_type}, got {:?}",
                    d.display(),
                    codes(&f)
                ));
            }
        }
    }
    assert!(checked >= 15, "only {checked} answers found");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `lint` over the saved fuzz inputs (broken JSON, odd bytes, deep nesting), as every policy type: it
/// never panics, exits 0 or 1, and every location lies inside its file.
#[test]
fn lint_survives_the_fuzz_corpus() {
    let globs: Vec<String> = ["policy", "parse", "grammars", "evaluate"]
        .iter()
        .map(|t| format!("{}/*", root().join("fixtures/fuzz").join(t).display()))
        .collect();
    let mut files = 0;
    for ty in [
        "auto", "identity", "resource", "trust", "boundary", "scp", "rcp", "session",
    ] {
        let mut args = vec![
            "lint",
            "--format",
            "json",
            "--fail-on",
            "ERROR",
            "--type",
            ty,
        ];
        args.extend(globs.iter().map(String::as_str));
        let (code, out, err) = run(&args);
        assert!(code <= 1, "{ty}: exit {code}: {err}");
        for line in out.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let name = v["file"].as_str().unwrap();
            let len = std::fs::read(name).unwrap().len() as u64;
            for f in v["findings"].as_array().unwrap() {
                assert!(!f["issueCode"].as_str().unwrap().is_empty());
                for l in f["locations"].as_array().unwrap() {
                    let (s, e) = (&l["span"]["start"], &l["span"]["end"]);
                    let (so, eo) = (s["offset"].as_u64().unwrap(), e["offset"].as_u64().unwrap());
                    assert!(so <= eo && eo <= len, "{ty} {name}: {l}");
                    assert!(s["line"].as_u64().unwrap() >= 1, "lines count from 1: {l}");
                    assert!(l["path"].is_array());
                }
            }
            files += 1;
        }
    }
    assert!(files > 5_000, "{files} files linted");
}

/// `--ignore CODE` and `--ignore FILE:CODE` leave findings out of the report and of the exit code, by
/// Access Analyzer's code or ours; a code no check has is a usage error.
#[test]
fn ignore_leaves_findings_out() {
    let dir = std::env::temp_dir().join(format!("pc-lint-ignore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("typo.json");
    std::fs::write(
        &file,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObjekt", "s3:Get*", "s3:GetObject"], "Resource": "*"}]}"#,
    )
    .unwrap();
    let f = file.display().to_string();
    let (code, all) = findings(&[&f]);
    assert_eq!(code, 1);
    assert_eq!(codes(&all), ["INVALID_ACTION", "REDUNDANT_ACTION"]);
    for rule in [
        "INVALID_ACTION",
        "iam::unknown-action",
        "typo.json:INVALID_ACTION",
        "typo.json:iam::unknown-action",
    ] {
        let (code, f2) = findings(&["--ignore", rule, &f]);
        assert_eq!((code, codes(&f2)), (0, vec!["REDUNDANT_ACTION"]), "{rule}");
    }
    // Another file's rule leaves this one alone; both codes at once, comma-separated.
    let (code, f2) = findings(&["--ignore", "other.json:INVALID_ACTION", &f]);
    assert_eq!((code, f2.len()), (1, 2));
    let (code, f2) = findings(&["--ignore", "INVALID_ACTION,REDUNDANT_ACTION", &f]);
    assert_eq!((code, f2.len()), (0, 0));
    let (code, _, err) = run(&["lint", "--ignore", "INVALID_ACTON", &f]);
    assert_eq!(code, 1);
    assert!(err.contains("no check has that code"), "{err}");
}

/// Guests and the basic flow: a Cognito trust policy without `amr` is a security warning on its own;
/// with `--pool`, a role other than the guest role whose trust policy a guest's OpenID token satisfies is
/// `cognito::guest-assumes-role` (its trust file is linted even when not named), unless the pool keeps
/// the basic flow off or the trust policy requires `authenticated`.
#[test]
fn guests_and_the_basic_flow() {
    let dir = "fixtures/lint/classic-pool";
    let (code, f) = findings(&[&path(&format!("{dir}/trust-auth-no-amr.json"))]);
    assert_eq!((code, codes(&f)), (1, vec!["cognito::trust-without-amr"]));
    assert_eq!(f[0]["findingType"], "SECURITY_WARNING");
    let (_, f) = findings(&[&path(&format!("{dir}/trust-auth.json"))]);
    assert!(codes(&f).is_empty(), "{f:?}");
    let read = path(&format!("{dir}/read.json"));
    let (code, f) = findings(&["--pool", &path(&format!("{dir}/pool.json")), &read]);
    assert_eq!(code, 1);
    let hit: Vec<&Value> = f
        .iter()
        .filter(|x| x["issueCode"] == "cognito::guest-assumes-role")
        .collect();
    assert_eq!(hit.len(), 1, "{f:?}");
    assert_eq!(hit[0]["findingType"], "SECURITY_WARNING");
    assert!(
        hit[0]["findingDetails"]
            .as_str()
            .unwrap()
            .contains("role/ClassicAuth"),
        "{hit:?}"
    );
    for quiet in ["pool-no-classic.json", "pool-fixed.json"] {
        let (_, f) = findings(&["--pool", &path(&format!("{dir}/{quiet}")), &read]);
        assert!(
            !codes(&f).contains(&"cognito::guest-assumes-role"),
            "{quiet}: {f:?}"
        );
    }
}

/// `--partition`: resource ARNs of another partition are `INVALID_PARTITION`, as `validate --partition`.
#[test]
fn partition_option() {
    let dir = std::env::temp_dir().join(format!("pc-lint-partition-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("p.json");
    std::fs::write(
        &file,
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*"}]}"#,
    )
    .unwrap();
    let f = file.display().to_string();
    let (code, found) = findings(&["--partition", "aws-cn", &f]);
    assert_eq!((code, codes(&found)), (1, vec!["INVALID_PARTITION"]));
    let (code, found) = findings(&["--partition", "aws", &f]);
    assert_eq!((code, found.len()), (0, 0));
}

/// Access Analyzer's own `ValidatePolicy` answers for AWS managed policies
/// (`fixtures/lint/access-analyzer-answers.jsonl`, see `fixtures/lint/README.md`), replayed position by
/// position: for every finding AWS gave, `lint --format json` gives the same issue code, finding type,
/// paths and spans (`Position`: line from 1, column from 0, offset from 0). The only answers it does not
/// reproduce are listed here with the reason; a finding of Access Analyzer's that AWS did not give is
/// allowed only where the two snapshots of the Service Authorization Reference differ (listed too).
#[test]
fn access_analyzer_positions_replayed() {
    // AWS's answer we do not give, and why.
    let not_given: &[(&str, &str)] = &[
        // `application-signals.cloudwatch.amazonaws.com` in `aws:CalledVia`: AWS's list of service
        // principals is not published; our data has no way to tell it is not one.
        (
            "CloudWatchApplicationSignalsFullAccess",
            "INVALID_SERVICE_PRINCIPAL_FORMAT",
        ),
        (
            "CloudWatchApplicationSignalsReadOnlyAccess",
            "INVALID_SERVICE_PRINCIPAL_FORMAT",
        ),
    ];
    // Ours that AWS did not give, from the later Service Authorization Reference (2026-09) than the
    // answers (2026-03): services retired in between, and tag / key support that changed.
    let data_drift: &[(&str, &str)] = &[
        (
            "AWSDeepLensLambdaFunctionAccessPolicy",
            "INVALID_SERVICE_IN_ACTION",
        ),
        (
            "ResourceGroupsTaggingAPITagUntagSupportedResources",
            "INVALID_SERVICE_IN_ACTION",
        ),
        (
            "AWSServiceRoleForSMS",
            "ALLOW_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
        ),
        (
            "AmazonDataZoneEnvironmentRolePermissionsBoundary",
            "ALLOW_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE",
        ),
        (
            "AmazonCodeGuruReviewerServiceRolePolicy",
            "FORALLVALUES_WITH_SINGLE_VALUED_KEY",
        ),
    ];
    let text = std::fs::read_to_string(root().join("fixtures/lint/access-analyzer-answers.jsonl"))
        .unwrap();
    let dir = std::env::temp_dir().join(format!("pc-aa-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mut same, mut wrong) = (0, Vec::new());
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let name = case["policy"].as_str().unwrap();
        let file = dir.join(format!("{name}.json"));
        std::fs::write(&file, case["text"].as_str().unwrap()).unwrap();
        let (_, ours) = findings(&["--type", "identity", file.to_str().unwrap()]);
        let key = |f: &Value| (f["issueCode"].clone(), f["locations"][0]["path"].clone());
        for aws in case["findings"].as_array().unwrap() {
            if not_given.contains(&(name, aws["issueCode"].as_str().unwrap())) {
                continue;
            }
            match ours.iter().find(|o| key(o) == key(aws)) {
                Some(o)
                    if o["findingType"] == aws["findingType"]
                        && o["locations"] == aws["locations"] =>
                {
                    same += 1
                }
                Some(o) => wrong.push(format!("{name}: AWS {aws}\n  ours {o}")),
                None => wrong.push(format!("{name}: AWS {aws}\n  ours: not given")),
            }
        }
        for o in &ours {
            let code = o["issueCode"].as_str().unwrap();
            // Our own checks (`iam::…`, `lint::…`) are not Access Analyzer's.
            let ours_only = code.contains("::");
            let given = case["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| key(a) == key(o));
            if !ours_only && !given && !data_drift.contains(&(name, code)) {
                wrong.push(format!("{name}: ours only: {o}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(same, 175, "answers reproduced position by position");
}

/// One policy's findings, linted as `ty` (written to a temporary file).
fn lint_codes(ty: &str, policy: &str) -> Vec<Value> {
    let dir = std::env::temp_dir().join(format!("pc-lint-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let file = dir.join(format!(
        "p{}.json",
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::write(&file, policy).unwrap();
    findings(&["--type", ty, file.to_str().unwrap()]).1
}

fn has(f: &[Value], code: &str) -> bool {
    f.iter().any(|x| x["issueCode"] == code)
}

/// The Access Analyzer rules the conformance issue named, each firing and quiet.
#[test]
fn access_analyzer_rules_that_used_to_differ() {
    let pol = |stmt: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{stmt}]}}"#);
    // Region and account rules hold when the resource part has a wildcard.
    let f = lint_codes(
        "identity",
        &pol(
            r#"{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb::123456789012:table/*"}"#,
        ),
    );
    assert!(has(&f, "MISSING_ARN_REGION"), "{f:?}");
    let f = lint_codes(
        "identity",
        &pol(
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3::123456789012:my-bucket/*"}"#,
        ),
    );
    assert!(has(&f, "ARN_ACCOUNT_NOT_ALLOWED"), "{f:?}");
    let f = lint_codes(
        "identity",
        &pol(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::my-bucket/*"}"#),
    );
    assert!(
        !has(&f, "ARN_ACCOUNT_NOT_ALLOWED") && !has(&f, "MISSING_ARN_REGION"),
        "{f:?}"
    );
    // A bare `*` resource part reaches formats that disagree: no finding.
    let f = lint_codes(
        "identity",
        &pol(
            r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3::123456789012:*"}"#,
        ),
    );
    assert!(!has(&f, "ARN_ACCOUNT_NOT_ALLOWED"), "{f:?}");
    // An unknown service in a resource ARN.
    let f = lint_codes(
        "identity",
        &pol(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s4:::my-bucket/*"}"#),
    );
    assert!(has(&f, "INVALID_SERVICE"), "{f:?}");
    // An unknown prefix in an action is INVALID_SERVICE_IN_ACTION, suggestion or not.
    let f = lint_codes(
        "identity",
        &pol(r#"{"Effect":"Allow","Action":"zzqqxx:GetThing","Resource":"*"}"#),
    );
    assert!(
        has(&f, "INVALID_SERVICE_IN_ACTION") && !has(&f, "INVALID_SERVICE"),
        "{f:?}"
    );
    // An assumed-role session beside its role, written with `iam` as AWS's own example writes it.
    let trust = pol(
        r#"{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:role/app","arn:aws:iam::123456789012:assumed-role/app/s1"]},"Action":"sts:AssumeRole"}"#,
    );
    let f = lint_codes("trust", &trust);
    assert!(has(&f, "REDUNDANT_PRINCIPAL_IN_ROLE_TRUST_POLICY"), "{f:?}");
    // Condition-key support per action: a key no named action of its service supports.
    let f = lint_codes(
        "identity",
        &pol(
            r#"{"Effect":"Allow","Action":"dynamodb:DescribeTable","Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["a"]}}}"#,
        ),
    );
    assert!(has(&f, "UNSUPPORTED_ACTION_FOR_CONDITION_KEY"), "{f:?}");
    let f = lint_codes(
        "identity",
        &pol(
            r#"{"Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:DescribeTable"],"Resource":"*","Condition":{"ForAllValues:StringEquals":{"dynamodb:LeadingKeys":["a"]}}}"#,
        ),
    );
    assert!(!has(&f, "UNSUPPORTED_ACTION_FOR_CONDITION_KEY"), "{f:?}");
    let f = lint_codes(
        "resource",
        &pol(
            r#"{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:TagSession","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:x"}}}"#,
        ),
    );
    assert!(has(&f, "UNSUPPORTED_ACTION_FOR_CONDITION_KEY"), "{f:?}");
    // Variables in a principal.
    let f = lint_codes(
        "resource",
        &pol(
            r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/${aws:username}"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        ),
    );
    assert!(has(&f, "VARIABLE_UNSUPPORTED_IN_ELEMENT"), "{f:?}");
    // sts:AssumeRole with a federated principal; the finding names the action and the principal.
    let f = lint_codes(
        "resource",
        &pol(
            r#"{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
        ),
    );
    let m = f
        .iter()
        .find(|x| x["issueCode"] == "MISMATCHED_ACTION_FOR_PRINCIPAL")
        .unwrap_or_else(|| panic!("{f:?}"));
    let paths: Vec<&Value> = m["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["path"])
        .collect();
    assert!(
        paths.iter().any(|p| p.to_string().contains("Federated")),
        "{m}"
    );
    assert!(
        paths.iter().any(|p| p.to_string().contains("Action")),
        "{m}"
    );
    // A trust policy sent as a resource policy ("resource policies include trust policies for IAM
    // roles"): no FEDERATED_PRINCIPAL_NOT_SUPPORTED; a bucket policy with a federated principal: yes.
    let cognito_trust = pol(
        r#"{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:12345678-1234-1234-1234-123456789012"},"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}}"#,
    );
    let f = lint_codes("resource", &cognito_trust);
    assert!(
        !has(&f, "FEDERATED_PRINCIPAL_NOT_SUPPORTED")
            && !has(&f, "MISMATCHED_ACTION_FOR_PRINCIPAL"),
        "{f:?}"
    );
    let f = lint_codes(
        "resource",
        &pol(
            r#"{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#,
        ),
    );
    assert!(has(&f, "FEDERATED_PRINCIPAL_NOT_SUPPORTED"), "{f:?}");
    // SCPs take the full IAM language: wildcards anywhere in an action, Allow with conditions,
    // NotAction and NotResource, resource ARNs.
    let scp = pol(
        r#"{"Effect":"Allow","Action":"s3:*Object*","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}},{"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:s3:::secret/*"}"#,
    );
    let f = lint_codes("scp", &scp);
    assert!(
        !f.iter().any(|x| x["issueCode"]
            .as_str()
            .unwrap()
            .starts_with("SCP_SYNTAX_ERROR")),
        "{f:?}"
    );
}
