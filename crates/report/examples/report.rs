//! `cargo run -p jobshift-report --example report -- [report] DATASET_DIR --out DIR [--years N]
//! [--assume-unique] [--panel] [--min-postings N]`: the trends analysis and report without the
//! rest of the CLI (used by benches/trends when the full `jobshift` binary is not built).

use jobshift_trends::TrendOptions;
use std::path::PathBuf;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("report") {
        args.remove(0);
    }
    let mut dataset = None;
    let mut out = PathBuf::from("report");
    let mut opts = TrendOptions::default();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = it.next().map(PathBuf::from).unwrap_or(out),
            "--years" => opts.years = it.next().and_then(|v| v.parse().ok()).unwrap_or(3),
            "--min-postings" => opts.min_postings = it.next().and_then(|v| v.parse().ok()),
            "--assume-unique" => opts.assume_unique = true,
            "--panel" => opts.panel = true,
            _ if dataset.is_none() => dataset = Some(PathBuf::from(a)),
            other => {
                eprintln!("unknown argument {other:?}");
                std::process::exit(2);
            }
        }
    }
    let Some(dataset) = dataset else {
        eprintln!("usage: report DATASET_DIR --out DIR [--years N] [--assume-unique] [--panel]");
        std::process::exit(2);
    };
    let started = std::time::Instant::now();
    let t = match jobshift_trends::analyze(&dataset, &opts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let analysed = started.elapsed().as_secs_f64();
    match jobshift_report::write_report(&t, &out) {
        Ok(p) => println!(
            "analysis {analysed:.2}s, total {:.2}s; baseline {:?}; {}",
            started.elapsed().as_secs_f64(),
            t.baseline.counts,
            p.html.display()
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
