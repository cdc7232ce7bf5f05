//! Replays every saved fuzz input (`fixtures/fuzz/<target>/`: minimized corpora and past crashes)
//! through the same target bodies libFuzzer runs, so CI keeps them fixed without running the fuzzer.

use crate::root;

#[test]
fn saved_fuzz_inputs_replay_clean() {
    let mut total = 0;
    for (name, run) in fuzz_targets::TARGETS {
        let dir = root().join("fixtures/fuzz").join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(
            !files.is_empty(),
            "no saved inputs for `{name}` in {}",
            dir.display()
        );
        for f in &files {
            let data = std::fs::read(f).unwrap();
            run(&data);
        }
        total += files.len();
    }
    assert_eq!(total, 1430, "saved fuzz inputs in fixtures/fuzz");
}

/// The repository's own inputs go through the targets too: every malformed policy, seed policy and
/// token.
#[test]
fn repository_inputs_through_the_targets() {
    let mut n = 0;
    for dir in ["fixtures/golden", "policies"] {
        let mut files = Vec::new();
        policy_check::files::walk_matching(&root().join(dir), &|_| true, &mut files).unwrap();
        for f in files {
            let data = std::fs::read(&f).unwrap();
            fuzz_targets::policy(&data);
            fuzz_targets::avp(&data);
            fuzz_targets::token(&data);
            n += 1;
        }
    }
    assert_eq!(n, 211, "files in fixtures/golden and policies");
}
