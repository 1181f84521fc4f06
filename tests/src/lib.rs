//! Test support for the `dingtalk` crate: a local DingTalk stand-in driven by the spec, and a
//! comparison of decoded responses against the spec's examples.

pub mod compare;
pub mod standin;

use std::path::PathBuf;

/// The repository's `spec/` folder.
pub fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

/// The validated spec; panics with every diagnostic when it does not load (a test failure).
pub fn load_spec() -> dingtalk_codegen::model::Spec {
    match dingtalk_codegen::load(&spec_dir()) {
        Ok(spec) => spec,
        Err(diags) => {
            let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            panic!("spec/ does not validate:\n{}", text.join("\n"))
        }
    }
}
