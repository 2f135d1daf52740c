//! A classifier re-fitted on labelled postings of its population (`jobshift eval --labels …
//! --recalibrate-to DIR`, [`write_recalibrated_classifier`]) moves the predicted titles the
//! labels say are mostly another title (step 5 of the cascade, the remap), records each remap
//! in `classifier.json`, and leaves every other title alone; without the remap (`--no-remap`)
//! only the confidence is re-fitted.
//!
//! Needs the MiniLM model and trains the default classifier into the jobshift cache when it is
//! not there yet (minutes, once); skipped without the model, FAILS instead when
//! `JOBSHIFT_REQUIRE_ASSETS=1`.

mod common;

use jobshift_classify::classifier::{CascadeStats, Classifier, Method};
use jobshift_classify::eval::Outcome;
use jobshift_classify::write_recalibrated_classifier;

fn outcome(best: &str, gold: &str, confidence: f32) -> Outcome {
    Outcome {
        confidence,
        method: Method::TitleEmbedding,
        best: best.into(),
        gold: Some(gold.into()),
        right: best == gold,
        exact: Some(best == gold),
    }
}

/// Labelled postings the embedding step predicted as `best`: `n` labelled `gold` per pair.
fn labelled(best: &str, golds: &[(&str, usize)], confidence: f32) -> Vec<Outcome> {
    golds
        .iter()
        .flat_map(|&(gold, n)| (0..n).map(move |_| outcome(best, gold, confidence)))
        .collect()
}

/// `titles` through `c`'s cascade: (title id, roles) each, and the stats.
fn classify(c: &Classifier, titles: &[&str]) -> (Vec<(String, Vec<String>)>, CascadeStats) {
    let (preds, stats) = common::classify(c, titles, None);
    (
        preds.into_iter().map(|p| (p.title_id, p.roles)).collect(),
        stats,
    )
}

#[test]
fn a_refit_moves_the_titles_its_labels_say_are_another() {
    let Some(dir) = common::default_classifier_dir() else {
        return;
    };
    let original = Classifier::load(&dir).unwrap();
    // labelled postings: 120 predicted sales_engineer, 100 of them labelled software_engineer;
    // 60 predicted backend_engineer, all right; 10 predicted data_engineer, 4 labelled
    // software_engineer (not enough more than the 6 right ones to move it)
    let outcomes = [
        labelled(
            "sales_engineer",
            &[("software_engineer", 100), ("sales_engineer", 20)],
            0.7,
        ),
        labelled("backend_engineer", &[("backend_engineer", 60)], 0.9),
        labelled(
            "data_engineer",
            &[("software_engineer", 4), ("data_engineer", 6)],
            0.8,
        ),
    ]
    .concat();
    let tmp = tempfile::tempdir().unwrap();
    let head = original.meta.head;
    let labels = vec!["test labels".to_string()];
    let to = tmp.path().join("refit");
    let meta =
        write_recalibrated_classifier(&dir, &to, head, &outcomes, labels.clone(), true).unwrap();
    let remap = &meta.recalibration.as_ref().unwrap().remap;
    assert_eq!(remap.len(), 1, "{remap:?}");
    let r = &remap["sales_engineer"];
    assert_eq!(
        (r.to.as_str(), r.predicted, r.labelled_to, r.labelled_same),
        ("software_engineer", 120, 100, 20)
    );

    let titles = [
        "Sales Engineer",
        "Backend Engineer",
        "Data Engineer",
        "Sales Engineers, Backend Engineers",
    ];
    let (before, _) = classify(&original, &titles);
    assert_eq!(before[0].0, "sales_engineer", "{before:?}");
    assert_eq!(before[1].0, "backend_engineer", "{before:?}");
    assert_eq!(before[2].0, "data_engineer", "{before:?}");
    let refit = Classifier::load(&to).unwrap();
    let (after, stats) = classify(&refit, &titles);
    assert_eq!(after[0].0, "software_engineer", "{after:?}");
    assert_eq!(after[1], before[1], "a title the labels confirm stays");
    assert_eq!(after[2], before[2], "too few labels to move it");
    // a posting naming several roles: each role is moved, the first is the title
    assert_eq!(
        before[3].1,
        ["sales_engineer", "backend_engineer"],
        "{before:?}"
    );
    assert_eq!(after[3].0, "software_engineer", "{after:?}");
    assert_eq!(
        after[3].1,
        ["software_engineer", "backend_engineer"],
        "{after:?}"
    );
    assert!(stats.remapped >= 1, "{stats:?}");

    // --no-remap: the confidence is re-fitted, every title stays
    let plain = tmp.path().join("plain");
    let meta = write_recalibrated_classifier(&dir, &plain, head, &outcomes, labels, false).unwrap();
    assert!(meta.recalibration.as_ref().unwrap().remap.is_empty());
    let (kept, stats) = classify(&Classifier::load(&plain).unwrap(), &titles[..3]);
    assert_eq!(
        kept.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
        ["sales_engineer", "backend_engineer", "data_engineer"]
    );
    assert_eq!(stats.remapped, 0);
}
