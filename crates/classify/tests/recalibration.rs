//! A classifier re-fitted on labelled postings of its population (`jobshift eval --labels …
//! --recalibrate-to DIR`, [`write_recalibrated_classifier`]) moves the predicted titles the
//! labels say are mostly another title (step 5 of the cascade, the remap), records each remap
//! in `classifier.json`, and leaves every other title alone; without the remap (`--no-remap`)
//! only the confidence is re-fitted. With enough labelled postings it fits a population head
//! instead (step 6): a logistic regression over each posting's title, the cascade's answer and,
//! where the cascade abstained, its description — which classifies what the cascade leaves
//! unclassified (by titles alone too, for labels without descriptions), moves the answers the
//! labels call another title, and leaves alone the answers the labels never saw.
//!
//! Needs the MiniLM model and trains the default classifier into the jobshift cache when it is
//! not there yet (minutes, once); skipped without the model, FAILS instead when
//! `JOBSHIFT_REQUIRE_ASSETS=1`.

mod common;

use jobshift_classify::classifier::{CascadeStats, Classifier, Method};
use jobshift_classify::eval::Outcome;
use jobshift_classify::examples::EvalItem;
use jobshift_classify::fit_population;
use jobshift_classify::population::{PopulationFit, MIN_POSTINGS};
use jobshift_classify::write_recalibrated_classifier;
use jobshift_classify::CascadeOptions;

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

/// The default classifier read without descriptions (labels of titles alone), or `None`
/// where the test is skipped.
fn titles_only() -> Option<(std::path::PathBuf, Classifier, CascadeOptions)> {
    let dir = common::default_classifier_dir()?;
    let original = Classifier::load(&dir).unwrap();
    let mut opts = original.default_options();
    opts.use_description = false;
    Some((dir, original, opts))
}

