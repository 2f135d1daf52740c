//! De-duplication quality on a generated fixture with known truth: exact copies (also differing
//! only in case, spacing or HTML), near copies (a few words changed, a sentence added or
//! dropped, a title spelled differently, another office), heavily edited copies, re-posts after
//! the window (truth: new postings), and hard negatives (same company and title, different team;
//! same company boilerplate, different role). Records are shuffled so input order ≠ date order.
//! Prints precision and recall of duplicate detection; asserts floors well below the measured
//! values so the test guards regressions without being brittle.

mod common;
use common::*;
use std::collections::HashMap;
use std::io::Write;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 10_000) as f64 / 10_000.0 < p
    }
}

const WORDS: &str = "build design maintain scalable reliable secure services platform team customers data \
pipelines models analytics reporting dashboards stakeholders product roadmap features quality testing \
automation deployment cloud infrastructure kubernetes python java rust go sql spark kafka airflow \
warehouse lakehouse governance compliance privacy security audit risk controls policies training \
mentoring hiring collaboration communication ownership impact growth revenue sales marketing campaigns \
brand content social media editorial writing research experiments statistics machine learning deep \
ranking search recommendation vision language robotics sensors hardware firmware embedded mobile ios \
android web frontend backend react typescript css accessibility performance latency throughput \
monitoring observability incident response oncall support tickets customers success onboarding \
retention churn pricing billing payments finance accounting budgets forecasting planning operations \
logistics supply chain warehouse inventory procurement vendors contracts legal regulatory healthcare \
patients clinical records coding billing scheduling nursing care safety quality improvement lab \
samples assays genomics sequencing biology chemistry materials manufacturing process plant equipment \
maintenance shifts weekends travel remote hybrid office benefits equity salary bonus insurance leave \
learning budget conference flexible hours inclusive diverse culture values mission vision customers \
partners community open source documentation reviews standards architecture migrations legacy modern";

const TITLES: &[&str] = &[
    "Data Engineer",
    "Senior Software Engineer",
    "Product Designer",
    "Registered Nurse",
    "Account Executive",
    "Machine Learning Engineer",
    "Marketing Manager",
    "Customer Service Representative",
    "Data Analyst",
    "Compliance Specialist",
    "Technical Writer",
    "DevOps Engineer",
    "Medical Coder",
    "Sales Director",
    "Research Scientist",
    "Frontend Engineer",
    "Backend Engineer",
    "QA Engineer",
    "Security Engineer",
    "Sustainability Manager",
];

fn sentence(r: &mut Rng, words: &[&str], n: usize) -> String {
    (0..n)
        .map(|_| words[r.below(words.len())])
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Clone)]
struct Rec {
    company: String,
    title: String,
    location: String,
    description: String,
    day: i64,
    group: usize,
    kind: &'static str,
}

