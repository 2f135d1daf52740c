//! The two kinds of cluster node the jobshift binary runs: Ballista's scheduler and executor,
//! embedded (as Ballista's custom-scheduler / custom-executor examples embed them) with
//! jobshift's plan codec ([`crate::codec`]) and session functions ([`crate::session`]) on both,
//! so a cluster needs nothing but the jobshift binary on each machine.
//!
//! Failure detection is tuned for failing fast rather than Ballista's defaults (a 60 s
//! heartbeat, 180 s before a silent executor is dropped): executors heartbeat every
//! [`HEARTBEAT_SECS`], and the scheduler drops one silent for [`EXECUTOR_TIMEOUT_SECS`] and
//! fails the running jobs when none is left for as long.

use crate::codec::JobshiftLogicalCodec;
use crate::{session, ClusterError};
use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Seconds between an executor's heartbeats to the scheduler.
pub const HEARTBEAT_SECS: u64 = 5;
/// Seconds of silence after which the scheduler drops an executor (and reschedules its tasks).
pub const EXECUTOR_TIMEOUT_SECS: u64 = 20;
/// Seconds an executor keeps retrying to reach the scheduler at start.
pub const SCHEDULER_CONNECT_SECS: u16 = 30;

/// How a scheduler is started.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Address the scheduler's gRPC service listens on (clients and executors connect here).
    pub bind: SocketAddr,
    /// Host name the scheduler gives out for itself (default: the bind host).
    pub advertise_host: Option<String>,
}

/// Run a scheduler until the process is stopped.
pub async fn run_scheduler(opts: SchedulerOptions) -> Result<(), ClusterError> {
    let mut config = SchedulerConfig {
        bind_host: opts.bind.ip().to_string(),
        bind_port: opts.bind.port(),
        external_host: opts
            .advertise_host
            .clone()
            .unwrap_or_else(|| opts.bind.ip().to_string()),
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        executor_timeout_seconds: EXECUTOR_TIMEOUT_SECS,
        expire_dead_executor_interval_seconds: HEARTBEAT_SECS,
        no_executors_grace_period_seconds: EXECUTOR_TIMEOUT_SECS,
        ..SchedulerConfig::default()
    };
    config.override_logical_codec = Some(Arc::new(JobshiftLogicalCodec::default()));
    config.override_config_producer = Some(Arc::new(session::config));
    config.override_session_builder = Some(Arc::new(session::state_for));
    let config = Arc::new(config);
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| ClusterError::Node {
            node: format!("scheduler {}", opts.bind),
            message: e.to_string(),
            fix: "check the --bind address".into(),
        })?;
    let node = format!("scheduler {}", opts.bind);
    let listener = tokio::net::TcpListener::bind(opts.bind)
        .await
        .map_err(|e| ClusterError::Node {
            node: node.clone(),
            message: format!("cannot listen: {e}"),
            fix: "choose a free port with --bind HOST:PORT, or stop the process holding it".into(),
        })?;
    let scheduler = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, config)
        .await
        .map_err(|e| ClusterError::Node {
            node: node.clone(),
            message: e.to_string(),
            fix: "check the --bind address".into(),
        })?;
    start_grpc_service_with_listener(listener, scheduler)
        .await
        .map_err(|e| ClusterError::Node {
            node,
            message: e.to_string(),
            fix: "restart the scheduler; executors re-register by themselves".into(),
        })
}

/// How an executor is started.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler to register with, HOST:PORT.
    pub scheduler: String,
    /// Address the executor's Arrow Flight service (results and shuffle reads) listens on.
    pub bind: SocketAddr,
    /// Host name the executor gives the scheduler for itself (default: the bind host; needed
    /// when binding 0.0.0.0).
    pub advertise_host: Option<String>,
    /// Tasks run at once (default: the machine's cores).
    pub concurrent_tasks: Option<usize>,
    /// Directory for shuffle files (default: a fresh temporary directory).
    pub work_dir: Option<PathBuf>,
    /// Memory the executor's tasks may use before they spill (default: Ballista's share of the
    /// machine's memory).
    pub memory_pool: Option<u64>,
}

