//! Bad title fields never panic: empty, whitespace-only, 10,000 characters, non-Latin scripts,
//! HTML, emoji and control characters each get a prediction or an abstention with a reason,
//! with and without a description. Cleaning and the role finder are checked without a model;
//! the cascade with the default classifier (skipped without the MiniLM model, FAILS instead when
//! `JOBSHIFT_REQUIRE_ASSETS=1`).

mod common;

use jobshift_classify::classifier::Method;
use jobshift_classify::roles::{not_a_title, RoleFinder};
use jobshift_classify::seniority::{clean_title, resolve_seniority};
use jobshift_core::schema::UNCLASSIFIED;

fn bad_titles() -> Vec<String> {
    vec![
        String::new(),
        "   \t\n ".into(),
        "Engineer ".repeat(1_112) + "x",
        "é".repeat(10_000),
        "软件工程师".into(),
        "Инженер-программист".into(),
        "مهندس برمجيات".into(),
        "ソフトウェアエンジニア (東京)".into(),
        "<div><b>Senior&nbsp;Data Engineer</b><br/></div>".into(),
        "<script>alert(1)</script>".into(),
        "🚀🚀 Backend Engineer 🚀 (m/w/d) | Remote | $150k-$200k".into(),
        "\u{0}\u{7}\u{202e}Nurse".into(),
        "((((((((".into(),
        "&&&&;;;;".into(),
        "|||| - - ,,, ".into(),
    ]
}

#[test]
fn cleaning_and_role_finding_never_panic() {
    let tax = jobshift_taxonomy::Taxonomy::builtin().unwrap();
    let finder = RoleFinder::new(&tax);
    for t in bad_titles() {
        let c = clean_title(&t);
        assert!(
            c.chars().count() <= 400,
            "cleaned title not bounded: {}",
            c.len()
        );
        let _ = resolve_seniority(&t, None);
        let _ = not_a_title(&t, &finder, true);
        let _ = finder.roles_in_title(&t);
        let _ = finder.roles_in_posting(&t, 6000);
    }
    assert_eq!(
        clean_title("<div><b>Senior&nbsp;Data Engineer</b><br/></div>"),
        "data engineer"
    );
}

#[test]
fn the_cascade_answers_every_bad_title_with_a_prediction_or_a_reason() {
    let Some(c) = common::default_classifier() else {
        return;
    };
    let titles = bad_titles();
    let description = "Acme | Senior Python Developer | Berlin\n\nWe build tools.";
    for with_description in [false, true] {
        let (preds, _) = common::classify(&c, &titles, with_description.then_some(description));
        assert_eq!(preds.len(), titles.len());
        for (t, p) in titles.iter().zip(&preds) {
            let short: String = t.chars().take(40).collect();
            if p.title_id == UNCLASSIFIED {
                assert_eq!(p.method, Method::Unclassified);
                assert!(p.reason.is_some(), "{short:?}: abstention without a reason");
            } else {
                assert!(c.title(&p.title_id).is_some(), "{short:?}: {}", p.title_id);
                assert!(p.reason.is_none());
            }
            assert!((0.0..=1.0).contains(&p.confidence), "{short:?}");
        }
        // empty and whitespace-only titles
        if with_description {
            // the description names the role
            assert_eq!(preds[0].title_id, "software_engineer");
            assert_eq!(preds[0].method, Method::Description);
        } else {
            assert_eq!(preds[0].reason, Some("empty_title"));
            assert_eq!(preds[1].reason, Some("empty_title"));
        }
        // HTML around a real title
        assert_eq!(preds[8].title_id, "data_engineer", "{:?}", preds[8]);
    }
}

#[test]
fn a_description_naming_no_role_is_read_alone_only_when_asked_without_a_description_calibration() {
    let Some(c) = common::default_classifier() else {
        return;
    };
    assert!(c.meta.desc_calibration.is_none());
    let description = "Acme | San Francisco, CA | Full time\n\nWe build the data platform \
        hospitals run on, in Rust with Kafka and Postgres, and ship every week.";
    let title = ["San Francisco, CA"];
    let (preds, stats) = common::classify(&c, &title, Some(description));
    assert_eq!(preds[0].title_id, UNCLASSIFIED);
    assert_eq!(preds[0].reason, Some("not_a_title"));
    assert_eq!((stats.description_used, stats.description_only), (0, 0));
    let alone = jobshift_classify::CascadeOptions {
        description_alone: true,
        ..c.default_options()
    };
    let (preds, stats) = common::classify_with(&c, &title, Some(description), &alone);
    assert_eq!((stats.description_used, stats.description_only), (1, 1));
    // scored, answered or abstained on, never blended with the location's scores
    assert!(preds[0].title_id != UNCLASSIFIED || preds[0].reason == Some("not_a_title"));
    assert_ne!(preds[0].best, UNCLASSIFIED);
}

