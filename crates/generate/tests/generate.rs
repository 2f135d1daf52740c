//! Integration tests of the generator: determinism, configured rates, calibration to the study
//! (on expected counts exactly, on generated truth within sampling noise), streaming design.

use jobshift_generate::{
    change_table, generate_with, plan_for, Catalog, GenerateOptions, OutputFormat, Rates,
    TaxonomySource, YearMonth,
};
use std::collections::BTreeMap;
use std::path::Path;

fn opts(n: u64, seed: u64, format: OutputFormat) -> GenerateOptions {
    GenerateOptions {
        postings: n,
        seed,
        format,
        taxonomy: TaxonomySource::StudySample,
        ..GenerateOptions::default()
    }
}

fn all_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                if rel != "manifest.json" {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out
}

fn read_truth_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let headers = rdr.headers().unwrap().clone();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn same_seed_gives_identical_bytes() {
    let cat = Catalog::study_sample();
    for format in [OutputFormat::Jsonl, OutputFormat::Parquet] {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let o = GenerateOptions {
            rows_per_file: 700,
            ..opts(3000, 7, format)
        };
        generate_with(&cat, &o, a.path(), None).unwrap();
        generate_with(&cat, &o, b.path(), None).unwrap();
        let fa = all_files(a.path());
        assert!(fa.len() > 30, "expected many part files, got {}", fa.len());
        assert_eq!(
            fa,
            all_files(b.path()),
            "{format:?}: same seed must give identical files"
        );
        generate_with(
            &cat,
            &GenerateOptions {
                seed: 8,
                ..o.clone()
            },
            c.path(),
            None,
        )
        .unwrap();
        assert_ne!(fa, all_files(c.path()), "a different seed must differ");
    }
}

#[test]
fn rates_are_as_configured_and_malformed_rows_are_really_malformed() {
    let cat = Catalog::study_sample();
    let dir = tempfile::tempdir().unwrap();
    let rates = Rates {
        exact_copy: 0.03,
        near_copy: 0.05,
        repost: 0.06,
        malformed: 0.01,
        ambiguous_title: 0.05,
    };
    let n = 20_000u64;
    let o = GenerateOptions {
        rates,
        rows_per_file: 2500,
        ..opts(n, 11, OutputFormat::Csv)
    };
    let s = generate_with(&cat, &o, dir.path(), None).unwrap();
    assert_eq!(s.records, n);
    // counts of copies and malformed are exact (cumulative rounding over months)
    assert_eq!(s.totals.exact_copies, (0.03 * n as f64).round() as u64);
    assert_eq!(s.totals.near_copies, (0.05 * n as f64).round() as u64);
    assert_eq!(s.totals.malformed, (0.01 * n as f64).round() as u64);
    let unique = s.unique_postings as f64;
    let repost_share = s.totals.reposts as f64 / unique;
    // re-posts start once a source month 4+ months back exists (30 of 34 months)
    assert!(
        (0.045..0.065).contains(&repost_share),
        "repost share {repost_share}"
    );
    let amb = s.totals.ambiguous_titles as f64 / unique;
    assert!((0.04..0.06).contains(&amb), "ambiguous share {amb}");

    // truth agrees with the summary
    let truth = read_truth_csv(&dir.path().join("truth.csv"));
    assert_eq!(truth.len() as u64, n);
    let kind = |k: &str| truth.iter().filter(|r| r["dup_kind"] == k).count() as u64;
    assert_eq!(kind("exact_copy"), s.totals.exact_copies);
    assert_eq!(kind("malformed"), s.totals.malformed);
    // re-posts are more than 60 days after their group's original
    let by_ref: BTreeMap<&str, &BTreeMap<String, String>> = truth
        .iter()
        .map(|r| (r["posting_ref"].as_str(), r))
        .collect();
    let mut checked = 0;
    for r in truth.iter().filter(|r| r["dup_kind"] == "repost") {
        let orig = by_ref[r["dup_group"].as_str()];
        assert_eq!(orig["dup_kind"], "original");
        assert_eq!(orig["title_id"], r["title_id"]);
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!((d(&r["date_posted"]) - d(&orig["date_posted"])).num_days() > 60);
        checked += 1;
    }
    assert!(checked > 100);

    // the CSV files: a strict reader sees exactly the malformed rows the truth lists
    let mut ok = 0u64;
    let mut wrong_fields = 0u64;
    let mut missing_title = 0u64;
    let mut bad_date = 0u64;
    for f in &s.totals.files {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(dir.path().join(f))
            .unwrap();
        for rec in rdr.records() {
            let rec = rec.unwrap();
            if rec.len() != 8 {
                wrong_fields += 1;
            } else if rec[1].trim().is_empty() {
                missing_title += 1;
            } else if chrono::NaiveDate::parse_from_str(&rec[5], "%Y-%m-%d").is_err() {
                bad_date += 1;
            } else {
                ok += 1;
            }
        }
    }
    let mk = &s.totals.malformed_by_kind;
    let get = |k: &str| *mk.get(k).unwrap_or(&0);
    assert_eq!(missing_title, get("missing_title"));
    assert_eq!(bad_date, get("bad_date"));
    assert_eq!(
        wrong_fields,
        get("broken_record") + get("unterminated_quote")
    );
    assert_eq!(ok + missing_title + bad_date + wrong_fields, n);
}

