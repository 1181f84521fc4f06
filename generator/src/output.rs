//! The generated file set on disk. The generator owns `src/` of the output crate entirely
//! (`src/lib.rs` and `src/api/`): it writes what the spec produces, deletes other generated files
//! there, and reports both in check mode; a file there that it did not write (no `@generated`
//! header) is refused rather than deleted. Of the crate's `Cargo.toml` it owns one block, the
//! area features between two marker lines.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

/// The folder, relative to the output crate, that holds nothing but generated files.
pub const OWNED_DIR: &str = "src";

/// How every generated file starts.
pub const HEADER: &str = "// @generated";

/// The line that opens the generated block in the crate's `Cargo.toml` (the area features).
pub const BEGIN: &str = "# @generated-begin: one feature per API area (dingtalk-codegen writes this block from spec/; do not edit)";
/// The line that closes it.
pub const END: &str = "# @generated-end";

/// The manifest: its entry in the file set is the generated block, not the whole file.
pub const MANIFEST: &str = "Cargo.toml";

/// `manifest` with its generated block replaced by `block`, or why it cannot be.
fn splice(manifest: &str, block: &str) -> Result<String, String> {
    let begin = manifest.find(BEGIN);
    let end = begin.and_then(|b| manifest[b..].find(END).map(|e| b + e + END.len()));
    let (Some(begin), Some(end)) = (begin, end) else {
        return Err(format!(
            "{MANIFEST} has no generated block: add the lines `{BEGIN}` and `{END}` under `[features]`"
        ));
    };
    let end = if manifest[end..].starts_with('\n') {
        end + 1
    } else {
        end
    };
    let (before, after) = (&manifest[..begin], &manifest[end..]);
    // The manifest's own features, which an area must not redefine: the `[features]` lines
    // around the block.
    let features = before.rfind("[features]").map_or("", |i| &before[i..]);
    let after_lines = after
        .lines()
        .take_while(|l| !l.trim_start().starts_with('['));
    let own = keys(features.lines().skip(1).chain(after_lines));
    if let Some(clash) = keys(block.lines()).into_iter().find(|k| own.contains(k)) {
        return Err(format!(
            "{MANIFEST} already has a feature `{clash}`; an API area of that name would redefine it: give that spec file another `area:`"
        ));
    }
    Ok(format!("{before}{block}{after}"))
}

/// The keys of `key = value` lines, comments skipped.
fn keys<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<String> {
    lines
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim().to_string()))
        .collect()
}

/// What `rel` should contain on disk given its generated content, and what it contains now
/// (`None` when missing).
fn wanted(crate_dir: &Path, rel: &str, fresh: &str) -> io::Result<(String, Option<String>)> {
    let old = match std::fs::read_to_string(crate_dir.join(rel)) {
        Ok(old) => Some(old),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    if rel != MANIFEST {
        return Ok((fresh.to_string(), old));
    }
    let Some(manifest) = &old else {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{MANIFEST} not found"),
        ));
    };
    let spliced =
        splice(manifest, fresh).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok((spliced, old))
}

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
        match wanted(crate_dir, rel, fresh)? {
            (want, Some(old)) if old == want => {}
            (want, Some(old)) => {
                let diff = similar::TextDiff::from_lines(&old, &want)
                    .unified_diff()
                    .context_radius(2)
                    .header(&format!("{rel} (on disk)"), &format!("{rel} (from spec)"))
                    .to_string();
                d.changed.push((rel.clone(), diff));
            }
            (_, None) => d.missing.push(rel.clone()),
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
    // Refused before anything is written, so a refusal changes nothing.
    for rel in &d.extra {
        let path = crate_dir.join(rel);
        let generated = std::fs::read_to_string(&path).is_ok_and(|t| t.starts_with(HEADER));
        if !generated {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} is not generated (it has no `{HEADER}` header) but lies in {OWNED_DIR}/, which the generator owns: move handwritten code to a crate of its own",
                    path.display()
                ),
            ));
        }
    }
    let mut touched = Vec::new();
    for rel in d.changed.iter().map(|(f, _)| f).chain(&d.missing) {
        let path = crate_dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let (want, _) = wanted(crate_dir, rel, &files[rel])?;
        // Written beside and renamed over: an interrupted write leaves the old file whole (the
        // manifest's handwritten part cannot be regenerated).
        let tmp = path.with_extension("codegen-tmp");
        std::fs::write(&tmp, want)?;
        std::fs::rename(&tmp, &path)?;
        touched.push(path);
    }
    for rel in &d.extra {
        let path = crate_dir.join(rel);
        std::fs::remove_file(&path)?;
        touched.push(path);
    }
    Ok(touched)
}
