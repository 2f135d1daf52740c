//! A classifier re-fitted on labelled postings of its population (`jobshift eval --labels …
//! --recalibrate-to DIR`, [`write_recalibrated_classifier`]) moves the predicted titles the
//! labels say are mostly another title (step 5 of the cascade, the remap), records each remap
//! in `classifier.json`, and leaves every other title alone; without the remap (`--no-remap`)
//! only the confidence is re-fitted. It also remembers the labelled postings by their
//! descriptions and by their titles (step 6, the labelled neighbours) and classifies by them
//! what the cascade leaves unclassified — by titles alone too, for labels without descriptions.
//!
//! Needs the MiniLM model and trains the default classifier into the jobshift cache when it is
//! not there yet (minutes, once); skipped without the model, FAILS instead when
//! `JOBSHIFT_REQUIRE_ASSETS=1`.

mod common;

use jobshift_classify::classifier::{CascadeStats, Classifier, Method};
use jobshift_classify::eval::Outcome;
use jobshift_classify::examples::EvalItem;
use jobshift_classify::population::{fit_population, MIN_POSTINGS};
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

/// 30 labelled postings with `title` and no description, labelled `id`.
fn titled(title: &'static str, id: &'static str) -> impl Iterator<Item = EvalItem> {
    (0..30).map(move |_| EvalItem {
        title: title.into(),
        gold_onet: Default::default(),
        description: None,
        gold_title: Some(id.into()),
    })
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
        write_recalibrated_classifier(&dir, &to, head, &outcomes, labels.clone(), true, None)
            .unwrap();
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
    let meta =
        write_recalibrated_classifier(&dir, &plain, head, &outcomes, labels, false, None).unwrap();
    assert!(meta.recalibration.as_ref().unwrap().remap.is_empty());
    let (kept, stats) = classify(&Classifier::load(&plain).unwrap(), &titles[..3]);
    assert_eq!(
        kept.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
        ["sales_engineer", "backend_engineer", "data_engineer"]
    );
    assert_eq!(stats.remapped, 0);
}

/// Labelled postings whose title field names no role: `n` descriptions of one job, each a
/// different selection of `sentences`.
fn described_postings(title_id: &str, sentences: &[&str], n: usize) -> Vec<EvalItem> {
    (0..n)
        .map(|i| {
            let picked: Vec<&str> = (0..sentences.len())
                .filter(|s| (i >> (s % 5)) & 1 == 1 || s % 3 == i % 3)
                .map(|s| sentences[s])
                .collect();
            EvalItem {
                title: "Remote".into(),
                gold_onet: Default::default(),
                description: Some(format!(
                    "Acme Corp | Remote | Full-time\n\n{}",
                    picked.join(" ")
                )),
                gold_title: Some(title_id.into()),
            }
        })
        .collect()
}

const NURSING: [&str; 6] = [
    "You will care for patients on our medical-surgical unit.",
    "Administer medications and monitor vital signs.",
    "Work with physicians to plan each patient's care.",
    "Three twelve-hour night shifts a week in the ICU.",
    "Teach patients and families about their discharge plans.",
    "BLS and ACLS certification required.",
];
const KITCHEN: [&str; 6] = [
    "Prepare dishes on the grill and saute stations.",
    "Keep the kitchen clean and follow food safety rules.",
    "Prep vegetables, sauces and proteins before service.",
    "Work the line during a busy dinner service.",
    "Follow the chef's recipes and plating standards.",
    "A food handler card is required.",
];

