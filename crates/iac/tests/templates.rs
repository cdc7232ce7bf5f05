//! Templates read and resolved as CloudFormation documents them: the short forms, each intrinsic function,
//! pseudo-parameters, conditions, the return values of the resource types, placeholders, positions, and
//! every kind of bad template as a coded error with its line.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
use std::collections::BTreeMap;
use std::path::PathBuf;

use iac::{Found, IacError, Settings, Template, render};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn notes_app(params: &[(&str, &str)]) -> (Template, Found) {
    let text = std::fs::read_to_string(root().join("fixtures/templates/notes-app.yaml")).unwrap();
    let t = Template::read("notes-app.yaml", &text).unwrap();
    let s = Settings {
        parameters: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
        ..Settings::default()
    };
    let found = t.policies(&s).unwrap();
    (t, found)
}

fn json(v: &diag::json::Value) -> serde_json::Value {
    serde_json::from_str(&render(v).0).unwrap()
}

#[test]
fn the_notes_app_resolves_as_cloudformation_would() {
    let (t, found) = notes_app(&[]);
    let names: Vec<String> = found.policies.iter().map(iac::Policy::name).collect();
    assert_eq!(
        names,
        [
            "AuthenticatedRole.AssumeRolePolicyDocument",
            "AuthenticatedRole.Policies[0] (own-rows)",
            "AuthenticatedRole.Policies[1] (own-prefix)",
            "BucketPolicy.PolicyDocument",
            "EventsPolicy.PolicyDocument",
        ],
        "the prod-only policy is switched off by Fn::If with AWS::NoValue in dev"
    );
    let trust = json(&found.policies[0].document);
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["cognito-identity.amazonaws.com:aud"],
        "us-east-1:00000000-0000-4000-8000-000000000000",
        "Ref of an identity pool is its id, a placeholder until deployed"
    );
    let rows = json(&found.policies[1].document);
    assert_eq!(
        rows["Statement"][0]["Resource"], "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
        "GetAtt Table.Arn from the TableName parameter's default"
    );
    assert_eq!(
        rows["Statement"][0]["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"][0],
        "${cognito-identity.amazonaws.com:sub}",
        "a policy variable outside Fn::Sub is plain text"
    );
    let prefix = json(&found.policies[2].document);
    assert_eq!(
        prefix["Statement"][0]["Resource"],
        "arn:aws:s3:::notes-123456789012-dev/private/${cognito-identity.amazonaws.com:sub}/*",
        "${{!…}} in Fn::Sub is the literal ${{…}}; ${{Bucket.Arn}} is the bucket ARN"
    );
    let bucket = &found.policies[3];
    assert_eq!(bucket.attached_to, ["notes-123456789012-dev"]);
    assert_eq!(
        json(&bucket.document)["Statement"][0]["Resource"][1],
        "arn:aws:s3:::notes-123456789012-dev/*"
    );
    let queue = &found.policies[4];
    assert!(
        queue.attached_to[0]
            .starts_with("https://sqs.us-east-1.amazonaws.com/123456789012/stack-Events-"),
        "Ref of a queue is its URL, with a generated name: {:?}",
        queue.attached_to
    );
    // Every placeholder is said, with where it comes from.
    let notes: Vec<&str> = found.notes.iter().map(|n| n.text.as_str()).collect();
    assert!(
        notes.iter().any(|n| n.contains("shared-topic-arn")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("`Events` (AWS::SQS::Queue) has no QueueName")),
        "{notes:?}"
    );
    // Resources without policies are listed with the reason.
    assert!(found.skipped.iter().any(|s| s.logical_id == "NotesTable"));
    // Positions: the own-prefix Resource comes from line 75 of the template.
    let (text, map) = render(&found.policies[2].document);
    let at = text.find("arn:aws:s3:::notes").unwrap();
    let span = iac::locate(&map, at).unwrap();
    assert_eq!(t.line_col(span.start).0, 75, "{text}");
}

