//! Shared by the classify integration tests that run the default classifier.
// each test binary uses its own subset of these
#![allow(dead_code)]

use arrow::array::{Date32Array, RecordBatch, StringArray, UInt32Array, UInt64Array};
use jobshift_core::schema::postings_schema;
use std::path::PathBuf;
use std::sync::Arc;

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

/// A postings batch ([`postings_schema`]) of one posting per (title, description), ids `p0`,
/// `p1`, …, all on one day.
pub fn postings_batch(titles: &[(&str, Option<&str>)]) -> RecordBatch {
    let n = titles.len();
    let s = |v: Vec<Option<String>>| Arc::new(StringArray::from(v)) as arrow::array::ArrayRef;
    let cols: Vec<arrow::array::ArrayRef> = vec![
        s((0..n).map(|i| Some(format!("p{i}"))).collect()),
        s(vec![Some("test".into()); n]),
        s(vec![None; n]),
        s(titles.iter().map(|t| Some(t.0.to_string())).collect()),
        s(titles.iter().map(|t| t.1.map(str::to_string)).collect()),
        s(vec![None; n]),
        s(vec![None; n]),
        Arc::new(Date32Array::from(vec![19800; n])),
        s(vec![Some("day".into()); n]),
        Arc::new(Date32Array::from(vec![19800; n])),
        Arc::new(Date32Array::from(vec![19800; n])),
        s(vec![None; n]),
        s(vec![None; n]),
        Arc::new(UInt32Array::from(vec![0; n])),
        s(vec![Some("input.csv".into()); n]),
        Arc::new(UInt64Array::from((1..=n as u64).collect::<Vec<_>>())),
    ];
    RecordBatch::try_new(postings_schema(), cols).unwrap()
}

/// `batch` written as the dataset `dataset`'s only postings file,
/// `postings/month=2024-03/part-0.parquet`; returns that file's path under `postings/`.
pub fn write_postings(dataset: &std::path::Path, batch: &RecordBatch) -> &'static str {
    const REL: &str = "month=2024-03/part-0.parquet";
    let path = dataset.join("postings").join(REL);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = std::fs::File::create(&path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, postings_schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    REL
}
