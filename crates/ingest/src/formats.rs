//! Input formats and transparent decompression: which reader a file needs, from its extension
//! (`.csv`, `.tsv`/`.tab`, `.jsonl`/`.ndjson`, `.json`, `.parquet`, each optionally `.gz`/`.zst`),
//! or from `--format`.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::str::FromStr;

/// A record format jobshift reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    Jsonl,
    /// A JSON array of objects (read element by element, never whole). A file of concatenated
    /// top-level objects is read the same way.
    Json,
    Parquet,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
            Format::Json => "json",
            Format::Parquet => "parquet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "tsv" | "tab" => Ok(Format::Tsv),
            "jsonl" | "ndjson" | "json-lines" | "jsonlines" => Ok(Format::Jsonl),
            "json" => Ok(Format::Json),
            "parquet" | "pq" => Ok(Format::Parquet),
            other => Err(format!(
                "unknown format `{other}`: use one of csv, tsv, jsonl, json, parquet"
            )),
        }
    }
}

/// Compression wrapped around a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Detect (format, compression) from a file name. `None` format when the extension is unknown.
pub fn detect(path: &Path) -> (Option<Format>, Compression) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let (stem, compression) = if let Some(s) = name.strip_suffix(".gz") {
        (s.to_string(), Compression::Gzip)
    } else if let Some(s) = name.strip_suffix(".zst") {
        (s.to_string(), Compression::Zstd)
    } else if let Some(s) = name.strip_suffix(".zstd") {
        (s.to_string(), Compression::Zstd)
    } else {
        (name.clone(), Compression::None)
    };
    let ext = stem
        .rsplit_once('.')
        .map(|(_, e)| e.to_string())
        .unwrap_or_default();
    (Format::from_str(&ext).ok(), compression)
}

/// The file name without directories and without format/compression extensions
/// (`data/2024-03.csv.gz` → `2024-03`): the default `source` of its postings.
pub fn source_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "input".to_string());
    let mut s = name.as_str();
    for _ in 0..2 {
        if let Some((head, ext)) = s.rsplit_once('.') {
            let e = ext.to_ascii_lowercase();
            if [
                "gz", "zst", "zstd", "csv", "tsv", "tab", "jsonl", "ndjson", "json", "parquet",
                "pq",
            ]
            .contains(&e.as_str())
                && !head.is_empty()
            {
                s = head;
            }
        }
    }
    s.to_string()
}

/// Counts bytes read through it, so progress can be shown on compressed files too.
pub struct CountingReader<R> {
    inner: R,
    pub count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Open a text-format file, decompressing transparently. The returned counter tracks
/// compressed bytes consumed (for progress).
pub fn open_text(
    path: &Path,
    compression: Compression,
) -> io::Result<(
    Box<dyn BufRead + Send>,
    std::sync::Arc<std::sync::atomic::AtomicU64>,
)> {
    let file = File::open(path)?;
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = CountingReader {
        inner: file,
        count: count.clone(),
    };
    let reader: Box<dyn BufRead + Send> = match compression {
        Compression::None => Box::new(BufReader::with_capacity(1 << 16, counted)),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(BufReader::new(counted)),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            1 << 16,
            zstd::stream::read::Decoder::new(counted)?,
        )),
    };
    Ok((reader, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_and_compression() {
        assert_eq!(
            detect(Path::new("a/b.csv")),
            (Some(Format::Csv), Compression::None)
        );
        assert_eq!(
            detect(Path::new("b.TSV.gz")),
            (Some(Format::Tsv), Compression::Gzip)
        );
        assert_eq!(
            detect(Path::new("b.jsonl.zst")),
            (Some(Format::Jsonl), Compression::Zstd)
        );
        assert_eq!(
            detect(Path::new("b.ndjson")),
            (Some(Format::Jsonl), Compression::None)
        );
        assert_eq!(
            detect(Path::new("b.json")),
            (Some(Format::Json), Compression::None)
        );
        assert_eq!(
            detect(Path::new("b.parquet")),
            (Some(Format::Parquet), Compression::None)
        );
        assert_eq!(detect(Path::new("b.txt")).0, None);
        assert_eq!(source_name(Path::new("x/hn_2024-03.csv.gz")), "hn_2024-03");
        assert_eq!(source_name(Path::new("feed.jsonl")), "feed");
    }
}