#[test]
fn parameters_and_conditions_change_what_is_found() {
    let (_, found) = notes_app(&[("Stage", "prod"), ("TableName", "ProdNotes")]);
    assert_eq!(found.policies.len(), 6, "IsProd adds the prod-only policy");
    assert_eq!(
        json(&found.policies[1].document)["Statement"][0]["Resource"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/ProdNotes"
    );
    let text = std::fs::read_to_string(root().join("fixtures/templates/notes-app.yaml")).unwrap();
    let t = Template::read("notes-app.yaml", &text).unwrap();
    let bad = Settings {
        parameters: [("Stage".to_string(), "qa".to_string())].into(),
        ..Settings::default()
    };
    let e = t.policies(&bad).unwrap_err();
    assert_eq!(e.code, diag::codes::IAC_PARAMETER);
    assert!(e.message.contains("AllowedValues"), "{e}");
}

#[test]
fn json_and_yaml_forms_give_the_same_policies() {
    let yaml = "Resources:\n  R:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: !Sub '${AWS::StackName}-r'\n      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: 'sts:AssumeRole'}]}\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Version: '2012-10-17'\n            Statement:\n              - Effect: Allow\n                Action: sqs:SendMessage\n                Resource: !Join [':', [arn, !Ref AWS::Partition, sqs, !Ref AWS::Region, !Ref AWS::AccountId, !Select [1, !Split [',', 'a,q1,b']]]]\n";
    let json_text = r#"{"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": {"Fn::Sub": "${AWS::StackName}-r"},
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage",
          "Resource": {"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, "sqs", {"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}, {"Fn::Select": [1, {"Fn::Split": [",", "a,q1,b"]}]}]]}}]}}]}}}}"#;
    let s = Settings {
        region: "cn-north-1".into(),
        ..Settings::default()
    };
    let a = Template::read("t.yaml", yaml)
        .unwrap()
        .policies(&s)
        .unwrap();
    let b = Template::read("t.json", json_text)
        .unwrap()
        .policies(&s)
        .unwrap();
    let docs = |f: &Found| {
        f.policies
            .iter()
            .map(|p| json(&p.document))
            .collect::<Vec<_>>()
    };
    assert_eq!(docs(&a), docs(&b));
    assert_eq!(
        docs(&a)[1]["Statement"][0]["Resource"],
        "arn:aws-cn:sqs:cn-north-1:123456789012:q1",
        "the partition follows the Region"
    );
}

fn error(yaml: &str) -> IacError {
    match Template::read("bad.yaml", yaml) {
        Err(e) => e,
        Ok(t) => t.policies(&Settings::default()).unwrap_err(),
    }
}

#[test]
fn bad_templates_are_coded_errors_with_their_line_and_resource() {
    let role = |resource: &str| {
        format!(
            "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {{}}\n      Policies:\n        - PolicyName: p\n          PolicyDocument:\n            Statement:\n              - Effect: Allow\n                Action: s3:GetObject\n                Resource: {resource}\n"
        )
    };
    let cases = [
        (role("!Ref Nothing"), diag::codes::IAC_UNRESOLVED, "Nothing", Some(12)),
        (role("!GetAtt Nothing.Arn"), diag::codes::IAC_UNRESOLVED, "Nothing", Some(12)),
        (role("!Sub '${Missing}/x'"), diag::codes::IAC_UNRESOLVED, "${!Missing}", Some(12)),
        (role("!Cidr [x, 1, 2]"), diag::codes::IAC_UNSUPPORTED, "Fn::Cidr", Some(12)),
        (role("!Bogus x"), diag::codes::IAC_PARSE, "!Bogus", Some(12)),
        (role("!FindInMap [M, a, b]"), diag::codes::IAC_UNRESOLVED, "Mappings", Some(12)),
        (role("!If [NoSuch, a, b]"), diag::codes::IAC_UNRESOLVED, "NoSuch", Some(12)),
        (
            "Parameters:\n  P: {Type: String}\nResources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties: {BucketName: !Ref P}\n  BP:\n    Type: AWS::S3::BucketPolicy\n    Properties: {Bucket: !Ref B, PolicyDocument: {}}\n".to_string(),
            diag::codes::IAC_PARAMETER,
            "--parameter P=",
            Some(2),
        ),
        (
            "Resources:\n  A:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !GetAtt B.QueueName}\n  B:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !GetAtt A.QueueName}\n  P:\n    Type: AWS::SQS::QueuePolicy\n    Properties: {Queues: [!Ref A], PolicyDocument: {}}\n".to_string(),
            diag::codes::IAC_CIRCULAR,
            "depends on itself",
            None,
        ),
        ("Resources:\n  R:\n    Properties: {}\n".to_string(), diag::codes::IAC_TEMPLATE, "no `Type`", Some(3)),
        ("Parameters: {}\n".to_string(), diag::codes::IAC_TEMPLATE, "no `Resources`", None),
        ("Resources: [unclosed\n".to_string(), diag::codes::IAC_PARSE, "YAML", None),
        ("{\"Resources\": {,}}".to_string(), diag::codes::IAC_PARSE, "JSON", None),
        ("Resources:\n  R: {Type: X}\n  R: {Type: Y}\n".to_string(), diag::codes::IAC_PARSE, "twice", Some(3)),
        (
            "Resources:\n  S: {Type: AWS::VerifiedPermissions::PolicyStore}\n  I:\n    Type: AWS::VerifiedPermissions::IdentitySource\n    Properties:\n      PolicyStoreId: !Ref S\n      PrincipalEntityType: User\n      Configuration: {OpenIdConnectConfiguration: {Issuer: 'https://idp.example.com'}}\n".to_string(),
            diag::codes::IAC_TEMPLATE,
            "exactly one `TokenSelection`",
            Some(3),
        ),
        (
            "Resources:\n  G:\n    Type: AWS::Cognito::UserPoolGroup\n    Properties: {UserPoolId: p, Precedence: first}\n".to_string(),
            diag::codes::IAC_TEMPLATE,
            "non-negative integer",
            Some(4),
        ),
    ];
    for (text, code, says, line) in cases {
        let e = error(&text);
        assert_eq!(e.code, code, "{text}\n{e}");
        assert!(e.message.contains(says), "{text}\n{e}");
        if let Some(l) = line {
            let src = diag::Source::new("bad.yaml", text.as_str());
            assert_eq!(src.line_col(e.span.start).0, l, "{text}\n{e}");
        }
        if code == diag::codes::IAC_UNRESOLVED || code == diag::codes::IAC_UNSUPPORTED {
            assert_eq!(e.logical_id.as_deref(), Some("Role"), "{e:?}");
        }
    }
}

