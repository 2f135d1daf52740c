//! `jobshift cluster scheduler|executor`: run this machine as a node of an Apache DataFusion
//! Ballista cluster (jobshift-cluster); `jobshift report|sql|classify --cluster df://HOST:PORT`
//! then run their plans there. See docs/cluster.md.

use anyhow::Context;
pub use jobshift_cluster::flags::ClusterArgs;
use jobshift_cluster::flags::{Node, NodeArgs};

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

pub fn run(a: NodeArgs) -> anyhow::Result<()> {
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
            runtime()?.block_on(jobshift_cluster::node::run_scheduler(s.options()))?;
        }
        Node::Executor(e) => {
            eprintln!(
                "jobshift {} executor on {} joining scheduler {}",
                env!("CARGO_PKG_VERSION"),
                e.bind,
                e.scheduler
            );
            runtime()?.block_on(jobshift_cluster::node::run_executor(e.options()))?;
        }
    }
    Ok(())
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