#[test]
fn expected_counts_reproduce_the_study_exactly() {
    let cat = Catalog::study_sample();
    for seed in [1u64, 42] {
        let plan = plan_for(&cat, &opts(1_000_000, seed, OutputFormat::Parquet)).unwrap();
        let rows = change_table(&cat, &plan);
        let get = |scope: &str, key: &str| {
            rows.iter()
                .find(|r| r.scope == scope && r.key == key)
                .unwrap()
        };
        let base = get("baseline", "all").expected_change_2025_vs_2024.unwrap();
        assert!((base - -0.08).abs() < 0.002, "baseline {base}");
        for (tier, want) in [
            ("senior_leadership", -0.017),
            ("middle_management", -0.057),
            ("individual_contributors", -0.09),
        ] {
            let got = get("tier", tier).expected_change_2025_vs_2024.unwrap();
            assert!((got - want).abs() < 0.001, "{tier}: {got} vs {want}");
        }
        for r in rows.iter().filter(|r| r.scope == "title") {
            if let Some(study) = r.study_2025_vs_2024 {
                let got = r.expected_change_2025_vs_2024.unwrap();
                assert!((got - study).abs() < 1e-6, "{}: {got} vs {study}", r.key);
            }
            if let Some(study) = r.study_2024_vs_2023 {
                let got = r.expected_change_2024_vs_2023.unwrap();
                assert!((got - study).abs() < 1e-6, "{}: {got} vs {study}", r.key);
            }
        }
    }
}

/// The full taxonomy, when it loads: the calibration must solve for it too.
#[test]
fn builtin_taxonomy_calibrates_when_available() {
    let cat = match Catalog::builtin() {
        Ok(c) => c,
        Err(e) => {
            jobshift_core::test_support::skip_missing(&format!(
                "a loadable built-in taxonomy ({e})"
            ));
            return;
        }
    };
    let plan = plan_for(
        &cat,
        &GenerateOptions {
            taxonomy: TaxonomySource::Builtin,
            ..opts(1_000_000, 42, OutputFormat::Parquet)
        },
    )
    .unwrap();
    let rows = change_table(&cat, &plan);
    let base = rows
        .iter()
        .find(|r| r.scope == "baseline")
        .unwrap()
        .expected_change_2025_vs_2024
        .unwrap();
    assert!((base - -0.08).abs() < 0.002, "baseline {base}");
    for (tier, want) in [
        ("senior_leadership", -0.017),
        ("middle_management", -0.057),
        ("individual_contributors", -0.09),
    ] {
        let got = rows
            .iter()
            .find(|r| r.scope == "tier" && r.key == tier)
            .unwrap()
            .expected_change_2025_vs_2024
            .unwrap();
        assert!((got - want).abs() < 0.001, "{tier}: {got} vs {want}");
    }
    eprintln!(
        "taxonomy: {} titles; study titles missing: {:?}",
        cat.len(),
        plan.calibration.missing_named
    );
}

/// Generated truth at a modest N: the baseline holds within rounding (monthly totals are fixed),
/// tiers within 3 standard errors of sampling noise.
#[test]
fn generated_truth_recovers_the_study_within_sampling_noise() {
    let cat = Catalog::study_sample();
    let dir = tempfile::tempdir().unwrap();
    let n = 200_000u64;
    let o = GenerateOptions {
        rates: Rates {
            malformed: 0.0,
            ..Rates::default()
        },
        ..opts(n, 3, OutputFormat::Csv)
    };
    generate_with(&cat, &o, dir.path(), None).unwrap();
    let truth = read_truth_csv(&dir.path().join("truth.csv"));
    // count unique postings (originals + re-posts) by tier and year, Jan–Oct, by posting month
    let mut counts: BTreeMap<(String, i32), f64> = BTreeMap::new();
    for r in truth
        .iter()
        .filter(|r| r["dup_kind"] == "original" || r["dup_kind"] == "repost")
    {
        let ym: YearMonth = r["month"].parse().unwrap();
        if ym.month > 10 {
            continue;
        }
        *counts.entry((r["tier"].clone(), ym.year)).or_default() += 1.0;
        *counts.entry(("all".into(), ym.year)).or_default() += 1.0;
    }
    let change = |k: &str| counts[&(k.to_string(), 2025)] / counts[&(k.to_string(), 2024)] - 1.0;
    let se = |k: &str| {
        let (a, b) = (
            counts[&(k.to_string(), 2024)],
            counts[&(k.to_string(), 2025)],
        );
        (b / a) * (1.0 / a + 1.0 / b).sqrt()
    };
    let base = change("all");
    assert!((base - -0.08).abs() < 0.003, "baseline {base}");
    for (tier, want) in [
        ("senior_leadership", -0.017),
        ("middle_management", -0.057),
        ("individual_contributors", -0.09),
    ] {
        let got = change(tier);
        assert!(
            (got - want).abs() < 3.0 * se(tier) + 0.002,
            "{tier}: {got} vs {want} (se {})",
            se(tier)
        );
    }
}

