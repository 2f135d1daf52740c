//! One writer at a time, and readers that never see a half-moved dataset.
//!
//! Two lock files sit in a dataset directory:
//!
//! ```text
//! DATASET_DIR/.jobshift-writer.lock   exclusive for a writer's whole run (ingest, classify);
//!                                     holds "pid, command, start time" of the holder
//! DATASET_DIR/.jobshift-commit.lock   exclusive while a staged run is moved into place (and
//!                                     while an interrupted commit is finished); shared by
//!                                     every reader for as long as it reads
//! ```
//!
//! The locks are the operating system's advisory file locks (`flock`, through
//! `std::fs::File::lock`, stable since Rust 1.89, so no crate is needed): the kernel releases
//! them when their process dies, so a lock left by a killed process is taken over by the next
//! one (which says so, naming the dead holder from the lock file).
//!
//! A writer stages its output under `DATASET_DIR/.staging-<run>/` in the dataset's own layout,
//! takes the commit lock, writes a `COMMIT` marker and renames every staged item into place
//! ([`commit`]). The commit is idempotent: one interrupted (kill -9) between renames is
//! finished by the next writer or reader ([`recover`], [`open_for_reading`]); a staging
//! directory without `COMMIT` is an aborted run and is deleted, but only by a process that
//! holds the writer lock, so a reader never deletes a running writer's staging directory.
//!
//! A writer that resumes its own work after an interruption (classify) stages under
//! `DATASET_DIR/.resumable-<name>/` instead, which recovery leaves alone until it is committed.
//!
//! Fault injection for the crash tests: with `JOBSHIFT_FAULT_AFTER_RENAMES=N` the process
//! aborts (as kill -9 would stop it) right after the N-th rename of a commit.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The marker a staged run writes before its renames start.
pub const COMMIT_MARKER: &str = "COMMIT";
/// Prefix of staging directories inside a dataset.
pub const STAGING_PREFIX: &str = ".staging-";
/// Prefix of staging directories a writer resumes after an interruption (classify's): kept
/// while uncommitted, finished like any other once they hold `COMMIT`.
pub const RESUMABLE_PREFIX: &str = ".resumable-";
pub const WRITER_LOCK: &str = ".jobshift-writer.lock";
pub const COMMIT_LOCK: &str = ".jobshift-commit.lock";
/// Taken briefly by every reader before the shared commit lock and held by a committing writer,
/// so a stream of readers cannot starve a commit (`flock` itself favours no one).
pub const TURNSTILE_LOCK: &str = ".jobshift-turnstile.lock";
/// Seconds to wait for a busy writer lock (unset: wait as long as it takes; 0: refuse at once).
pub const LOCK_TIMEOUT_ENV: &str = "JOBSHIFT_LOCK_TIMEOUT";
pub use crate::atomic::{rename_with_fault_hook, FAULT_ENV};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{dir} is being written by {holder}; wait for it to finish and run this again \
         (or unset {LOCK_TIMEOUT_ENV} to wait for it)"
    )]
    Busy { dir: PathBuf, holder: String },
}

fn io_err(path: &Path, source: io::Error) -> LockError {
    LockError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn open_lock_file(path: &Path) -> Result<File, LockError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| io_err(path, e))
}

fn read_holder(file: &mut File) -> String {
    let mut s = String::new();
    let _ = file.seek(io::SeekFrom::Start(0));
    let _ = file.read_to_string(&mut s);
    s.trim().replace('\n', ", ")
}

