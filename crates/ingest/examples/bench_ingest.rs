//! Throughput and memory benchmark of ingest (a benchmark, not a test):
//! `cargo run -p jobshift-ingest --example bench_ingest -- csv|jsonl ROWS [WORKDIR]`
//! generates ROWS postings of about 2 KB each (deterministic), ingests them into a fresh dataset
//! and prints input MB/s (single-threaded: per core) and the process's peak RSS (VmHWM).
//! Run each format in its own process so peak RSS is per run. Build profile matters: our crates
//! are opt-level 1 in dev; use the release `jobshift ingest` for published numbers.
//!
//! `bench_ingest files OUT_DIR INPUT...` ingests existing files (e.g. `jobshift generate`
//! output) into a fresh OUT_DIR and prints the same line (wall time, input MB/s, peak RSS, the
//! de-duplication window's peak size); wrap it in `/usr/bin/time -v` for CPU time.

use std::io::Write;
use std::path::PathBuf;

const WORDS: &[&str] = &[
    "build",
    "design",
    "maintain",
    "scalable",
    "reliable",
    "secure",
    "services",
    "platform",
    "team",
    "customers",
    "data",
    "pipelines",
    "models",
    "analytics",
    "reporting",
    "stakeholders",
    "product",
    "roadmap",
    "quality",
    "testing",
    "automation",
    "deployment",
    "cloud",
    "infrastructure",
    "python",
    "rust",
    "sql",
    "spark",
    "warehouse",
    "governance",
    "compliance",
    "privacy",
    "security",
    "audit",
    "mentoring",
    "hiring",
    "collaboration",
    "ownership",
    "impact",
    "growth",
    "revenue",
    "sales",
    "marketing",
    "campaigns",
    "content",
    "research",
    "experiments",
    "statistics",
    "learning",
    "patients",
    "clinical",
    "nursing",
    "care",
    "safety",
    "logistics",
    "inventory",
    "vendors",
];
const TITLES: &[&str] = &[
    "Data Engineer",
    "Registered Nurse",
    "Account Executive",
    "Graphic Designer",
    "Software Engineer",
];

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let format = args.next().unwrap_or_else(|| "csv".into());
    if format == "files" {
        let out = PathBuf::from(args.next().ok_or("files OUT_DIR INPUT...")?);
        let inputs: Vec<PathBuf> = args.map(PathBuf::from).collect();
        let bytes: u64 = inputs
            .iter()
            .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            .sum();
        let _ = std::fs::remove_dir_all(&out);
        let t = std::time::Instant::now();
        let r = jobshift_ingest::ingest(&inputs, &out, &jobshift_ingest::IngestOptions::default())?;
        let secs = t.elapsed().as_secs_f64();
        println!(
            "files {} input {:.1} MB (as stored): {:.1} s, {:.2} MB/s, {:.0} rows/s; peak RSS {:.0} MB; read {} accepted {} duplicates {} rejected {}; window peak {} postings {:.1} MB",
            inputs.len(),
            bytes as f64 / 1e6,
            secs,
            bytes as f64 / 1e6 / secs,
            r.read as f64 / secs,
            peak_rss_mb(),
            r.read,
            r.accepted,
            r.duplicates,
            r.rejected,
            r.dedup_window_peak_postings,
            r.dedup_window_peak_bytes as f64 / 1e6
        );
        return Ok(());
    }
    let rows: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let work = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("jobshift-bench"));
    std::fs::create_dir_all(&work)?;
    let input = work.join(format!("bench-{rows}.{format}"));
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&input)?);
        if format == "csv" {
            writeln!(w, "title,company,date,location,description")?;
        }
        for i in 0..rows {
            let mut desc = String::with_capacity(2100);
            while desc.len() < 1950 {
                desc.push_str(WORDS[(rnd() % WORDS.len() as u64) as usize]);
                desc.push(' ');
            }
            let title = TITLES[(rnd() % TITLES.len() as u64) as usize];
            let company = format!("Company {}", rnd() % 50_000);
            let day = 1 + (i % 28);
            let month = 1 + (rnd() % 24);
            let date = format!(
                "{}-{:02}-{:02}",
                2023 + (month - 1) / 12,
                1 + (month - 1) % 12,
                day
            );
            if format == "csv" {
                writeln!(w, "{title},{company},{date},\"Berlin, Germany\",\"{desc}\"")?;
            } else {
                let v = serde_json::json!({"title": title, "company": company, "date": date, "location": "Berlin, Germany", "description": desc});
                writeln!(w, "{v}")?;
            }
        }
    }
    let bytes = std::fs::metadata(&input)?.len();
    let out = work.join(format!("ds-{format}-{rows}"));
    let _ = std::fs::remove_dir_all(&out);
    let rss_before = peak_rss_mb();
    let t = std::time::Instant::now();
    let r = jobshift_ingest::ingest(
        std::slice::from_ref(&input),
        &out,
        &jobshift_ingest::IngestOptions::default(),
    )?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{format} rows {rows} input {:.1} MB: {:.1} s, {:.2} MB/s, {:.0} rows/s; peak RSS {:.0} MB (before ingest {:.0} MB); accepted {} duplicates {} rejected {}",
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / 1e6 / secs,
        rows as f64 / secs,
        peak_rss_mb(),
        rss_before,
        r.accepted,
        r.duplicates,
        r.rejected
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_file(&input);
    Ok(())
}
