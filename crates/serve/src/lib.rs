//! jobshift-serve: `jobshift serve` — a dashboard and a read-only HTTP API over a dataset's
//! trends, yearly (the report's figures) and monthly (counts, moving average, year-over-year,
//! seasonally adjusted).
//!
//! At start the server runs the trends analysis once (or reads a `report.json` that `jobshift
//! report` wrote) and turns it into small pre-aggregated tables ([`tables::Tables`]); every
//! request is answered from them (and from a bounded cache of serialized responses), never from
//! the postings. A background task watches the dataset and reloads when it changes
//! ([`reload`]); until the new load is ready the old one is served, and a failed reload is
//! reported in `/api/summary` and in the `X-Jobshift-Reload` header.
//!
//! Security ([`guard`]): binds 127.0.0.1 by default and refuses any non-loopback address
//! without `--token` ([`check_bind`]); with a token every `/api` request needs
//! `Authorization: Bearer TOKEN` or the HttpOnly cookie `POST /login` sets; read-only (GET/HEAD
//! only, no SQL, no files read per request); request body and time limits; CSP,
//! X-Frame-Options and nosniff headers; static files are compiled into the binary
//! ([`assets`]), so there is no path to traverse.
//!
//! With the `clap` feature, [`flags`] holds `jobshift serve`'s flags.

pub mod api;
pub mod assets;
#[cfg(feature = "clap")]
pub mod flags;
pub mod guard;
pub mod reload;
pub mod respond;
pub mod tables;

use jobshift_trends::{Catalog, TrendOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use tables::Tables;

/// Errors of the server. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {0} without --token: anyone who can reach that address could read \
         the data. Pass --token TOKEN (clients send \
         `Authorization: Bearer TOKEN` or sign in on the page), or bind 127.0.0.1"
    )]
    UnprotectedBind(SocketAddr),
    #[error("--token is empty; give a token (e.g. `openssl rand -hex 16`)")]
    EmptyToken,
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("loading {what}: {message}")]
    Load { what: String, message: String },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Tokens shorter than this get a warning (see [`token_warning`]).
pub const MIN_TOKEN_CHARS: usize = 16;

/// Refuse a bind that would expose the data without a token, and empty tokens.
pub fn check_bind(bind: &SocketAddr, token: Option<&str>) -> Result<(), ServeError> {
    if token.is_some_and(|t| t.trim().is_empty()) {
        return Err(ServeError::EmptyToken);
    }
    if !bind.ip().is_loopback() && token.is_none() {
        return Err(ServeError::UnprotectedBind(*bind));
    }
    Ok(())
}

/// A warning for a token that is easy to guess.
pub fn token_warning(token: Option<&str>) -> Option<String> {
    let n = token?.chars().count();
    (n < MIN_TOKEN_CHARS).then(|| {
        format!(
            "warning: the token is {n} characters; use at least {MIN_TOKEN_CHARS} random ones (e.g. `openssl rand -hex 16`)"
        )
    })
}

/// Where the figures come from.
#[derive(Clone)]
pub enum Source {
    /// Run the trends analysis over a dataset directory (with the report's options).
    Dataset {
        dir: PathBuf,
        options: TrendOptions,
        /// A taxonomy already loaded (tests); `None`: `options.taxonomy_dir` or the built-in one.
        catalog: Option<Arc<Catalog>>,
    },
    /// Read `report.json` from a directory `jobshift report` wrote.
    Report { dir: PathBuf },
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Dataset { dir, .. } => format!("dataset {}", dir.display()),
            Source::Report { dir } => format!("report {}", dir.join("report.json").display()),
        }
    }
}

/// Something that classifies a posting live (`/api/classify`). The binary supplies the real
/// classifier; this crate does not depend on the models.
pub trait LiveClassifier: Send + Sync {
    /// Classify one title (and optional description) into a JSON answer.
    fn classify(&self, title: &str, description: Option<&str>)
        -> Result<serde_json::Value, String>;
}

/// Loads the classifier on first use (it takes seconds and memory; many sessions never need it).
pub type ClassifierLoader = Arc<dyn Fn() -> Result<Arc<dyn LiveClassifier>, String> + Send + Sync>;

/// Server settings.
#[derive(Clone)]
pub struct ServeConfig {
    pub bind: SocketAddr,
    pub token: Option<String>,
    pub source: Source,
    pub classifier: Option<ClassifierLoader>,
    /// How often the dataset is checked for changes (`None`: never).
    pub reload_every: Option<Duration>,
    /// Longest time one request may take.
    pub request_timeout: Duration,
}

impl ServeConfig {
    pub fn new(source: Source) -> ServeConfig {
        ServeConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            source,
            classifier: None,
            reload_every: Some(Duration::from_secs(10)),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Shared server state.
pub struct AppState {
    pub tables: RwLock<Arc<Tables>>,
    pub reload: RwLock<reload::ReloadStatus>,
    pub auth: guard::Auth,
    pub classifier: api::ClassifierSlot,
    pub config: ServeConfig,
}

impl AppState {
    /// The tables of the current load.
    pub fn current(&self) -> Arc<Tables> {
        match self.tables.read() {
            Ok(t) => t.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// Load the tables and build the shared state (the slow part: runs the analysis).
pub async fn open(config: ServeConfig) -> Result<Arc<AppState>, ServeError> {
    check_bind(&config.bind, config.token.as_deref())?;
    let (tables, signature) = reload::load(&config.source).await?;
    Ok(Arc::new(AppState {
        tables: RwLock::new(Arc::new(tables)),
        reload: RwLock::new(reload::ReloadStatus::loaded(signature)),
        auth: guard::Auth::new(config.token.as_deref()),
        classifier: api::ClassifierSlot::new(config.classifier.clone()),
        config,
    }))
}

/// Bind the configured address (port 0 picks a free one).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServeError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Serve on a bound listener until `shutdown` resolves; starts the dataset watcher.
pub async fn serve_on(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    if let Some(every) = state.config.reload_every {
        tokio::spawn(reload::watch(state.clone(), every));
    }
    let app = api::router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
