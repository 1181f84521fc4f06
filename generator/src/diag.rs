//! Located spec errors. Every problem the generator finds becomes one [`Diagnostic`], and all
//! of them are reported together so a spec author fixes a whole file in one pass.

use std::fmt;

/// Where in the spec a problem sits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    /// The spec file as shown to the user, e.g. `spec/user.yaml`.
    pub file: String,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One spec problem: where it is, what is wrong, and what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    /// Location of the offending YAML.
    pub loc: Loc,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.message)
    }
}

/// Collects diagnostics while the spec is checked.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Records a problem.
    pub fn error(&mut self, loc: Loc, message: impl Into<String>) {
        self.items.push(Diagnostic {
            loc,
            message: message.into(),
        });
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The problems, sorted by file and line so the output reads top to bottom.
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort();
        self.items.dedup();
        self.items
    }
}
