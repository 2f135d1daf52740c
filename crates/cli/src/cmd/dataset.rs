//! `jobshift dataset stats DATASET_DIR`: counts by month, source, country and duplicates.

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(clap::Subcommand)]
pub enum Command {
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
