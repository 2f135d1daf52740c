//! Atomic file output: write into a temporary file in the destination directory, then rename.
//!
//! A reader (or a resumed run) therefore sees either the old file or the complete new one,
//! never a half-written file.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Write `bytes` to `path` atomically (temp file in the same directory + rename).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    with_writer(path, |w| w.write_all(bytes))
}

/// Serialize `value` as pretty JSON into `path`, atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    write_bytes(path, &bytes)
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
}
