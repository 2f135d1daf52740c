//! Atomic file output: write into a temporary file in the destination directory, then rename.
//!
//! A reader (or a resumed run) therefore sees either the old file or the complete new one,
//! never a half-written file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Abort the process after this many commit renames (crash tests only; see
/// [`crate::commit`]).
pub const FAULT_ENV: &str = "JOBSHIFT_FAULT_AFTER_RENAMES";

/// Write `bytes` to `path` atomically (temp file in the same directory + rename).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    with_writer(path, |w| w.write_all(bytes))
}

/// Serialize `value` as pretty JSON into `path`, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    write_bytes(path, &bytes)
}

/// Write one JSON line per item, atomically (see [`with_writer`]).
pub fn write_jsonl<T: serde::Serialize>(
    path: &Path,
    items: impl IntoIterator<Item = T>,
) -> io::Result<()> {
    with_writer(path, |w| {
        for item in items {
            serde_json::to_writer(&mut *w, &item).map_err(io::Error::other)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

/// Open a temporary file beside `path`, hand it to `fill`, flush, fsync and rename it into place.
/// If `fill` fails the temporary file is removed and `path` is untouched.
pub fn with_writer<F>(path: &Path, fill: F) -> io::Result<()>
where
    F: FnOnce(&mut io::BufWriter<&mut fs::File>) -> io::Result<()>,
{
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A new, empty staging directory beside `target` (same file system, so it can replace it):
/// `PARENT/.NAME.tmp-WHAT-PID-N`. Staging directories of processes that no longer run are
/// removed first (a killed run's leftovers).
pub fn staging_dir_for(target: &Path, what: &str) -> io::Result<PathBuf> {
    let parent = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .ok_or_else(|| io::Error::other(format!("{} has no directory name", target.display())))?;
    fs::create_dir_all(&parent)?;
    let prefix = format!(".{name}.tmp-{what}-");
    for e in fs::read_dir(&parent)? {
        let e = e?;
        let n = e.file_name().to_string_lossy().to_string();
        let Some(rest) = n.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !process_alive(p)) {
            fs::remove_dir_all(e.path())?;
        }
    }
    for k in 0.. {
        let p = parent.join(format!("{prefix}{}-{k}", std::process::id()));
        match fs::create_dir(&p) {
            Ok(()) => return Ok(p),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("an unbounded loop returns")
}

/// Whether process `pid` runs (Linux: /proc; elsewhere assumed to, so nothing is removed).
fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        true
    }
}

/// Carry the entries of `from` that `into` lacks over into `into` (hard links, copies where a
/// link is impossible), leaving out `.tmp-*` leftovers.
fn carry_over(from: &Path, into: &Path) -> io::Result<()> {
    for e in fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        if name.to_string_lossy().starts_with(".tmp-") {
            continue;
        }
        let to = into.join(&name);
        if to.exists() {
            continue;
        }
        if e.file_type()?.is_dir() {
            fs::create_dir_all(&to)?;
            carry_over(&e.path(), &to)?;
        } else if fs::hard_link(e.path(), &to).is_err() {
            fs::copy(e.path(), &to)?;
        }
    }
    Ok(())
}

/// Replace directory `target` by the fully written directory `staged` (made by
/// [`staging_dir_for`]) in one step: entries of the old `target` that `staged` lacks are
/// carried over, then the two are exchanged atomically (Linux `renameat2(RENAME_EXCHANGE)`)
/// and the old content, now at `staged`, is deleted. A process killed at any point leaves
/// `target` wholly old or wholly new; the next [`staging_dir_for`] removes the leftovers.
/// Elsewhere: two renames (`target` is briefly absent, never mixed).
pub fn replace_dir(staged: &Path, target: &Path) -> io::Result<()> {
    if !target.exists() {
        return rename_with_fault_hook(staged, target);
    }
    carry_over(target, staged)?;
    exchange(staged, target)?;
    fs::remove_dir_all(staged)
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::other(format!("{}: NUL in path", p.display())))
    };
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: two valid NUL-terminated paths; renameat2 only reads them.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    fault_hook(b);
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    let old = a.with_extension("old");
    rename_with_fault_hook(b, &old)?;
    rename_with_fault_hook(a, b)?;
    fs::rename(&old, a)
}

static RENAMES: AtomicU64 = AtomicU64::new(0);

/// Rename `from` to `to`; with [`FAULT_ENV`] set, abort the process after that many renames.
pub fn rename_with_fault_hook(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    fault_hook(to);
    Ok(())
}

/// Count one commit rename (of `to`); with [`FAULT_ENV`] set, abort after that many.
pub(crate) fn fault_hook(to: &Path) {
    let n = RENAMES.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(limit) = std::env::var(FAULT_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        if n >= limit {
            eprintln!(
                "{FAULT_ENV}={limit}: aborting after rename {n} ({})",
                to.display()
            );
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_fill_leaves_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_bytes(&p, b"old").unwrap();
        let r = with_writer(&p, |w| {
            w.write_all(b"partial")?;
            Err(io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read(&p).unwrap(), b"old");
        // no temp files left behind
        let n = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(n, 1);
    }

    #[test]
    fn replace_dir_swaps_whole_keeps_foreign_files_and_cleans_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("a.json"), "old").unwrap();
        fs::write(out.join("b.html"), "old").unwrap();
        fs::write(out.join("notes.txt"), "mine").unwrap();
        fs::write(out.join(".tmp-xyz"), "junk").unwrap();
        // a killed run's staging directory (pid that cannot run)
        let dead = dir.path().join(".out.tmp-report-4294967-0");
        fs::create_dir_all(&dead).unwrap();
        let s = staging_dir_for(&out, "report").unwrap();
        assert!(!dead.exists());
        fs::write(s.join("a.json"), "new").unwrap();
        fs::write(s.join("b.html"), "new").unwrap();
        replace_dir(&s, &out).unwrap();
        assert!(!s.exists());
        assert_eq!(fs::read_to_string(out.join("a.json")).unwrap(), "new");
        assert_eq!(fs::read_to_string(out.join("b.html")).unwrap(), "new");
        assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
        assert!(!out.join(".tmp-xyz").exists());
        // a fresh target is simply renamed into place
        let fresh = dir.path().join("fresh");
        let s = staging_dir_for(&fresh, "report").unwrap();
        fs::write(s.join("a.json"), "new").unwrap();
        replace_dir(&s, &fresh).unwrap();
        assert_eq!(fs::read_to_string(fresh.join("a.json")).unwrap(), "new");
    }
}