#[test]
fn hostile_templates_do_not_hang_or_panic() {
    // Deep nesting, a billion-laughs alias chain, a huge Fn::Select index.
    let deep = format!("Resources: {}{}", "[".repeat(5000), "]".repeat(5000));
    let e = Template::read("deep.yaml", &deep).unwrap_err();
    assert_eq!(e.code, diag::codes::IAC_PARSE, "{e}");
    let deeper = format!("Resources: {}{}", "[".repeat(100), "]".repeat(100));
    let e = Template::read("deeper.yaml", &deeper).unwrap_err();
    assert!(e.message.contains("nested deeper than 64"), "{e}");
    let at_limit = format!("Resources: {}{}", "[".repeat(63), "]".repeat(63));
    assert_eq!(
        Template::read("limit.yaml", &at_limit).unwrap_err().code,
        diag::codes::IAC_TEMPLATE,
        "63 levels are read (and `Resources` is then not an object)"
    );
    let deep_json = format!(
        "{{\"Resources\": {}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert_eq!(
        Template::read("deep.json", &deep_json).unwrap_err().code,
        diag::codes::IAC_PARSE
    );
    let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        laughs.push_str(&format!(
            "l{i}: &l{i} [*{}, *{}]\n",
            if i == 1 {
                "a".into()
            } else {
                format!("l{}", i - 1)
            },
            if i == 1 {
                "a".into()
            } else {
                format!("l{}", i - 1)
            }
        ));
    }
    laughs.push_str("Resources: {}\n");
    let t = std::time::Instant::now();
    let e = Template::read("laughs.yaml", &laughs).unwrap_err();
    assert!(e.message.contains("aliases expand to more than"), "{e}");
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    let e = error(
        "Resources:\n  R:\n    Type: AWS::IAM::Policy\n    Properties:\n      PolicyDocument: !Select [99999999999, [a]]\n",
    );
    assert_eq!(e.code, diag::codes::IAC_UNRESOLVED, "{e}");
}

