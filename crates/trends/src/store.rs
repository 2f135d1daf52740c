//! Where a dataset is read from: a local (or shared) directory, or an S3-compatible object
//! store (`s3://BUCKET/PREFIX`, the same dataset layout under the prefix). The report and
//! `jobshift sql` read either; the writing stages (ingest, classify) write directories, or a
//! working copy they publish to the object store ([`crate::publish`]). A dataset jobshift
//! published is read as its commit record lists it ([`Location::committed`]), never half.
//!
//! Object stores are DataFusion's own ([`object_store`]): [`registry`] gives every session (the
//! local one, and a cluster's client, scheduler and executors) an [`ObjectStoreRegistry`] that
//! serves local files as DataFusion's default does and builds an S3 store per bucket on first
//! use, from the standard AWS environment of the process (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT` for S3-compatible stores such as MinIO,
//! `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint; see [`AmazonS3Builder::from_env`]). Each node
//! of a cluster uses its own environment, so credentials never travel with a plan.
//!
//! Requests are bounded ([`CONNECT_TIMEOUT`], [`REQUEST_TIMEOUT`], a few retries within
//! [`RETRY_TIMEOUT`]): an unreachable endpoint is an error naming it, not a hang.

use crate::TrendsError;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use futures::TryStreamExt;
use jobshift_core::classified::{ClassifiedManifest, MANIFEST_FILE};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, RetryConfig};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// How long opening a connection to an object store may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one object-store request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long an object-store request is retried (transient errors) before it fails.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(20);

/// What to check when an object store cannot be read.
const S3_FIX: &str = "check the bucket and prefix, and this machine's AWS_ACCESS_KEY_ID, \
     AWS_SECRET_ACCESS_KEY and AWS_REGION (for an S3-compatible store also AWS_ENDPOINT, and \
     AWS_ALLOW_HTTP=true for a plain-HTTP endpoint); on a cluster every node needs them";

/// A dataset's location.
#[derive(Debug, Clone)]
pub enum Location {
    /// A directory on a filesystem this process reads.
    Dir(PathBuf),
    /// A prefix in an object store: `url` is `s3://BUCKET/PREFIX/` (always ending in '/').
    Object {
        url: Url,
        store: Arc<dyn ObjectStore>,
    },
}

/// Whether `dataset` names an object store location (`s3://...`) rather than a directory.
pub fn is_object_url(dataset: &Path) -> bool {
    dataset
        .to_str()
        .is_some_and(|s| s.len() > 5 && s[..5].eq_ignore_ascii_case("s3://"))
}

