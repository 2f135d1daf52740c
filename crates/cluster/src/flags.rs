//! The command-line flags of `jobshift cluster scheduler|executor`, and `--cluster` /
//! `--cluster-timeout`, which every command that can run on a cluster shares. Compiled with the
//! `clap` feature, which the `jobshift` binary turns on.

use crate::node::{ExecutorOptions, SchedulerOptions};
use crate::ClusterUrl;
use std::net::SocketAddr;
use std::path::PathBuf;

/// `--cluster` and `--cluster-timeout`, shared by the commands that can run on a cluster.
#[derive(clap::Args, Clone, Debug)]
pub struct ClusterArgs {
    /// Run the plans on a jobshift cluster, df://HOST:PORT (the scheduler's --bind; see
    /// `jobshift cluster`); every executor must read the dataset at the same path
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<ClusterUrl>,
    /// Seconds a run on the cluster may take before it is abandoned with an error
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub cluster_timeout: u64,
}

/// `jobshift cluster`.
#[derive(clap::Args)]
pub struct NodeArgs {
    #[command(subcommand)]
    pub node: Node,
}

#[derive(clap::Subcommand)]
pub enum Node {
    /// Run the scheduler: clients (`--cluster df://HOST:PORT`) and executors connect to it
    Scheduler(SchedulerArgs),
    /// Run an executor: registers with the scheduler and runs the tasks it is given
    Executor(ExecutorArgs),
}

#[derive(clap::Args)]
pub struct SchedulerArgs {
    /// Address to listen on, HOST:PORT (0.0.0.0:50050 for every interface)
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub bind: SocketAddr,
    /// Host name other machines reach this one by (default: the --bind host)
    #[arg(long)]
    pub advertise: Option<String>,
}

#[derive(clap::Args)]
pub struct ExecutorArgs {
    /// The scheduler, HOST:PORT (its --bind)
    #[arg(long)]
    pub scheduler: String,
    /// Address of this executor's data service (results and shuffle reads), HOST:PORT
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub bind: SocketAddr,
    /// Host name other machines reach this one by (required with --bind 0.0.0.0:PORT)
    #[arg(long)]
    pub advertise: Option<String>,
    /// Tasks run at once (default: this machine's cores)
    #[arg(long)]
    pub concurrent_tasks: Option<usize>,
    /// Directory for shuffle files (default: a fresh temporary directory)
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Memory the tasks may use before they spill, e.g. 4GiB (default: Ballista's share of RAM)
    #[arg(long, value_parser = parse_pool_size)]
    pub memory_pool: Option<u64>,
}

/// `--memory-pool`: a size for [`jobshift_core::memory::parse_memory_size`] (leave the flag out
/// for the default).
fn parse_pool_size(s: &str) -> Result<u64, String> {
    jobshift_core::memory::parse_memory_size(s)?
        .ok_or_else(|| format!("{s:?}: give a size such as 8GiB, or leave --memory-pool out"))
}

impl SchedulerArgs {
    /// The scheduler these flags describe.
    pub fn options(self) -> SchedulerOptions {
        SchedulerOptions {
            bind: self.bind,
            advertise_host: self.advertise,
        }
    }
}

impl ExecutorArgs {
    /// The executor these flags describe.
    pub fn options(self) -> ExecutorOptions {
        ExecutorOptions {
            scheduler: self.scheduler,
            bind: self.bind,
            advertise_host: self.advertise,
            concurrent_tasks: self.concurrent_tasks,
            work_dir: self.work_dir,
            memory_pool: self.memory_pool,
        }
    }
}
