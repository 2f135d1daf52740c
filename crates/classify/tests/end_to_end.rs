//! End to end with the real encoder: train a small classifier (taxonomy names and aliases
//! only, nearest centroid), reload it, run the cascade on titles and a postings dataset, and
//! resume; then a kNN head over the same classes, whose scores the cascade keeps per title
//! across calls. Skips cleanly when the MiniLM model is not installed (JOBSHIFT_MODEL_DIR or the
//! jobshift cache).

mod common;

use arrow::array::AsArray;
use common::postings_batch;
use jobshift_classify::classifier::{CascadeStats, Classifier, Method, TitleInput};
use jobshift_classify::{classify_dataset, train, ClassifyOptions, HeadKind, TrainOptions};
use jobshift_core::schema;

fn model_available() -> bool {
    jobshift_encode::resolve_model("minilm").is_ok()
}

#[test]
fn train_classify_and_resume() {
    if !model_available() {
        jobshift_core::test_support::skip_missing(
            "the minilm model (set JOBSHIFT_MODEL_DIR or run `jobshift model fetch minilm`)",
        );
        return;
    }
    // Resolve the model before pointing the jobshift cache at a temporary directory.
    let model_dir = jobshift_encode::resolve_model("minilm").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    std::env::set_var("JOBSHIFT_CACHE", tmp.path().join("cache"));
    let out = tmp.path().join("clf");
    let opts = TrainOptions {
        model: model_dir.to_string_lossy().into_owned(),
        heads: vec![HeadKind::Centroid],
        auto_head: false,
        out: out.clone(),
        no_onet_alternates: true,
        // names and aliases only: too few validation titles to choose thresholds on
        min_confidence: Some(0.0),
        ambiguity_margin: Some(0.02),
        evaluate: false,
        progress: false,
        ..Default::default()
    };
    let rep = train(&opts).unwrap();
    assert_eq!(rep.chosen_head, "centroid");
    let c = Classifier::load(&out).unwrap();
    let mut cache = c.new_cache();
    let mut stats = CascadeStats::default();
    let inputs = [
        TitleInput {
            title: "Software Engineer",
            description: None,
        },
        TitleInput {
            title: "Sr. Software Engineer II (Remote, NYC)",
            description: None,
        },
        TitleInput {
            title: "Registered Nurse - ICU Night Shift",
            description: None,
        },
        TitleInput {
            title: "ML Platform Engineer (Deep Learning Infrastructure)",
            description: None,
        },
        // the plural of an alias is the alias; the plural of a generic title is still generic
        TitleInput {
            title: "Founding Engineers",
            description: None,
        },
        TitleInput {
            title: "Consultants",
            description: None,
        },
    ];
    let opts = c.default_options();
    let p = c.classify(&inputs, &mut cache, &opts, &mut stats).unwrap();
    assert_eq!(p.len(), 6);
    assert_eq!(
        (p[4].title_id.as_str(), p[4].method),
        ("software_engineer", Method::Alias)
    );
    assert_ne!(p[5].method, Method::Alias, "{:?}", p[5]);
    assert_eq!(p[0].title_id, "software_engineer");
    assert_eq!(p[0].method, Method::Alias);
    assert_eq!(p[1].title_id, "software_engineer", "{:?}", p[1]);
    assert_eq!(p[1].seniority.as_str(), "senior");
    assert_eq!(p[2].title_id, "registered_nurse", "{:?}", p[2]);
    assert!(!p[3].alternatives.is_empty() && p[3].alternatives.len() <= 3);
    assert!(p.iter().all(|x| (0.0..=1.0).contains(&x.confidence)));

    // a dataset with one partition; classify, then resume does nothing
    let ds = tmp.path().join("ds");
    let part = ds.join("postings").join("month=2024-03");
    let batch = postings_batch(&[
        ("Data Engineer", None),
        ("Associate", Some("You will build data pipelines in Spark and Airflow, model warehouse tables and own data quality.")),
        ("Medical Scribe (Per Diem)", None),
        // "consultant" may be an alias, but a generic title with a description goes to the
        // description step, never the alias short-cut
        ("Senior Consultant", Some("Provide direct patient care on a busy medical-surgical unit: assess patients, administer medications, and coordinate care plans as a licensed RN.")),
    ]);
    common::write_postings(&ds, &batch);
    let copts = ClassifyOptions {
        progress: false,
        ..Default::default()
    };
    let r1 = classify_dataset(&ds, &c, &copts).unwrap();
    assert_eq!((r1.rows, r1.files_done_now), (4, 1));
    let r2 = classify_dataset(&ds, &c, &copts).unwrap();
    assert_eq!((r2.rows, r2.files_skipped_resume), (0, 1));

    // two classify runs at once on a fresh copy (issue #18): the writer lock makes one wait,
    // and the one that waited finds the work done instead of doing it again
    let ds2 = tmp.path().join("ds2");
    std::fs::create_dir_all(ds2.join("postings").join("month=2024-03")).unwrap();
    std::fs::copy(
        part.join("part-0.parquet"),
        ds2.join("postings")
            .join("month=2024-03")
            .join("part-0.parquet"),
    )
    .unwrap();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| classify_dataset(&ds2, &c, &copts).unwrap());
        let b = s.spawn(|| classify_dataset(&ds2, &c, &copts).unwrap());
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(
        (a.rows + b.rows, a.files_done_now + b.files_done_now),
        (4, 1),
        "two concurrent runs both classified: {a:?} / {b:?}"
    );
    assert_eq!(a.files_skipped_resume + b.files_skipped_resume, 1);
    let out_file = ds
        .join("classified")
        .join("month=2024-03")
        .join("part-0.parquet");
    let b = jobshift_classify::dataset::read_parquet(&out_file).unwrap();
    assert_eq!(b.schema(), schema::classified_schema());
    let ids = b
        .column_by_name(schema::TITLE_ID)
        .unwrap()
        .as_string::<i32>();
    assert_eq!(ids.value(0), "data_engineer");
    let methods = b.column_by_name(schema::METHOD).unwrap().as_string::<i32>();
    // the description step decided it (or abstained after it): never the alias short-cut
    assert!(
        ["description", "unclassified"].contains(&methods.value(3)),
        "generic title + description went to {}",
        methods.value(3)
    );

    knn_scores_kept_across_calls_are_the_scores_recomputed(&out, &inputs_for_cache_check());
}

