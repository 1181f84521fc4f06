//! The generated file set on disk. The generator owns `src/api/` of the output crate entirely:
//! it writes what the spec produces, deletes anything else there, and reports both in check mode.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// The folder, relative to the output crate, that holds nothing but generated files.
pub const OWNED_DIR: &str = "src/api";

/// How the files on disk differ from a fresh generation.
#[derive(Debug, Default, PartialEq)]
pub struct Drift {
    /// Files whose content differs, with a unified diff (disk → fresh).
    pub changed: Vec<(String, String)>,
    /// Files the spec produces that are not on disk.
    pub missing: Vec<String>,
    /// Files on disk that the spec no longer produces.
    pub extra: Vec<String>,
}

impl Drift {
    /// Whether disk and spec agree.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }

    /// A report listing every drifted file, with diffs.
    pub fn report(&self) -> String {
        let mut out = String::new();
        for (file, diff) in &self.changed {
            out.push_str(&format!("changed: {file}\n{diff}\n"));
        }
        for file in &self.missing {
            out.push_str(&format!("missing: {file}\n"));
        }
        for file in &self.extra {
            out.push_str(&format!("extra (no longer produced by the spec): {file}\n"));
        }
        out
    }
}

/// Files currently under the owned folder, relative to `crate_dir`.
fn existing(crate_dir: &Path) -> io::Result<Vec<String>> {
    let root = crate_dir.join(OWNED_DIR);
    let mut out = Vec::new();
    if !root.exists() {
        return Ok(out);
    }
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(crate_dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Compares `files` with what is on disk under `crate_dir`.
pub fn drift(crate_dir: &Path, files: &BTreeMap<String, String>) -> io::Result<Drift> {
    let mut d = Drift::default();
    for (rel, fresh) in files {
        match std::fs::read_to_string(crate_dir.join(rel)) {
            Ok(old) if &old == fresh => {}
            Ok(old) => {
                let diff = similar::TextDiff::from_lines(&old, fresh)
                    .unified_diff()
                    .context_radius(2)
                    .header(&format!("{rel} (on disk)"), &format!("{rel} (from spec)"))
                    .to_string();
                d.changed.push((rel.clone(), diff));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => d.missing.push(rel.clone()),
            Err(e) => return Err(e),
        }
    }
    d.extra = existing(crate_dir)?
        .into_iter()
        .filter(|f| !files.contains_key(f))
        .collect();
    Ok(d)
}

/// Writes `files` under `crate_dir`, skipping unchanged ones, and deletes owned files the spec
/// no longer produces. Returns the paths it wrote or deleted.
pub fn write(crate_dir: &Path, files: &BTreeMap<String, String>) -> io::Result<Vec<PathBuf>> {
    let d = drift(crate_dir, files)?;
    let mut touched = Vec::new();
    for rel in d.changed.iter().map(|(f, _)| f).chain(&d.missing) {
        let path = crate_dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &files[rel])?;
        touched.push(path);
    }
    for rel in &d.extra {
        let path = crate_dir.join(rel);
        std::fs::remove_file(&path)?;
        touched.push(path);
    }
    Ok(touched)
}
