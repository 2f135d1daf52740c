//! `jobshift dataset stats DATASET_DIR`: counts by month, source, country and duplicates;
//! `jobshift dataset publish DIR s3://BUCKET/PREFIX`: put a dataset directory in object storage.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Publish a dataset directory to object storage as the dataset's new version (one writer
    /// at a time, commit record last; see docs/cluster.md)
    Publish {
        /// Dataset directory written by `jobshift ingest` / `jobshift classify`
        dir: PathBuf,
        /// s3://BUCKET/PREFIX (credentials and endpoint from the AWS_* environment variables)
        to: PathBuf,
    },
    /// Counts of postings by month, source, country and duplicates
    Stats {
        /// Dataset directory written by `jobshift ingest`
        dir: PathBuf,
        /// How many sources/countries to list
        #[arg(long, default_value_t = 25)]
        top: usize,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Publish { dir, to } => {
            anyhow::ensure!(
                dir.join("postings").is_dir() || dir.join("classified").is_dir(),
                "{}: not a dataset directory (no postings/ or classified/)",
                dir.display()
            );
            let started = std::time::Instant::now();
            let t =
                jobshift_trends::publish::publish_dir(&dir, &to, "dataset publish", &mut |f| {
                    eprintln!("  uploading {f}")
                })?;
            println!(
                "published {} to {}: {t}, in {:.1}s",
                dir.display(),
                to.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Stats { dir, top, json } => {
            let st = jobshift_ingest::dataset_stats(&dir)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&st)?);
            } else {
                print!("{}", st.render(top));
            }
            Ok(())
        }
    }
}