/// A population head fitted on 30 postings of each (title, label) pair.
fn fit_on_titles(
    c: &Classifier,
    opts: &CascadeOptions,
    pairs: [(&'static str, &'static str); 2],
) -> PopulationFit {
    let items: Vec<EvalItem> = pairs
        .into_iter()
        .flat_map(|(t, id)| titled(t, id))
        .collect();
    fit_population(c, &items, opts)
        .unwrap()
        .expect("60 labelled titles are enough")
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
fn a_refit_reads_the_description_of_a_posting_whose_title_names_no_role() {
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
        .expect("80 labelled postings are enough");
    let info = &fit.info;
    // every title is "Remote" and the cascade abstains on all: only the descriptions tell
    assert_eq!((info.postings, info.described), (80, 80), "{info:?}");
    assert_eq!(info.classes, ["cook", "registered_nurse"]);
    assert_eq!(info.cascade_accuracy, 0.0, "{info:?}");
    assert!(info.cross_fit_accuracy > 0.95, "{info:?}");
    assert_eq!(info.titles_known, ["cook", "registered_nurse"]);
    assert!(
        info.unseen_map.is_none(),
        "no answer to be unseen: {info:?}"
    );
    // too few labelled postings: no head
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
    assert_eq!(refit_record.population_head.as_ref(), Some(info));
    assert!(to.join("population_head/head.json").is_file());

    let nurse = "Acme Health | Remote | Full-time\n\nJoin our hospital: care for patients, administer medications and monitor vital signs on night shifts.";
    let cook = "Acme Bistro | Remote | Full-time\n\nWork the line at dinner service, prep sauces and proteins, keep the kitchen clean.";
    let (before_nurse, _) = common::classify(&original, &["Remote"], Some(nurse));
    assert_ne!(before_nurse[0].method, Method::PopulationHead);
    let refit = Classifier::load(&to).unwrap();
    let (nurse_after, stats) = common::classify(&refit, &["Remote"], Some(nurse));
    assert_eq!(
        nurse_after[0].title_id, "registered_nurse",
        "{nurse_after:?}"
    );
    assert_eq!(nurse_after[0].method, Method::PopulationHead);
    assert!(nurse_after[0].confidence >= refit.meta.min_confidence);
    let (cook_after, _) = common::classify(&refit, &["Remote"], Some(cook));
    assert_eq!(cook_after[0].title_id, "cook", "{cook_after:?}");
    assert_eq!(
        stats.population_filled + stats.population_moved,
        1,
        "{stats:?}"
    );
    // an answer these labels never saw stays (no backend engineer among them), and a posting
    // with neither a description nor a title the labels tell apart is not classified: the
    // head's answer for it is below min_confidence
    let (sure, _) = common::classify(&refit, &["Backend Engineer"], Some(nurse));
    assert_eq!(sure[0].title_id, "backend_engineer", "{sure:?}");
    let (bare, _) = common::classify(&refit, &["Remote"], None);
    assert_eq!(bare[0].title_id, "unclassified", "{bare:?}");
    // a comment in the thread, unlike every labelled abstention, is not given their titles
    let floor = info
        .described_floor
        .expect("80 described labelled abstentions");
    assert!(floor > 0.0 && floor < 1.0, "{info:?}");
    let comment = "Is anyone else still waiting to hear back from the places they wrote to last month? Good luck, everyone.";
    let (comment_after, stats) = common::classify(&refit, &["Remote"], Some(comment));
    assert_eq!(
        comment_after[0].title_id, "unclassified",
        "{comment_after:?}"
    );
    assert_eq!(
        comment_after[0].reason, before_nurse[0].reason,
        "the cascade's reason stays"
    );
    assert_eq!(stats.population_unlike, 1, "{stats:?}");
    // the floor was measured on descriptions the re-fit keeps: without them it is refused
    let kept = to.join("population_head/described.f32");
    assert_eq!(
        std::fs::metadata(&kept).unwrap().len(),
        80 * 4 * original.encoder().dim() as u64
    );
    let moved = tmp.path().join("described.f32");
    std::fs::rename(&kept, &moved).unwrap();
    let err = Classifier::load(&to).err().expect("refused").to_string();
    assert!(
        err.contains("described.f32") && err.contains("--recalibrate-to"),
        "{err}"
    );
    std::fs::rename(&moved, &kept).unwrap();

    // without a population head (`--no-population-head`), nothing is filled
    let plain = tmp.path().join("plain");
    write_recalibrated_classifier(&dir, &plain, head, &outcomes, labels, true, None).unwrap();
    assert!(!plain.join("population_head").exists());
    let (plain_nurse, _) =
        common::classify(&Classifier::load(&plain).unwrap(), &["Remote"], Some(nurse));
    assert_ne!(plain_nurse[0].method, Method::PopulationHead);

    // a re-fit by an earlier jobshift (labelled neighbours) is refused with the fix
    std::fs::create_dir_all(plain.join("population")).unwrap();
    std::fs::write(plain.join("population/head.json"), "{}").unwrap();
    let err = Classifier::load(&plain).err().expect("refused").to_string();
    assert!(err.contains("--recalibrate-to"), "{err}");
}

#[test]
fn a_refit_on_titles_alone_reads_their_titles() {
    let Some((dir, original, opts)) = titles_only() else {
        return;
    };
    // this population's labellers know what its "Join our team" and "Multiple positions"
    // postings are; the taxonomy cannot
    let pairs = [
        ("Join our team", "cook"),
        ("Multiple positions", "registered_nurse"),
    ];
    let fit = fit_on_titles(&original, &opts, pairs);
    let info = &fit.info;
    assert_eq!(info.described, 0, "no descriptions were read: {info:?}");
    assert_eq!((info.postings, info.cross_fit_accuracy), (60, 1.0));
    assert_eq!((info.answered, info.moves_answers), (0, false), "{info:?}");

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
    assert_eq!(after[0].method, Method::PopulationHead);
    assert_eq!(
        after[2].method,
        Method::Alias,
        "an answer the labels never saw stays"
    );
    assert_eq!(stats.population_filled, 2, "{stats:?}");
}

#[test]
fn a_refit_leaves_postings_like_its_none_fits_labels_as_they_were() {
    let Some((dir, original, opts)) = titles_only() else {
        return;
    };
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

    // labels that know only jobs: their titles are classified, the comment is left to the head
    let jobs: Vec<EvalItem> = titled("Join our team", "cook")
        .chain(titled("Multiple positions", "registered_nurse"))
        .collect();
    let (_, jobs_only) = refit_with("jobs", &jobs);
    let (jobs_said, _) = common::classify_with(&jobs_only, &titles, None, &opts);
    assert_eq!(jobs_said[1].title_id, "cook", "{jobs_said:?}");

    // with the labellers' "none fits" for such rows, it stays as the cascade had it
    let with_none: Vec<EvalItem> = titled("Join our team", "cook")
        .chain(titled(
            "What about Europe?",
            jobshift_core::labels::NONE_FITS,
        ))
        .collect();
    let (fit, refit) = refit_with("none", &with_none);
    assert_eq!((fit.info.postings, fit.info.none_fits), (60, 30));
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
    assert_eq!(meta["recalibration"]["population_head"]["none_fits"], 30);
}

#[test]
fn a_head_no_better_than_the_cascades_answers_leaves_them_alone() {
    let Some((_, original, opts)) = titles_only() else {
        return;
    };
    // labels that agree with every answer: the head cannot be more often right than they are
    let agree = [
        ("Backend Engineer", "backend_engineer"),
        ("Data Engineer", "data_engineer"),
    ];
    let fit = fit_on_titles(&original, &opts, agree);
    let info = &fit.info;
    assert_eq!(info.answered, 60, "{info:?}");
    assert_eq!(info.answered_cascade_accuracy, 1.0, "{info:?}");
    assert!(!info.moves_answers, "{info:?}");
    // labels that call every "Data Engineer" a backend engineer: the head is right where the
    // answers are not, and moves them
    let differ = [
        ("Backend Engineer", "backend_engineer"),
        ("Data Engineer", "backend_engineer"),
    ];
    let fit = fit_on_titles(&original, &opts, differ);
    let info = &fit.info;
    assert_eq!(info.answered_cascade_accuracy, 0.5, "{info:?}");
    assert!(info.moves_answers, "{info:?}");
}