impl Location {
    /// The location `dataset` names: `s3://BUCKET/PREFIX` (an object store, built from the
    /// environment) or a directory path.
    pub fn of(dataset: &Path) -> Result<Location, TrendsError> {
        if !is_object_url(dataset) {
            return Ok(Location::Dir(dataset.to_path_buf()));
        }
        let text = dataset.to_string_lossy();
        let mut url = Url::parse(&text).map_err(|e| {
            TrendsError::Options(format!(
                "{text}: not an object store URL ({e}); write s3://BUCKET/PREFIX"
            ))
        })?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(TrendsError::Options(format!(
                "{text}: names no bucket; write s3://BUCKET/PREFIX"
            )));
        }
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        let store = s3_store(&url)?;
        Ok(Location::Object { url, store })
    }

    /// The URL DataFusion reads a dataset subdirectory (`classified`, `postings`) from, ending
    /// in '/'.
    pub fn table_url(&self, subdir: &str) -> Result<String, TrendsError> {
        match self {
            Location::Dir(root) => {
                let dir = root.join(subdir);
                let mut url = dir
                    .canonicalize()
                    .map_err(|e| TrendsError::Io {
                        path: dir.clone(),
                        source: e,
                    })?
                    .to_string_lossy()
                    .to_string();
                if !url.ends_with('/') {
                    url.push('/');
                }
                Ok(url)
            }
            Location::Object { url, .. } => Ok(format!("{url}{subdir}/")),
        }
    }

    /// A subdirectory as a path for messages (and, for a directory, for reading).
    pub fn subdir(&self, subdir: &str) -> PathBuf {
        match self {
            Location::Dir(root) => root.join(subdir),
            Location::Object { url, .. } => PathBuf::from(format!("{url}{subdir}")),
        }
    }

    /// Whether the subdirectory holds at least one Parquet file (names starting with '.' are
    /// temporary files and do not count).
    pub async fn has_parquet(&self, subdir: &str) -> Result<bool, TrendsError> {
        match self {
            Location::Dir(root) => {
                let d = root.join(subdir);
                let files = jobshift_core::dataset::DatasetDir::parquet_files(&d)
                    .map_err(|e| TrendsError::Io { path: d, source: e })?;
                Ok(!files.is_empty())
            }
            Location::Object { url, store } => {
                let prefix = object_prefix(url, subdir);
                let mut listing = store.list(Some(&prefix));
                while let Some(meta) = listing
                    .try_next()
                    .await
                    .map_err(|e| object_error(url, subdir, e))?
                {
                    let name = meta.location.filename().unwrap_or_default();
                    if name.ends_with(".parquet") && !name.starts_with('.') {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// The commit record of a dataset jobshift published to an object store: `None` for a
    /// directory, or a prefix without one (put there by other tools, read by listing); an error
    /// while a publish is under way or after one was interrupted (see [`crate::publish`]).
    pub async fn committed(&self) -> Result<Option<CommitRecord>, TrendsError> {
        match self {
            Location::Dir(_) => Ok(None),
            Location::Object { url, store } => {
                match read_commit_record(store.as_ref(), url).await? {
                    Some(r) if r.state == CommitState::Writing => Err(being_written(url, &r)),
                    r => Ok(r),
                }
            }
        }
    }

    /// A text that changes when the dataset's `classified/` table changes (`serve` polls it to
    /// reload): for a dataset jobshift published, its commit record's run and state; otherwise
    /// every object's path, size and modification time under `classified/`. `None` for a
    /// directory (walk it instead).
    pub async fn change_token(&self) -> Result<Option<String>, TrendsError> {
        let Location::Object { url, store } = self else {
            return Ok(None);
        };
        if let Some(r) = read_commit_record(store.as_ref(), url).await? {
            return Ok(Some(format!("commit {} {:?}", r.run, r.state)));
        }
        let prefix = object_prefix(url, "classified");
        let mut listing = store.list(Some(&prefix));
        let mut parts = Vec::new();
        while let Some(meta) = listing
            .try_next()
            .await
            .map_err(|e| object_error(url, "classified", e))?
        {
            parts.push(format!(
                "{}|{}|{}",
                meta.location, meta.size, meta.last_modified
            ));
        }
        parts.sort();
        Ok(Some(parts.join("\n")))
    }

    /// The URLs of the Parquet files of `subdir` that `record` lists (an object-store dataset).
    pub fn committed_parquet(&self, record: &CommitRecord, subdir: &str) -> Vec<String> {
        let Location::Object { url, .. } = self else {
            return Vec::new();
        };
        let prefix = format!("{subdir}/");
        record
            .files
            .keys()
            .filter(|rel| rel.starts_with(&prefix) && rel.ends_with(".parquet"))
            .map(|rel| format!("{url}{rel}"))
            .collect()
    }

    /// `classified/manifest.json` (None when there is none).
    pub async fn classified_manifest(&self) -> Result<Option<ClassifiedManifest>, String> {
        match self {
            Location::Dir(root) => ClassifiedManifest::read(&root.join("classified")),
            Location::Object { url, store } => {
                let file = format!("classified/{MANIFEST_FILE}");
                let path = object_prefix(url, &file);
                let bytes = match store.get(&path).await {
                    Ok(got) => got.bytes().await,
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(e) => Err(e),
                }
                .map_err(|e| object_error(url, &file, e).to_string())?;
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| format!("{url}{file}: not a classified manifest: {e}"))
            }
        }
    }
}

/// A read of a dataset from start to end: for a directory, the shared commit lock
/// (`jobshift_core::commit::open_for_reading`, so no commit starts while reading); for a dataset
/// jobshift published to an object store, the run of its commit record, checked again at the end
/// ([`Reading::verify`]) so that a publish that replaced files during the read fails the read
/// instead of letting it mix two versions.
pub struct Reading {
    _local: jobshift_core::commit::ReadGuard,
    object: Option<(Location, String)>,
}

impl Reading {
    /// Start reading `dataset_dir`; an error while a publish is under way.
    pub async fn begin(dataset_dir: &Path) -> Result<Reading, TrendsError> {
        let local = jobshift_core::commit::open_for_reading(dataset_dir)?;
        let mut object = None;
        if is_object_url(dataset_dir) {
            let location = Location::of(dataset_dir)?;
            if let Some(r) = location.committed().await? {
                object = Some((location, r.run));
            }
        }
        Ok(Reading {
            _local: local,
            object,
        })
    }

    /// Check, after the read, that the object-store dataset still holds the version it started
    /// with.
    pub async fn verify(self) -> Result<(), TrendsError> {
        let Some((location, run)) = &self.object else {
            return Ok(());
        };
        let now = location.committed().await?.map(|r| r.run);
        if now.as_deref() == Some(run.as_str()) {
            return Ok(());
        }
        let Location::Object { url, .. } = location else {
            return Ok(());
        };
        Err(TrendsError::ObjectStore {
            location: url.to_string(),
            message: format!(
                "was published again while it was read (run {run} became {}); the result \
                 could mix two versions and was dropped",
                now.as_deref().unwrap_or("none")
            ),
            fix: "run the command again".into(),
        })
    }
}

/// The object path of `rel` under the location's prefix.
pub(crate) fn object_prefix(url: &Url, rel: &str) -> ObjectPath {
    let base = url.path().trim_matches('/');
    if base.is_empty() {
        ObjectPath::from(rel)
    } else {
        ObjectPath::from(format!("{base}/{rel}"))
    }
}

pub(crate) fn object_error(url: &Url, rel: &str, e: impl std::fmt::Display) -> TrendsError {
    TrendsError::ObjectStore {
        location: format!("{url}{rel}"),
        message: e.to_string(),
        fix: S3_FIX.to_string(),
    }
}

/// The S3 store for the bucket of `url`, from this process's AWS environment, with bounded
/// requests.
fn s3_store(url: &Url) -> Result<Arc<dyn ObjectStore>, TrendsError> {
    let bucket_url = format!("s3://{}", url.host_str().unwrap_or_default());
    let store = AmazonS3Builder::from_env()
        .with_url(bucket_url.as_str())
        // as config keys: replacing the client options would drop AWS_ALLOW_HTTP and the
        // other client settings `from_env` read
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
            format!("{}s", CONNECT_TIMEOUT.as_secs()),
        )
        .with_config(
            AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
            format!("{}s", REQUEST_TIMEOUT.as_secs()),
        )
        .with_retry(RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: RETRY_TIMEOUT,
        })
        .build()
        .map_err(|e| TrendsError::ObjectStore {
            location: url.to_string(),
            message: e.to_string(),
            fix: S3_FIX.to_string(),
        })?;
    Ok(Arc::new(store))
}

/// The object store registry every jobshift session uses: local files as DataFusion's default
/// registry serves them, and an S3 store per bucket built on first use (see the module doc).
pub fn registry() -> Arc<dyn ObjectStoreRegistry> {
    Arc::new(Registry {
        known: DefaultObjectStoreRegistry::new(),
    })
}

/// See [`registry`].
#[derive(Debug)]
struct Registry {
    /// Local files, and the S3 stores built so far (keyed by `s3://BUCKET`).
    known: DefaultObjectStoreRegistry,
}

impl ObjectStoreRegistry for Registry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.known.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.known.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.known.get_store(url) {
            return Ok(store);
        }
        if url.scheme() != "s3" {
            return self.known.get_store(url);
        }
        let store =
            s3_store(url).map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        self.known.register_store(url, Arc::clone(&store));
        Ok(store)
    }
}

