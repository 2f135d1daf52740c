//! Writing a dataset that lives in an object store (`s3://BUCKET/PREFIX`): one writer at a
//! time, and readers that never read a half-published dataset.
//!
//! The writing stages (`jobshift ingest`, `jobshift classify`, locally or on a cluster) write
//! directories. For a dataset in an object store they write a local *working copy* instead and
//! publish it ([`Target`]):
//!
//! 1. **Lease.** The writer creates `PREFIX/.jobshift-writer.lock` with a conditional PUT
//!    (`If-None-Match: *`, [`PutMode::Create`]): of two writers exactly one succeeds, the other is
//!    refused with the holder's name. The lease expires ([`LEASE_ENV`], default 24 hours), so a
//!    writer that died does not block the dataset for ever, and a lease held by a process of
//!    this machine that no longer runs is taken over at once; either is taken over with a
//!    conditional update on its ETag, so two writers cannot both take it over. Before it
//!    publishes, the writer renews its lease the same way: one whose lease expired and was taken
//!    over publishes nothing.
//! 2. **Pull.** The working copy (`<cache>/object-datasets/BUCKET/PREFIX`, kept between runs)
//!    downloads the committed files it lacks or holds in another version, and drops the files the
//!    dataset no longer has. Files named `.…` (staging, resumable work, locks) stay: a killed
//!    `classify` resumes from its staged files as it does in a directory.
//! 3. **Run.** The stage writes the working copy with its own directory locks and commit
//!    (`jobshift_core::commit`).
//! 4. **Publish, record last.** The commit record `PREFIX/.jobshift-commit.json` is written with
//!    state `writing`; every new or changed file is uploaded (multipart above 8 MiB); objects the
//!    working copy no longer has are deleted; then the record is written with state `committed`
//!    and every file's size and BLAKE3 digest. The layout under the prefix is the directory's.
//! 5. **Release.** The lease is deleted (also when the stage fails).
//!
//! Readers ([`crate::store::Location`]) read the commit record first. `committed`: they read
//! exactly the files it lists, not a listing of the prefix, so objects a later publish uploads are
//! not read until its record says so. `writing`: they refuse, naming the writer. No record: a
//! dataset some other tool put there, read by listing the prefix.
//!
//! A publish that was interrupted leaves the record at `writing`. The working copy that was being
//! published knows it (`.jobshift-object-run` holds the run it last pulled or published): the
//! next writer from it publishes it again first. From another working copy the writer refuses,
//! saying where to rerun.

use crate::store::{object_prefix as object_path, Location};
use crate::TrendsError;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{
    ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion, WriteMultipart,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use url::Url;

pub use crate::store::{
    being_written, read_commit_record, CommitRecord, CommitState, FileVersion, COMMIT_RECORD,
};

/// The writer's lease object under the dataset prefix.
pub const LEASE_OBJECT: &str = ".jobshift-writer.lock";
/// Seconds a writer's lease lasts before another writer may take it over (default 86400).
pub const LEASE_ENV: &str = "JOBSHIFT_OBJECT_LEASE_SECS";
/// In a working copy: the run of the commit record it last pulled or published.
pub const RUN_MARKER: &str = ".jobshift-object-run";
/// Files above this size are uploaded in parts.
const MULTIPART_ABOVE: u64 = 8 << 20;
/// Files uploaded or downloaded at once (object stores answer each request with some latency;
/// several in flight keep the link busy).
const TRANSFERS_IN_FLIGHT: usize = 8;
/// The size of one uploaded part.
const PART_BYTES: usize = 8 << 20;
const DEFAULT_LEASE_SECS: i64 = 86_400;

/// Abort the process after this many uploads of a publish, as `kill -9` would stop it (crash
/// tests only; see `jobshift_core::commit::FAULT_ENV` for the directory commit's).
pub const FAULT_ENV: &str = "JOBSHIFT_FAULT_AFTER_UPLOADS";

fn fault_after_uploads(done: usize) {
    if std::env::var(FAULT_ENV)
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        == Some(done)
    {
        eprintln!("{FAULT_ENV}={done}: aborting (crash test)");
        std::process::abort();
    }
}

/// The lease object's content.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Lease {
    holder: String,
    command: String,
    acquired: String,
    /// Unix seconds after which another writer may take the lease over.
    expires: i64,
    /// The holder's machine and process: a writer on the same machine takes over the lease of
    /// a process that is gone (killed, crashed) without waiting for it to expire.
    #[serde(default)]
    host: String,
    #[serde(default)]
    pid: u32,
}

impl Lease {
    /// Whether the holder is a process of this machine that no longer runs.
    fn holder_is_gone(&self) -> bool {
        self.pid != 0
            && !self.host.is_empty()
            && self.host == this_host()
            && !Path::new(&format!("/proc/{}", self.pid)).exists()
            && Path::new("/proc/self").exists()
    }
}

/// What a pull or a publish moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transfer {
    pub files: usize,
    pub bytes: u64,
    pub removed: usize,
    pub unchanged: usize,
}

