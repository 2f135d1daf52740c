//! Embedding cache: every distinct text is embedded once per run (and, for training and
//! evaluation, once per model across runs via an append-only file in the jobshift cache).
//!
//! File format (hand-written because it is a flat append log, not worth a dependency):
//! header `JSEMB1\n<model key>\n<dim>\n`, then records `u32 LE byte length, UTF-8 text,
//! dim × f32 LE`. A truncated last record (interrupted run) is ignored on load.
//!
//! Beside the embeddings it keeps, in memory only, the head's scores of each title it has
//! scored ([`HeadScores`]), so the cascade scores a cleaned title once per run rather than once
//! per chunk of postings it appears in.

use crate::ClassifyError;
use jobshift_encode::Encoder;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct EmbedCache {
    dim: usize,
    map: HashMap<String, Vec<f32>>,
    file: Option<PathBuf>,
    unsaved: Vec<String>,
    /// Texts embedded by the encoder during this cache's life (not served from cache).
    pub encoded: usize,
    head_scores: HeadScores,
}

/// A head's class probabilities per text, kept sparse (the non-zero entries, exactly as the
/// head returned them), for one head: `owner` identifies the classifier whose head produced
/// them, and a cache handed to another classifier starts over. Rows with more than
/// [`HeadScores::MAX_NONZERO`] non-zero classes (dense heads such as logreg) are not kept:
/// they would cost more memory than recomputing them costs time. The kNN head's rows have at
/// most `neighbours` non-zero classes.
#[derive(Debug, Default)]
pub struct HeadScores {
    owner: u64,
    rows: HashMap<String, Box<[(u32, f32)]>>,
}

impl HeadScores {
    pub const MAX_NONZERO: usize = 64;

    /// Scores of `owner`'s head; forgets another owner's.
    pub fn for_owner(&mut self, owner: u64) -> &mut Self {
        if self.owner != owner {
            self.rows.clear();
            self.owner = owner;
        }
        self
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn contains(&self, text: &str) -> bool {
        self.rows.contains_key(text)
    }

    /// Keep `row` (one dense probability row) for `text` if it is sparse enough.
    pub fn insert(&mut self, text: &str, row: &[f32]) {
        let nonzero = row.iter().filter(|v| **v != 0.0).count();
        if nonzero > Self::MAX_NONZERO {
            return;
        }
        let sparse: Box<[(u32, f32)]> = row
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(c, v)| (c as u32, *v))
            .collect();
        self.rows.insert(text.to_string(), sparse);
    }

    /// Write the kept row of `text` into `out` (dense, `out.len()` classes; other entries are
    /// set to 0). False if `text` has no kept row.
    pub fn fill(&self, text: &str, out: &mut [f32]) -> bool {
        let Some(sparse) = self.rows.get(text) else {
            return false;
        };
        out.iter_mut().for_each(|v| *v = 0.0);
        for &(c, v) in sparse.iter() {
            if let Some(slot) = out.get_mut(c as usize) {
                *slot = v;
            }
        }
        true
    }
}

impl EmbedCache {
    /// An in-memory cache.
    pub fn new(dim: usize) -> Self {
        EmbedCache {
            dim,
            map: HashMap::new(),
            file: None,
            unsaved: Vec::new(),
            encoded: 0,
            head_scores: HeadScores::default(),
        }
    }

    /// The head scores kept for `owner` (a classifier's id); see [`HeadScores`].
    pub fn head_scores(&mut self, owner: u64) -> &mut HeadScores {
        self.head_scores.for_owner(owner)
    }

    /// A cache backed by `cache_root()/embeddings/<hash of model key>.bin`.
    pub fn persistent(model_key: &str, dim: usize) -> Result<Self, ClassifyError> {
        let name = blake3::hash(model_key.as_bytes()).to_hex()[..16].to_string();
        let path = crate::cache_root()
            .join("embeddings")
            .join(format!("{name}.bin"));
        let mut c = EmbedCache::new(dim);
        if path.is_file() {
            c.load(&path, model_key)?;
        }
        c.file = Some(path);
        Ok(c)
    }