/// The commit record under the dataset prefix.
pub const COMMIT_RECORD: &str = ".jobshift-commit.json";

/// Where a commit record says the dataset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommitState {
    /// A publish is under way (or was interrupted): objects may be of two versions.
    Writing,
    /// Every file listed is the published version.
    Committed,
}

/// `PREFIX/.jobshift-commit.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitRecord {
    pub state: CommitState,
    /// The publish's id (a time and the writer's process id).
    pub run: String,
    /// Who published: `user@host pid N (command)`.
    pub writer: String,
    /// When the state was written (RFC 3339, UTC).
    pub at: String,
    /// Path under the prefix → its version: the committed files (with state `writing`, those of
    /// the commit before).
    #[serde(default)]
    pub files: BTreeMap<String, FileVersion>,
}

/// A file's size and content digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileVersion {
    pub bytes: u64,
    pub blake3: String,
}

/// The commit record of the dataset at `url`, `None` when it has none.
pub async fn read_commit_record(
    store: &dyn ObjectStore,
    url: &Url,
) -> Result<Option<CommitRecord>, TrendsError> {
    let path = object_prefix(url, COMMIT_RECORD);
    let bytes = match store.get(&path).await {
        Ok(got) => got.bytes().await,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => Err(e),
    }
    .map_err(|e| {
        object_error(
            url,
            COMMIT_RECORD,
            format!("reading the commit record: {e}"),
        )
    })?;
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        object_error(
            url,
            COMMIT_RECORD,
            format!("not a jobshift commit record: {e}"),
        )
    })
}