#[test]
fn finished_runs_are_reported_and_foreign_dirs_refused() {
    let cat = Catalog::study_sample();
    let dir = tempfile::tempdir().unwrap();
    let o = opts(1500, 5, OutputFormat::Jsonl);
    let first = generate_with(&cat, &o, dir.path(), None).unwrap();
    assert!(!first.already_complete);
    let again = generate_with(&cat, &o, dir.path(), None).unwrap();
    assert!(again.already_complete);
    assert_eq!(again.records, first.records);
    let other = GenerateOptions { seed: 6, ..o };
    let e = generate_with(&cat, &other, dir.path(), None).unwrap_err();
    assert!(e.to_string().contains("other options"), "{e}");
}

#[test]
fn interrupted_runs_resume_to_the_same_bytes() {
    let cat = Catalog::study_sample();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let o = opts(2000, 9, OutputFormat::Csv);
    generate_with(&cat, &o, a.path(), None).unwrap();
    // interrupt b after the third month by panicking in the progress callback
    let stop = |p: &jobshift_generate::Progress| {
        if p.month > YearMonth::new(2023, 3) {
            panic!("simulated interruption");
        }
    };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        generate_with(&cat, &o, b.path(), Some(&stop))
    }));
    assert!(r.is_err());
    assert!(b.path().join(".generate-state.json").exists());
    let s = generate_with(&cat, &o, b.path(), None).unwrap();
    assert!(s.resumed_months >= 3, "resumed {}", s.resumed_months);
    let strip_tmp = |m: BTreeMap<String, Vec<u8>>| -> BTreeMap<String, Vec<u8>> {
        m.into_iter()
            .filter(|(k, _)| !k.contains(".tmp-"))
            .collect()
    };
    assert_eq!(
        strip_tmp(all_files(a.path())),
        strip_tmp(all_files(b.path()))
    );
}

/// Streaming design: the plan (all that is held besides one batch) does not grow with N.
#[test]
fn plan_size_does_not_grow_with_n() {
    let cat = Catalog::study_sample();
    let small = plan_for(&cat, &opts(10_000, 1, OutputFormat::Parquet)).unwrap();
    let huge = plan_for(&cat, &opts(10_000_000_000, 1, OutputFormat::Parquet)).unwrap();
    assert_eq!(small.months.len(), huge.months.len());
    assert_eq!(huge.total_records(), 10_000_000_000);
    for m in &huge.months {
        assert_eq!(m.counts.len(), cat.len());
    }
    assert_eq!(
        jobshift_generate::default_company_count(10_000_000_000),
        50_000
    );
}

#[test]
fn labelled_sample_leaves_the_corpus_unchanged_and_carries_truth() {
    let cat = Catalog::study_sample();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let plain = opts(6_000, 9, OutputFormat::Jsonl);
    let labelled = GenerateOptions {
        labels_rate: 0.1,
        ..plain.clone()
    };
    generate_with(&cat, &plain, a.path(), None).unwrap();
    generate_with(&cat, &labelled, b.path(), None).unwrap();
    let (fa, fb) = (all_files(a.path()), all_files(b.path()));
    for (name, bytes) in &fa {
        assert_eq!(
            Some(bytes),
            fb.get(name),
            "{name} changed with a labelled sample"
        );
    }
    // every label is a unique posting of the corpus, with its description and true title
    let truth: BTreeMap<String, String> = read_truth_csv(&b.path().join("truth.csv"))
        .into_iter()
        .map(|r| (r["posting_ref"].clone(), r["title_id"].clone()))
        .collect();
    let mut n = 0;
    for (name, bytes) in fb.iter().filter(|(k, _)| k.starts_with("labels")) {
        for line in std::str::from_utf8(bytes).unwrap().lines() {
            let ex: jobshift_core::labels::LabeledExample = serde_json::from_str(line).unwrap();
            let id = ex.posting_id.as_deref().unwrap();
            assert_eq!(truth.get(id), Some(&ex.title_id), "{name}: {id}");
            assert!(ex.description.as_deref().is_some_and(|d| d.len() > 200));
            n += 1;
        }
    }
    assert!(
        (300..900).contains(&n),
        "{n} labels for 10 % of ~5,500 unique postings"
    );
}