#[test]
fn sam_functions_get_the_role_sam_generates() {
    let text = std::fs::read_to_string(root().join("fixtures/templates/notes-sam.yaml")).unwrap();
    let t = Template::read("notes-sam.yaml", &text).unwrap();
    let found = t.policies(&Settings::default()).unwrap();
    let names: Vec<String> = found.policies.iter().map(iac::Policy::name).collect();
    assert_eq!(
        names,
        [
            "ListNotesRole.AssumeRolePolicyDocument (SAM)",
            "ListNotesRole.Policies[0] (ListNotesRolePolicy0, DynamoDBReadPolicy)",
            "ListNotesRole.Policies[2] (ListNotesRolePolicy2)",
            "ExistingRole.AssumeRolePolicyDocument",
        ]
    );
    let trust = json(&found.policies[0].document);
    assert_eq!(
        trust["Statement"][0]["Principal"]["Service"][0],
        "lambda.amazonaws.com"
    );
    // The policy template, with its parameter from the function's `Policies`, as SAM writes it.
    let read = json(&found.policies[1].document);
    assert!(
        read.get("Version").is_none(),
        "SAM writes policy templates without a Version"
    );
    assert_eq!(
        read["Statement"][0]["Resource"],
        serde_json::json!([
            "arn:aws:dynamodb:us-east-1:123456789012:table/Notes",
            "arn:aws:dynamodb:us-east-1:123456789012:table/Notes/index/*"
        ])
    );
    let role = found
        .roles
        .iter()
        .find(|r| r.logical_id == "ListNotesRole")
        .unwrap();
    assert_eq!(
        role.managed,
        [
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess"
        ]
    );
    // A function with its own role: SAM generates none.
    assert!(
        found
            .skipped
            .iter()
            .any(|s| s.logical_id == "Authorizer" && s.reason.contains("`Role`"))
    );
    // A policy template that does not exist, or lacks a parameter.
    for (bad, says) in [
        ("- NoSuchPolicy: {}", "not one of SAM's policy templates"),
        ("- DynamoDBReadPolicy: {}", "needs `TableName`"),
    ] {
        let y = format!(
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        {bad}\n"
        );
        let e = Template::read("f.yaml", &y)
            .unwrap()
            .policies(&Settings::default())
            .unwrap_err();
        assert_eq!(e.code, diag::codes::IAC_TEMPLATE, "{e}");
        assert!(e.message.contains(says), "{e}");
        assert_eq!(e.logical_id.as_deref(), Some("F"));
    }
}

#[test]
fn every_sam_policy_template_expands() {
    let data: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("crates/iac/data/sam-policy-templates.json")).unwrap(),
    )
    .unwrap();
    let templates = data["Templates"].as_object().unwrap();
    assert!(templates.len() >= 80, "{}", templates.len());
    for (name, def) in templates {
        let params: Vec<String> = def["Parameters"]
            .as_object()
            .unwrap()
            .keys()
            .map(|p| format!("{p}: value-{}", p.to_ascii_lowercase()))
            .collect();
        let y = format!(
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - {name}: {{{}}}\n",
            params.join(", ")
        );
        let found = Template::read("f.yaml", &y)
            .unwrap()
            .policies(&Settings::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let doc = json(&found.policies[1].document);
        assert!(doc["Statement"].is_array(), "{name}: {doc}");
        let text = doc.to_string();
        assert!(
            !text.contains("Fn::") && !text.contains("\"Ref\""),
            "{name}: unresolved {text}"
        );
    }
}

#[test]
fn terraform_plans_give_their_planned_policies() {
    let text =
        std::fs::read_to_string(root().join("fixtures/templates/notes-app.tfplan.json")).unwrap();
    let t = Template::read("notes-app.tfplan.json", &text).unwrap();
    assert_eq!(t.format, iac::SourceFormat::TerraformPlan);
    let found = t.policies(&Settings::default()).unwrap();
    let names: Vec<String> = found.policies.iter().map(iac::Policy::name).collect();
    assert_eq!(
        names,
        [
            "aws_s3_bucket_policy.tls_only.policy",
            "module.auth.aws_iam_role.authenticated.assume_role_policy",
            "module.auth.aws_iam_role.authenticated.inline_policy[0] (own-prefix)",
            "module.auth.aws_iam_role_policy.own_rows.policy",
        ],
        "every module's resources; data sources are not resources"
    );
    assert_eq!(found.policies[1].policy_type, iam_policy::PolicyType::Trust);
    assert_eq!(found.policies[3].attached_to, ["notes-dev-authenticated"]);
    assert_eq!(
        json(&found.policies[2].document)["Statement"][0]["Resource"],
        "arn:aws:s3:::notes-123456789012-dev/private/${cognito-identity.amazonaws.com:sub}/*"
    );
    // A policy known only after apply is listed, never read as empty.
    let later = found
        .skipped
        .iter()
        .find(|s| s.logical_id == "aws_iam_policy.later")
        .unwrap();
    assert!(later.reason.contains("known only after apply"), "{later:?}");
    let role = &found.roles[0];
    assert_eq!(
        role.arn,
        "arn:aws:iam::123456789012:role/notes-dev-authenticated"
    );
    // Positions point into the plan: the trust policy's string.
    assert_eq!(t.line_col(found.policies[1].span.start).0, 63);
    // Another major format version is refused.
    let v2 = text.replace("\"format_version\": \"1.2\"", "\"format_version\": \"2.0\"");
    let e = Template::read("v2.json", &v2).unwrap_err();
    assert_eq!(e.code, diag::codes::IAC_TEMPLATE, "{e}");
}

