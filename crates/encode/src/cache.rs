//! Content-addressed embedding cache: a text's vector is keyed by (model id, text) hashed with
//! BLAKE3, so a repeated text — the same title posted thousands of times — is encoded once.
//!
//! The store is an in-memory, size-bounded, approximate LRU with two generations: new and
//! recently used entries live in `hot`; when `hot` is full it becomes `cold` (the old `cold` is
//! dropped) and a hit in `cold` moves the entry back to `hot`. This keeps memory bounded with
//! O(1) work per lookup and no per-entry bookkeeping, which a hand-written two-map design does
//! more cheaply than a linked-list LRU.

use crate::error::EncodeError;
use crate::{Embeddings, Encoder};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub(crate) type CacheKey = [u8; 16];

/// Key of `text` under `model_id`.
pub fn cache_key(model_id: &str, text: &str) -> CacheKey {
    let mut h = blake3::Hasher::new();
    h.update(&(model_id.len() as u64).to_le_bytes());
    h.update(model_id.as_bytes());
    h.update(text.as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&h.finalize().as_bytes()[..16]);
    key
}

struct Generations {
    hot: HashMap<CacheKey, Box<[f32]>>,
    cold: HashMap<CacheKey, Box<[f32]>>,
}

/// A bounded map from cache keys to vectors.
pub struct EmbeddingCache {
    gens: Mutex<Generations>,
    /// Entries per generation (total ≤ 2 × this).
    per_generation: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl EmbeddingCache {
    /// A cache holding about `max_bytes` of vectors of dimension `dim`.
    pub fn with_budget(max_bytes: usize, dim: usize) -> Self {
        let entry = dim * 4 + 16 + 48; // vector + key + map/box overhead
        EmbeddingCache {
            gens: Mutex::new(Generations {
                hot: HashMap::new(),
                cold: HashMap::new(),
            }),
            per_generation: (max_bytes / entry / 2).max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Copy the cached vector into `dst` when present.
    pub fn get_into(&self, key: &CacheKey, dst: &mut [f32]) -> bool {
        let mut g = match self.gens.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(v) = g.hot.get(key) {
            dst.copy_from_slice(v);
            return true;
        }
        if let Some(v) = g.cold.remove(key) {
            dst.copy_from_slice(&v);
            Self::insert_locked(&mut g, self.per_generation, *key, v);
            return true;
        }
        false
    }

    pub fn insert(&self, key: CacheKey, v: &[f32]) {
        let mut g = match self.gens.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        Self::insert_locked(&mut g, self.per_generation, key, v.into());
    }

    fn insert_locked(g: &mut Generations, cap: usize, key: CacheKey, v: Box<[f32]>) {
        if g.hot.len() >= cap && !g.hot.contains_key(&key) {
            g.cold = std::mem::take(&mut g.hot);
        }
        g.hot.insert(key, v);
    }

    pub fn len(&self) -> usize {
        let g = match self.gens.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        g.hot.len() + g.cold.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// (hits, misses) since creation; a text repeated within one call counts as a hit.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }
}

/// An [`Encoder`] wrapped with an [`EmbeddingCache`]: only texts not seen before reach the
/// model, each distinct text once per call.
pub struct CachedEncoder<E: Encoder> {
    inner: E,
    cache: EmbeddingCache,
}

impl<E: Encoder> CachedEncoder<E> {
    pub fn new(inner: E, max_bytes: usize) -> Self {
        let cache = EmbeddingCache::with_budget(max_bytes, inner.dim());
        CachedEncoder { inner, cache }
    }
    pub fn inner(&self) -> &E {
        &self.inner
    }
    pub fn cache(&self) -> &EmbeddingCache {
        &self.cache
    }
}

impl<E: Encoder> Encoder for CachedEncoder<E> {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn encode(&self, texts: &[&str]) -> Result<Embeddings, EncodeError> {
        let dim = self.inner.dim();
        let model_id = self.inner.model_id();
        let mut data = vec![0f32; texts.len() * dim];
        // distinct missing texts, and for each output row the miss it copies from
        let mut miss_texts: Vec<&str> = Vec::new();
        let mut miss_keys: Vec<CacheKey> = Vec::new();
        let mut miss_of_key: HashMap<CacheKey, usize> = HashMap::new();
        let mut fill_from_miss: Vec<(usize, usize)> = Vec::new();
        let (mut hits, mut misses) = (0u64, 0u64);
        for (i, t) in texts.iter().enumerate() {
            let key = cache_key(model_id, t);
            if let Some(&m) = miss_of_key.get(&key) {
                fill_from_miss.push((i, m));
                hits += 1;
                continue;
            }
            if self.cache.get_into(&key, &mut data[i * dim..(i + 1) * dim]) {
                hits += 1;
                continue;
            }
            misses += 1;
            miss_of_key.insert(key, miss_texts.len());
            fill_from_miss.push((i, miss_texts.len()));
            miss_texts.push(t);
            miss_keys.push(key);
        }
        self.cache.hits.fetch_add(hits, Ordering::Relaxed);
        self.cache.misses.fetch_add(misses, Ordering::Relaxed);
        if !miss_texts.is_empty() {
            let fresh = self.inner.encode(&miss_texts)?;
            for (i, m) in fill_from_miss {
                data[i * dim..(i + 1) * dim].copy_from_slice(fresh.row(m));
            }
            for (m, key) in miss_keys.into_iter().enumerate() {
                self.cache.insert(key, fresh.row(m));
            }
        }
        Ok(Embeddings { dim, data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Counting {
        calls: AtomicUsize,
    }
    impl Encoder for Counting {
        fn model_id(&self) -> &str {
            "count"
        }
        fn dim(&self) -> usize {
            2
        }
        fn encode(&self, texts: &[&str]) -> Result<Embeddings, EncodeError> {
            self.calls.fetch_add(texts.len(), Ordering::SeqCst);
            let data = texts.iter().flat_map(|t| [t.len() as f32, 1.0]).collect();
            Ok(Embeddings { dim: 2, data })
        }
    }

    #[test]
    fn repeated_texts_cost_nothing() {
        let enc = CachedEncoder::new(
            Counting {
                calls: AtomicUsize::new(0),
            },
            1 << 20,
        );
        let e = enc.encode(&["ab", "abc", "ab"]).unwrap();
        assert_eq!(e.row(0), &[2.0, 1.0]);
        assert_eq!(e.row(1), &[3.0, 1.0]);
        assert_eq!(e.row(2), &[2.0, 1.0]);
        assert_eq!(enc.inner().calls.load(Ordering::SeqCst), 2);
        let e = enc.encode(&["abc", "ab", "x"]).unwrap();
        assert_eq!(e.row(2), &[1.0, 1.0]);
        assert_eq!(enc.inner().calls.load(Ordering::SeqCst), 3);
        assert_eq!(enc.cache().stats(), (3, 3));
    }

    #[test]
    fn bounded() {
        let c = EmbeddingCache::with_budget(10 * (8 + 64), 2);
        for i in 0..100u8 {
            c.insert([i; 16], &[1.0, 2.0]);
        }
        assert!(c.len() <= 10, "{}", c.len());
        let mut d = [0.0; 2];
        assert!(c.get_into(&[99; 16], &mut d));
        assert!(!c.get_into(&[0; 16], &mut d));
    }
}