fn inputs_for_cache_check() -> Vec<&'static str> {
    vec![
        "ML Platform Engineer (Deep Learning Infrastructure)",
        "Night shift warehouse picker",
        "Senior Payroll Specialist - Remote",
        "ml platform engineer",
        "Clinical Research Coordinator II",
        "Night Shift Warehouse Picker",
        "Head of Growth Marketing",
        "Senior Payroll Specialist (Remote)",
    ]
}

/// A kNN head (the centroids, each twice, plus every other one a third time) saved as
/// `heads/knn`: classify titles in one call and in small chunks sharing a cache; the second way
/// scores each distinct cleaned title once and must give the same predictions.
fn knn_scores_kept_across_calls_are_the_scores_recomputed(out: &std::path::Path, titles: &[&str]) {
    use jobshift_classify::heads::{Head, KnnHead};
    let Head::Centroid(cent) = Head::load(&out.join("head")).unwrap() else {
        panic!("centroid head expected")
    };
    let mut x = Vec::new();
    let mut y = Vec::new();
    for rep in 0..3 {
        for (class, row) in cent.centroids.chunks(cent.dim).enumerate() {
            if !cent.empty[class] && (rep < 2 || class % 2 == 0) {
                x.extend_from_slice(row);
                y.push(class as u32);
            }
        }
    }
    let knn = Head::Knn(KnnHead::fit(&x, cent.dim, &y, cent.k, 10));
    let kd = out.join("heads").join("knn");
    std::fs::create_dir_all(&kd).unwrap();
    knn.save(&kd).unwrap();
    let c = Classifier::load_with(out, Some(HeadKind::Knn), None).unwrap();
    let opts = c.default_options();
    let inputs: Vec<TitleInput> = titles
        .iter()
        .map(|t| TitleInput {
            title: t,
            description: None,
        })
        .collect();
    let mut whole_stats = CascadeStats::default();
    let whole = c
        .classify(&inputs, &mut c.new_cache(), &opts, &mut whole_stats)
        .unwrap();
    let mut cache = c.new_cache();
    let mut stats = CascadeStats::default();
    let mut chunked = Vec::new();
    for chunk in inputs.chunks(3) {
        chunked.extend(c.classify(chunk, &mut cache, &opts, &mut stats).unwrap());
    }
    // again, every title now kept
    let mut again_stats = CascadeStats::default();
    let again = c
        .classify(&inputs, &mut cache, &opts, &mut again_stats)
        .unwrap();
    assert!(
        whole_stats.title_head_scored > 0,
        "some titles reach the head"
    );
    assert_eq!(
        again_stats.title_head_scored, 0,
        "every title scored before"
    );
    assert_eq!(
        stats.title_head_scored, whole_stats.title_head_scored,
        "each distinct cleaned title scored once across the chunks"
    );
    for (i, ((a, b), d)) in whole.iter().zip(&chunked).zip(&again).enumerate() {
        for other in [b, d] {
            assert_eq!(a.title_id, other.title_id, "title {i}");
            assert_eq!(a.method, other.method, "title {i}");
            assert_eq!(a.top5, other.top5, "title {i}");
            assert!((a.confidence - other.confidence).abs() <= 1e-6, "title {i}");
        }
    }
}
