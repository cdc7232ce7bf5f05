//! A 2,000-line CloudFormation template with 100 policies (50 roles, each with a trust policy using
//! `!Ref` of the identity pool and an inline policy using `!Sub`, `!GetAtt`, `!If` and a mapping), read
//! and resolved. The template is also written to `target/tmp/big-template.yaml` for whole-process runs
//! (`policy-check lint --template …`, see the README).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};

/// The template: `roles` roles, about 40 lines each.
pub fn big_template(roles: usize) -> String {
    let mut t = String::from(
        "AWSTemplateFormatVersion: '2010-09-09'\nParameters:\n  Stage:\n    Type: String\n    Default: prod\n    AllowedValues: [dev, prod]\nConditions:\n  IsProd: !Equals [!Ref Stage, prod]\nMappings:\n  StageConfig:\n    dev: {Retention: 7}\n    prod: {Retention: 30}\nResources:\n  IdentityPool:\n    Type: AWS::Cognito::IdentityPool\n    Properties:\n      AllowUnauthenticatedIdentities: false\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Sub 'notes-${Stage}'\n",
    );
    for i in 0..roles {
        t.push_str(&format!(
            "  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub 'app-${{Stage}}-role-{i}'
      Path: /app/
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Federated: cognito-identity.amazonaws.com
            Action: sts:AssumeRoleWithWebIdentity
            Condition:
              StringEquals:
                cognito-identity.amazonaws.com:aud: !Ref IdentityPool
              ForAnyValue:StringLike:
                cognito-identity.amazonaws.com:amr: authenticated
      Policies:
        - PolicyName: data-{i}
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Sid: Rows{i}
                Effect: Allow
                Action:
                  - dynamodb:GetItem
                  - dynamodb:PutItem
                  - dynamodb:Query
                Resource: !GetAtt Table.Arn
                Condition:
                  ForAllValues:StringEquals:
                    dynamodb:LeadingKeys:
                      - '${{cognito-identity.amazonaws.com:sub}}'
              - Sid: Objects{i}
                Effect: Allow
                Action: [s3:GetObject, s3:PutObject]
                Resource: !Sub 'arn:${{AWS::Partition}}:s3:::bucket-${{AWS::AccountId}}-{i}/${{!cognito-identity.amazonaws.com:sub}}/*'
              - Sid: Logs{i}
                Effect: !If [IsProd, Allow, Deny]
                Action: logs:PutLogEvents
                Resource: !Sub
                  - 'arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/app/{i}-${{Days}}:*'
                  - Days: !FindInMap [StageConfig, !Ref Stage, Retention]
"
        ));
    }
    t
}

fn bench(c: &mut Criterion) {
    let text = big_template(50);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tmp");
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join("big-template.yaml"), &text);
    let lines = text.lines().count();
    let settings = iac::Settings::default();
    let found = iac::Template::read("big.yaml", &text)
        .and_then(|t| t.policies(&settings))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.policies.len(), 100);
    let mut g = c.benchmark_group("template");
    g.bench_function(format!("read-resolve-{lines}-lines-100-policies"), |b| {
        b.iter(|| {
            let t = iac::Template::read("big.yaml", std::hint::black_box(&text))
                .unwrap_or_else(|e| panic!("{e}"));
            t.policies(&settings).unwrap_or_else(|e| panic!("{e}"))
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