#[test]
fn a_refit_remembers_its_labelled_postings_by_their_descriptions() {
    let Some(dir) = common::default_classifier_dir() else {
        return;
    };
    let original = Classifier::load(&dir).unwrap();
    let opts = original.default_options();
    let items = [
        described_postings("registered_nurse", &NURSING, 40),
        described_postings("cook", &KITCHEN, 40),
    ]
    .concat();
    let fit = fit_population(&original, &items, &opts)
        .unwrap()
        .expect("80 labelled postings with descriptions are enough");
    let by_description = &fit.descriptions.as_ref().unwrap().info;
    assert_eq!(by_description.postings, 80);
    assert!(
        by_description.cross_fit_accuracy > 0.95,
        "{by_description:?}"
    );
    // every labelled title is "Remote": the titles' vote knows nothing and says so
    let by_title = &fit.titles.as_ref().unwrap().info;
    assert_eq!(by_title.postings, 80);
    assert!(by_title.map.apply(1.0) < 0.8, "{by_title:?}");
    // too few labelled postings with descriptions: nothing to remember
    assert!(fit_population(&original, &items[..MIN_POSTINGS - 1], &opts)
        .unwrap()
        .is_none());

    // the confidence re-fit needs 100 outcomes: half at 0.4 (right half the time), half at 0.9
    let mut outcomes = labelled("backend_engineer", &[("backend_engineer", 60)], 0.9);
    let unsure = [("backend_engineer", 30), ("data_engineer", 30)];
    outcomes.extend(labelled("backend_engineer", &unsure, 0.4));
    let tmp = tempfile::tempdir().unwrap();
    let (head, labels) = (original.meta.head, vec!["test labels".to_string()]);
    let to = tmp.path().join("refit");
    let meta =
        write_recalibrated_classifier(&dir, &to, head, &outcomes, labels.clone(), true, Some(&fit))
            .unwrap();
    let refit_record = meta.recalibration.as_ref().unwrap();
    assert_eq!(refit_record.population.as_ref(), Some(by_description));
    assert_eq!(refit_record.population_titles.as_ref(), Some(by_title));
    assert!(to.join("population/head.json").is_file());
    assert!(to.join("population_titles/head.json").is_file());

    let nurse = "Acme Health | Remote | Full-time\n\nJoin our hospital: care for patients, administer medications and monitor vital signs on night shifts.";
    let cook = "Acme Bistro | Remote | Full-time\n\nWork the line at dinner service, prep sauces and proteins, keep the kitchen clean.";
    let (before_nurse, _) = common::classify(&original, &["Remote"], Some(nurse));
    assert_ne!(before_nurse[0].method, Method::LabelledNeighbours);
    let refit = Classifier::load(&to).unwrap();
    let (nurse_after, stats) = common::classify(&refit, &["Remote"], Some(nurse));
    assert_eq!(
        nurse_after[0].title_id, "registered_nurse",
        "{nurse_after:?}"
    );
    assert_eq!(nurse_after[0].method, Method::LabelledNeighbours);
    assert!(nurse_after[0].confidence >= refit.meta.min_confidence);
    let (cook_after, _) = common::classify(&refit, &["Remote"], Some(cook));
    assert_eq!(cook_after[0].title_id, "cook", "{cook_after:?}");
    assert_eq!(
        stats.population_filled + stats.population_moved,
        1,
        "{stats:?}"
    );
    // an exact taxonomy title stays (these labels never saw a backend engineer), and a posting
    // without a description is untouched
    let (sure, _) = common::classify(&refit, &["Backend Engineer"], Some(nurse));
    assert_eq!(sure[0].title_id, "backend_engineer", "{sure:?}");
    let (bare, _) = common::classify(&refit, &["Remote"], None);
    assert_eq!(bare[0].title_id, "unclassified", "{bare:?}");

    // without a population (`--no-neighbours`), nothing is remembered and nothing filled
    let plain = tmp.path().join("plain");
    write_recalibrated_classifier(&dir, &plain, head, &outcomes, labels, true, None).unwrap();
    assert!(!plain.join("population").exists());
    let (plain_nurse, _) =
        common::classify(&Classifier::load(&plain).unwrap(), &["Remote"], Some(nurse));
    assert_ne!(plain_nurse[0].method, Method::LabelledNeighbours);
}