#[test]
fn policy_stores_with_templates_and_links() {
    let y = r#"
Resources:
  Store:
    Type: AWS::VerifiedPermissions::PolicyStore
    Properties:
      ValidationSettings: {Mode: STRICT}
      Schema: {CedarJson: '{"App": {"entityTypes": {"User": {}, "Doc": {}}, "actions": {}}}'}
  Owner:
    Type: AWS::VerifiedPermissions::PolicyTemplate
    Properties:
      PolicyStoreId: !Ref Store
      Statement: 'permit(principal == ?principal, action, resource == ?resource);'
  AliceOwnsDoc1:
    Type: AWS::VerifiedPermissions::Policy
    Properties:
      PolicyStoreId: !GetAtt Store.PolicyStoreId
      Definition:
        TemplateLinked:
          PolicyTemplateId: !GetAtt Owner.PolicyTemplateId
          Principal: {EntityType: App::User, EntityId: alice}
          Resource: {EntityType: App::Doc, EntityId: doc1}
  Elsewhere:
    Type: AWS::VerifiedPermissions::Policy
    Properties:
      PolicyStoreId: some-other-store
      Definition: {Static: {Statement: 'permit(principal, action, resource);'}}
"#;
    let t = Template::read("avp.yaml", y).unwrap();
    let e = t.policies(&Settings::default()).unwrap_err();
    assert_eq!(e.code, diag::codes::IAC_UNRESOLVED);
    assert_eq!(e.logical_id.as_deref(), Some("Elsewhere"), "{e}");
    let y = y.replace(
        "PolicyStoreId: some-other-store",
        "PolicyStoreId: !Ref Store",
    );
    let found = Template::read("avp.yaml", &y)
        .unwrap()
        .policies(&Settings::default())
        .unwrap();
    let s = &found.policy_stores[0];
    assert_eq!(s.validation_mode, "STRICT");
    assert!(s.schema_json.as_deref().unwrap().contains("entityTypes"));
    assert_eq!(s.templates[0].0, "Owner");
    assert_eq!(
        s.policies,
        [(
            "Elsewhere".to_string(),
            "permit(principal, action, resource);".to_string()
        )]
    );
    assert_eq!(
        s.links,
        [iac::TemplateLink {
            logical_id: "AliceOwnsDoc1".into(),
            template: "Owner".into(),
            principal: Some("App::User::\"alice\"".into()),
            resource: Some("App::Doc::\"doc1\"".into()),
        }]
    );
}

#[test]
fn cdk_synthesized_templates_are_templates() {
    // `cdk synth` output: logical ids with hashes, `Fn::Join` for ARNs, `aws:cdk:path` metadata,
    // CDKMetadata behind a Region condition, the bootstrap version parameter (an SSM parameter type)
    // and a `Rules` section, none of which gets in the way.
    let text =
        std::fs::read_to_string(root().join("fixtures/templates/notes-cdk.template.json")).unwrap();
    let found = Template::read("notes-cdk.template.json", &text)
        .unwrap()
        .policies(&Settings::default())
        .unwrap();
    let role = &found.roles[0];
    assert_eq!(role.logical_id, "AuthenticatedRoleB1F9E1A2");
    let attached = &found.policies[1];
    assert_eq!(attached.resource_type, "AWS::IAM::Policy");
    assert_eq!(
        attached.attached_to,
        std::slice::from_ref(&role.name),
        "Roles: [Ref role] is the role's name"
    );
    assert_eq!(
        json(&attached.document)["Statement"][0]["Resource"],
        "arn:aws:s3:::notes-123456789012/private/${cognito-identity.amazonaws.com:sub}/*"
    );
    assert_eq!(found.identity_pools.len(), 1);
    // In a Region outside the metadata condition, CDKMetadata is left out (and said).
    let eu = Settings {
        region: "eu-west-3".into(),
        ..Settings::default()
    };
    let found = Template::read("notes-cdk.template.json", &text)
        .unwrap()
        .policies(&eu)
        .unwrap();
    assert!(
        found
            .skipped
            .iter()
            .any(|s| s.logical_id == "CDKMetadata" && s.reason.contains("CDKMetadataAvailable"))
    );
}