fn lock_timeout() -> Option<Duration> {
    std::env::var(LOCK_TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .and_then(|s| Duration::try_from_secs_f64(s.max(0.0)).ok())
}

/// Take `file`'s exclusive lock: at once if free, else (saying so on stderr, naming the holder
/// from `holder_of`) wait up to `timeout` (None: as long as it takes).
fn lock_exclusive(
    file: &mut File,
    dir: &Path,
    what: &str,
    timeout: Option<Duration>,
    holder_of: &mut dyn FnMut(&mut File) -> String,
) -> Result<(), LockError> {
    match file.try_lock() {
        Ok(()) => return Ok(()),
        Err(TryLockError::Error(e)) => return Err(io_err(dir, e)),
        Err(TryLockError::WouldBlock) => {}
    }
    let holder = holder_of(file);
    if timeout.is_some_and(|t| t.is_zero()) {
        return Err(LockError::Busy {
            dir: dir.to_path_buf(),
            holder,
        });
    }
    let hint = if timeout.is_some() || what == "the writer lock" {
        format!(" (set {LOCK_TIMEOUT_ENV}=0 to refuse instead)")
    } else {
        String::new()
    };
    eprintln!(
        "waiting for {what} of {}: held by {holder}{hint}",
        dir.display()
    );
    let Some(timeout) = timeout else {
        // no deadline: block in the kernel, woken when the holder releases
        return file.lock().map_err(|e| io_err(dir, e));
    };
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::Error(e)) => return Err(io_err(dir, e)),
            Err(TryLockError::WouldBlock) => {}
        }
        if start.elapsed() >= timeout {
            return Err(LockError::Busy {
                dir: dir.to_path_buf(),
                holder: holder_of(file),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The writer lock of a dataset, held until dropped.
#[derive(Debug)]
pub struct WriterLock {
    file: File,
    root: PathBuf,
}

impl WriterLock {
    /// Take the writer lock of `root` (created if needed) for `command`, waiting for another
    /// writer as [`LOCK_TIMEOUT_ENV`] says. A lock left by a dead process is taken over (noted
    /// on stderr).
    pub fn acquire(root: &Path, command: &str) -> Result<WriterLock, LockError> {
        fs::create_dir_all(root).map_err(|e| io_err(root, e))?;
        let path = root.join(WRITER_LOCK);
        let mut file = open_lock_file(&path)?;
        lock_exclusive(
            &mut file,
            root,
            "the writer lock",
            lock_timeout(),
            &mut |f| {
                let h = read_holder(f);
                if h.is_empty() {
                    "another jobshift process".into()
                } else {
                    h
                }
            },
        )?;
        let stale = read_holder(&mut file);
        if !stale.is_empty() {
            eprintln!(
                "note: took over the writer lock of {} from a process that died ({stale})",
                root.display()
            );
        }
        let info = format!(
            "pid {}\ncommand `{}`\nsince {}\n",
            std::process::id(),
            command,
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        file.set_len(0).map_err(|e| io_err(&path, e))?;
        file.seek(io::SeekFrom::Start(0))
            .and_then(|_| file.write_all(info.as_bytes()))
            .and_then(|_| file.sync_data())
            .map_err(|e| io_err(&path, e))?;
        let lock = WriterLock {
            file,
            root: root.to_path_buf(),
        };
        recover_locked(root)?;
        Ok(lock)
    }

    /// Take the writer lock for the command line this process was started with.
    pub fn acquire_for_this_process(root: &Path) -> Result<WriterLock, LockError> {
        let command: Vec<String> = std::env::args().collect();
        WriterLock::acquire(root, &command.join(" "))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // an empty lock file means "released cleanly"; a dead holder leaves its line behind
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// Held by a reader for as long as it reads: no commit moves files meanwhile.
#[derive(Debug)]
pub struct ReadGuard {
    _file: Option<File>,
}

/// The exclusive commit lock (and the turnstile, so no new reader starts meanwhile), held until
/// dropped.
struct CommitLock {
    _turnstile: File,
    _commit: File,
}

/// Take the commit lock: waits (saying so) for running readers however long they take, so a
/// finished run is never thrown away at its commit.
fn commit_lock(root: &Path) -> Result<CommitLock, LockError> {
    let mut turnstile = open_lock_file(&root.join(TURNSTILE_LOCK))?;
    lock_exclusive(&mut turnstile, root, "the turnstile", None, &mut |_| {
        "a reader starting or another commit".into()
    })?;
    let mut commit = open_lock_file(&root.join(COMMIT_LOCK))?;
    lock_exclusive(&mut commit, root, "the commit lock", None, &mut |_| {
        "a running reader (sql, report, dataset stats, ...)".into()
    })?;
    Ok(CommitLock {
        _turnstile: turnstile,
        _commit: commit,
    })
}

/// Take the shared commit lock of `root` through the turnstile (waiting for a commit that is
/// waiting for or running its renames). None on a dataset this process cannot lock (a read-only
/// copy: nobody can commit into it either).
fn read_lock(root: &Path) -> Result<Option<File>, LockError> {
    let read_only = |e: &LockError| {
        matches!(e, LockError::Io { source, .. }
            if source.kind() == io::ErrorKind::PermissionDenied
                || source.kind() == io::ErrorKind::ReadOnlyFilesystem)
    };
    let turnstile = match open_lock_file(&root.join(TURNSTILE_LOCK)) {
        Ok(f) => f,
        Err(e) if read_only(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let path = root.join(COMMIT_LOCK);
    let commit = open_lock_file(&path)?;
    turnstile.lock().map_err(|e| io_err(&path, e))?;
    commit.lock_shared().map_err(|e| io_err(&path, e))?;
    drop(turnstile);
    Ok(Some(commit))
}

/// Staging directories of `root` with their committed flag.
fn staging_dirs(root: &Path) -> io::Result<Vec<(PathBuf, bool)>> {
    let mut out = Vec::new();
    if !root.is_dir() {
        return Ok(out);
    }
    for e in fs::read_dir(root)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().to_string();
        let resumable = name.starts_with(RESUMABLE_PREFIX);
        if (name.starts_with(STAGING_PREFIX) || resumable) && e.file_type()?.is_dir() {
            let p = e.path();
            let committed = p.join(COMMIT_MARKER).exists();
            if committed || !resumable {
                out.push((p, committed));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Finish interrupted commits and delete aborted staging directories. The caller holds the
/// writer lock (so no live writer owns any staging directory); returns what was done.
fn recover_locked(root: &Path) -> Result<Vec<String>, LockError> {
    let stagings = staging_dirs(root).map_err(|e| io_err(root, e))?;
    if stagings.is_empty() {
        return Ok(Vec::new());
    }
    let _commit = commit_lock(root)?;
    let mut notes = Vec::new();
    for (p, committed) in stagings {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if committed {
            move_staged(&p, root).map_err(|e| io_err(&p, e))?;
            notes.push(format!("finished the interrupted commit of {name}"));
        } else {
            fs::remove_dir_all(&p).map_err(|e| io_err(&p, e))?;
            notes.push(format!(
                "removed the staging directory of an aborted run ({name})"
            ));
        }
    }
    for n in &notes {
        eprintln!("note: {}: {n}", root.display());
    }
    Ok(notes)
}

/// This machine's name (`/proc/sys/kernel/hostname`), for messages and lock holders that name
/// where a process runs; `None` where it cannot be read.
pub fn host_name() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
}

/// Finish interrupted commits and delete aborted runs, taking the writer lock for it (waiting
/// for a running writer, which does the same when it starts).
pub fn recover(root: &Path) -> Result<(), LockError> {
    if !root.is_dir() {
        return Ok(());
    }
    let _lock = WriterLock::acquire_for_this_process(root)?;
    Ok(())
}

/// Open `root` for reading: finish any interrupted commit first (never reading a half-moved
/// dataset), then hold the shared commit lock so no commit starts while the guard lives.
/// Never deletes a running writer's staging directory: with a live writer, only waits.
pub fn open_for_reading(root: &Path) -> Result<ReadGuard, LockError> {
    if !root.is_dir() {
        return Ok(ReadGuard { _file: None });
    }
    let mut said = false;
    loop {
        let file = read_lock(root)?;
        let stagings = staging_dirs(root).map_err(|e| io_err(root, e))?;
        if stagings.is_empty() {
            return Ok(ReadGuard { _file: file });
        }
        let interrupted = stagings.iter().any(|(_, committed)| *committed);
        // staging directories: finish or remove them if no writer runs; with a live writer,
        // wait while a commit is unfinished (the writer finishes it when it starts) and
        // otherwise read (its staging directory is its own business)
        let wpath = root.join(WRITER_LOCK);
        let mut w = open_lock_file(&wpath)?;
        match w.try_lock() {
            Ok(()) => {
                drop(file);
                drop(w);
                recover(root)?;
            }
            Err(TryLockError::WouldBlock) if !interrupted => {
                return Ok(ReadGuard { _file: file });
            }
            Err(TryLockError::WouldBlock) => {
                drop(file);
                if !said {
                    eprintln!(
                        "waiting for {} to finish its commit before reading {}",
                        read_holder(&mut w),
                        root.display()
                    );
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => return Err(io_err(&wpath, e)),
        }
    }
}

/// Subdirectories of a staged run whose entries replace whole directories of the dataset
/// (a month partition of postings is replaced, never merged); everything else moves file by
/// file, and files called `manifest.json` and top-level files move last.
const WHOLE_DIRS: &[&str] = &["postings"];
/// Staging-only subdirectories that never move into the dataset.
const NOT_MOVED: &[&str] = &["replaced", "spill"];

/// Staged items of a run: (staged path, final path, replaces a whole directory), in order:
/// whole directories, then the files of other subdirectories (each subdirectory's
/// `manifest.json` after its other files), then top-level files (the run's report).
fn staged_moves(staging: &Path, root: &Path) -> io::Result<Vec<(PathBuf, PathBuf, bool)>> {
    let mut entries: Vec<_> = fs::read_dir(staging)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut whole_dirs = Vec::new();
    let mut sub_files = Vec::new();
    let mut top_files = Vec::new();
    for e in entries {
        let name = e.file_name().to_string_lossy().to_string();
        if name == COMMIT_MARKER || NOT_MOVED.contains(&name.as_str()) {
            continue;
        }
        if !e.file_type()?.is_dir() {
            top_files.push((e.path(), root.join(&name), false));
        } else if WHOLE_DIRS.contains(&name.as_str()) {
            let mut subs: Vec<_> = fs::read_dir(e.path())?.collect::<Result<Vec<_>, _>>()?;
            subs.sort_by_key(|s| s.file_name());
            for s in subs {
                whole_dirs.push((s.path(), root.join(&name).join(s.file_name()), true));
            }
        } else {
            let mut files = Vec::new();
            let mut stack = vec![e.path()];
            while let Some(d) = stack.pop() {
                for s in fs::read_dir(&d)? {
                    let s = s?;
                    if s.file_type()?.is_dir() {
                        stack.push(s.path());
                    } else if !s.file_name().to_string_lossy().starts_with(".tmp-") {
                        // (a killed atomic write's temporary file stays behind)
                        files.push(s.path());
                    }
                }
            }
            files.sort_by_key(|p| (p.ends_with("manifest.json"), p.clone()));
            for f in files {
                let rel = f.strip_prefix(staging).unwrap_or(&f).to_path_buf();
                sub_files.push((f, root.join(rel), false));
            }
        }
    }
    whole_dirs.extend(sub_files);
    whole_dirs.extend(top_files);
    Ok(whole_dirs)
}

/// Move every staged item of `staging` into `root` and delete `staging` (idempotent: a second
/// call after an interruption finishes the moves). The caller holds the commit lock.
fn move_staged(staging: &Path, root: &Path) -> io::Result<()> {
    let replaced = staging.join("replaced");
    for (from, to, whole_dir) in staged_moves(staging, root)? {
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        if whole_dir && to.exists() {
            fs::create_dir_all(&replaced)?;
            let name = to.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            let old = replaced.join(name);
            if old.exists() {
                fs::remove_dir_all(&old)?;
            }
            rename_with_fault_hook(&to, &old)?;
        }
        rename_with_fault_hook(&from, &to)?;
    }
    fs::remove_dir_all(staging)?;
    Ok(())
}

/// Commit a fully staged run: take the commit lock (waiting for readers), write the `COMMIT`
/// marker, move everything into place. The caller holds the [`WriterLock`].
pub fn commit(writer: &WriterLock, staging: &Path, run_id: &str) -> Result<(), LockError> {
    let root = writer.root();
    let _commit = commit_lock(root)?;
    let marker = staging.join(COMMIT_MARKER);
    crate::atomic::write_bytes(&marker, run_id.as_bytes()).map_err(|e| io_err(&marker, e))?;
    move_staged(staging, root).map_err(|e| io_err(staging, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staged_run(root: &Path, name: &str, month: &str, body: &str) -> PathBuf {
        let s = root.join(format!("{STAGING_PREFIX}{name}"));
        fs::create_dir_all(s.join("postings").join(month)).unwrap();
        fs::write(s.join("postings").join(month).join("part.parquet"), body).unwrap();
        fs::create_dir_all(s.join("runs")).unwrap();
        fs::write(s.join("runs").join(format!("{name}.json")), "{}").unwrap();
        fs::create_dir_all(s.join("classified").join(month)).unwrap();
        fs::write(s.join("classified").join(month).join("part.parquet"), body).unwrap();
        fs::write(s.join("classified").join("manifest.json"), body).unwrap();
        fs::write(s.join("ingest-report.json"), body).unwrap();
        s
    }

    #[test]
    fn commit_moves_everything_manifests_and_reports_last() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let w = WriterLock::acquire(root, "test").unwrap();
        let s = staged_run(root, "a", "month=2024-01", "new");
        let moves = staged_moves(&s, root).unwrap();
        let names: Vec<String> = moves
            .iter()
            .map(|(_, to, _)| to.strip_prefix(root).unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "postings/month=2024-01",
                "classified/month=2024-01/part.parquet",
                "classified/manifest.json",
                "runs/a.json",
                "ingest-report.json"
            ]
        );
        commit(&w, &s, "a").unwrap();
        assert!(!s.exists());
        assert_eq!(
            fs::read_to_string(root.join("postings/month=2024-01/part.parquet")).unwrap(),
            "new"
        );
    }

    #[test]
    fn readers_finish_an_interrupted_commit_and_keep_a_live_writers_staging() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let s = staged_run(root, "a", "month=2024-01", "new");
        fs::write(s.join(COMMIT_MARKER), "a").unwrap();
        // half moved: the postings month is in place, the rest is not
        fs::create_dir_all(root.join("postings")).unwrap();
        fs::rename(
            s.join("postings/month=2024-01"),
            root.join("postings/month=2024-01"),
        )
        .unwrap();
        let g = open_for_reading(root).unwrap();
        drop(g);
        assert!(!s.exists());
        assert_eq!(
            fs::read_to_string(root.join("ingest-report.json")).unwrap(),
            "new"
        );
        // a live writer's uncommitted staging directory survives a reader
        let w = WriterLock::acquire(root, "ingest").unwrap();
        let live = root.join(format!("{STAGING_PREFIX}live"));
        fs::create_dir_all(&live).unwrap();
        drop(open_for_reading(root).unwrap());
        assert!(live.exists());
        drop(w);
        // without a writer, the next writer removes it as aborted
        let _w = WriterLock::acquire(root, "ingest").unwrap();
        assert!(!live.exists());
    }

    #[test]
    fn a_busy_lock_is_refused_naming_the_holder_and_a_released_one_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let w = WriterLock::acquire(root, "jobshift ingest a.csv").unwrap();
        // a second open file description: flock locks conflict between them as between processes
        std::env::set_var(LOCK_TIMEOUT_ENV, "0");
        let err = WriterLock::acquire(root, "jobshift classify").unwrap_err();
        std::env::remove_var(LOCK_TIMEOUT_ENV);
        let msg = err.to_string();
        assert!(msg.contains("jobshift ingest a.csv"), "{msg}");
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(w);
        let w2 = WriterLock::acquire(root, "jobshift classify").unwrap();
        drop(w2);
        assert_eq!(fs::read_to_string(root.join(WRITER_LOCK)).unwrap(), "");
    }
}