impl std::fmt::Display for Transfer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} file(s) uploaded ({:.1} MB), {} deleted, {} unchanged",
            self.files,
            self.bytes as f64 / 1e6,
            self.removed,
            self.unchanged
        )
    }
}

/// `what` failed on the object `rel` under `url`.
fn store_error(url: &Url, rel: &str, what: &str, e: impl std::fmt::Display) -> TrendsError {
    crate::store::object_error(url, rel, format!("{what}: {e}"))
}

fn io_error(path: &Path, e: std::io::Error) -> TrendsError {
    TrendsError::io(path, e)
}

/// Whether a relative path names a file the dataset publishes: none of its parts starts with
/// '.' (locks, staging and resumable directories, temporary files, the run marker).
fn published(rel: &str) -> bool {
    !rel.is_empty() && rel.split('/').all(|p| !p.is_empty() && !p.starts_with('.'))
}

/// `user@host pid N`.
fn this_process() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown-user".into());
    format!("{user}@{} pid {}", this_host(), std::process::id())
}

/// This machine's name.
fn this_host() -> String {
    jobshift_core::commit::host_name()
        .or_else(|| std::env::var("HOSTNAME").ok().map(|h| h.trim().to_string()))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

fn lease_secs() -> i64 {
    std::env::var(LEASE_ENV)
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(DEFAULT_LEASE_SECS)
}

/// The lease object of the dataset at `url`: `None` when there is none; else its content
/// (`None` when unreadable) and the version a conditional update must match.
async fn read_lease(
    store: &dyn ObjectStore,
    url: &Url,
) -> Result<Option<(Option<Lease>, UpdateVersion)>, TrendsError> {
    let got = match store.get(&object_path(url, LEASE_OBJECT)).await {
        Ok(got) => got,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => {
            return Err(store_error(
                url,
                LEASE_OBJECT,
                "reading the writer lease",
                e,
            ))
        }
    };
    let version = UpdateVersion {
        e_tag: got.meta.e_tag.clone(),
        version: got.meta.version.clone(),
    };
    let bytes = got
        .bytes()
        .await
        .map_err(|e| store_error(url, LEASE_OBJECT, "reading the writer lease", e))?;
    Ok(Some((serde_json::from_slice(&bytes).ok(), version)))
}

/// The writer lease on one object-store dataset (see the module doc).
struct WriterLease {
    url: Url,
    store: Arc<dyn ObjectStore>,
    lease: Lease,
}

impl WriterLease {
    /// Take the lease, or take over an expired one; refuse while another writer holds it.
    /// Returns the lease and, when it took one over, the expired holder.
    async fn acquire(
        url: &Url,
        store: Arc<dyn ObjectStore>,
        command: &str,
    ) -> Result<(WriterLease, Option<String>), TrendsError> {
        let now = chrono::Utc::now();
        let lease = Lease {
            holder: this_process(),
            command: command.to_string(),
            acquired: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            expires: now.timestamp() + lease_secs(),
            host: this_host(),
            pid: std::process::id(),
        };
        let path = object_path(url, LEASE_OBJECT);
        let body = PutPayload::from(serde_json::to_vec_pretty(&lease).unwrap_or_default());
        let create = PutOptions::from(PutMode::Create);
        let taken_over = match store.put_opts(&path, body.clone(), create).await {
            Ok(_) => None,
            Err(object_store::Error::AlreadyExists { .. }) => {
                let Some((held, version)) = read_lease(store.as_ref(), url).await? else {
                    return Err(TrendsError::ObjectStore {
                        location: url.to_string(),
                        message: "another writer released its lease just now".into(),
                        fix: "run the command again".into(),
                    });
                };
                let busy = |who: &str, until: &str| TrendsError::ObjectStore {
                    location: url.to_string(),
                    message: format!("is being written by {who} (lease until {until})"),
                    fix: format!(
                        "wait for it to finish and run this again; if that writer died, the \
                         lease expires at that time (or delete {url}{LEASE_OBJECT} once you \
                         are sure it is not running)"
                    ),
                };
                let holder = match &held {
                    Some(l) => format!("{} ({})", l.holder, l.command),
                    None => "an unreadable lease".into(),
                };
                let expires = held.as_ref().map_or(0, |l| l.expires);
                let gone = held.as_ref().is_some_and(Lease::holder_is_gone);
                if expires > now.timestamp() && !gone {
                    let until = chrono::DateTime::from_timestamp(expires, 0)
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_default();
                    return Err(busy(&holder, &until));
                }
                let update = PutOptions::from(PutMode::Update(version));
                match store.put_opts(&path, body, update).await {
                    Ok(_) => Some(holder),
                    Err(object_store::Error::Precondition { .. }) => {
                        return Err(busy("another writer that took over an expired lease", "-"))
                    }
                    Err(e) => return Err(store_error(url, LEASE_OBJECT, "taking over", e)),
                }
            }
            Err(e @ object_store::Error::NotImplemented { .. }) => {
                return Err(TrendsError::ObjectStore {
                    location: url.to_string(),
                    message: format!("the store cannot create an object only if absent: {e}"),
                    fix: "jobshift needs conditional PUT (If-None-Match) to let one writer at a \
                          time publish; unset AWS_CONDITIONAL_PUT=disabled, or use a store that \
                          supports it (AWS S3, MinIO, Cloudflare R2, GCS's XML API)"
                        .into(),
                })
            }
            Err(e) => return Err(store_error(url, LEASE_OBJECT, "taking the writer lease", e)),
        };
        Ok((
            WriterLease {
                url: url.clone(),
                store,
                lease,
            },
            taken_over,
        ))
    }

    /// Check that the lease is still this writer's and extend it by a lease period (a
    /// conditional update on its ETag, so a writer that took it over after it expired cannot be
    /// overwritten). A writer that lost its lease must not publish.
    async fn renew(&mut self) -> Result<(), TrendsError> {
        let path = object_path(&self.url, LEASE_OBJECT);
        let lost = |why: String| TrendsError::ObjectStore {
            location: self.url.to_string(),
            message: format!("this writer's lease was lost ({why}); nothing was published"),
            fix: format!(
                "another writer took the dataset over after the lease expired: run the command \
                 again when it is done (for runs longer than a day raise {LEASE_ENV})"
            ),
        };
        let Some((held, version)) = read_lease(self.store.as_ref(), &self.url).await? else {
            return Err(lost("the lease object is gone".into()));
        };
        match held {
            Some(l) if self.is_mine(&l) => {}
            Some(l) => return Err(lost(format!("{} holds it now", l.holder))),
            None => return Err(lost("the lease object is unreadable".into())),
        }
        self.lease.expires = chrono::Utc::now().timestamp() + lease_secs();
        let body = PutPayload::from(serde_json::to_vec_pretty(&self.lease).unwrap_or_default());
        match self
            .store
            .put_opts(&path, body, PutOptions::from(PutMode::Update(version)))
            .await
        {
            Ok(_) => Ok(()),
            Err(object_store::Error::Precondition { .. }) => {
                Err(lost("it changed while being renewed".into()))
            }
            Err(e) => Err(store_error(
                &self.url,
                LEASE_OBJECT,
                "renewing the lease",
                e,
            )),
        }
    }

    fn is_mine(&self, l: &Lease) -> bool {
        l.holder == self.lease.holder && l.acquired == self.lease.acquired
    }

    /// Delete the lease if it is still this writer's.
    async fn release(&self) -> Result<(), TrendsError> {
        let path = object_path(&self.url, LEASE_OBJECT);
        let held = read_lease(self.store.as_ref(), &self.url)
            .await
            .ok()
            .flatten();
        if held.and_then(|(l, _)| l).is_some_and(|l| self.is_mine(&l)) {
            self.store
                .delete(&path)
                .await
                .map_err(|e| store_error(&self.url, LEASE_OBJECT, "releasing the lease", e))?;
        }
        Ok(())
    }
}

/// A file's version (size and BLAKE3 digest).
fn file_version(path: &Path) -> Result<FileVersion, TrendsError> {
    let file = std::fs::File::open(path).map_err(|e| io_error(path, e))?;
    let bytes = file.metadata().map_err(|e| io_error(path, e))?.len();
    let mut h = blake3::Hasher::new();
    h.update_reader(file).map_err(|e| io_error(path, e))?;
    Ok(FileVersion {
        bytes,
        blake3: h.finalize().to_hex().to_string(),
    })
}

/// The published files of a working copy (relative paths with '/'), sorted.
fn local_files(root: &Path) -> Result<Vec<String>, TrendsError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), TrendsError> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error(dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| io_error(dir, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| io_error(&path, e))?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if kind.is_file() {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().to_string())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

/// The published objects under `url` (relative path → size), from a listing.
async fn remote_listing(
    store: &dyn ObjectStore,
    url: &Url,
) -> Result<BTreeMap<String, u64>, TrendsError> {
    let base = url.path().trim_matches('/');
    let prefix = (!base.is_empty()).then(|| ObjectPath::from(base));
    let mut listing = store.list(prefix.as_ref());
    let mut out = BTreeMap::new();
    while let Some(meta) = listing
        .try_next()
        .await
        .map_err(|e| store_error(url, "", "listing", e))?
    {
        let full = meta.location.to_string();
        let rel = if base.is_empty() {
            full.as_str()
        } else {
            full.strip_prefix(base)
                .and_then(|r| r.strip_prefix('/'))
                .unwrap_or(&full)
        };
        if published(rel) {
            out.insert(rel.to_string(), meta.size);
        }
    }
    Ok(out)
}

/// Download `rel` into `dest` (through a temporary file and a rename).
async fn download(
    store: &dyn ObjectStore,
    url: &Url,
    rel: &str,
    dest: &Path,
) -> Result<u64, TrendsError> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    }
    let tmp = dest.with_file_name(format!(
        ".{}.download",
        dest.file_name().unwrap_or_default().to_string_lossy()
    ));
    let mut file = std::fs::File::create(&tmp).map_err(|e| io_error(&tmp, e))?;
    let got = store
        .get(&object_path(url, rel))
        .await
        .map_err(|e| store_error(url, rel, "downloading", e))?;
    let mut stream = got.into_stream();
    let mut bytes = 0u64;
    while let Some(chunk) = stream
        .try_next()
        .await
        .map_err(|e| store_error(url, rel, "downloading", e))?
    {
        file.write_all(&chunk).map_err(|e| io_error(&tmp, e))?;
        bytes += chunk.len() as u64;
    }
    file.sync_all().map_err(|e| io_error(&tmp, e))?;
    std::fs::rename(&tmp, dest).map_err(|e| io_error(dest, e))?;
    Ok(bytes)
}

