//! The client side: a DataFusion session whose plans run on a Ballista cluster (`df://HOST:PORT`)
//! or on one started in the same process ([`crate::node::run_scheduler`] and
//! [`crate::node::run_executor`] on local ports, as the tests do), and the report and
//! `jobshift sql` over it. The queries are jobshift-trends' own, so a cluster's report equals a
//! local one.
//!
//! Nothing waits without a bound: the scheduler must answer within [`CONNECT_TIMEOUT`], and a
//! whole query within the caller's timeout.

use crate::{session, ClusterError};
use ballista_core::extension::SessionStateExt;
use ballista_core::utils::{create_grpc_client_endpoint, GrpcClientConfig};
use datafusion::prelude::SessionContext;
use jobshift_trends::{Catalog, SqlOutput, TrendOptions, Trends};
use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// How long the scheduler has to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A cluster's address, `df://HOST:PORT` (the scheduler's --bind).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterUrl {
    pub host: String,
    pub port: u16,
}

impl std::str::FromStr for ClusterUrl {
    type Err = ClusterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.strip_prefix("df://").ok_or_else(|| {
            ClusterError::Usage(format!(
                "{s:?} is not a cluster address: expected df://HOST:PORT (the scheduler's --bind)"
            ))
        })?;
        let (host, port) = crate::node::host_port(rest)?;
        Ok(ClusterUrl { host, port })
    }
}

impl std::fmt::Display for ClusterUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "df://{}:{}", self.host, self.port)
    }
}

impl ClusterUrl {
    fn grpc(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}", self.host, self.port)
        } else {
            format!("http://{}:{}", self.host, self.port)
        }
    }
}

/// A session whose plans run on the cluster at `url`, after checking that its scheduler answers.
pub async fn connect(url: &ClusterUrl) -> Result<SessionContext, ClusterError> {
    let unreachable = |message: String| ClusterError::Node {
        node: format!("scheduler {url}"),
        message,
        fix: format!(
            "start it there (`jobshift cluster scheduler --bind {}:{}`), or fix --cluster; \
             check that this machine reaches that port",
            url.host, url.port
        ),
    };
    let config = GrpcClientConfig {
        connect_timeout_seconds: CONNECT_TIMEOUT.as_secs(),
        ..GrpcClientConfig::default()
    };
    let endpoint = create_grpc_client_endpoint(url.grpc(), Some(&config))
        .map_err(|e| unreachable(e.to_string()))?;
    match tokio::time::timeout(CONNECT_TIMEOUT, endpoint.connect()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(unreachable(format!("cannot connect: {e}"))),
        Err(_) => {
            return Err(unreachable(format!(
                "no answer within {}s",
                CONNECT_TIMEOUT.as_secs()
            )))
        }
    }
    let state = session::state_for(session::config())
        .and_then(|s| s.upgrade_for_ballista(url.grpc()))
        .map_err(|e| unreachable(e.to_string()))?;
    Ok(SessionContext::new_with_state(state))
}

/// Run `work` with a bound, naming the cluster when it runs out.
pub async fn bounded<T>(
    url: &str,
    timeout: Duration,
    work: impl Future<Output = Result<T, ClusterError>>,
) -> Result<T, ClusterError> {
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| ClusterError::Node {
            node: format!("cluster {url}"),
            message: format!("the query did not finish within {}s", timeout.as_secs()),
            fix: "check that executors are registered with the scheduler (its log lists them) and \
                  can read the dataset path; raise --cluster-timeout for very large data"
                .into(),
        })?
}

/// `jobshift sql` on a cluster.
pub async fn run_sql(
    ctx: &SessionContext,
    dataset_dir: &Path,
    sql: &str,
    taxonomy_dir: Option<&Path>,
) -> Result<SqlOutput, ClusterError> {
    Ok(jobshift_trends::run_sql_in_session(ctx, dataset_dir, sql, taxonomy_dir).await?)
}

/// The report's analysis on a cluster (the same queries as a local run).
pub async fn analyze(
    ctx: SessionContext,
    dataset_dir: &Path,
    opts: &TrendOptions,
) -> Result<Trends, ClusterError> {
    let catalog = Catalog::load(opts.taxonomy_dir.as_deref())?;
    Ok(jobshift_trends::analyze_in_session(ctx, dataset_dir, opts, &catalog).await?)
}

#[cfg(test)]
mod tests {
    use super::ClusterUrl;

    #[test]
    fn cluster_urls_parse_and_print() {
        let u: ClusterUrl = "df://sched.example.org:50050".parse().unwrap();
        assert_eq!((u.host.as_str(), u.port), ("sched.example.org", 50050));
        assert_eq!(u.to_string(), "df://sched.example.org:50050");
        assert_eq!(u.grpc(), "http://sched.example.org:50050");
        let v6: ClusterUrl = "df://[::1]:7".parse().unwrap();
        assert_eq!(v6.grpc(), "http://[::1]:7");
        for bad in ["sched:50050", "http://sched:50050", "df://sched", "df://:1"] {
            let err = bad.parse::<ClusterUrl>().unwrap_err().to_string();
            assert!(
                err.contains("df://HOST:PORT") || err.contains("HOST:PORT"),
                "{bad}: {err}"
            );
        }
    }
}
