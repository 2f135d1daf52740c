//! `classify-titles`' files: the input (one raw title per line, or JSONL objects with "title"
//! and an optional "description") and the output (one JSON object per input line, in order,
//! with the prediction, its taxonomy fields, the reason for an abstention and the alternatives).

use crate::classifier::{CascadeOptions, CascadeStats, Classifier, Prediction, TitleInput};
use crate::embed_cache::EmbedCache;
use crate::ClassifyError;
use serde_json::{json, Value};
use std::io::BufRead;
use std::path::Path;

/// One input line.
#[derive(Debug, Clone)]
pub struct TitleRecord {
    /// The line as read (echoed back in the output's `input`).
    pub raw: String,
    pub title: String,
    pub description: Option<String>,
}

/// Reads a title file; a line starting with `{` must be a JSON object with a string "title".
pub fn read_title_file(path: &Path) -> Result<Vec<TitleRecord>, ClassifyError> {
    let file = std::fs::File::open(path).map_err(|e| ClassifyError::io(path, e))?;
    let mut records = Vec::new();
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let at = || format!("{} line {}", path.display(), i + 1);
        let line = line.map_err(|e| ClassifyError::Format(format!("reading {}: {e}", at())))?;
        let trimmed = line.trim();
        if trimmed.starts_with('{') {
            let v: Value = serde_json::from_str(trimmed)
                .map_err(|e| ClassifyError::Format(format!("{}: not valid JSON ({e})", at())))?;
            let title = v.get("title").and_then(|t| t.as_str()).ok_or_else(|| {
                ClassifyError::Format(format!("{}: JSON object without a string \"title\"", at()))
            })?;
            let description = v
                .get("description")
                .and_then(|d| d.as_str())
                .map(str::to_string);
            records.push(TitleRecord {
                title: title.to_string(),
                description,
                raw: line,
            });
        } else {
            records.push(TitleRecord {
                raw: line.clone(),
                title: line,
                description: None,
            });
        }
    }
    Ok(records)
}

/// Classifies the records in chunks of 4,096, in order.
pub fn classify_records(
    c: &Classifier,
    records: &[TitleRecord],
    cache: &mut EmbedCache,
    opts: &CascadeOptions,
    stats: &mut CascadeStats,
) -> Result<Vec<Prediction>, ClassifyError> {
    let mut out = Vec::with_capacity(records.len());
    for chunk in records.chunks(4096) {
        let inputs: Vec<TitleInput> = chunk
            .iter()
            .map(|r| TitleInput {
                title: &r.title,
                description: r.description.as_deref(),
            })
            .collect();
        out.extend(c.classify(&inputs, cache, opts, stats)?);
    }
    Ok(out)
}

/// The output object of one record.
pub(crate) fn prediction_json(c: &Classifier, r: &TitleRecord, p: &Prediction) -> Value {
    let t = c.title(&p.title_id);
    let input: Value = if r.description.is_some() || r.raw.trim_start().starts_with('{') {
        serde_json::from_str(&r.raw).unwrap_or_else(|_| Value::String(r.title.clone()))
    } else {
        Value::String(r.raw.clone())
    };
    let alternatives: Vec<Value> = p
        .alternatives
        .iter()
        .map(|(id, s)| json!({"title_id": id, "title": c.title(id).map(|t| t.name.clone()), "score": s}))
        .collect();
    json!({
        "input": input,
        "title_id": p.title_id,
        "title": t.map(|t| t.name.clone()),
        "family": t.map(|t| t.family.clone()),
        "level": t.map(|t| t.level.as_str()),
        "tier": t.map(|t| t.tier().as_str()),
        "seniority": p.seniority.as_str(),
        "soc": t.map(|t| t.soc.clone()),
        "onet_soc": t.map(|t| t.onet_soc.clone()),
        "confidence": p.confidence,
        "method": p.method.as_str(),
        "reason": p.reason,
        "roles": p.roles,
        "alternatives": alternatives,
    })
}

/// Writes one JSON line per record and its prediction, atomically.
pub fn write_predictions(
    path: &Path,
    c: &Classifier,
    records: &[TitleRecord],
    preds: &[Prediction],
) -> Result<(), ClassifyError> {
    let lines = records
        .iter()
        .zip(preds)
        .map(|(r, p)| prediction_json(c, r, p));
    jobshift_core::atomic::write_jsonl(path, lines).map_err(|e| ClassifyError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_jsonl_lines_are_read_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("titles.txt");
        std::fs::write(
            &p,
            "Senior Data Engineer\n{\"title\": \"Nurse\", \"description\": \"Care for patients\"}\n  \n",
        )
        .unwrap();
        let r = read_title_file(&p).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].title, "Senior Data Engineer");
        assert_eq!(r[0].description, None);
        assert_eq!(r[1].title, "Nurse");
        assert_eq!(r[1].description.as_deref(), Some("Care for patients"));
        assert!(r[1].raw.starts_with('{'));
        assert_eq!(r[2].title, "  ");
    }

    #[test]
    fn bad_json_lines_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("titles.jsonl");
        std::fs::write(&p, "Engineer\n{\"title\": \n").unwrap();
        let err = read_title_file(&p).unwrap_err().to_string();
        assert!(err.contains("titles.jsonl line 2: not valid JSON"), "{err}");
        std::fs::write(&p, "{\"name\": \"x\"}\n").unwrap();
        let err = read_title_file(&p).unwrap_err().to_string();
        assert!(
            err.contains("line 1: JSON object without a string \"title\""),
            "{err}"
        );
    }
}