/// What `jobshift classify` writes keeps what the cascade said of each posting: why it
/// abstained (`reason`, null when classified) and every title a posting naming several names
/// (`roles`), row for row, bad title fields included.
#[test]
fn the_classified_dataset_keeps_each_postings_reason_and_roles() {
    use arrow::array::{Array, AsArray};
    use jobshift_core::schema;
    let Some(c) = common::default_classifier() else {
        return;
    };
    let mut titles = bad_titles();
    titles.extend(
        [
            "Backend Engineer, Frontend Engineer, Product Designer",
            "Multiple roles",
            "Data Engineer",
        ]
        .map(String::from),
    );
    let rows: Vec<(&str, Option<&str>)> = titles.iter().map(|t| (t.as_str(), None)).collect();
    let tmp = tempfile::tempdir().unwrap();
    let rel = common::write_postings(tmp.path(), &common::postings_batch(&rows));
    let opts = jobshift_classify::ClassifyOptions {
        progress: false,
        ..Default::default()
    };
    jobshift_classify::classify_dataset(tmp.path(), &c, &opts).unwrap();
    let written =
        jobshift_classify::dataset::read_parquet(&tmp.path().join("classified").join(rel)).unwrap();
    let reasons = written
        .column_by_name(schema::REASON)
        .unwrap()
        .as_string::<i32>();
    let roles = written
        .column_by_name(schema::ROLES)
        .unwrap()
        .as_list::<i32>();
    let (preds, _) = common::classify(&c, &titles, None);
    assert_eq!(written.num_rows(), preds.len());
    for (i, p) in preds.iter().enumerate() {
        let reason = reasons.is_valid(i).then(|| reasons.value(i));
        assert_eq!(reason, p.reason, "row {i}: {:?}", titles[i]);
        assert_eq!(reason.is_some(), p.title_id == UNCLASSIFIED, "row {i}");
        let listed = roles.value(i);
        let listed: Vec<&str> = listed.as_string::<i32>().iter().flatten().collect();
        assert_eq!(listed, p.roles, "row {i}: {:?}", titles[i]);
    }
    let at = |t: &str| titles.iter().position(|x| x == t).unwrap();
    assert_eq!(reasons.value(0), "empty_title");
    assert_eq!(reasons.value(at("Multiple roles")), "not_a_title");
    assert!(reasons.is_null(at("Data Engineer")));
    let several = roles.value(at("Backend Engineer, Frontend Engineer, Product Designer"));
    let several: Vec<&str> = several.as_string::<i32>().iter().flatten().collect();
    assert_eq!(
        several,
        ["backend_engineer", "frontend_engineer", "product_designer"]
    );
    assert!(roles.value(at("Data Engineer")).is_empty());
}

/// The cascade's step-0 rules can be skipped to measure them (`--skip-cleaning non-titles,
/// several-roles`): a placeholder is then matched like a title, and a list of roles as one
/// title, with no `roles`.
#[test]
fn step_0_rules_can_be_skipped_to_measure_them() {
    use jobshift_classify::seniority::{CleaningRule, CleaningRules};
    let Some(c) = common::default_classifier() else {
        return;
    };
    let titles = [
        "Multiple roles",
        "Backend Engineer, Frontend Engineer, Product Designer",
    ];
    let (on, _) = common::classify(&c, &titles, None);
    assert_eq!(on[0].reason, Some("not_a_title"));
    assert_eq!(on[1].roles.len(), 3);
    let skipped = jobshift_classify::CascadeOptions {
        cleaning: CleaningRules::skipping(&[CleaningRule::NonTitles, CleaningRule::SeveralRoles]),
        ..c.default_options()
    };
    let (off, _) = common::classify_with(&c, &titles, None, &skipped);
    assert_ne!(off[0].reason, Some("not_a_title"), "{:?}", off[0]);
    assert!(off[1].roles.is_empty(), "{:?}", off[1]);
}

