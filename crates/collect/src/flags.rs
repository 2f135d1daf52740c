//! The command-line flags of `jobshift collect` (and `collect discover|status`) and the fetch
//! options they describe. Compiled with the `clap` feature, which the `jobshift` binary turns on.

use crate::{CollectError, FetchOptions};
use std::path::PathBuf;
use std::time::Duration;

/// `jobshift collect`.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CollectArgs {
    #[command(subcommand)]
    pub command: Option<CollectCommand>,
    /// Companies CSV with the header name,ats,board,url
    #[arg(long)]
    pub companies: Option<PathBuf>,
    /// Dataset directory to create or grow
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub net: NetArgs,
    /// Only these companies (names from the companies file, comma-separated)
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Show the request each company would start with; fetch and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Parse the stored snapshots of the latest run (or --run) again instead of fetching
    #[arg(long)]
    pub reparse: bool,
    /// With --reparse: the run whose snapshots to parse (a folder name under DATASET/snapshots)
    #[arg(long, requires = "reparse")]
    pub run: Option<String>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
    /// No progress bar
    #[arg(long, short)]
    pub quiet: bool,
}

/// Network and politeness flags (shared with `discover`).
#[derive(clap::Args)]
pub struct NetArgs {
    /// Allow loopback, private, link-local and metadata addresses (refused by default)
    #[arg(long)]
    pub allow_private_network: bool,
    /// Requests in flight at once, all hosts together
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Requests per second to one host
    #[arg(long, default_value_t = 1.0)]
    pub rate: f64,
    /// User-Agent: name yourself and a contact, e.g. "jobshift (+mailto:you@example.org)"
    #[arg(long, env = "JOBSHIFT_USER_AGENT")]
    pub user_agent: Option<String>,
    /// Seconds a request may take in all (body included)
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
}

impl NetArgs {
    /// The fetcher's options these flags describe.
    pub fn fetch_options(&self) -> Result<FetchOptions, CollectError> {
        if !(self.rate > 0.0 && self.rate.is_finite()) {
            return Err(CollectError::Options(
                "--rate must be a positive number of requests per second per host".into(),
            ));
        }
        if self.timeout.is_nan() || self.timeout <= 0.0 {
            return Err(CollectError::Options("--timeout must be positive".into()));
        }
        Ok(FetchOptions {
            user_agent: crate::fetch::user_agent_from(self.user_agent.as_deref()),
            allow_private_network: self.allow_private_network,
            per_host_rate: self.rate,
            concurrency: self.concurrency.max(1),
            timeout: Duration::from_secs_f64(self.timeout),
            ..FetchOptions::default()
        })
    }
}

#[derive(clap::Subcommand)]
pub enum CollectCommand {
    /// Find the ATS board a careers page embeds; prints companies-file rows
    Discover {
        /// Careers page URLs
        #[arg(required = true)]
        urls: Vec<String>,
        #[command(flatten)]
        net: NetArgs,
    },
    /// Each company's health: last success, consecutive failures, open postings, postings per run
    Status {
        /// Dataset directory written by `jobshift collect`
        dataset: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}