    fn load(&mut self, path: &Path, key: &str) -> Result<(), ClassifyError> {
        let bytes = std::fs::read(path).map_err(|e| ClassifyError::io(path, e))?;
        let header = format!("JSEMB1\n{key}\n{}\n", self.dim);
        if !bytes.starts_with(header.as_bytes()) {
            // another model or dimension under a colliding name: start over
            return Ok(());
        }
        let mut pos = header.len();
        let rec = 4 * self.dim;
        while pos + 4 <= bytes.len() {
            let n = u32::from_le_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]])
                as usize;
            if pos + 4 + n + rec > bytes.len() {
                break;
            }
            let Ok(text) = std::str::from_utf8(&bytes[pos + 4..pos + 4 + n]) else {
                break;
            };
            let v: Vec<f32> = bytes[pos + 4 + n..pos + 4 + n + rec]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            self.map.insert(text.to_string(), v);
            pos += 4 + n + rec;
        }
        Ok(())
    }

    pub fn dim(&self) -> usize {
        self.dim
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn get(&self, text: &str) -> Option<&[f32]> {
        self.map.get(text).map(|v| v.as_slice())
    }

    /// Make sure every text is cached, embedding the missing ones in batches of `batch`.
    /// `progress(done, total)` is called after each batch.
    pub fn ensure(
        &mut self,
        encoder: &dyn Encoder,
        texts: &[&str],
        batch: usize,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<(), ClassifyError> {
        let mut missing: Vec<&str> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for &t in texts {
            if !self.map.contains_key(t) && seen.insert(t) {
                missing.push(t);
            }
        }
        let total = missing.len();
        let mut done = 0;
        for chunk in missing.chunks(batch.max(1)) {
            let emb = encoder.encode(chunk)?;
            if emb.dim != self.dim || emb.len() != chunk.len() {
                return Err(ClassifyError::Predict(format!(
                    "encoder returned {} vectors of dimension {} for {} texts; expected dimension {}",
                    emb.len(),
                    emb.dim,
                    chunk.len(),
                    self.dim
                )));
            }
            for (i, t) in chunk.iter().enumerate() {
                self.map.insert(t.to_string(), emb.row(i).to_vec());
                if self.file.is_some() {
                    self.unsaved.push(t.to_string());
                }
            }
            self.encoded += chunk.len();
            done += chunk.len();
            progress(done, total);
        }
        Ok(())
    }

    /// Rows for `texts` (all must be cached), row-major.
    pub fn matrix(&self, texts: &[&str]) -> Result<Vec<f32>, ClassifyError> {
        let mut out = Vec::with_capacity(texts.len() * self.dim);
        for t in texts {
            let v = self
                .map
                .get(*t)
                .ok_or_else(|| ClassifyError::Predict(format!("text {t:?} was not embedded")))?;
            out.extend_from_slice(v);
        }
        Ok(out)
    }

    /// Append the texts embedded since the last save to the cache file (if persistent).
    pub fn save(&mut self, model_key: &str) -> Result<(), ClassifyError> {
        let Some(path) = self.file.clone() else {
            return Ok(());
        };
        if self.unsaved.is_empty() {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| ClassifyError::io(dir, e))?;
        }
        let header = format!("JSEMB1\n{model_key}\n{}\n", self.dim);
        let fresh = !path.is_file()
            || !std::fs::read(&path)
                .map(|b| b.starts_with(header.as_bytes()))
                .unwrap_or(false);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(!fresh)
            .write(true)
            .truncate(fresh)
            .open(&path)
            .map_err(|e| ClassifyError::io(&path, e))?;
        let mut buf = Vec::new();
        if fresh {
            buf.extend_from_slice(header.as_bytes());
        }
        for t in self.unsaved.drain(..) {
            if let Some(v) = self.map.get(&t) {
                buf.extend_from_slice(&(t.len() as u32).to_le_bytes());
                buf.extend_from_slice(t.as_bytes());
                for x in v {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
            }
        }
        f.write_all(&buf).map_err(|e| ClassifyError::io(&path, e))?;
        Ok(())
    }
}

/// Embed the cleaned titles of `texts` into `cache` with a progress bar (`what` is its label).
pub fn embed_all(
    cache: &mut EmbedCache,
    encoder: &dyn Encoder,
    texts: &[&str],
    what: &str,
    show: bool,
) -> Result<(), ClassifyError> {
    let missing = texts
        .iter()
        .filter(|t| cache.get(t).is_none())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let pb = crate::progress_bar(
        show && missing > 0,
        missing as u64,
        "{msg} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})",
    );
    pb.set_message(what.to_string());
    cache.ensure(encoder, texts, 128, &mut |d, _| pb.set_position(d as u64))?;
    pb.finish_and_clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_scores_roundtrip_exactly_and_skip_dense_rows() {
        let mut c = EmbedCache::new(4);
        let row = [0.0, 0.25, 0.0, 0.75, 1e-30, 0.0];
        c.head_scores(1).insert("data analyst", &row);
        let mut out = [9.0f32; 6];
        assert!(c.head_scores(1).fill("data analyst", &mut out));
        assert_eq!(out, row, "bit for bit, zeros included");
        assert!(!c.head_scores(1).fill("nurse", &mut out));
        // a dense row (logreg-like) is not kept
        let dense = vec![1.0 / 100.0; 100];
        c.head_scores(1).insert("dense", &dense);
        assert!(!c.head_scores(1).contains("dense"));
        assert_eq!(c.head_scores(1).len(), 1);
        // another classifier's head starts over
        assert!(c.head_scores(2).is_empty());
        assert!(!c.head_scores(1).contains("data analyst"));
    }
}
