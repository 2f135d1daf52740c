//! Test support: the one place a test decides to skip for a missing asset (a model, the shared
//! data set, node, Chromium). With `JOBSHIFT_REQUIRE_ASSETS=1` (CI sets it in `.ci/run`) a
//! missing asset fails the test instead, naming what is missing, so no test can pass by
//! skipping there. [`file_tree`] is what tests compare two outputs by, byte for byte.

/// Set to `1` to make every missing test asset a failure.
pub const REQUIRE_ASSETS_ENV: &str = "JOBSHIFT_REQUIRE_ASSETS";

/// Whether missing assets fail tests (`JOBSHIFT_REQUIRE_ASSETS` is `1`, `true` or `yes`).
pub fn assets_required() -> bool {
    std::env::var(REQUIRE_ASSETS_ENV)
        .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
        .unwrap_or(false)
}

/// Call where a test is about to skip because `what` is missing (say what and how to get it):
/// panics under [`REQUIRE_ASSETS_ENV`], otherwise prints a SKIP note; the caller then returns.
#[track_caller]
pub fn skip_missing(what: &str) {
    if assets_required() {
        panic!("{REQUIRE_ASSETS_ENV} is set and this test needs {what}, which is missing");
    }
    eprintln!("SKIP: {what} is missing (with {REQUIRE_ASSETS_ENV}=1 this fails)");
}

/// The directory of the package whose test is running: `CARGO_MANIFEST_DIR` as Cargo sets it
/// when it runs the test, else `compiled` (pass `env!("CARGO_MANIFEST_DIR")`, the same variable
/// when the test was compiled). A test binary reused from a checkout at another path (one target
/// directory shared between clones, as CI's under `~/.cache`) still holds the path it was
/// compiled at; the one Cargo sets at run time is where the sources are now.
pub fn package_dir(compiled: &str) -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(compiled))
}

/// Every file under `dir`, by path relative to it, with its bytes (tests compare two runs'
/// outputs with it). Panics on an unreadable directory or file, naming it.
pub fn file_tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(
        root: &std::path::Path,
        d: &std::path::Path,
        out: &mut std::collections::BTreeMap<String, Vec<u8>>,
    ) {
        let entries =
            std::fs::read_dir(d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display()));
        for e in entries {
            let p = e
                .unwrap_or_else(|e| panic!("reading {}: {e}", d.display()))
                .path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let bytes =
                    std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
                let rel = p.strip_prefix(root).unwrap_or(&p);
                out.insert(rel.to_string_lossy().into_owned(), bytes);
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_asset_fails_when_assets_are_required() {
        // one test touches the variable, so no other test sees it change
        std::env::set_var(REQUIRE_ASSETS_ENV, "1");
        let r = std::panic::catch_unwind(|| skip_missing("the minilm model"));
        std::env::remove_var(REQUIRE_ASSETS_ENV);
        let msg = r.unwrap_err();
        let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("the minilm model"), "{msg}");
        skip_missing("the minilm model"); // only a note without the variable
    }
}
