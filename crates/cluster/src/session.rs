//! The DataFusion session a jobshift cluster plans and runs with, the same on the client, the
//! scheduler and the executors: Ballista's configuration with jobshift's plan codec
//! ([`crate::codec`]) and DataFusion's functions plus jobshift's ([`register_functions`]).

use crate::codec::JobshiftLogicalCodec;
use ballista_core::extension::{
    ballista_aggregate_functions, ballista_scalar_functions, ballista_window_functions,
    SessionConfigExt,
};
use datafusion::execution::{FunctionRegistry, SessionState, SessionStateBuilder};
use datafusion::prelude::SessionConfig;
use std::sync::Arc;

/// The session configuration every node and client starts from.
pub fn config() -> SessionConfig {
    SessionConfig::new_with_ballista()
        .with_ballista_logical_extension_codec(Arc::new(JobshiftLogicalCodec::default()))
}

/// A session state for `config` with every function a jobshift plan may call (the scheduler
/// builds one per client session; executors take their function registry from one).
pub fn state_for(config: SessionConfig) -> datafusion::error::Result<SessionState> {
    let config =
        config.with_ballista_logical_extension_codec(Arc::new(JobshiftLogicalCodec::default()));
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_scalar_functions(ballista_scalar_functions())
        .with_aggregate_functions(ballista_aggregate_functions())
        .with_window_functions(ballista_window_functions())
        .build();
    Ok(register_functions(state))
}

/// jobshift's own functions: the classifier cascade ([`crate::classify::ClassifyUdf`]); the
/// report and `jobshift sql` use DataFusion's.
pub fn register_functions(mut state: SessionState) -> SessionState {
    // only fails for a name clash with a built-in, which `jobshift_classify` is not
    let _ = state.register_udf(Arc::new(crate::classify::udf()));
    state
}
