//! Golden tests: the emitted code for small fixture specs, compared byte for byte.
//!
//! Each folder under `tests/golden/` holds `spec/*.yaml` and the expected output under
//! `expected/`. After an intended change to the emitter, refresh them with
//! `UPDATE_GOLDENS=1 cargo test -p dingtalk-codegen --test golden` and review the diff.

use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/golden exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn emitted_code_matches_the_goldens() {
    let update = std::env::var_os("UPDATE_GOLDENS").is_some();
    let mut failures = Vec::new();
    let fixtures = fixtures();
    assert!(fixtures.len() >= 2, "fixtures missing");
    for dir in fixtures {
        let files = match dingtalk_codegen::generate(&dir.join("spec")) {
            Ok(files) => files,
            Err(diags) => panic!("{} does not validate: {diags:#?}", dir.display()),
        };
        let expected = dir.join("expected");
        if update {
            dingtalk_codegen::output::write(&expected, &files).expect("write goldens");
            continue;
        }
        let drift = dingtalk_codegen::output::drift(&expected, &files).expect("read goldens");
        if !drift.is_empty() {
            failures.push(format!("{}:\n{}", dir.display(), drift.report()));
        }
    }
    assert!(
        failures.is_empty(),
        "goldens differ (UPDATE_GOLDENS=1 to accept):\n{}",
        failures.join("\n")
    );
}

#[test]
fn generation_is_deterministic() {
    for dir in fixtures() {
        let a = dingtalk_codegen::generate(&dir.join("spec")).expect("valid");
        let b = dingtalk_codegen::generate(&dir.join("spec")).expect("valid");
        assert_eq!(a, b);
    }
}