/// Upload the local file `src` as `rel`.
async fn upload(
    store: &dyn ObjectStore,
    url: &Url,
    rel: &str,
    src: &Path,
    bytes: u64,
) -> Result<(), TrendsError> {
    let path = object_path(url, rel);
    let err = |e: object_store::Error| store_error(url, rel, "uploading", e);
    if bytes <= MULTIPART_ABOVE {
        let data = std::fs::read(src).map_err(|e| io_error(src, e))?;
        store
            .put(&path, PutPayload::from(data))
            .await
            .map_err(err)?;
        return Ok(());
    }
    let mut file = std::fs::File::open(src).map_err(|e| io_error(src, e))?;
    let upload = store.put_multipart(&path).await.map_err(err)?;
    let mut parts = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    let mut buf = vec![0u8; PART_BYTES];
    let sent = loop {
        let n = match file.read(&mut buf) {
            Ok(n) => n,
            Err(e) => break Err(io_error(src, e)),
        };
        if n == 0 {
            break Ok(());
        }
        if let Err(e) = parts.wait_for_capacity(4).await {
            break Err(err(e));
        }
        parts.write(&buf[..n]);
    };
    match sent {
        Ok(()) => parts.finish().await.map(|_| ()).map_err(err),
        Err(e) => {
            // do not leave an unfinished multipart upload behind (stores bill its parts)
            let _ = parts.abort().await;
            Err(e)
        }
    }
}

