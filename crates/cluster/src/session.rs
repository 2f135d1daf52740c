//! The DataFusion session a jobshift cluster plans and runs with, the same on the client, the
//! scheduler and the executors: Ballista's configuration with jobshift's plan codec
//! ([`crate::codec`]) and DataFusion's functions plus jobshift's ([`register_functions`]), and
//! jobshift's object store registry ([`jobshift_trends::store`]: local files, and `s3://` buckets
//! from each node's own AWS environment) in its runtime ([`runtime`]).

use crate::codec::JobshiftLogicalCodec;
use ballista_core::config::BALLISTA_ADAPTIVE_PLANNER_ENABLED;
use ballista_core::extension::{
    ballista_aggregate_functions, ballista_scalar_functions, ballista_window_functions,
    SessionConfigExt,
};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::{FunctionRegistry, SessionState, SessionStateBuilder};
use datafusion::prelude::SessionConfig;
use std::sync::Arc;

/// The session configuration every node and client starts from.
pub fn config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(JobshiftLogicalCodec::default()))
        // Ballista's static planner, not its adaptive one (the default): a job the adaptive
        // planner ran lists none of its stages for removal when it ends, so every job's shuffle
        // files stayed on the executors' disks for Ballista's 300 s (4.0 GB after one report at
        // 10M postings). The static planner's jobs remove their intermediate stages at once
        // (0.9 GB peak, 0.4 MB left), and the report ran faster and identical
        // (docs/cluster.md, "Shuffle").
        .set_bool(BALLISTA_ADAPTIVE_PLANNER_ENABLED, false)
}

/// A session state for `config` with every function a jobshift plan may call (the scheduler
/// builds one per client session; executors take their function registry from one).
pub fn state_for(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let config =
        config.with_ballista_logical_extension_codec(Arc::new(JobshiftLogicalCodec::default()));
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime(None)?)
        .with_scalar_functions(ballista_scalar_functions())
        .with_aggregate_functions(ballista_aggregate_functions())
        .with_window_functions(ballista_window_functions())
        .build();
    Ok(register_functions(state))
}

/// The runtime a node plans and runs with: jobshift's object store registry, and spill files
/// under `temp_dir` (default: the OS temp directory).
pub fn runtime(temp_dir: Option<&str>) -> datafusion::error::Result<Arc<RuntimeEnv>> {
    let mut rt =
        RuntimeEnvBuilder::new().with_object_store_registry(jobshift_trends::store::registry());
    if let Some(dir) = temp_dir {
        rt = rt.with_temp_file_path(dir);
    }
    rt.build_arc()
}

/// jobshift's own functions: the classifier cascade ([`crate::classify::ClassifyUdf`]); the
/// report and `jobshift sql` use DataFusion's.
pub fn register_functions(mut state: SessionState) -> SessionState {
    // only fails for a name clash with a built-in, which `jobshift_classify` is not
    let _ = state.register_udf(Arc::new(crate::classify::udf()));
    state
}