/// Split "HOST:PORT" (the scheduler's address as executors are given it).
pub fn host_port(addr: &str) -> Result<(String, u16), ClusterError> {
    let bad = || {
        ClusterError::Usage(format!(
            "{addr:?} is not HOST:PORT (e.g. 10.0.0.5:50050 or sched.example.org:50050)"
        ))
    };
    let addr = addr.trim().trim_start_matches("df://");
    let (host, port) = addr.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.trim_end_matches('/').parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(bad());
    }
    Ok((host.to_string(), port))
}

/// Run an executor until the process is stopped (SIGTERM or Ctrl-C drain its running tasks
/// first) or its scheduler cannot be reached within [`SCHEDULER_CONNECT_SECS`].
pub async fn run_executor(opts: ExecutorOptions) -> Result<(), ClusterError> {
    let (scheduler_host, scheduler_port) = host_port(&opts.scheduler)?;
    let node = format!("executor {}", opts.bind);
    let bind_host = opts.bind.ip().to_string();
    let external_host = opts
        .advertise_host
        .clone()
        .or_else(|| (!opts.bind.ip().is_unspecified()).then(|| bind_host.clone()));
    let Some(external_host) = external_host else {
        return Err(ClusterError::Usage(format!(
            "{node}: binding {} needs --advertise HOST (the name other nodes reach this machine by)",
            opts.bind
        )));
    };
    let work_dir = match &opts.work_dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| ClusterError::Node {
                node: node.clone(),
                message: format!("cannot create work directory {}: {e}", d.display()),
                fix: "give --work-dir a writable directory".into(),
            })?;
            Some(d.to_string_lossy().into_owned())
        }
        None => None,
    };
    let state = session::state_for(session::config()).map_err(|e| ClusterError::Node {
        node: node.clone(),
        message: e.to_string(),
        fix: "this is a bug in jobshift; please report it".into(),
    })?;
    let spill_dir = work_dir.clone();
    let config = ExecutorProcessConfig {
        bind_host,
        external_host: Some(external_host),
        port: opts.bind.port(),
        scheduler_host: scheduler_host.clone(),
        scheduler_port,
        scheduler_connect_timeout_seconds: SCHEDULER_CONNECT_SECS,
        vcores: opts.concurrent_tasks.unwrap_or(0),
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        work_dir,
        executor_heartbeat_interval_seconds: HEARTBEAT_SECS,
        memory_pool_size: opts.memory_pool,
        override_logical_codec: Some(Arc::new(JobshiftLogicalCodec::default())),
        override_function_registry: Some(Arc::new((&state).into())),
        override_config_producer: Some(Arc::new(session::config)),
        // jobshift's object stores (s3:// from this node's environment); Ballista still gives
        // each task its share of the memory pool on top of it
        override_runtime_producer: Some(Arc::new(move |_: &SessionConfig| {
            session::runtime(spill_dir.as_deref())
        })),
        ..ExecutorProcessConfig::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| ClusterError::Node {
            node,
            message: e.to_string(),
            fix: format!(
                "start the scheduler first (`jobshift cluster scheduler --bind {scheduler_host}:{scheduler_port}`) \
                 and check that this machine reaches it; check that --bind {} is free",
                opts.bind
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn scheduler_addresses_parse() {
        assert_eq!(
            host_port("127.0.0.1:50050").unwrap(),
            ("127.0.0.1".into(), 50050)
        );
        assert_eq!(host_port("df://sched:7").unwrap(), ("sched".into(), 7));
        assert_eq!(host_port("[::1]:9").unwrap(), ("::1".into(), 9));
        assert!(host_port("sched").is_err());
        assert!(host_port(":80").is_err());
        assert!(host_port("h:notaport").is_err());
    }
}
