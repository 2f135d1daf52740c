//! jobshift-cluster: jobshift's DataFusion plans on an Apache DataFusion Ballista cluster.
//!
//! - [`node`]: the scheduler and executor the `jobshift cluster` subcommands run (Ballista's,
//!   embedded, with jobshift's codec and functions).
//! - [`client`]: sessions whose plans run on a cluster (`df://HOST:PORT`) or in process, and
//!   the report and `jobshift sql` over them.
//! - [`classify`]: the classifier cascade as a function on the executors, and
//!   `jobshift classify --cluster` over it.
//! - [`codec`]: what jobshift adds to Ballista's plan codec (in-memory lookup tables).
//! - [`flags`] (with the `clap` feature): the flags of `jobshift cluster` and the shared
//!   `--cluster` / `--cluster-timeout`.
//! - [`session`]: the session configuration and functions every node and client shares.
//!
//! See docs/cluster.md for running a cluster on several machines.

pub mod classify;
pub mod client;
pub mod codec;
#[cfg(feature = "clap")]
pub mod flags;
pub mod node;
pub mod session;

pub use client::ClusterUrl;
pub use datafusion::prelude::SessionContext;

/// Errors of the cluster: each names the node and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{node}: {message}\n  fix: {fix}")]
    Node {
        node: String,
        message: String,
        fix: String,
    },
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Trends(#[from] jobshift_trends::TrendsError),
    #[error(transparent)]
    Classify(#[from] jobshift_classify::ClassifyError),
}
