//! `classified/manifest.json`: what a classified table records about how it was made.
//!
//! The contract between the stages that write `DATASET/classified/` (`jobshift classify`, and the
//! generator's classified-only mode, which simulates a classifier) and the one that reads it
//! (`jobshift report`, through trends: the classifier it names goes into the report's inputs,
//! and `--corrected` finds the confusion matrix through it). The file format is unchanged from
//! when each stage wrote it from a private struct: the classifier is one line of text
//! ([`ClassifierIdentity`]'s form when `jobshift classify` wrote it).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The manifest's file name inside `classified/`.
pub const MANIFEST_FILE: &str = "manifest.json";

/// `classified/manifest.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassifiedManifest {
    /// Who classified the postings: [`ClassifierIdentity`] in its text form when `jobshift
    /// classify` did (see [`ClassifiedManifest::identity`]); a sentence when the generator
    /// simulated the classification.
    pub classifier: String,
    /// The confusion matrix that describes this classification, when the writer knows one (the
    /// generator's simulated matrix). `jobshift classify` leaves it out: its matrix is
    /// `confusion.json` in the classifier directory the identity names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion: Option<String>,
    /// `jobshift classify` only: input file (relative to `postings/`) → its done record, what an
    /// interrupted or repeated run resumes from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, DoneFile>,
}

/// One input file `jobshift classify` finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoneFile {
    /// Size of the input file when it was classified (a changed file is redone).
    pub input_bytes: u64,
    pub rows: usize,
}

impl ClassifiedManifest {
    /// The manifest of the classified table in `classified_dir`, `Ok(None)` when there is none.
    /// An unreadable or malformed file is an error naming it.
    pub fn read(classified_dir: &Path) -> Result<Option<Self>, String> {
        let path = classified_dir.join(MANIFEST_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{}: not a classified manifest: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Write the manifest into `dir` (atomically).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        crate::atomic::write_json(&dir.join(MANIFEST_FILE), self)
    }

    /// The classifier as `jobshift classify` recorded it; `None` when the table was written by
    /// something else (the generator).
    pub fn identity(&self) -> Option<ClassifierIdentity> {
        ClassifierIdentity::parse(&self.classifier)
    }
}

/// Which classifier, with which cascade settings, classified a table. A run with another
/// identity redoes every file. Written as one line, `DIR|MODEL|HEAD|TAXONOMY|SEED|ALIAS|
/// DESCRIPTION|MARGIN|MIN_CONFIDENCE` ([`fmt::Display`]; [`ClassifierIdentity::parse`] reads it).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierIdentity {
    /// The classifier directory (its `confusion.json` is the matrix `--corrected` uses).
    pub dir: PathBuf,
    pub model_id: String,
    pub head: String,
    pub taxonomy_version: String,
    pub seed: u64,
    pub use_alias: bool,
    pub use_description: bool,
    pub ambiguity_margin: f32,
    pub min_confidence: f32,
}

impl fmt::Display for ClassifierIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.dir.display(),
            self.model_id,
            self.head,
            self.taxonomy_version,
            self.seed,
            self.use_alias,
            self.use_description,
            self.ambiguity_margin,
            self.min_confidence
        )
    }
}

impl ClassifierIdentity {
    /// Read the text form. Fields are taken from the right, so a directory holding `|` still
    /// reads back; `None` when the text is not of this form.
    pub fn parse(text: &str) -> Option<Self> {
        let mut it = text.rsplitn(9, '|');
        let min_confidence = it.next()?.parse().ok()?;
        let ambiguity_margin = it.next()?.parse().ok()?;
        let use_description = it.next()?.parse().ok()?;
        let use_alias = it.next()?.parse().ok()?;
        let seed = it.next()?.parse().ok()?;
        let taxonomy_version = it.next()?.to_string();
        let head = it.next()?.to_string();
        let model_id = it.next()?.to_string();
        let dir = PathBuf::from(it.next()?);
        Some(ClassifierIdentity {
            dir,
            model_id,
            head,
            taxonomy_version,
            seed,
            use_alias,
            use_description,
            ambiguity_margin,
            min_confidence,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> ClassifierIdentity {
        ClassifierIdentity {
            dir: PathBuf::from("/home/u/.cache/jobshift/classifiers/a|b"),
            model_id: "sentence-transformers/all-MiniLM-L6-v2".into(),
            head: "knn".into(),
            taxonomy_version: "2026.12.0".into(),
            seed: 42,
            use_alias: true,
            use_description: false,
            ambiguity_margin: 0.4,
            min_confidence: 0.5027501,
        }
    }

    #[test]
    fn identity_text_form_is_stable_and_reads_back() {
        let id = identity();
        let text = id.to_string();
        assert_eq!(
            text,
            "/home/u/.cache/jobshift/classifiers/a|b|sentence-transformers/all-MiniLM-L6-v2|knn|2026.12.0|42|true|false|0.4|0.5027501"
        );
        assert_eq!(ClassifierIdentity::parse(&text), Some(id));
        assert_eq!(
            ClassifierIdentity::parse("generator truth: perfect classification"),
            None
        );
        assert_eq!(
            ClassifierIdentity::parse("a|b|c|d|x|true|true|0.1|0.2"),
            None
        );
    }

    #[test]
    fn manifests_of_both_writers_round_trip_in_their_old_byte_form() {
        let dir = tempfile::tempdir().unwrap();
        // what `jobshift classify` wrote before this type existed
        let classify = format!(
            "{{\n  \"classifier\": \"{}\",\n  \"files\": {{\n    \"month=2025-01/part-0.parquet\": {{\n      \"input_bytes\": 10,\n      \"rows\": 2\n    }}\n  }}\n}}",
            identity()
        );
        std::fs::write(dir.path().join(MANIFEST_FILE), &classify).unwrap();
        let m = ClassifiedManifest::read(dir.path()).unwrap().unwrap();
        assert_eq!(m.identity(), Some(identity()));
        assert_eq!(m.files["month=2025-01/part-0.parquet"].rows, 2);
        m.write(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap(),
            classify
        );
        // the generator's simulated classification names its matrix
        let generated = ClassifiedManifest {
            classifier: "simulated from the confusion matrix m.json".into(),
            confusion: Some("m.json".into()),
            files: BTreeMap::new(),
        };
        generated.write(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join(MANIFEST_FILE)).unwrap(),
            "{\n  \"classifier\": \"simulated from the confusion matrix m.json\",\n  \"confusion\": \"m.json\"\n}"
        );
        let back = ClassifiedManifest::read(dir.path()).unwrap().unwrap();
        assert_eq!(back, generated);
        assert_eq!(back.identity(), None);
        // absent → None; malformed → an error naming the file
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(ClassifiedManifest::read(empty.path()).unwrap(), None);
        std::fs::write(empty.path().join(MANIFEST_FILE), "{").unwrap();
        let e = ClassifiedManifest::read(empty.path()).unwrap_err();
        assert!(e.contains("manifest.json"), "{e}");
    }
}
