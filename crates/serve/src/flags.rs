//! The command-line flags of `jobshift serve` and the server configuration they describe.
//! Compiled with the `clap` feature, which the `jobshift` binary turns on.

use crate::{ServeConfig, Source};
use jobshift_trends::flags::AnalysisFlags;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `jobshift serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Dataset directory (with classified/ written by `jobshift classify`), or a directory
    /// `jobshift report --out` wrote (served from its report.json)
    pub dataset_dir: PathBuf,
    /// Address to listen on; anything but a loopback address requires --token
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Access token (16+ random characters advised): clients send `Authorization: Bearer TOKEN` or sign
    /// in on the page; read from JOBSHIFT_SERVE_TOKEN when not given
    #[arg(long, env = "JOBSHIFT_SERVE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Serve the report.json that `jobshift report --out DIR` wrote instead of analysing the
    /// dataset at start (the analysis flags are then the report's)
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Classifier directory for /api/classify (default: the default classifier, if trained)
    #[arg(long)]
    pub classifier: Option<PathBuf>,
    /// Seconds between checks of the dataset for changes (0: never reload)
    #[arg(long, default_value_t = 10)]
    pub reload_every: u64,
    #[command(flatten)]
    pub analysis: AnalysisFlags,
}

impl ServeArgs {
    /// The directory whose `report.json` is served: `--report`, or the dataset directory when it
    /// is one `jobshift report` wrote (a report.json and no classified/).
    fn report_dir(&self) -> Option<PathBuf> {
        self.report.clone().or_else(|| {
            let d = &self.dataset_dir;
            (!d.join("classified").exists() && d.join("report.json").is_file()).then(|| d.clone())
        })
    }

    /// The server these flags describe (no classifier behind `/api/classify` yet).
    pub fn config(&self) -> ServeConfig {
        let source = match self.report_dir() {
            Some(dir) => Source::Report { dir },
            None => Source::Dataset {
                dir: self.dataset_dir.clone(),
                options: self.analysis.options(),
                catalog: None,
            },
        };
        let mut config = ServeConfig::new(source);
        config.bind = self.bind;
        config.token = self.token.clone();
        config.reload_every =
            (self.reload_every > 0).then(|| Duration::from_secs(self.reload_every));
        config
    }
}