/// Titles written mostly in a script the English-only encoder cannot read get no answer from
/// its meaningless embedding (before: "مدير مبيعات", sales manager → Translator at 0.83;
/// "ソフトウェアエンジニア (東京)" → Psychiatric Technician at 0.55): they abstain with the reason
/// `unsupported_script`, unless the text names the role in words the role finder reads. A Latin
/// title with a place in another script still classifies, and the rule can be skipped to
/// measure it (`--skip-cleaning other-scripts`).
#[test]
fn titles_in_a_script_the_encoder_cannot_read_abstain_with_a_reason() {
    use jobshift_classify::seniority::{CleaningRule, CleaningRules};
    let Some(c) = common::default_classifier() else {
        return;
    };
    let foreign = [
        "مدير مبيعات",
        "ممرضة",
        "ソフトウェアエンジニア (東京)",
        "営業",
        "소프트웨어 엔지니어",
        "Μηχανικός λογισμικού",
        "วิศวกรซอฟต์แวร์",
        "软件工程师",
        "Инженер-программист",
    ];
    let (preds, stats) = common::classify(&c, &foreign, None);
    for (t, p) in foreign.iter().zip(&preds) {
        assert_eq!(p.title_id, UNCLASSIFIED, "{t:?}: {p:?}");
        assert_eq!(p.reason, Some("unsupported_script"), "{t:?}");
    }
    assert_eq!(stats.unsupported_script, foreign.len());
    // an English description that names the role gives it; one in the same script does not
    let english = "Acme | Tokyo | Senior Backend Engineer\n\nWe build payment APIs in Go.";
    let (preds, _) = common::classify(&c, &foreign[2..3], Some(english));
    assert_eq!(preds[0].title_id, "backend_engineer", "{:?}", preds[0]);
    assert_eq!(preds[0].method, Method::Description);
    let japanese = "株式会社アクメ | 東京 | ソフトウェアエンジニア\n\n決済APIを開発しています。";
    let (preds, _) = common::classify(&c, &foreign[2..3], Some(japanese));
    assert_eq!(
        preds[0].reason,
        Some("unsupported_script"),
        "{:?}",
        preds[0]
    );
    // Latin titles with a place in another script are read as before
    let mixed = ["Software Engineer (東京)", "Senior Java Developer – Москва"];
    let (preds, _) = common::classify(&c, &mixed, None);
    for (t, p) in mixed.iter().zip(&preds) {
        assert_eq!(p.title_id, "software_engineer", "{t:?}: {p:?}");
    }
    // skipped, the embedding answers as it did before the rule
    let skipped = jobshift_classify::CascadeOptions {
        cleaning: CleaningRules::skipping(&[CleaningRule::OtherScripts]),
        ..c.default_options()
    };
    let (off, stats) = common::classify_with(&c, &foreign, None, &skipped);
    assert_eq!(stats.unsupported_script, 0);
    assert!(off.iter().all(|p| p.reason != Some("unsupported_script")));
    assert!(
        off.iter().any(|p| p.title_id != UNCLASSIFIED),
        "the embedding answered none of them: {off:?}"
    );
}

/// A title whose head word is "engineer", "developer" or "programmer" is not answered with a
/// title no training title writes with it, however near its embedding lands (before: "CT
/// Senior Network Engineer" → Radiologic Technologist at 0.79, "Fraud Detection Analytics
/// Software Engineer" → Fraud Analyst at 0.97, "Billing Platform Engineer" → Billing
/// Specialist at 0.81, "CNO Developer" → Machinist at 0.65): the exact title it ends with
/// answers instead, or it abstains. Titles an occupation's O*NET alternate titles write so
/// keep their answer, and the rule can be skipped to measure it (`--skip-cleaning head-words`).
#[test]
fn a_title_ending_in_engineer_is_not_answered_with_a_job_never_written_so() {
    use jobshift_classify::seniority::{CleaningRule, CleaningRules};
    let Some(c) = common::default_classifier() else {
        return;
    };
    let titles = [
        "CT Senior Network Engineer",
        "Fraud Detection Analytics Software Engineer",
        "Billing Platform Engineer",
        "CNO Developer",
        "Browser Extension Engineer",
        // the title a title ends with is not a phrase cut out of one the taxonomy writes
        // ("business development", "marketing automation"): not Software Engineer (by the
        // alias "development engineer"), not Controls Engineer ("automation engineer")
        "Senior Business Development Engineer",
        "Marketing Automation Engineer",
    ];
    let (preds, stats) = common::classify(&c, &titles, None);
    let ids: Vec<&str> = preds.iter().map(|p| p.title_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "network_engineer",
            "software_engineer",
            "platform_engineer",
            UNCLASSIFIED,
            UNCLASSIFIED,
            UNCLASSIFIED,
            UNCLASSIFIED
        ],
        "{preds:?}"
    );
    assert_eq!(stats.head_word_refused, titles.len(), "{stats:?}");
    assert_eq!(stats.trailing_title, 3, "{stats:?}");
    for p in &preds[3..] {
        assert_eq!(p.reason, Some("low_confidence"), "{p:?}");
        // the best guess left is written as the title is
        assert!(
            p.alternatives
                .iter()
                .all(|(id, _)| !["machinist", "extension_agent"].contains(&id.as_str())),
            "{p:?}"
        );
    }
    // engineers and developers the taxonomy or O*NET write so keep their answer
    let kept = [
        "Senior Software Engineer",
        "iOS Programmer",
        "Stationary Engineer",
    ];
    let (preds, stats) = common::classify(&c, &kept, None);
    assert_eq!(stats.head_word_refused, 0, "{preds:?}");
    assert_eq!(preds[0].title_id, "software_engineer");
    assert_eq!(preds[1].title_id, "mobile_engineer");
    // skipped, the embedding's neighbours answer as before the rule
    let skipped = jobshift_classify::CascadeOptions {
        cleaning: CleaningRules::skipping(&[CleaningRule::HeadWords]),
        ..c.default_options()
    };
    let (off, stats) = common::classify_with(&c, &titles, None, &skipped);
    assert_eq!(stats.head_word_refused, 0);
    assert_eq!(off[0].title_id, "radiologic_technologist", "{:?}", off[0]);
    assert_eq!(off[1].title_id, "fraud_analyst", "{:?}", off[1]);
}