#[test]
fn a_refit_on_titles_alone_remembers_them_by_their_titles() {
    let Some(dir) = common::default_classifier_dir() else {
        return;
    };
    let original = Classifier::load(&dir).unwrap();
    let mut opts = original.default_options();
    opts.use_description = false;
    // this population's labellers know what its "Join our team" and "Multiple positions"
    // postings are; the taxonomy cannot
    let items: Vec<EvalItem> = titled("Join our team", "cook")
        .chain(titled("Multiple positions", "registered_nurse"))
        .collect();
    let fit = fit_population(&original, &items, &opts)
        .unwrap()
        .expect("60 labelled titles are enough");
    assert!(fit.descriptions.is_none(), "no descriptions were read");
    let by_title = &fit.titles.as_ref().unwrap().info;
    assert_eq!((by_title.postings, by_title.cross_fit_accuracy), (60, 1.0));

    // the confidence re-fit's outcomes, as in the test above (min_confidence lands near 0.5)
    let mut outcomes = labelled("backend_engineer", &[("backend_engineer", 60)], 0.9);
    let unsure = [("backend_engineer", 30), ("data_engineer", 30)];
    outcomes.extend(labelled("backend_engineer", &unsure, 0.4));
    let tmp = tempfile::tempdir().unwrap();
    let to = tmp.path().join("refit");
    let labels = vec!["test labels".to_string()];
    write_recalibrated_classifier(
        &dir,
        &to,
        original.meta.head,
        &outcomes,
        labels,
        true,
        Some(&fit),
    )
    .unwrap();
    assert!(!to.join("population").exists());
    let titles = ["Join our team", "Multiple positions", "Backend Engineer"];
    let (before, _) = common::classify_with(&original, &titles, None, &opts);
    assert_eq!(before[0].title_id, "unclassified", "{before:?}");
    assert_eq!(before[1].title_id, "unclassified", "{before:?}");
    let refit = Classifier::load(&to).unwrap();
    let (after, stats) = common::classify_with(&refit, &titles, None, &opts);
    let ids: Vec<&str> = after.iter().map(|p| p.title_id.as_str()).collect();
    assert_eq!(
        ids,
        ["cook", "registered_nurse", "backend_engineer"],
        "{after:?}"
    );
    assert_eq!(after[0].method, Method::LabelledNeighbours);
    assert_eq!(after[2].method, Method::Alias, "an exact title stays");
    assert_eq!(stats.population_filled, 2, "{stats:?}");
}

#[test]
fn a_refit_leaves_postings_like_its_none_fits_labels_as_they_were() {
    let Some(dir) = common::default_classifier_dir() else {
        return;
    };
    let original = Classifier::load(&dir).unwrap();
    let mut opts = original.default_options();
    opts.use_description = false;
    let outcomes = {
        let mut o = labelled("backend_engineer", &[("backend_engineer", 60)], 0.9);
        let unsure = [("backend_engineer", 30), ("data_engineer", 30)];
        o.extend(labelled("backend_engineer", &unsure, 0.4));
        o
    };
    let tmp = tempfile::tempdir().unwrap();
    let refit_with = |name: &str, items: &[EvalItem]| {
        let fit = fit_population(&original, items, &opts)
            .unwrap()
            .expect("60 labelled titles are enough");
        let to = tmp.path().join(name);
        let labels = vec!["test labels".to_string()];
        let head = original.meta.head;
        write_recalibrated_classifier(&dir, &to, head, &outcomes, labels, true, Some(&fit))
            .unwrap();
        (fit, Classifier::load(&to).unwrap())
    };
    // a row of a "who is hiring" thread that is not a posting, and one that is
    let titles = ["What about Europe?", "Join our team"];
    let (before, _) = common::classify_with(&original, &titles, None, &opts);
    assert!(
        before.iter().all(|p| p.title_id == "unclassified"),
        "{before:?}"
    );

    // labels that know only jobs pull the comment to one of them
    let jobs: Vec<EvalItem> = titled("Join our team", "cook")
        .chain(titled("Multiple positions", "registered_nurse"))
        .collect();
    let (_, jobs_only) = refit_with("jobs", &jobs);
    let (pulled, _) = common::classify_with(&jobs_only, &titles, None, &opts);
    assert_eq!(pulled[0].method, Method::LabelledNeighbours, "{pulled:?}");

    // with the labellers' "none fits" for such rows, it stays as the cascade had it
    let with_none: Vec<EvalItem> = titled("Join our team", "cook")
        .chain(titled(
            "What about Europe?",
            jobshift_core::labels::NONE_FITS,
        ))
        .collect();
    let (fit, refit) = refit_with("none", &with_none);
    let by_title = &fit.titles.as_ref().unwrap().info;
    assert_eq!((by_title.postings, by_title.none_fits), (60, 30));
    let (after, stats) = common::classify_with(&refit, &titles, None, &opts);
    let ids: Vec<&str> = after.iter().map(|p| p.title_id.as_str()).collect();
    assert_eq!(ids, ["unclassified", "cook"], "{after:?}");
    assert_eq!(
        after[0].reason, before[0].reason,
        "the cascade's reason stays"
    );
    assert_eq!(
        (stats.population_none, stats.population_filled),
        (1, 1),
        "{stats:?}"
    );
    // the record says how many of the remembered labels were none_fits
    let meta: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("none/classifier.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(meta["recalibration"]["population_titles"]["none_fits"], 30);
}