/// An object-store dataset being written: the lease, the working copy and the runtime its
/// requests run on.
pub struct WorkingCopy {
    url: Url,
    store: Arc<dyn ObjectStore>,
    dir: PathBuf,
    command: String,
    lease: WriterLease,
    runtime: tokio::runtime::Runtime,
    /// The record the working copy was pulled from (`None`: the prefix had none).
    base: Option<CommitRecord>,
    released: bool,
}

impl WorkingCopy {
    /// Take the lease on the dataset at `url` and bring the working copy `dir` up to its
    /// committed version. `say` hears what happened (a lease taken over, a publish finished).
    pub fn open(
        url: &Url,
        store: Arc<dyn ObjectStore>,
        dir: &Path,
        command: &str,
        say: &mut dyn FnMut(String),
    ) -> Result<WorkingCopy, TrendsError> {
        let mut copy = WorkingCopy::leased(url, store, dir, command, say)?;
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let interrupted = copy
            .base
            .as_ref()
            .filter(|r| r.state == CommitState::Writing)
            .cloned();
        if let Some(r) = interrupted {
            let mine =
                std::fs::read_to_string(dir.join(RUN_MARKER)).is_ok_and(|m| m.trim() == r.run);
            if !mine {
                return Err(TrendsError::ObjectStore {
                    location: url.to_string(),
                    message: format!(
                        "a publish by {} (run {}, {}) did not finish, and this working copy ({}) \
                         is not the one it published",
                        r.writer,
                        r.run,
                        r.at,
                        dir.display()
                    ),
                    fix: "rerun the interrupted command on the machine that ran it: it publishes \
                          its working copy again"
                        .into(),
                });
            }
            say(format!(
                "finishing the interrupted publish of run {} to {url}",
                r.run
            ));
            copy.publish_now(&mut |_| {})?;
            return Ok(copy);
        }
        let pulled = copy.pull()?;
        if pulled.files > 0 || pulled.removed > 0 {
            say(format!(
                "working copy {}: {} file(s) downloaded ({:.1} MB), {} removed, {} up to date",
                dir.display(),
                pulled.files,
                pulled.bytes as f64 / 1e6,
                pulled.removed,
                pulled.unchanged
            ));
        }
        Ok(copy)
    }

