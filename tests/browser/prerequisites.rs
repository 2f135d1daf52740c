//! What the headless-browser tests need (shared by crates/label and crates/serve through
//! `#[path]`): node, Chromium (/usr/bin/chromium or $CHROMIUM) and tests/browser/node_modules.

use std::path::PathBuf;
use std::process::Command;

/// The repository root (the including crate sits in crates/NAME).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Why the browser test cannot run here, if it cannot.
pub fn missing() -> Option<String> {
    if Command::new("node")
        .arg("--version")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        return Some("node is not installed".into());
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !PathBuf::from(&chromium).exists() {
        return Some(format!(
            "{chromium} is not installed (apt-get install -y chromium)"
        ));
    }
    if !repo_root()
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        return Some("tests/browser/node_modules is missing (cd tests/browser && npm ci)".into());
    }
    None
}
