//! The default classifier is the same on every machine: its training data (the O*NET alternate
//! titles and the JobBERT validation titles that measure the alias confidence) is shipped in the
//! binary, so the examples, the validation split and the thresholds built from a temporary
//! directory far from `../shared` equal the ones built in the repository.
//!
//! One test function (the working directory is process-wide): the data part always runs; the
//! comparison with the public source needs `../shared/data`, the threshold part needs the MiniLM
//! model; each is skipped when absent and FAILS instead when `JOBSHIFT_REQUIRE_ASSETS=1`.

mod common;

use jobshift_classify::classifier::ClassifierMeta;
use jobshift_classify::train::{self, training_set, TrainOptions, TrainingData};
use jobshift_classify::{examples, HeadKind};
use jobshift_taxonomy::Taxonomy;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    jobshift_core::test_support::package_dir(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn record_from(dir: &Path, tax: &Taxonomy) -> TrainingData {
    std::env::set_current_dir(dir).unwrap();
    training_set(tax, &TrainOptions::default()).unwrap().record
}

/// A fresh directory with no `shared/data` above it (the machine's temp dir, unless a checkout's
/// `shared/` sits beside it there, as when a clone and its data live directly in /tmp).
fn far_directory() -> tempfile::TempDir {
    let mut bases = vec![std::env::temp_dir()];
    bases.extend(["/dev/shm", "/var/tmp", "/run"].map(PathBuf::from));
    if let Some(home) = std::env::var_os("HOME") {
        bases.push(PathBuf::from(home));
    }
    for base in bases {
        if base.is_dir() && jobshift_classify::find_shared_data(&base).is_none() {
            if let Ok(dir) = tempfile::tempdir_in(&base) {
                return dir;
            }
        }
    }
    panic!("no writable directory without a shared/data folder above it to train from");
}

#[test]
fn default_classifier_is_built_the_same_from_any_directory() {
    std::env::remove_var("JOBSHIFT_SHARED_DATA");
    let tax = Taxonomy::builtin().unwrap();
    let far = far_directory();
    assert!(jobshift_classify::find_shared_data(far.path()).is_none());

    // 1. examples and split: the same in the repository and far from it
    let here = record_from(&repo_root(), &tax);
    let there = record_from(far.path(), &tax);
    assert_eq!(here, there);
    assert!(here.onet_alternates.starts_with("builtin:"));
    assert!(here.examples > 60_000, "{here:?}");
    // the default does not train on the shipped vacancy titles (`--vacancy-titles` does)
    assert_eq!(here.vacancy_titles.read, 0, "{here:?}");
    assert!(here.validation_rows > 5_000, "{here:?}");
    let alias_here = train::alias_precision_jobbert_validation(&tax).unwrap();
    assert!(
        alias_here.0 > 1_000,
        "alias hits on JobBERT validation {alias_here:?}"
    );

    // a training set read from the O*NET alternate titles at `path`
    let from_file = |path: std::path::PathBuf| {
        let opts = TrainOptions {
            onet_alternates: Some(path),
            ..Default::default()
        };
        training_set(&tax, &opts)
    };

    // 2. the shipped file says what the public source says
    let source = repo_root().join("../shared/data/onet-alternate-titles/alternate_titles.tsv");
    if source.is_file() {
        let (shipped, u1) = examples::shipped_onet_alternate_examples(&tax).unwrap();
        let (from_source, u2) = examples::onet_alternate_examples(&tax, &source).unwrap();
        assert_eq!(u1, u2);
        assert_eq!(
            train::examples_hash(&shipped),
            train::examples_hash(&from_source)
        );
        let given = from_file(source).unwrap().record;
        assert_eq!(given.examples_blake3, here.examples_blake3);
        assert_eq!(given.validation_blake3, here.validation_blake3);
    } else {
        jobshift_core::test_support::skip_missing(
            "../shared/data/onet-alternate-titles/alternate_titles.tsv",
        );
    }

    // a missing data file is an error that names it, never a silent fallback
    let missing = far.path().join("nope.tsv");
    let err = from_file(missing)
        .err()
        .expect("a missing --onet-alternates file must stop training")
        .to_string();
    assert!(err.contains("nope.tsv"), "{err}");

    // 3. thresholds: train the default (kNN) classifier in the repository and far from it
    if !common::minilm_available() {
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let mut metas = Vec::new();
    for (cwd, name) in [(repo_root(), "in-repo"), (far.path().to_path_buf(), "far")] {
        std::env::set_current_dir(&cwd).unwrap();
        let opts = TrainOptions {
            out: out.path().join(name),
            name: name.into(),
            evaluate: false,
            export_examples: false,
            progress: false,
            ..Default::default()
        };
        assert_eq!(opts.heads, vec![HeadKind::Knn]);
        train::train(&opts).unwrap();
        metas.push(ClassifierMeta::read(&opts.out).unwrap());
    }
    let (a, b) = (&metas[0], &metas[1]);
    assert_eq!(a.scores["training_data"], b.scores["training_data"]);
    assert_eq!(
        a.scores["training_data"]["examples_blake3"].as_str(),
        Some(here.examples_blake3.as_str())
    );
    assert_eq!(a.alias_confidence, b.alias_confidence);
    assert_eq!(a.min_confidence, b.min_confidence);
    assert_eq!(a.ambiguity_margin, b.ambiguity_margin);
    assert_eq!(a.scores["thresholds"], b.scores["thresholds"]);
    // thresholds chosen on validation, not the 0 / 1 of an empty split
    assert!(
        a.min_confidence > 0.05 && a.min_confidence < 0.95,
        "{}",
        a.min_confidence
    );
    assert!(a.alias_confidence > 0.3 && a.alias_confidence < 0.95);
}