    /// Publish the dataset directory `dir` (built elsewhere, e.g. on a local disk) to the
    /// object-store dataset at `url` as its new version: the lease, then the publish (files the
    /// store already holds in the same version are not uploaded again). `dir` is not pulled:
    /// it is the version to publish.
    pub fn publish_dir(
        url: &Url,
        store: Arc<dyn ObjectStore>,
        dir: &Path,
        command: &str,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Transfer, TrendsError> {
        WorkingCopy::leased(url, store, dir, command, &mut |_| {})?.publish(progress)
    }

    /// `dir` with the lease on `url` taken and the committed version's record read (nothing
    /// pulled yet).
    fn leased(
        url: &Url,
        store: Arc<dyn ObjectStore>,
        dir: &Path,
        command: &str,
        say: &mut dyn FnMut(String),
    ) -> Result<WorkingCopy, TrendsError> {
        let runtime = crate::runtime()?;
        let (lease, taken_over) =
            runtime.block_on(WriterLease::acquire(url, Arc::clone(&store), command))?;
        if let Some(old) = taken_over {
            say(format!(
                "took over the writer lease of {old} on {url} (expired, or its process is gone)"
            ));
        }
        let base = runtime.block_on(read_commit_record(store.as_ref(), url))?;
        Ok(WorkingCopy {
            url: url.clone(),
            store,
            dir: dir.to_path_buf(),
            command: command.to_string(),
            lease,
            runtime,
            base,
            released: false,
        })
    }

    /// The working copy's directory: the stage writes it as it would the dataset directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bring the working copy to the committed version.
    fn pull(&mut self) -> Result<Transfer, TrendsError> {
        let (url, store, dir) = (&self.url, self.store.as_ref(), &self.dir);
        // with a record: its files and digests; without one: a listing, compared by size
        let remote: BTreeMap<String, (u64, Option<String>)> = match &self.base {
            Some(r) => r
                .files
                .iter()
                .map(|(k, v)| (k.clone(), (v.bytes, Some(v.blake3.clone()))))
                .collect(),
            None => self
                .runtime
                .block_on(remote_listing(store, url))?
                .into_iter()
                .map(|(k, size)| (k, (size, None)))
                .collect(),
        };
        let mut t = Transfer::default();
        for rel in local_files(dir)? {
            if !remote.contains_key(&rel) {
                let p = dir.join(&rel);
                std::fs::remove_file(&p).map_err(|e| io_error(&p, e))?;
                t.removed += 1;
            }
        }
        let mut wanted = Vec::new();
        for (rel, (bytes, digest)) in &remote {
            let dest = dir.join(rel);
            if dest.is_file() {
                let have = file_version(&dest)?;
                if have.bytes == *bytes && digest.as_ref().is_none_or(|d| *d == have.blake3) {
                    t.unchanged += 1;
                    continue;
                }
            }
            wanted.push((rel.as_str(), dest, digest.as_deref()));
        }
        t.files = wanted.len();
        t.bytes = self.runtime.block_on(
            futures::stream::iter(wanted)
                .map(|(rel, dest, digest)| async move {
                    let n = download(store, url, rel, &dest).await?;
                    // what the record says was published, or an object changed by another tool
                    match digest {
                        Some(d) if file_version(&dest)?.blake3 != d => {
                            Err(TrendsError::ObjectStore {
                                location: format!("{url}{rel}"),
                                message: "differs from the version the commit record lists".into(),
                                fix: "something other than jobshift changed it; publish the \
                                      dataset again from a copy you trust (jobshift dataset \
                                      publish DIR URL)"
                                    .into(),
                            })
                        }
                        _ => Ok(n),
                    }
                })
                .buffer_unordered(TRANSFERS_IN_FLIGHT)
                .try_fold(0u64, |sum, n| async move { Ok::<_, TrendsError>(sum + n) }),
        )?;
        if let Some(r) = &self.base {
            let marker = dir.join(RUN_MARKER);
            std::fs::write(&marker, &r.run).map_err(|e| io_error(&marker, e))?;
        }
        Ok(t)
    }

    fn put_record(&self, record: &CommitRecord) -> Result<(), TrendsError> {
        let body = serde_json::to_vec_pretty(record).unwrap_or_default();
        self.runtime
            .block_on(self.store.put(
                &object_path(&self.url, COMMIT_RECORD),
                PutPayload::from(body),
            ))
            .map_err(|e| store_error(&self.url, COMMIT_RECORD, "writing the commit record", e))?;
        Ok(())
    }

    /// Publish the working copy (see the module doc), record last.
    fn publish_now(&mut self, progress: &mut dyn FnMut(&str)) -> Result<Transfer, TrendsError> {
        let now = chrono::Utc::now();
        let run = format!(
            "{}-{}",
            now.format("%Y%m%dT%H%M%S%.3fZ"),
            std::process::id()
        );
        let writer = format!("{} ({})", self.lease.lease.holder, self.command);
        let at = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        // a writer whose lease expired and was taken over publishes nothing
        self.runtime.block_on(self.lease.renew())?;
        // what the store holds (nothing known for a prefix without a record: upload everything)
        let before = self
            .base
            .as_ref()
            .map(|r| r.files.clone())
            .unwrap_or_default();
        let mut record = CommitRecord {
            state: CommitState::Writing,
            run: run.clone(),
            writer,
            at,
            files: before.clone(),
        };
        // a copy that crashes from here on knows it holds the version being published
        let marker = self.dir.join(RUN_MARKER);
        std::fs::write(&marker, &run).map_err(|e| io_error(&marker, e))?;
        self.put_record(&record)?;
        let (url, store, dir) = (&self.url, self.store.as_ref(), &self.dir);
        let mut files = BTreeMap::new();
        let mut t = Transfer::default();
        let mut changed = Vec::new();
        for rel in local_files(dir)? {
            let v = file_version(&dir.join(&rel))?;
            if before.get(&rel) == Some(&v) {
                t.unchanged += 1;
            } else {
                t.files += 1;
                t.bytes += v.bytes;
                changed.push((rel.clone(), v.bytes));
            }
            files.insert(rel, v);
        }
        self.runtime.block_on(async {
            let mut uploads = futures::stream::iter(&changed)
                .map(|(rel, bytes)| async move {
                    upload(store, url, rel, &dir.join(rel), *bytes).await?;
                    Ok::<_, TrendsError>(rel)
                })
                .buffer_unordered(TRANSFERS_IN_FLIGHT);
            let mut done = 0;
            while let Some(rel) = uploads.try_next().await? {
                progress(rel);
                done += 1;
                fault_after_uploads(done);
            }
            Ok::<_, TrendsError>(())
        })?;
        for rel in self.runtime.block_on(remote_listing(store, url))?.keys() {
            if !files.contains_key(rel) {
                self.runtime
                    .block_on(store.delete(&object_path(url, rel)))
                    .map_err(|e| store_error(url, rel, "deleting", e))?;
                t.removed += 1;
            }
        }
        record.state = CommitState::Committed;
        record.files = files;
        record.at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.put_record(&record)?;
        self.base = Some(record);
        Ok(t)
    }

    /// Publish the working copy and release the lease.
    pub fn publish(mut self, progress: &mut dyn FnMut(&str)) -> Result<Transfer, TrendsError> {
        let t = self.publish_now(progress)?;
        self.released = true;
        self.runtime.block_on(self.lease.release())?;
        Ok(t)
    }
}

impl Drop for WorkingCopy {
    /// A stage that failed (or a publish that failed) releases the lease; the dataset keeps
    /// its committed version (or, after a failed publish, its record says `writing`).
    fn drop(&mut self) {
        if !self.released {
            let _ = self.runtime.block_on(self.lease.release());
        }
    }
}

/// Where a writing stage writes: a dataset directory, or the working copy of an object-store
/// dataset that [`Target::finish`] publishes.
pub enum Target {
    Dir(PathBuf),
    Object(Box<WorkingCopy>),
}

impl Target {
    /// The target for `dataset` (a directory, or `s3://BUCKET/PREFIX` with its working copy
    /// under `work_root`), with the lease taken and the working copy pulled.
    pub fn open(
        dataset: &Path,
        work_root: &Path,
        command: &str,
        say: &mut dyn FnMut(String),
    ) -> Result<Target, TrendsError> {
        match Location::of(dataset)? {
            Location::Dir(d) => Ok(Target::Dir(d)),
            Location::Object { url, store } => {
                let dir = work_root
                    .join(url.host_str().unwrap_or("bucket"))
                    .join(url.path().trim_matches('/'));
                WorkingCopy::open(&url, store, &dir, command, say)
                    .map(|w| Target::Object(Box::new(w)))
            }
        }
    }

