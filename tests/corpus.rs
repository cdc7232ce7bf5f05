//! Real documents: every AWS managed policy, the policies in `policies/`.

use iam_policy::{PolicyType, Source, ValidateOptions};

use crate::root;

/// (name, text) of every managed policy in the fixture.
pub fn managed() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("fixtures/aws-managed/policies.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["name"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn all_managed_policies_validate_as_identity() {
    let all = managed();
    assert_eq!(all.len(), 1594);
    let mut statements = 0;
    for (name, text) in &all {
        let c = iam_policy::check(
            name,
            text.as_bytes(),
            PolicyType::Identity,
            &ValidateOptions::default(),
        );
        let errors: Vec<_> = c
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| &d.message)
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        statements += c.document.unwrap().statements.len();
    }
    assert_eq!(
        statements, 8853,
        "the corpus README counts 8,853 statements"
    );
}

#[test]
fn managed_policies_print_and_reparse_to_the_same_policy() {
    for (name, text) in managed() {
        let doc = iam_policy::parse(&Source::new(name.as_str(), text.as_str())).unwrap();
        let printed = doc.to_string();
        let again = iam_policy::parse(&Source::new(name.as_str(), printed.as_str()))
            .unwrap_or_else(|e| panic!("{name}: {e}\n{printed}"));
        assert_eq!(doc, again, "{name}");
        assert_eq!(printed, again.to_string(), "{name}: printing is not stable");
    }
}

#[test]
fn bundled_policies_validate() {
    let files =
        policy_check::expand_paths(&[root().join("policies").display().to_string()]).unwrap();
    assert_eq!(files.len(), 15, "policies/ holds {} policies", files.len());
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        let c = iam_policy::parse_bytes(&f.display().to_string(), &bytes);
        let doc =
            c.1.unwrap_or_else(|| panic!("{} does not parse: {:?}", f.display(), c.2));
        let ty = policy_check::policies::infer_type(&doc);
        let mut diags = c.2;
        diags.extend(iam_policy::validate(&doc, ty, &ValidateOptions::default()));
        let errors: Vec<_> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| &d.message)
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", f.display());
    }
}
