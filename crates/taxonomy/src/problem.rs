//! A broken taxonomy rule: which file, which line, what is wrong and how to fix it.

use serde::Serialize;
use std::fmt;

/// One rule broken by the taxonomy data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Path relative to the taxonomy directory, e.g. "titles/sales.csv".
    pub file: String,
    /// 1-based line in `file` (None for whole-file problems).
    pub line: Option<u64>,
    pub message: String,
    /// What to change to fix it.
    pub fix: String,
}

impl Problem {
    pub(crate) fn new(
        file: &str,
        line: Option<u64>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            file: file.to_string(),
            line,
            message: message.into(),
            fix: fix.into(),
        }
    }
    /// "file:line" (or just "file").
    pub fn location(&self) -> String {
        match self.line {
            Some(l) => format!("{}:{}", self.file, l),
            None => self.file.clone(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}\n    fix: {}",
            self.location(),
            self.message,
            self.fix
        )
    }
}

/// All problems, one per paragraph.
pub(crate) fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}
