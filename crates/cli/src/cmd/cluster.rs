//! `jobshift cluster scheduler|executor`: run this machine as a node of an Apache DataFusion
//! Ballista cluster (jobshift-cluster); `jobshift report|sql|classify --cluster df://HOST:PORT`
//! then run their plans there. See docs/cluster.md.

use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
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

/// `--memory-pool`: a size for [`super::parse_memory_size`] (leave the flag out for the default).
fn parse_pool_size(s: &str) -> Result<u64, String> {
    super::parse_memory_size(s)?
        .ok_or_else(|| format!("{s:?}: give a size such as 8GiB, or leave --memory-pool out"))
}

/// Ballista logs through the `log` facade: warnings and errors by default, RUST_LOG for more.
fn init_logging() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"))
        .try_init();
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn run(a: Args) -> anyhow::Result<()> {
    init_logging();
    match a.node {
        Node::Scheduler(s) => {
            eprintln!(
                "jobshift {} scheduler listening on {} (executors: --scheduler {}; clients: --cluster df://{})",
                env!("CARGO_PKG_VERSION"),
                s.bind,
                s.bind,
                s.bind
            );
            runtime()?.block_on(jobshift_cluster::node::run_scheduler(
                jobshift_cluster::node::SchedulerOptions {
                    bind: s.bind,
                    advertise_host: s.advertise,
                },
            ))?;
        }
        Node::Executor(e) => {
            eprintln!(
                "jobshift {} executor on {} joining scheduler {}",
                env!("CARGO_PKG_VERSION"),
                e.bind,
                e.scheduler
            );
            runtime()?.block_on(jobshift_cluster::node::run_executor(
                jobshift_cluster::node::ExecutorOptions {
                    scheduler: e.scheduler,
                    bind: e.bind,
                    advertise_host: e.advertise,
                    concurrent_tasks: e.concurrent_tasks,
                    work_dir: e.work_dir,
                    memory_pool: e.memory_pool,
                },
            ))?;
        }
    }
    Ok(())
}

/// `--cluster` and `--cluster-timeout`, shared by the commands that can run on a cluster.
#[derive(clap::Args, Clone, Debug)]
pub struct ClusterArgs {
    /// Run the plans on a jobshift cluster, df://HOST:PORT (the scheduler's --bind; see
    /// `jobshift cluster`); every executor must read the dataset at the same path
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<jobshift_cluster::ClusterUrl>,
    /// Seconds a run on the cluster may take before it is abandoned with an error
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    pub cluster_timeout: u64,
}

/// Connect to the cluster at `url` and run `work` in a session whose plans run there, within
/// `timeout_secs`.
pub fn on_cluster<T, F, Fut>(
    url: &jobshift_cluster::ClusterUrl,
    timeout_secs: u64,
    work: F,
) -> anyhow::Result<T>
where
    F: FnOnce(jobshift_cluster::SessionContext) -> Fut,
    Fut: std::future::Future<Output = Result<T, jobshift_cluster::ClusterError>>,
{
    init_logging();
    let timeout = std::time::Duration::from_secs(timeout_secs);
    let label = url.to_string();
    runtime()?
        .block_on(async {
            let ctx = jobshift_cluster::client::connect(url).await?;
            jobshift_cluster::client::bounded(&label, timeout, work(ctx)).await
        })
        .map_err(anyhow::Error::new)
}