/// The error a reader gives for a dataset whose publish is under way or was interrupted.
pub fn being_written(url: &Url, record: &CommitRecord) -> TrendsError {
    TrendsError::ObjectStore {
        location: url.to_string(),
        message: format!(
            "is being published by {} since {} (run {}); reading now could mix two versions",
            record.writer, record.at, record.run
        ),
        fix: "wait for the writer to finish and run this again; if it was interrupted, rerun \
              its command on the machine that ran it (it publishes its working copy again)"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_token_follows_the_commit_record_or_the_listing() {
        use object_store::{memory::InMemory, PutPayload};
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let url = Url::parse("s3://bucket/data/").unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let loc = Location::Object {
            url: url.clone(),
            store: Arc::clone(&store),
        };
        let token = || rt.block_on(loc.change_token()).unwrap().unwrap();
        let put = |rel: &str, body: &str| {
            rt.block_on(store.put(
                &object_prefix(&url, rel),
                PutPayload::from(body.as_bytes().to_vec()),
            ))
            .unwrap();
        };
        assert_eq!(token(), "");
        put("classified/part-0.parquet", "a");
        let listed = token();
        assert!(listed.contains("classified/part-0.parquet|1|"), "{listed}");
        put("classified/part-1.parquet", "b");
        assert_ne!(token(), listed);
        put(
            COMMIT_RECORD,
            r#"{"state": "committed", "run": "r7", "writer": "w", "at": "t"}"#,
        );
        assert_eq!(token(), "commit r7 Committed");
        assert_eq!(
            rt.block_on(Location::Dir(PathBuf::from("/d")).change_token())
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_read_fails_when_the_dataset_is_published_again_under_it() {
        use super::{CommitRecord, CommitState, COMMIT_RECORD};
        use object_store::{memory::InMemory, PutPayload};
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let url = Url::parse("s3://bucket/data/").unwrap();
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let put = |run: &str, state: CommitState| {
            let r = CommitRecord {
                state,
                run: run.into(),
                writer: "w".into(),
                at: "t".into(),
                files: Default::default(),
            };
            rt.block_on(store.put(
                &object_prefix(&url, COMMIT_RECORD),
                PutPayload::from(serde_json::to_vec(&r).unwrap()),
            ))
            .unwrap();
        };
        let tmp = tempfile::tempdir().unwrap();
        let reading = |run: &str| Reading {
            _local: jobshift_core::commit::open_for_reading(tmp.path()).unwrap(),
            object: Some((
                Location::Object {
                    url: url.clone(),
                    store: Arc::clone(&store),
                },
                run.to_string(),
            )),
        };
        put("r1", CommitState::Committed);
        rt.block_on(reading("r1").verify()).unwrap();
        put("r2", CommitState::Committed);
        let err = rt.block_on(reading("r1").verify()).unwrap_err().to_string();
        assert!(
            err.contains("published again") && err.contains("r1 became r2"),
            "{err}"
        );
        put("r3", CommitState::Writing);
        let err = rt.block_on(reading("r2").verify()).unwrap_err().to_string();
        assert!(err.contains("is being published by w"), "{err}");
    }

    #[test]
    fn object_urls_are_told_from_directories() {
        assert!(is_object_url(Path::new("s3://bucket/data")));
        assert!(is_object_url(Path::new("S3://bucket")));
        assert!(!is_object_url(Path::new("s3:/bucket")));
        assert!(!is_object_url(Path::new("data/s3://x")));
        assert!(!is_object_url(Path::new("/tmp/data")));
    }

    #[test]
    fn object_locations_end_in_a_slash_and_name_their_tables() {
        let loc = Location::of(Path::new("s3://bucket/some/data")).unwrap();
        assert_eq!(
            loc.table_url("classified").unwrap(),
            "s3://bucket/some/data/classified/"
        );
        assert_eq!(
            loc.subdir("postings"),
            PathBuf::from("s3://bucket/some/data/postings")
        );
        let Location::Object { url, .. } = &loc else {
            panic!("s3:// is an object location")
        };
        assert_eq!(
            object_prefix(url, "classified/manifest.json").as_ref(),
            "some/data/classified/manifest.json"
        );
        let root = Location::of(Path::new("s3://bucket")).unwrap();
        let Location::Object { url, .. } = &root else {
            panic!("s3:// is an object location")
        };
        assert_eq!(object_prefix(url, "postings").as_ref(), "postings");
    }

    #[test]
    fn a_url_without_a_bucket_is_refused_with_the_form_to_write() {
        let e = Location::of(Path::new("s3:///data"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("s3://BUCKET/PREFIX"), "{e}");
    }
}