#[test]
fn api_gateway_apis_become_api_definitions() {
    let text =
        std::fs::read_to_string(root().join("fixtures/templates/petstore-api.yaml")).unwrap();
    let found = Template::read("petstore-api.yaml", &text)
        .unwrap()
        .policies(&Settings::default())
        .unwrap();
    let rest = &found
        .apis
        .iter()
        .find(|a| a.logical_id == "PetStoreApi")
        .unwrap()
        .definition;
    assert_eq!(rest["stage"], "prod");
    assert_eq!(rest["format"], "rest");
    assert_eq!(
        rest["routes"],
        serde_json::json!(["ANY /{proxy+}", {"route": "GET /health", "authorizer": false}]),
        "paths from the resource tree; NONE methods are open"
    );
    assert_eq!(
        rest["authorizer"],
        serde_json::json!({"type": "REQUEST", "identity_sources": ["method.request.header.Authorization"], "ttl": 300})
    );
    let http = &found
        .apis
        .iter()
        .find(|a| a.logical_id == "HttpApi")
        .unwrap()
        .definition;
    assert_eq!(http["format"], "http2-simple");
    assert_eq!(http["stage"], "$default");
    assert_eq!(http["routes"], serde_json::json!(["ANY /{proxy+}"]));
    // Authorizers the model does not have are refused, not guessed.
    let cognito = text.replace(
        "AuthorizationType: CUSTOM\n      AuthorizerId: !Ref GroupAuthorizer",
        "AuthorizationType: COGNITO_USER_POOLS",
    );
    let e = Template::read("t.yaml", &cognito)
        .unwrap()
        .policies(&Settings::default())
        .unwrap_err();
    assert_eq!(e.code, diag::codes::IAC_UNSUPPORTED, "{e}");
    assert_eq!(e.logical_id.as_deref(), Some("ProxyAny"));
}

/// SAM's `Globals`: a map is merged key by key (the resource's value wins), a list is added to (the
/// global entries first), a primitive is replaced; an unknown section is an error.
#[test]
fn sam_globals_are_inherited_as_sam_documents() {
    let t = Template::read(
        "sam.yaml",
        "Transform: AWS::Serverless-2016-10-31\nGlobals:\n  Function:\n    Timeout: 5\n    Layers: [a]\n    Environment: {Variables: {STAGE: dev, TABLE: t}}\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Timeout: 9\n      Layers: [b]\n      Environment: {Variables: {TABLE: mine}}\n  G:\n    Type: AWS::Serverless::Function\n",
    )
    .unwrap();
    let f = json(t.resource("F").unwrap().properties.as_ref().unwrap());
    assert_eq!(f["Timeout"], 9);
    assert_eq!(f["Layers"], serde_json::json!(["a", "b"]));
    assert_eq!(
        f["Environment"]["Variables"],
        serde_json::json!({"STAGE": "dev", "TABLE": "mine"})
    );
    let g = json(t.resource("G").unwrap().properties.as_ref().unwrap());
    assert_eq!(g["Timeout"], 5);
    let e = Template::read(
        "sam.yaml",
        "Globals:\n  Functions: {Timeout: 5}\nResources:\n  F: {Type: AWS::Serverless::Function}\n",
    )
    .unwrap_err();
    assert_eq!(e.code, diag::codes::IAC_TEMPLATE);
    assert!(e.message.contains("Globals.Functions"), "{e}");
}

