//! Loading the figures (the trends analysis, or a written report.json) and reloading them when
//! the dataset changes while the server runs.
//!
//! The dataset's *signature* is a hash of every file's path, size and modification time under
//! `DATASET/classified` (or of `report.json`). The watcher recomputes it every few seconds; when
//! it changes, the analysis runs again in the background while the old tables keep answering,
//! then the new tables replace them in one swap. A reload that fails (say, the dataset is being
//! rewritten) keeps the old tables, and the failure is reported in `/api/summary` (`dataset`) and
//! in every API response's `X-Jobshift-Reload` header until a later change loads cleanly.

use crate::{AppState, ServeError, Source, Tables};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the server knows about its data.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadStatus {
    /// `loaded`, `reloading` or `failed` (serving the previous load).
    pub state: &'static str,
    pub signature: String,
    /// Seconds since the epoch of the current load.
    pub loaded_at: u64,
    pub loads: u64,
    pub error: Option<String>,
    #[serde(skip)]
    pub failed_signature: Option<String>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl ReloadStatus {
    pub fn loaded(signature: String) -> ReloadStatus {
        ReloadStatus {
            state: "loaded",
            signature,
            loaded_at: now(),
            loads: 1,
            error: None,
            failed_signature: None,
        }
    }
}

fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        out.push(format!("{}: unreadable", dir.display()));
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let Ok(meta) = e.metadata() else { continue };
        if meta.is_dir() {
            walk(&p, base, out);
        } else {
            let modified = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            out.push(format!(
                "{}|{}|{modified}",
                p.strip_prefix(base).unwrap_or(&p).display(),
                meta.len()
            ));
        }
    }
}

/// What an object-store dataset's `classified/` is now (its commit record's run, or a listing):
/// an error text while the store cannot be read, so a failing store does not look like a change
/// on every poll.
fn object_token(dataset: &Path) -> String {
    let token = async {
        jobshift_trends::store::Location::of(dataset)?
            .change_token()
            .await
    };
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|rt| rt.block_on(token).map_err(|e| e.to_string()))
    {
        Ok(t) => t.unwrap_or_default(),
        Err(e) => format!("unreadable: {e}"),
    }
}

/// The signature of a source's files (blocking: walks the directory, or asks the object store).
pub fn signature(source: &Source) -> String {
    let mut files = Vec::new();
    match source {
        Source::Dataset { dir, .. } if jobshift_trends::store::is_object_url(dir) => {
            files.push(object_token(dir))
        }
        Source::Dataset { dir, .. } => {
            let classified = dir.join("classified");
            walk(&classified, &classified, &mut files)
        }
        Source::Report { dir } => {
            let p = dir.join("report.json");
            match std::fs::metadata(&p) {
                Ok(m) => files.push(format!("report.json|{}|{:?}", m.len(), m.modified().ok())),
                Err(e) => files.push(format!("report.json: {e}")),
            }
        }
    }
    files.sort();
    blake3::hash(files.join("\n").as_bytes()).to_hex()[..16].to_string()
}

/// Load the tables from a source, with the signature of what was read.
pub async fn load(source: &Source) -> Result<(Tables, String), ServeError> {
    let what = source.describe();
    let fail = |message: String| ServeError::Load {
        what: what.clone(),
        message,
    };
    let src = source.clone();
    let before = tokio::task::spawn_blocking(move || signature(&src))
        .await
        .map_err(|e| fail(e.to_string()))?;
    let doc = match source {
        Source::Dataset {
            dir,
            options,
            catalog,
        } => {
            let trends = match catalog {
                Some(c) => jobshift_trends::analyze_with_catalog(dir, options, c).await,
                None => jobshift_trends::analyze_async(dir, options).await,
            }
            .map_err(|e| fail(e.to_string()))?;
            jobshift_report::json::document(&trends)
        }
        Source::Report { dir } => {
            let p = dir.join("report.json");
            let bytes = tokio::fs::read(&p)
                .await
                .map_err(|e| fail(format!("{}: {e}", p.display())))?;
            serde_json::from_slice(&bytes).map_err(|e| {
                fail(format!(
                    "{} is not valid JSON ({e}); re-run `jobshift report`",
                    p.display()
                ))
            })?
        }
    };
    let tables = Tables::from_document(doc).map_err(fail)?;
    Ok((tables, before))
}

/// Watch the source and reload on change (runs until the process ends).
pub async fn watch(state: Arc<AppState>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let src = state.config.source.clone();
        let Ok(sig) = tokio::task::spawn_blocking(move || signature(&src)).await else {
            continue;
        };
        let (current, failed) = match state.reload.read() {
            Ok(s) => (s.signature.clone(), s.failed_signature.clone()),
            Err(_) => continue,
        };
        if sig == current || Some(&sig) == failed.as_ref() {
            continue;
        }
        if let Ok(mut s) = state.reload.write() {
            s.state = "reloading";
        }
        match load(&state.config.source).await {
            Ok((tables, loaded_sig)) => {
                if let Ok(mut t) = state.tables.write() {
                    *t = Arc::new(tables);
                }
                if let Ok(mut s) = state.reload.write() {
                    let loads = s.loads + 1;
                    *s = ReloadStatus::loaded(loaded_sig);
                    s.loads = loads;
                }
                tracing::info!("reloaded {}", state.config.source.describe());
            }
            Err(e) => {
                if let Ok(mut s) = state.reload.write() {
                    s.state = "failed";
                    s.error = Some(format!(
                        "the data changed but could not be reloaded; still serving the load of {} ({e})",
                        s.loaded_at
                    ));
                    s.failed_signature = Some(sig);
                }
            }
        }
    }
}
