//! dingtalk-codegen: turns the YAML description in `spec/` into the `dingtalk` crate's API modules.
//!
//! The pipeline has three stages, each in its own module:
//! 1. [`check`] loads the YAML and validates it into the [`model`], reporting every problem with
//!    its file and line ([`diag`]);
//! 2. [`emit`] turns the model into tokens (`quote!`) and formats them with prettyplease;
//! 3. [`output`] owns the generated file set: it writes it, deletes files the spec no longer
//!    produces, and in `--check` mode reports drift without writing.

pub mod check;
pub mod diag;
pub mod emit;
mod example;
pub mod locate;
pub mod model;
pub mod naming;
pub mod output;
mod raw;

use std::collections::BTreeMap;
use std::path::Path;

pub use diag::Diagnostic;

/// Loads and validates the spec in `spec_dir`.
pub fn load(spec_dir: &Path) -> Result<model::Spec, Vec<Diagnostic>> {
    let files = check::read_dir(spec_dir)?;
    check::check(&files)
}

/// Generates every file for the spec in `spec_dir`, keyed by path relative to the output crate.
pub fn generate(spec_dir: &Path) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    let spec = load(spec_dir)?;
    emit::files(&spec).map_err(|message| {
        vec![Diagnostic {
            loc: diag::Loc {
                file: spec_dir.display().to_string(),
                line: 1,
            },
            message,
        }]
    })
}

/// Generates from in-memory files (fixtures and tests).
pub fn generate_sources(
    files: &[check::SourceFile],
) -> Result<BTreeMap<String, String>, Vec<Diagnostic>> {
    let spec = check::check(files)?;
    emit::files(&spec).map_err(|message| {
        vec![Diagnostic {
            loc: diag::Loc {
                file: "spec".into(),
                line: 1,
            },
            message,
        }]
    })
}
