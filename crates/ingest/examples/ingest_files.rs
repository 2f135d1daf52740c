//! Run an ingest without building the whole `jobshift` binary:
//! `cargo run -p jobshift-ingest --example ingest_files -- OUT_DIR INPUT...`
//! (the real front end is `jobshift ingest`).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: ingest_files OUT_DIR INPUT...")?);
    let inputs: Vec<PathBuf> = args.map(PathBuf::from).collect();
    let opts = jobshift_ingest::IngestOptions {
        progress: true,
        ..Default::default()
    };
    let t = std::time::Instant::now();
    let report = jobshift_ingest::ingest(&inputs, &out, &opts)?;
    print!("{}", report.summary());
    println!(
        "accounting holds: {}   elapsed {:.1}s",
        report.accounting_holds(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