fn edit_words(r: &mut Rng, text: &str, words: &[&str], frac: f64) -> String {
    text.split(' ')
        .map(|w| {
            if r.chance(frac) {
                words[r.below(words.len())]
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The fixture's records (shuffled), the number of truth groups and the count of each kind.
fn fixture_records() -> (Vec<Rec>, usize, HashMap<&'static str, usize>) {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut r = Rng(0x5eed_1234_abcd);
    let companies: Vec<String> = (0..40).map(|i| format!("Company {i} Inc")).collect();
    let intros: Vec<String> = (0..40).map(|_| sentence(&mut r, &words, 35)).collect();
    let cities = ["Berlin", "Austin, TX", "London", "Remote", "Toronto, ON"];
    let base_day = 19_723i64; // 2024-01-01
    let mut recs: Vec<Rec> = Vec::new();
    let mut groups = 0usize;
    let mut kinds: HashMap<&str, usize> = HashMap::new();
    for _ in 0..400 {
        let c = r.below(companies.len());
        let title = TITLES[r.below(TITLES.len())].to_string();
        let n = 60 + r.below(80);
        let role = sentence(&mut r, &words, n);
        let description = format!("{}. {}.", intros[c], role);
        let location = cities[r.below(cities.len())].to_string();
        let day = base_day + r.below(300) as i64;
        let g = groups;
        groups += 1;
        let original = Rec {
            company: companies[c].clone(),
            title: title.clone(),
            location: location.clone(),
            description: description.clone(),
            day,
            group: g,
            kind: "original",
        };
        recs.push(original.clone());
        let roll = r.below(100);
        let later = day + 1 + r.below(50) as i64;
        match roll {
            0..=19 => {
                *kinds.entry("exact").or_default() += 1;
                recs.push(Rec {
                    day: later,
                    group: g,
                    kind: "exact",
                    ..original.clone()
                });
            }
            20..=29 => {
                *kinds.entry("exact_variant").or_default() += 1;
                let d = if r.chance(0.5) {
                    format!("<p>{}</p>", description.replace(". ", ".  "))
                } else {
                    description.to_uppercase()
                };
                recs.push(Rec {
                    company: companies[c].to_uppercase(),
                    title: title.to_lowercase(),
                    description: d,
                    day: later,
                    group: g,
                    kind: "exact_variant",
                    ..original.clone()
                });
            }
            30..=49 => {
                *kinds.entry("near").or_default() += 1;
                let d = match r.below(3) {
                    0 => edit_words(&mut r, &description, &words, 0.03),
                    1 => format!(
                        "{description} Apply through our careers page by the end of the month."
                    ),
                    _ => description
                        .rsplit_once(' ')
                        .map(|x| x.0)
                        .unwrap_or(&description)
                        .to_string(),
                };
                let t = if r.chance(0.3) {
                    format!("Sr. {title}")
                } else {
                    title.clone()
                };
                let loc = cities[r.below(cities.len())].to_string();
                recs.push(Rec {
                    title: t,
                    location: loc,
                    description: d,
                    day: later,
                    group: g,
                    kind: "near",
                    ..original.clone()
                });
            }
            50..=57 => {
                *kinds.entry("heavy_edit").or_default() += 1;
                let d = edit_words(&mut r, &description, &words, 0.10);
                recs.push(Rec {
                    description: d,
                    day: later,
                    group: g,
                    kind: "heavy_edit",
                    ..original.clone()
                });
            }
            58..=67 => {
                *kinds.entry("repost_after_window").or_default() += 1;
                let g2 = groups;
                groups += 1;
                recs.push(Rec {
                    day: day + 70 + r.below(60) as i64,
                    group: g2,
                    kind: "repost_after_window",
                    ..original.clone()
                });
            }
            68..=79 => {
                *kinds.entry("negative_same_title_other_team").or_default() += 1;
                let half: Vec<&str> = role.split(' ').collect();
                let keep = half.len() / 2;
                let d = format!(
                    "{}. {} {}.",
                    intros[c],
                    half[..keep].join(" "),
                    sentence(&mut r, &words, half.len() - keep)
                );
                let g2 = groups;
                groups += 1;
                recs.push(Rec {
                    description: d,
                    day: later,
                    group: g2,
                    kind: "negative_same_title_other_team",
                    ..original.clone()
                });
            }
            80..=89 => {
                *kinds.entry("negative_same_boilerplate").or_default() += 1;
                let n = 60 + r.below(60);
                let d = format!("{}. {}.", intros[c], sentence(&mut r, &words, n));
                let g2 = groups;
                groups += 1;
                recs.push(Rec {
                    title: TITLES[r.below(TITLES.len())].to_string(),
                    description: d,
                    day: later,
                    group: g2,
                    kind: "negative_same_boilerplate",
                    ..original.clone()
                });
            }
            _ => {}
        }
    }
    // Shuffle (Fisher-Yates) so input order is not date order.
    for i in (1..recs.len()).rev() {
        let j = r.below(i + 1);
        recs.swap(i, j);
    }
    (recs, groups, kinds)
}

fn write_jsonl<'a>(path: &std::path::Path, recs: impl IntoIterator<Item = &'a Rec>) {
    let mut f = std::fs::File::create(path).unwrap();
    for x in recs {
        let date = jobshift_ingest::dates::from_days(x.day as i32).to_string();
        let v = serde_json::json!({"title": x.title, "company": x.company, "location": x.location, "description": x.description, "date": date, "truth_group": x.group});
        writeln!(f, "{v}").unwrap();
    }
}

#[test]
fn dedup_precision_and_recall() {
    let (recs, groups, kinds) = fixture_records();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("dedup_fixture.jsonl");
    write_jsonl(&input, &recs);
    let ds = dir.path().join("ds");
    let report = ingest_ok(&[input], &ds, &quiet());
    // truth: every record but the earliest of its group is a duplicate of that group
    let mut group_size: HashMap<usize, usize> = HashMap::new();
    for x in &recs {
        *group_size.entry(x.group).or_default() += 1;
    }
    let truth_dups: usize = group_size.values().map(|n| n - 1).sum();
    let record_group: Vec<usize> = recs.iter().map(|x| x.group).collect(); // record numbers are 1-based
    let id_to_record: HashMap<String, u64> = rows(&ds)
        .into_iter()
        .map(|x| (x.posting_id, x.input_record))
        .collect();
    let dups = duplicates(&ds, &report);
    let mut tp = 0usize;
    let mut flagged_by_kind: HashMap<&str, (usize, usize)> = HashMap::new(); // kind -> (flagged, correct)
    for d in &dups {
        let rec = d["record"].as_u64().unwrap() as usize;
        let kept = id_to_record[d["duplicate_of"].as_str().unwrap()] as usize;
        let e = flagged_by_kind.entry(recs[rec - 1].kind).or_default();
        e.0 += 1;
        if record_group[rec - 1] == record_group[kept - 1] {
            tp += 1;
            e.1 += 1;
        }
    }
    let mut count_by_kind: HashMap<&str, usize> = HashMap::new();
    for x in &recs {
        *count_by_kind.entry(x.kind).or_default() += 1;
    }
    let mut kinds_sorted: Vec<_> = count_by_kind.iter().collect();
    kinds_sorted.sort();
    for (k, n) in kinds_sorted {
        let (fl, ok) = flagged_by_kind.get(k).copied().unwrap_or_default();
        eprintln!("  {k:<32} records {n:>4}  flagged duplicate {fl:>4}  correctly {ok:>4}");
    }
    let precision = tp as f64 / dups.len().max(1) as f64;
    let recall = tp as f64 / truth_dups.max(1) as f64;
    // per-kind recall
    eprintln!(
        "dedup fixture: {} records, {} groups, truth duplicates {}, kinds {:?}",
        recs.len(),
        groups,
        truth_dups,
        kinds
    );
    eprintln!(
        "flagged {} (exact {}, near {}), correct {}: precision {:.3} recall {:.3}",
        dups.len(),
        report.exact_duplicates,
        report.near_duplicates,
        tp,
        precision,
        recall
    );
    assert!(precision >= 0.97, "precision {precision}");
    assert!(recall >= 0.80, "recall {recall}");
}

/// De-duplication in passes over company shards (what bounds ingest's memory) decides exactly
/// as one pass does: same kept postings and counters, same duplicate decisions, in a first run
/// and in an incremental run that matches against the first run's persisted index.
#[test]
fn decisions_do_not_depend_on_the_number_of_passes() {
    let (recs, _, _) = fixture_records();
    let dir = tempfile::tempdir().unwrap();
    let split = 19_723 + 170; // days: the second batch overlaps the first's window
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    write_jsonl(&a, recs.iter().filter(|x| x.day < split));
    write_jsonl(&b, recs.iter().filter(|x| x.day >= split));
    type Outcome = (
        Vec<(u64, u64, u64, u64, u64, u64)>,
        Vec<(String, i32, i32, u32, String, u64)>,
        Vec<String>,
    );
    let mut outcomes: Vec<(String, Outcome)> = Vec::new();
    let variants: [(Option<u32>, u64, u32); 5] = [
        (Some(1), 256 << 20, 1),
        (Some(3), 256 << 20, 3),
        (Some(4), 256 << 20, 4),
        (Some(64), 256 << 20, 64),
        (None, 1, 64), // planned: a 1-byte budget needs every shard in its own pass
    ];
    for (passes, memory, expect) in variants {
        let ds = dir.path().join(format!("ds-{passes:?}-{memory}"));
        let opts = jobshift_ingest::IngestOptions {
            dedup_passes: passes,
            dedup_memory: memory,
            ..quiet()
        };
        let r1 = ingest_ok(std::slice::from_ref(&a), &ds, &opts);
        let r2 = ingest_ok(std::slice::from_ref(&b), &ds, &opts);
        assert_eq!((r1.dedup_passes, r2.dedup_passes), (expect, expect));
        let counts = [&r1, &r2]
            .iter()
            .map(|r| {
                (
                    r.accepted,
                    r.duplicates,
                    r.exact_duplicates,
                    r.near_duplicates,
                    r.existing_postings_extended,
                    r.postings_total,
                )
            })
            .collect();
        let mut kept: Vec<_> = rows(&ds)
            .into_iter()
            .map(|x| {
                (
                    x.posting_id,
                    x.first_seen,
                    x.last_seen,
                    x.duplicates,
                    x.input_file,
                    x.input_record,
                )
            })
            .collect();
        kept.sort();
        let mut dups: Vec<String> = duplicates(&ds, &r1)
            .into_iter()
            .chain(duplicates(&ds, &r2))
            .map(|d| d.to_string())
            .collect();
        dups.sort();
        outcomes.push((format!("{passes:?}/{memory}"), (counts, kept, dups)));
    }
    let (_, first) = &outcomes[0];
    let (counts, kept, dups) = first;
    // The fixture exercises what matters: near and exact duplicates in both runs, existing
    // postings extended by the second.
    assert!(
        counts[0].3 > 0 && counts[0].2 > 0 && counts[1].1 > 0,
        "{counts:?}"
    );
    assert!(counts[1].4 > 0, "no existing posting extended: {counts:?}");
    assert!(kept.len() > 300 && !dups.is_empty());
    for (name, o) in &outcomes[1..] {
        assert_eq!(&o.0, counts, "{name}");
        assert_eq!(&o.1, kept, "{name}");
        assert_eq!(&o.2, dups, "{name}");
    }
}
