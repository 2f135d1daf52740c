//! `jobshift ingest INPUT... --out DATASET_DIR`: read postings files into the canonical,
//! de-duplicated dataset and print the run's accounting (see docs/ingest.md).

use anyhow::Context;
use jobshift_ingest::flags::IngestArgs;
use std::io::IsTerminal;

pub fn run(args: IngestArgs) -> anyhow::Result<()> {
    let opts = args.options(std::io::stderr().is_terminal())?;
    let target = super::write_target(&args.out, "ingest")?;
    let report = jobshift_ingest::ingest(&args.inputs, target.dir(), &opts).with_context(|| {
        format!(
            "ingest into {} failed; the dataset was not changed",
            args.out.display()
        )
    })?;
    let report_path = target.dir().join("ingest-report.json");
    target.finish(&mut |m| eprintln!("{m}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.summary());
        println!("report: {}", report_path.display());
    }
    if let Some(note) = report.dedup_memory_note(args.dedup_memory, args.dedup_window_days) {
        eprintln!("note: {note}");
    }
    if !report.accounting_holds() {
        anyhow::bail!("internal accounting error: read != accepted + duplicates + rejected (please report this)");
    }
    Ok(())
}
