//! Generate a corpus without the full `jobshift` binary (for measuring the generator alone):
//! `cargo run -p jobshift-generate --example generate_corpus -- N OUT_DIR [parquet|jsonl|csv] [seed]`.

use jobshift_generate::{generate_with, Catalog, GenerateOptions, TaxonomySource};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: generate_corpus N OUT_DIR [parquet|jsonl|csv] [seed]");
        std::process::exit(2);
    }
    let n: u64 = args[1].parse()?;
    let out = PathBuf::from(&args[2]);
    let format = args
        .get(3)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(jobshift_generate::OutputFormat::Parquet);
    let seed = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(42);
    let catalog = Catalog::builtin()?;
    let opts = GenerateOptions {
        postings: n,
        seed,
        format,
        taxonomy: TaxonomySource::Builtin,
        ..Default::default()
    };
    let s = generate_with(&catalog, &opts, &out, None)?;
    println!(
        "{} records ({} unique) in {:.1}s = {:.0} records/s; titles {}, companies {}",
        s.records,
        s.unique_postings,
        s.seconds,
        s.records as f64 / s.seconds,
        s.titles,
        s.companies
    );
    println!("{}", serde_json::to_string(&s.totals.malformed_by_kind)?);
    Ok(())
}