    /// The directory the stage writes.
    pub fn dir(&self) -> &Path {
        match self {
            Target::Dir(d) => d,
            Target::Object(w) => w.dir(),
        }
    }

    /// For an object-store dataset, the URL its files are read at by other machines (ending
    /// in '/'); `None` for a directory.
    pub fn url(&self) -> Option<&Url> {
        match self {
            Target::Dir(_) => None,
            Target::Object(w) => Some(&w.url),
        }
    }

    /// Publish an object-store dataset (a directory is already in place); `None` for a directory.
    pub fn finish(self, say: &mut dyn FnMut(String)) -> Result<Option<Transfer>, TrendsError> {
        match self {
            Target::Dir(_) => Ok(None),
            Target::Object(w) => {
                let url = w.url.clone();
                let t = w.publish(&mut |_| {})?;
                say(format!("published to {url}: {t}"));
                Ok(Some(t))
            }
        }
    }
}

/// Publish the dataset directory `dir` to `dataset` (`s3://BUCKET/PREFIX`), one writer at a
/// time, commit record last ([`WorkingCopy::publish_dir`]).
pub fn publish_dir(
    dir: &Path,
    dataset: &Path,
    command: &str,
    progress: &mut dyn FnMut(&str),
) -> Result<Transfer, TrendsError> {
    match Location::of(dataset)? {
        Location::Object { url, store } => {
            WorkingCopy::publish_dir(&url, store, dir, command, progress)
        }
        Location::Dir(d) => Err(TrendsError::Options(format!(
            "{}: not an object store URL; write s3://BUCKET/PREFIX (to copy a directory to \
             another directory, use cp -r)",
            d.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    fn url() -> Url {
        Url::parse("s3://bucket/data/").unwrap()
    }

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn open(store: &Arc<dyn ObjectStore>, dir: &Path) -> Result<WorkingCopy, TrendsError> {
        WorkingCopy::open(&url(), Arc::clone(store), dir, "test", &mut |_| {})
    }

    fn get(store: &Arc<dyn ObjectStore>, rel: &str) -> Option<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            match store.get(&object_path(&url(), rel)).await {
                Ok(g) => Some(String::from_utf8(g.bytes().await.unwrap().to_vec()).unwrap()),
                Err(_) => None,
            }
        })
    }

    /// [`open`], with what the writer said.
    fn open_hearing(store: &Arc<dyn ObjectStore>, dir: &Path) -> (WorkingCopy, Vec<String>) {
        let mut heard = Vec::new();
        let w =
            WorkingCopy::open(&url(), Arc::clone(store), dir, "t", &mut |m| heard.push(m)).unwrap();
        (w, heard)
    }

    /// Another writer's lease, ending at `expires` (Unix seconds).
    fn put_lease(store: &Arc<dyn ObjectStore>, holder: &str, expires: i64) {
        let lease = Lease {
            holder: holder.into(),
            command: "ingest".into(),
            acquired: "2020-01-01T00:00:00Z".into(),
            expires,
            host: String::new(),
            pid: 0,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(store.put(
            &object_path(&url(), LEASE_OBJECT),
            PutPayload::from(serde_json::to_vec(&lease).unwrap()),
        ))
        .unwrap();
    }

    fn record(store: &Arc<dyn ObjectStore>) -> CommitRecord {
        serde_json::from_str(&get(store, COMMIT_RECORD).unwrap()).unwrap()
    }

    #[test]
    fn a_publish_uploads_changes_deletes_the_rest_and_commits_last() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let a = tempfile::tempdir().unwrap();
        let w = open(&store, a.path()).unwrap();
        write(a.path(), "postings/month=2024-01/part-0.parquet", "one");
        write(a.path(), "postings/month=2024-02/part-0.parquet", "two");
        write(a.path(), ".staging-x/postings/part.parquet", "staged");
        let t = w.publish(&mut |_| {}).unwrap();
        assert_eq!((t.files, t.removed, t.unchanged), (2, 0, 0));
        let r = record(&store);
        assert_eq!(r.state, CommitState::Committed);
        assert_eq!(r.files.len(), 2);
        assert_eq!(
            get(&store, "postings/month=2024-02/part-0.parquet").unwrap(),
            "two"
        );
        assert!(get(&store, ".staging-x/postings/part.parquet").is_none());
        assert!(get(&store, LEASE_OBJECT).is_none(), "the lease is released");

        // a second machine pulls the committed version, changes one file and drops one
        let b = tempfile::tempdir().unwrap();
        let w = open(&store, b.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(b.path().join("postings/month=2024-01/part-0.parquet"))
                .unwrap(),
            "one"
        );
        write(b.path(), "postings/month=2024-01/part-0.parquet", "ONE");
        std::fs::remove_file(b.path().join("postings/month=2024-02/part-0.parquet")).unwrap();
        let t = w.publish(&mut |_| {}).unwrap();
        assert_eq!((t.files, t.removed, t.unchanged), (1, 1, 0));
        assert_eq!(record(&store).files.len(), 1);
        assert!(get(&store, "postings/month=2024-02/part-0.parquet").is_none());

        // the first copy, opened again, follows: the stale file goes, the changed one comes
        let w = open(&store, a.path()).unwrap();
        assert!(!a
            .path()
            .join("postings/month=2024-02/part-0.parquet")
            .exists());
        assert_eq!(
            std::fs::read_to_string(a.path().join("postings/month=2024-01/part-0.parquet"))
                .unwrap(),
            "ONE"
        );
        assert!(a.path().join(".staging-x/postings/part.parquet").exists());
        drop(w);
        assert!(
            get(&store, LEASE_OBJECT).is_none(),
            "dropping releases the lease"
        );
    }

    #[test]
    fn one_writer_at_a_time_and_an_expired_lease_is_taken_over() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let held = open(&store, a.path()).unwrap();
        let err = open(&store, b.path()).err().unwrap().to_string();
        assert!(
            err.contains("is being written by") && err.contains("(test)"),
            "{err}"
        );
        drop(held);
        let _b = open(&store, b.path()).unwrap();

        // a lease whose holder died long ago
        let store2: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        put_lease(&store2, "someone@elsewhere pid 1", 0);
        let c = tempfile::tempdir().unwrap();
        let (w, heard) = open_hearing(&store2, c.path());
        assert!(
            heard[0].contains("took over the writer lease of someone@elsewhere"),
            "{heard:?}"
        );
        drop(w);
    }

    #[test]
    fn the_unexpired_lease_of_a_dead_process_on_this_machine_is_taken_over() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let lease = |pid: u32| Lease {
            holder: format!("me@{} pid {pid}", this_host()),
            command: "classify".into(),
            acquired: "2026-01-01T00:00:00Z".into(),
            expires: i64::MAX / 2,
            host: this_host(),
            pid,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let put = |l: &Lease| {
            rt.block_on(store.put(
                &object_path(&url(), LEASE_OBJECT),
                PutPayload::from(serde_json::to_vec(l).unwrap()),
            ))
            .unwrap()
        };
        // a live process of this machine (this one) keeps its lease
        put(&lease(std::process::id()));
        let a = tempfile::tempdir().unwrap();
        assert!(open(&store, a.path()).is_err());
        // a gone one does not
        put(&lease(dead));
        let (w, heard) = open_hearing(&store, a.path());
        assert!(heard[0].contains(&format!("pid {dead}")), "{heard:?}");
        drop(w);
    }

    #[test]
    fn an_object_changed_behind_the_record_is_refused_when_pulled() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let a = tempfile::tempdir().unwrap();
        let w = open(&store, a.path()).unwrap();
        write(a.path(), "postings/part-0.parquet", "right");
        w.publish(&mut |_| {}).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(store.put(
            &object_path(&url(), "postings/part-0.parquet"),
            PutPayload::from("wrong".as_bytes().to_vec()),
        ))
        .unwrap();
        let b = tempfile::tempdir().unwrap();
        let err = open(&store, b.path()).err().unwrap().to_string();
        assert!(
            err.contains("postings/part-0.parquet") && err.contains("differs from the version"),
            "{err}"
        );
    }

