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

/// The default classifier, loaded ([`default_classifier_dir`]).
pub fn default_classifier() -> Option<jobshift_classify::Classifier> {
    default_classifier_dir().map(|dir| jobshift_classify::Classifier::load(&dir).unwrap())
}

/// `titles` through `c`'s cascade with its default options, each with `description` when given:
/// the predictions, in order, and the cascade's counters.
pub fn classify<S: AsRef<str>>(
    c: &jobshift_classify::Classifier,
    titles: &[S],
    description: Option<&str>,
) -> (
    Vec<jobshift_classify::Prediction>,
    jobshift_classify::CascadeStats,
) {
    classify_with(c, titles, description, &c.default_options())
}

/// [`classify`] with the cascade options `opts`.
pub fn classify_with<S: AsRef<str>>(
    c: &jobshift_classify::Classifier,
    titles: &[S],
    description: Option<&str>,
    opts: &jobshift_classify::CascadeOptions,
) -> (
    Vec<jobshift_classify::Prediction>,
    jobshift_classify::CascadeStats,
) {
    let inputs: Vec<jobshift_classify::TitleInput<'_>> = titles
        .iter()
        .map(|t| jobshift_classify::TitleInput {
            title: t.as_ref(),
            description,
        })
        .collect();
    let mut stats = jobshift_classify::CascadeStats::default();
    let preds = c
        .classify(&inputs, &mut c.new_cache(), opts, &mut stats)
        .unwrap();
    (preds, stats)
}
