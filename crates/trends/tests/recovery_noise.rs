//! Recovery under sampling and classification noise, checked statistically: for each of many
//! seeds the true postings are drawn (Poisson around known yearly levels), each posting is
//! mislabelled as the confusion matrix says, and the corrected analysis runs with that matrix.
//! Over all seeds and titles the corrected 95% intervals must cover the true change at a rate no
//! lower than a binomial bound below 95% (3 standard deviations), while the raw intervals,
//! which ignore the mislabelling, must cover less (so the test can tell a good interval from a
//! bad one). Unlike `recovery.rs`, nothing here holds by construction.

mod common;

use common::{catalog, Fixture};
use jobshift_trends::{analyze_with_catalog, TrendOptions};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Poisson};

const TITLES: [&str; 4] = [
    "software_engineer",
    "frontend_engineer",
    "writer",
    "photographer",
];
/// Expected true postings in 2024 and 2025 (changes +10%, −20%, −25%, +20%).
const LEVELS: [[f64; 2]; 4] = [
    [3000.0, 3300.0],
    [1500.0, 1200.0],
    [2000.0, 1500.0],
    [800.0, 960.0],
];
/// P(predicted = column | true = row), per mille.
const CONFUSION: [[u32; 4]; 4] = [
    [850, 100, 30, 20],
    [150, 800, 30, 20],
    [20, 0, 900, 80],
    [0, 20, 130, 850],
];
const SEEDS: u64 = 50;

fn confusion_json() -> String {
    let rows: Vec<String> = TITLES
        .iter()
        .enumerate()
        .map(|(t, id)| {
            let cells: Vec<String> = TITLES
                .iter()
                .enumerate()
                .filter(|(p, _)| CONFUSION[t][*p] > 0)
                .map(|(p, pid)| format!("\"{pid}\": {}", CONFUSION[t][p]))
                .collect();
            format!("\"{id}\": {{{}}}", cells.join(", "))
        })
        .collect();
    format!("{{{}}}", rows.join(",\n"))
}

fn draw_dataset(dir: &std::path::Path, seed: u64) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut f = Fixture::default();
    for (t, levels) in LEVELS.iter().enumerate() {
        for (yi, level) in levels.iter().enumerate() {
            let n = Poisson::new(*level).unwrap().sample(&mut rng) as usize;
            for k in 0..n {
                let u = rng.random_range(0..1000u32);
                let mut acc = 0;
                let pred = (0..4)
                    .find(|&p| {
                        acc += CONFUSION[t][p];
                        u < acc
                    })
                    .unwrap_or(t);
                f.push_on(
                    TITLES[pred],
                    Some(format!("c{}", rng.random_range(0..60))),
                    (2024 + yi as i32, (k % 10) as u32 + 1, (k % 28) as u32 + 1),
                );
            }
        }
    }
    f.close_october_2025("photographer", Some("c0"));
    f.write(dir);
}

#[tokio::test]
async fn corrected_intervals_cover_the_truth_at_their_nominal_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("confusion.json");
    std::fs::write(&conf, confusion_json()).unwrap();
    let (mut covered, mut raw_covered, mut total) = (0u32, 0u32, 0u32);
    for seed in 0..SEEDS {
        let ds = tmp.path().join(format!("ds{seed}"));
        draw_dataset(&ds, seed);
        let opts = TrendOptions {
            years: 2,
            corrected: true,
            confusion: Some(conf.clone()),
            min_postings: Some(50),
            ..Default::default()
        };
        let t = analyze_with_catalog(&ds, &opts, &catalog()).await.unwrap();
        for (i, id) in TITLES.iter().enumerate() {
            let truth = LEVELS[i][1] / LEVELS[i][0] - 1.0;
            let s = t.title(id).unwrap();
            let ci = s.corrected_ci95.as_ref().unwrap()[&2025].unwrap();
            assert!(
                ci.1 - ci.0 < 0.5,
                "{id} seed {seed}: interval {ci:?} is uninformative"
            );
            total += 1;
            if ci.0 <= truth && truth <= ci.1 {
                covered += 1;
            }
            let raw = s.ci95[&2025].unwrap();
            if raw.0 <= truth && truth <= raw.1 {
                raw_covered += 1;
            }
        }
        std::fs::remove_dir_all(&ds).unwrap();
    }
    let n = f64::from(total);
    let floor = n * 0.95 - 3.0 * (n * 0.95 * 0.05).sqrt();
    eprintln!(
        "coverage over {total} intervals: corrected {covered} ({:.3}), raw {raw_covered} ({:.3}); \
         binomial floor {floor:.1}",
        f64::from(covered) / n,
        f64::from(raw_covered) / n
    );
    assert!(
        f64::from(covered) >= floor,
        "corrected intervals cover {covered}/{total}, below the binomial floor {floor:.1}"
    );
    assert!(
        raw_covered < covered,
        "raw intervals should under-cover under mislabelling"
    );
}
