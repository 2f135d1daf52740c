//! Shared by the classify integration tests that run the default classifier.
// each test binary uses its own subset of these
#![allow(dead_code)]

use std::path::PathBuf;

/// Whether the MiniLM model is installed; otherwise reports it missing, which skips the test
/// (and FAILS it under `JOBSHIFT_REQUIRE_ASSETS=1`).
pub fn minilm_available() -> bool {
    if jobshift_encode::resolve_model("minilm").is_ok() {
        return true;
    }
    jobshift_core::test_support::skip_missing("the minilm model (`jobshift model fetch minilm`)");
    false
}

/// The default classifier's directory, trained into the jobshift cache when it is not there yet
/// (minutes, once); `None` without the MiniLM model ([`minilm_available`]).
pub fn default_classifier_dir() -> Option<PathBuf> {
    minilm_available().then(|| jobshift_classify::train_default(false, false).unwrap())
}
