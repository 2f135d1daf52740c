//! The dashboard in a real headless Chromium (driven by `tests/browser/serve.test.mjs` with
//! playwright-core): load, search a title, see its chart, switch to the seasonally adjusted line,
//! compare two titles, reload the shared link, open a family. SKIPS (with a note) when node,
//! Chromium or tests/browser/node_modules are missing — FAILS instead under
//! JOBSHIFT_REQUIRE_ASSETS=1. Install: `apt-get install -y chromium` and
//! `cd tests/browser && npm ci` (what `.ci/run` does).
//!
//! `JOBSHIFT_SCREENSHOTS=DIR` writes the page's screenshots there (the README's come from
//! `JOBSHIFT_SCREENSHOTS=docs/img cargo test -p jobshift-serve --test browser_page`).

mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;

#[path = "../../../tests/browser/prerequisites.rs"]
mod prerequisites;
use prerequisites::{missing, repo_root};

#[test]
fn dashboard_in_headless_chromium() {
    if let Some(why) = missing() {
        jobshift_core::test_support::skip_missing(&format!("the browser test's {why}"));
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    dataset(tmp.path());
    let server = start(config(tmp.path(), None));
    let url = format!("http://{}/", server.addr);
    let mut cmd = Command::new("node");
    cmd.arg(repo_root().join("tests/browser/serve.test.mjs"))
        .arg(&url);
    if let Ok(dir) = std::env::var("JOBSHIFT_SCREENSHOTS") {
        let dir = if PathBuf::from(&dir).is_absolute() {
            PathBuf::from(dir)
        } else {
            repo_root().join(dir)
        };
        std::fs::create_dir_all(&dir).unwrap();
        cmd.arg(dir);
    }
    let out = cmd.output().expect("start node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.lines().any(|l| l == "OK"),
        "browser test failed:\n{stdout}\n{stderr}"
    );
}
