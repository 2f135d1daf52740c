//! The command-line flags of `jobshift taxonomy` (list, families, show, search, stats, crosswalk,
//! validate, export). Compiled with the `clap` feature, which the `jobshift` binary turns on.

use std::path::PathBuf;

/// `jobshift taxonomy`.
#[derive(clap::Args)]
pub struct TaxonomyArgs {
    /// Use the taxonomy in this directory (a copy of the repository's taxonomy/) instead of the built-in one
    #[arg(long, global = true, value_name = "DIR", env = "JOBSHIFT_TAXONOMY")]
    pub taxonomy: Option<PathBuf>,
    #[command(subcommand)]
    pub command: TaxonomyCommand,
}

#[derive(clap::Subcommand)]
pub enum TaxonomyCommand {
    /// List titles (optionally of one family or level)
    List {
        /// Only this family id (see `jobshift taxonomy families`)
        #[arg(long)]
        family: Option<String>,
        /// Only this level: individual_contributor, manager, director, vp, c_suite
        #[arg(long)]
        level: Option<String>,
        /// Print a JSON array instead of a table
        #[arg(long)]
        json: bool,
    },
    /// List the job families
    Families {
        #[arg(long)]
        json: bool,
    },
    /// Show one title: definition, codes, aliases and the O*NET occupations crosswalked to it
    Show {
        /// Title id (e.g. machine_learning_engineer) or a title as written ("ML Engineer")
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Find titles by name or alias words, best first
    Search {
        /// Words to search for
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Counts per family and level, aliases, crosswalk coverage
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// The O*NET-SOC 2019 → title crosswalk
    Crosswalk {
        /// Print a JSON array of {onet_soc, onet_title, title_id}
        #[arg(long)]
        json: bool,
    },
    /// Check a taxonomy directory (default: --taxonomy, else the built-in one); lists every problem
    Validate {
        /// Taxonomy directory to check
        dir: Option<PathBuf>,
    },
    /// Write the built-in taxonomy files into DIR so you can edit your own copy
    Export {
        /// Directory to write (created if missing)
        dir: PathBuf,
    },
}