/// SAM APIs the gateway model cannot stand for are errors naming the API, never open routes: a Cognito
/// authorizer, IAM authorization, two authorizers on one API.
#[test]
fn sam_apis_the_model_cannot_hold_are_errors() {
    let api = |auth: &str, events: &str| {
        format!(
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n      StageName: prod\n      Auth:\n{auth}\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: a.b\n      Events:\n{events}\n"
        )
    };
    let event = |name: &str, path: &str, auth: &str| {
        format!(
            "        {name}:\n          Type: Api\n          Properties: {{RestApiId: !Ref Api, Path: {path}, Method: get{auth}}}\n"
        )
    };
    let lambda = "        Authorizers:\n          L: {FunctionArn: arn:aws:lambda:us-east-1:123456789012:function:a}\n          M: {FunctionArn: arn:aws:lambda:us-east-1:123456789012:function:b}\n          C: {UserPoolArn: arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_X}";
    let cases = [
        (
            api(
                &format!("        DefaultAuthorizer: C\n{lambda}"),
                &event("A", "/a", ""),
            ),
            "Cognito user pool authorizer",
        ),
        (
            api(
                &format!("        DefaultAuthorizer: AWS_IAM\n{lambda}"),
                &event("A", "/a", ""),
            ),
            "AWS_IAM",
        ),
        (
            api(
                &format!("        DefaultAuthorizer: L\n{lambda}"),
                &(event("A", "/a", "") + &event("B", "/b", ", Auth: {Authorizer: M}")),
            ),
            "more than one authorizer",
        ),
    ];
    for (text, says) in cases {
        let e = error(&text);
        assert_eq!(e.code, diag::codes::IAC_UNSUPPORTED, "{text}\n{e}");
        assert!(e.message.contains(says), "{text}\n{e}");
        assert_eq!(e.logical_id.as_deref(), Some("Api"), "{e:?}");
    }
    // One Lambda authorizer by default, one route opened with NONE: the definition says which.
    let t = Template::read(
        "ok.yaml",
        &api(
            &format!("        DefaultAuthorizer: L\n{lambda}"),
            &(event("A", "/a", "") + &event("B", "/b", ", Auth: {Authorizer: NONE}")),
        ),
    )
    .unwrap();
    let found = t.policies(&Settings::default()).unwrap();
    let d = &found
        .apis
        .iter()
        .find(|a| a.logical_id == "Api")
        .unwrap()
        .definition;
    assert_eq!(
        d["routes"],
        serde_json::json!(["GET /a", {"route": "GET /b", "authorizer": false}])
    );
    assert_eq!(d["authorizer"]["type"], "TOKEN");
    assert_eq!(
        d["authorizer"]["identity_sources"],
        serde_json::json!(["method.request.header.Authorization"])
    );
    assert_eq!(d["authorizer"]["ttl"], 300);
}

/// A plan whose identity-pool `roles` are known only after apply and refer to two roles that do not say
/// which is the guest's: an error naming the attachment, never a guess.
#[test]
fn terraform_roles_that_cannot_be_told_apart_are_an_error() {
    let text = std::fs::read_to_string(root().join("policies/s3-web-app/web-app.tfplan.json"))
        .unwrap()
        .replace("aws_iam_role.unauth", "aws_iam_role.second")
        .replace("\"unauth\"", "\"second\"")
        .replace("aws_iam_role.auth", "aws_iam_role.first")
        .replace("\"auth\"", "\"first\"");
    let t = Template::read("plan.json", &text).unwrap();
    let e = t.policies(&Settings::default()).unwrap_err();
    assert_eq!(e.code, diag::codes::IAC_UNRESOLVED, "{e}");
    assert!(e.message.contains("several roles"), "{e}");
    assert_eq!(
        e.logical_id.as_deref(),
        Some("aws_cognito_identity_pool_roles_attachment.msn")
    );
    // As written, the guest role's name tells them apart.
    let t = Template::read(
        "plan.json",
        &std::fs::read_to_string(root().join("policies/s3-web-app/web-app.tfplan.json")).unwrap(),
    )
    .unwrap();
    let found = t.policies(&Settings::default()).unwrap();
    let pool = &found.identity_pools[0];
    assert_eq!(
        pool.unauthenticated_role.as_deref(),
        Some("arn:aws:iam::123456789012:role/Cognito_MSNIdentityPoolUnauth_Role")
    );
    assert_eq!(
        pool.authenticated_role.as_deref(),
        Some("arn:aws:iam::123456789012:role/Cognito_MSNIdentityPoolAuth_Role")
    );
}