    #[test]
    fn a_writer_whose_lease_was_taken_over_publishes_nothing() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let a = tempfile::tempdir().unwrap();
        let w = open(&store, a.path()).unwrap();
        write(a.path(), "postings/part-0.parquet", "mine");
        // the lease expired during a long run and another writer took it over
        put_lease(&store, "bob@elsewhere pid 2", i64::MAX / 2);
        let err = w.publish(&mut |_| {}).err().unwrap().to_string();
        assert!(
            err.contains("lease was lost") && err.contains("bob@elsewhere"),
            "{err}"
        );
        assert!(get(&store, "postings/part-0.parquet").is_none());
        assert!(get(&store, COMMIT_RECORD).is_none());
        assert!(
            get(&store, LEASE_OBJECT).unwrap().contains("bob@elsewhere"),
            "not released"
        );
    }

    #[test]
    fn an_interrupted_publish_is_finished_from_its_own_copy_only() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let a = tempfile::tempdir().unwrap();
        let mut w = open(&store, a.path()).unwrap();
        write(a.path(), "classified/part-0.parquet", "c");
        w.publish_now(&mut |_| {}).unwrap();
        // the process dies between the record's `writing` and `committed`: simulate it
        let mut r = record(&store);
        r.state = CommitState::Writing;
        w.put_record(&r).unwrap();
        drop(w);
        let other = tempfile::tempdir().unwrap();
        let err = open(&store, other.path()).err().unwrap().to_string();
        assert!(err.contains("did not finish"), "{err}");
        let (w, heard) = open_hearing(&store, a.path());
        assert!(
            heard[0].contains("finishing the interrupted publish"),
            "{heard:?}"
        );
        assert_eq!(record(&store).state, CommitState::Committed);
        drop(w);
        let _ = open(&store, other.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(other.path().join("classified/part-0.parquet")).unwrap(),
            "c"
        );
    }

    #[test]
    fn a_directory_is_published_as_it_is_and_again_only_where_it_changed() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "classified/month=2024-01/part-0.parquet", "x");
        write(d.path(), "classified/manifest.json", "{}");
        let publish = || {
            WorkingCopy::publish_dir(&url(), Arc::clone(&store), d.path(), "t", &mut |_| {})
                .unwrap()
        };
        assert_eq!(publish().files, 2);
        let again = publish();
        assert_eq!((again.files, again.unchanged), (0, 2));
        write(d.path(), "classified/manifest.json", "{\"a\": 1}");
        assert_eq!(publish().files, 1);
        assert_eq!(record(&store).state, CommitState::Committed);
        assert_eq!(
            get(&store, "classified/manifest.json").unwrap(),
            "{\"a\": 1}"
        );
        assert!(d
            .path()
            .join("classified/month=2024-01/part-0.parquet")
            .exists());
    }

    #[test]
    fn a_file_above_the_part_size_goes_up_in_parts_and_comes_back_whole() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let a = tempfile::tempdir().unwrap();
        let big: Vec<u8> = (0..(2 * PART_BYTES + 12345))
            .map(|i| (i % 251) as u8)
            .collect();
        let p = a.path().join("classified/part-0.parquet");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &big).unwrap();
        let t = WorkingCopy::publish_dir(&url(), Arc::clone(&store), a.path(), "t", &mut |_| {})
            .unwrap();
        assert_eq!(t.bytes, big.len() as u64);
        let b = tempfile::tempdir().unwrap();
        let _w = open(&store, b.path()).unwrap();
        assert!(std::fs::read(b.path().join("classified/part-0.parquet")).unwrap() == big);
    }

    #[test]
    fn only_files_without_dot_parts_are_published() {
        assert!(published("postings/month=2024-01/part-0.parquet"));
        assert!(published("ingest-report.json"));
        assert!(!published(".jobshift-commit.json"));
        assert!(!published(".staging-1/postings/a.parquet"));
        assert!(!published("classified/.part.tmp"));
        assert!(!published(""));
    }
}
