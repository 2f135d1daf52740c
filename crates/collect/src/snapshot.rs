//! Snapshots: every response of a company's run, kept compressed under the dataset at
//! `snapshots/RUN/COMPANY.jsonl.zst` (one JSON line per response, a header line first and an end
//! line last), so that `jobshift collect --reparse` can rebuild postings with a newer parser
//! without fetching again, and the next run can send conditional requests.

use crate::fetch::Method;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// One response as received (body decompressed, as UTF-8 text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawResponse {
    /// What the connector asked for: "list", "detail", "page", "sitemap".
    pub role: String,
    pub method: Method,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    pub status: u16,
    pub final_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The server answered 304: `body` is the previous snapshot's body for the same request.
    #[serde(default)]
    pub not_modified: bool,
    /// When the response arrived (RFC 3339, UTC): the reference day of relative dates.
    #[serde(default)]
    pub fetched_utc: String,
    pub body: String,
}

impl RawResponse {
    /// A GET response of `role` with `body` (tests and `discover`, which parse a page directly).
    pub fn from_body(role: &str, url: &str, body: &str) -> Self {
        Self {
            role: role.into(),
            method: Method::Get,
            url: url.into(),
            request_body: None,
            status: 200,
            final_url: url.into(),
            etag: None,
            last_modified: None,
            not_modified: false,
            fetched_utc: String::new(),
            body: body.into(),
        }
    }
}

/// A line of a snapshot file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SnapshotLine {
    Header {
        company: String,
        ats: String,
        board: String,
        url: Option<String>,
        run: String,
        started_utc: String,
    },
    Response(RawResponse),
    /// A request that produced no response (refused, timed out, HTTP error...).
    Error {
        role: String,
        url: String,
        message: String,
    },
    End {
        status: crate::report::Status,
        errors: Vec<String>,
        requests: u64,
        seconds: f64,
    },
}

/// `DATASET/snapshots/RUN/SLUG.jsonl.zst`.
pub fn snapshot_path(dataset: &Path, run: &str, slug: &str) -> PathBuf {
    dataset
        .join("snapshots")
        .join(run)
        .join(format!("{slug}.jsonl.zst"))
}

/// Write a whole snapshot atomically (zstd level 3).
pub fn write_snapshot(path: &Path, lines: &[SnapshotLine]) -> std::io::Result<()> {
    jobshift_core::atomic::with_writer(path, |w| {
        let mut enc = zstd::Encoder::new(w, 3)?;
        for l in lines {
            serde_json::to_writer(&mut enc, l)?;
            enc.write_all(b"\n")?;
        }
        enc.finish()?;
        Ok(())
    })
}

/// Read a snapshot back. A line that does not parse is an error naming the file and line.
pub fn read_snapshot(path: &Path) -> Result<Vec<SnapshotLine>, String> {
    let f = std::fs::File::open(path)
        .map_err(|e| format!("cannot open snapshot {}: {e}", path.display()))?;
    let dec = zstd::Decoder::new(f)
        .map_err(|e| format!("cannot decompress snapshot {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(dec).lines().enumerate() {
        let line = line.map_err(|e| format!("snapshot {}: {e}", path.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .map_err(|e| format!("snapshot {} line {}: {e}", path.display(), i + 1))?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = snapshot_path(dir.path(), "20260101T000000Z", "acme");
        let lines = vec![
            SnapshotLine::Header {
                company: "Acme".into(),
                ats: "lever".into(),
                board: "acme".into(),
                url: None,
                run: "20260101T000000Z".into(),
                started_utc: "2026-01-01T00:00:00Z".into(),
            },
            SnapshotLine::Response(RawResponse {
                role: "list".into(),
                method: Method::Get,
                url: "https://x/".into(),
                request_body: None,
                status: 200,
                final_url: "https://x/".into(),
                etag: Some("\"e\"".into()),
                last_modified: None,
                not_modified: false,
                fetched_utc: "2026-01-01T00:00:01Z".into(),
                body: "[]".into(),
            }),
            SnapshotLine::End {
                status: crate::report::Status::Ok,
                errors: vec![],
                requests: 1,
                seconds: 0.5,
            },
        ];
        write_snapshot(&p, &lines).unwrap();
        assert_eq!(read_snapshot(&p).unwrap(), lines);
    }
}
