//! The default classifier on 340 real Hacker News titles labelled by hand (expert labels,
//! `fixtures/hn_titles_expert_labels.tsv`; its header says how they were made): at most 12 %
//! unclassified (issue 17's target; 10.3 % measured, 35 of 340), at least 90 % precision on the
//! rest (98.0 % measured). A title whose expert label is `none` (names no role) is right when
//! abstained and wrong when classified. And two fallbacks for titles the embedding abstains on,
//! on HN titles outside the fixture: the title before a separator ("Senior Software Engineer,
//! Database Engine") and the specialty a lead names ("QA Lead"), never over the embedding's
//! sure answer, never a business function's "engineer".
//!
//! The predictions do not depend on how many threads the machine has.
//!
//! Needs the MiniLM model and trains the default classifier into the jobshift cache when it is
//! not there yet (minutes, once); skipped without the model, FAILS instead when
//! `JOBSHIFT_REQUIRE_ASSETS=1`.

mod common;

use jobshift_core::schema::UNCLASSIFIED;

struct Labelled {
    title: String,
    labels: Vec<String>,
}

fn fixture() -> Vec<Labelled> {
    let text = include_str!("fixtures/hn_titles_expert_labels.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "fixture line {l:?}");
            Labelled {
                title: cols[1].to_string(),
                labels: cols[3].split('|').map(str::to_string).collect(),
            }
        })
        .collect()
}

#[test]
fn fixture_labels_are_taxonomy_titles() {
    let tax = jobshift_taxonomy::Taxonomy::builtin().unwrap();
    let items = fixture();
    assert!(items.len() >= 300);
    for it in &items {
        for l in &it.labels {
            assert!(
                l == "none" || tax.get(l).is_some(),
                "{:?}: unknown title id {l}",
                it.title
            );
        }
    }
}

#[test]
fn default_classifier_on_expert_labelled_hn_titles() {
    let Some(c) = common::default_classifier() else {
        return;
    };
    let items = fixture();
    let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
    let (preds, _) = common::classify(&c, &titles, None);
    let (mut unclassified, mut classified, mut right) = (0usize, 0usize, 0usize);
    let mut wrong = Vec::new();
    for (it, p) in items.iter().zip(&preds) {
        if p.title_id == UNCLASSIFIED {
            unclassified += 1;
            continue;
        }
        classified += 1;
        if it.labels.contains(&p.title_id) {
            right += 1;
        } else {
            wrong.push(format!(
                "{} -> {} (expert: {})",
                it.title,
                p.title_id,
                it.labels.join("|")
            ));
        }
    }
    let share = unclassified as f64 / items.len() as f64;
    let precision = right as f64 / classified.max(1) as f64;
    eprintln!(
        "HN expert labels: {} titles, unclassified {unclassified} ({share:.3}), precision {precision:.3} ({right}/{classified})",
        items.len()
    );
    for w in &wrong {
        eprintln!("  wrong: {w}");
    }
    // the target; measured 0.103 (35 of 340, 11 of them rightly abstained `none`
    // titles) on 2026-12-05, 0.129 before the bracket, separator and lead rules
    assert!(share <= 0.12, "unclassified {share:.3} > 0.12");
    assert!(precision >= 0.90, "precision {precision:.3} < 0.90");

    // HN 2022–2025 titles outside the fixture
    let cases = [
        // the embedding abstains; the title before the separator is an exact alias
        (
            "Senior Software Engineer, Database Engine",
            "software_engineer",
        ),
        ("Platform Engineer - Orchestration", "platform_engineer"),
        (
            "Engineering Manager, Core Storage Infrastructure",
            "engineering_manager",
        ),
        ("Sr Data Engineer, Alerts", "data_engineer"),
        // the embedding is sure, and the tail refines the title: kept
        ("Software Engineer, Security", "security_engineer"),
        // the embedding is sure of a title of another family and kind than the one before
        // the separator: the title before it
        ("Data Scientist - Credit Risk", "data_scientist"),
        (
            "Software Engineer - Electronic Park Brake",
            "software_engineer",
        ),
        (
            "Staff Technical Program Manager, Cloud Costs",
            "technical_program_manager",
        ),
        // a header-like title field: the one title a later part names, the company first
        (
            "Shoefitr - Software Engineer - Pittsburgh, PA",
            "software_engineer",
        ),
        (
            "Rangespan - London, UK - Lead DevOps Engineer",
            "devops_engineer",
        ),
        // ... but not a state ("PA" is also a personal assistant) nor a list of departments
        ("Philadelphia 76ers - Philadelphia, PA", UNCLASSIFIED),
        // alternatives after a spaced slash, and a level before it, are no leading title
        (
            "Principal / Lead Fullstack SW Engineer",
            "full_stack_engineer",
        ),
        // a generic title before the separator: still abstains
        ("Director, People Experience", UNCLASSIFIED),
        // the specialty a lead names, as its practitioner or as itself
        ("QA Lead", "qa_engineer"),
        ("Data Engineering Lead", "data_engineer"),
        ("Backend Technical Lead", "backend_engineer"),
        ("Product Design Lead", "product_designer"),
        // the title a technology qualifies, where the embedding abstains
        ("Rust Software Engineer", "software_engineer"),
        ("Java/Kotlin Backend Engineer", "backend_engineer"),
        ("GCP DevOps Engineer", "devops_engineer"),
        // a business function's lead is not its engineer
        ("Site Lead", UNCLASSIFIED),
        ("Design Lead", UNCLASSIFIED),
        ("Founding GTM Lead", UNCLASSIFIED),
    ];
    let titles: Vec<&str> = cases.iter().map(|(title, _)| *title).collect();
    let (preds, stats) = common::classify(&c, &titles, None);
    for ((title, want), p) in cases.iter().zip(&preds) {
        assert_eq!(&p.title_id, want, "{title}");
    }
    assert_eq!(stats.leading_title, 4, "{stats:?}");
    assert_eq!(stats.leading_title_kept, 3, "{stats:?}");
    assert_eq!(stats.header_title, 2, "{stats:?}");
    assert_eq!(stats.lead_specialty, 4, "{stats:?}");
    assert_eq!(stats.technology_title, 3, "{stats:?}");
}

/// The same predictions, to the bit of every confidence, whatever the number of threads the
/// encoder and the kNN scan run on (1 and 3 here; `classify-titles` on the whole HN 2026 and
/// 2022–2025 files gave byte-identical outputs with `RAYON_NUM_THREADS` 1, 2, 5 and 7).
#[test]
fn predictions_do_not_depend_on_the_number_of_threads() {
    let Some(c) = common::default_classifier() else {
        return;
    };
    let titles: Vec<String> = fixture().into_iter().map(|i| i.title).collect();
    let on_threads = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (preds, _) = pool.install(|| common::classify(&c, &titles, None));
        preds
            .into_iter()
            .map(|p| (p.title_id, p.best, p.confidence.to_bits()))
            .collect::<Vec<_>>()
    };
    let one = on_threads(1);
    assert_eq!(one.len(), titles.len());
    assert_eq!(one, on_threads(3));
}
