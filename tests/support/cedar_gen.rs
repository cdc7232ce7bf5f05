//! A generated Cedar store shared by the index-equivalence test and the benches.

use cedar_bridge::PolicyStore;
use cedar_bridge::claims::IdentitySource;

/// `n` policies over 100 actions, users, groups and documents; every 17th is a `forbid`.
pub fn generated_store(n: usize) -> PolicyStore {
    let mut text = String::new();
    for i in 0..n {
        let effect = if i % 17 == 0 { "forbid" } else { "permit" };
        let principal = match i % 4 {
            0 => "principal".to_string(),
            1 => "principal is App::User".to_string(),
            2 => format!("principal == App::User::\"us-east-1_Example|u{}\"", i % 50),
            _ => format!("principal in App::Group::\"us-east-1_Example|g{}\"", i % 7),
        };
        let resource = if i % 3 == 0 {
            format!("resource == Doc::\"d{}\"", i % 40)
        } else {
            "resource is Doc".to_string()
        };
        text.push_str(&format!(
            "@id(\"p{i}\") {effect}({principal}, action == Action::\"a{}\", {resource}) when {{ context.level >= {} }};\n",
            i % 100,
            i % 5
        ));
    }
    let src = IdentitySource::cognito("us-east-1_Example", "App::User", Some("App::Group"));
    match PolicyStore::from_parts(
        &[("gen.cedar".into(), text)],
        None,
        Some(src),
        Vec::new(),
        true,
    ) {
        Ok(s) => s,
        Err(e) => panic!("generated store: {e}"),
    }
}
