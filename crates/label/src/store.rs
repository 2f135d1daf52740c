//! The labelling page's answer store: an append-only JSONL file, one [`AnswerRecord`] per line,
//! each line written and `fsync`ed before the page is told "saved". Nothing is rewritten: when an
//! annotator changes an answer a new record is appended, and the latest record of an
//! (annotator, task) pair is the current answer. A crash can at worst leave a partial last line
//! (an answer whose save the page never confirmed); on open it is reported, kept in the file as
//! is, and the next record starts on a fresh line.
//!
//! Hand-written rather than SQLite: the store is one writer appending small records, a JSONL file
//! is readable with any tool, and `label import` reads it directly.

use crate::error::{LabelError, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// One answer as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerRecord {
    /// 1-based position in the store.
    pub seq: u64,
    pub task_id: String,
    pub annotator: String,
    /// A title id, or [`crate::NONE_FITS`].
    pub answer: String,
    /// Unix time in milliseconds when the server saved it.
    pub saved_at_ms: u64,
    /// Milliseconds the annotator spent on the task, as the page measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A line of the store that is not a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BadLine {
    pub line: usize,
    pub message: String,
    pub raw: String,
}

/// Read every record of a store file. Bad lines are returned, not dropped.
pub fn read_records(path: &Path) -> Result<(Vec<AnswerRecord>, Vec<BadLine>)> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(LabelError::io(path, e)),
    };
    let mut records = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in BufReader::new(f).split(b'\n').enumerate() {
        let line = line.map_err(|e| LabelError::io(path, e))?;
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<AnswerRecord>(&text) {
            Ok(r) => records.push(r),
            Err(e) => bad.push(BadLine {
                line: i + 1,
                message: format!(
                    "not an answer record ({e}); probably a write cut short by a crash"
                ),
                raw: text.into_owned(),
            }),
        }
    }
    Ok((records, bad))
}

/// The open store (single writer).
#[derive(Debug)]
pub struct AnswerStore {
    path: PathBuf,
    file: File,
    next_seq: u64,
}

impl AnswerStore {
    /// Open (or create) the store and read what it holds.
    pub fn open(path: &Path) -> Result<(AnswerStore, Vec<AnswerRecord>, Vec<BadLine>)> {
        let existed = path.exists();
        let (records, bad) = read_records(path)?;
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| LabelError::io(path, e))?;
        // A partial last line (crash mid-write) must not glue itself to the next record.
        let len = file.metadata().map_err(|e| LabelError::io(path, e))?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| LabelError::io(path, e))?;
            if last[0] != b'\n' {
                file.write_all(b"\n")
                    .and_then(|_| file.sync_data())
                    .map_err(|e| LabelError::io(path, e))?;
            }
        }
        if !existed {
            file.sync_all().map_err(|e| LabelError::io(path, e))?;
            // Make the new file's directory entry durable too.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                if let Ok(d) = File::open(dir) {
                    let _ = d.sync_all();
                }
            }
        }
        let next_seq = records.iter().map(|r| r.seq).max().unwrap_or(0) + 1;
        Ok((
            AnswerStore {
                path: path.to_path_buf(),
                file,
                next_seq,
            },
            records,
            bad,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one answer and fsync it; the record (with its sequence number) is returned only
    /// once it is on disk.
    pub fn append(
        &mut self,
        task_id: &str,
        annotator: &str,
        answer: &str,
        elapsed_ms: Option<u64>,
        comment: Option<String>,
    ) -> Result<AnswerRecord> {
        let rec = AnswerRecord {
            seq: self.next_seq,
            task_id: task_id.to_string(),
            annotator: annotator.to_string(),
            answer: answer.to_string(),
            saved_at_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            elapsed_ms,
            comment,
        };
        let mut line = serde_json::to_vec(&rec).map_err(|e| LabelError::Invalid(e.to_string()))?;
        line.push(b'\n');
        // One write call for the whole line, then fsync before anyone is told it is saved.
        self.file
            .write_all(&line)
            .and_then(|_| self.file.sync_data())
            .map_err(|e| LabelError::io(&self.path, e))?;
        self.next_seq += 1;
        Ok(rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_keeps_everything_and_survives_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("answers.jsonl");
        {
            let (mut s, recs, bad) = AnswerStore::open(&p).unwrap();
            assert!(recs.is_empty() && bad.is_empty());
            s.append("t1", "ann", "data_engineer", Some(1200), None)
                .unwrap();
            s.append("t2", "ann", "none_fits", None, Some("odd".into()))
                .unwrap();
        }
        // simulate a crash in the middle of writing a third record
        std::fs::OpenOptions::new()
            .append(true)
            .open(&p)
            .unwrap()
            .write_all(br#"{"seq":3,"task_id":"t3","annot"#)
            .unwrap();
        {
            let (mut s, recs, bad) = AnswerStore::open(&p).unwrap();
            assert_eq!(recs.len(), 2);
            assert_eq!(bad.len(), 1);
            let r = s.append("t3", "ann", "data_analyst", None, None).unwrap();
            assert_eq!(r.seq, 3);
        }
        let (recs, bad) = read_records(&p).unwrap();
        assert_eq!(
            recs.iter().map(|r| r.task_id.as_str()).collect::<Vec<_>>(),
            ["t1", "t2", "t3"]
        );
        assert_eq!(bad.len(), 1, "the torn line is kept and reported, not lost");
    }
}
