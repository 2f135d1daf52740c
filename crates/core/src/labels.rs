//! The labelled-example format shared by labelling (which writes it) and training (which reads it).
//!
//! One JSON object per line (`.jsonl`). A label says "this posting text is an instance of this
//! taxonomy title" — or, with the title id [`NONE_FITS`], "no taxonomy title fits this posting"
//! — where it came from, and how much to trust it.

use serde::{Deserialize, Serialize};

/// The title id of a label that says no taxonomy title fits the posting (a labeller's "none of
/// these" answer: a comment, an advert, a job the taxonomy lacks). Training skips these labels;
/// a re-fit's labelled neighbours learn from them where to leave postings unclassified.
pub const NONE_FITS: &str = "none_fits";

/// Where a label came from. Evaluation holds data out by source, never only by random row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelSource {
    /// Aggregated crowd answers (majority vote or Dawid–Skene).
    Crowd,
    /// An expert's label.
    Expert,
    /// A taxonomy name or alias (distant supervision).
    TaxonomyAlias,
    /// An O*NET alternate title through the O*NET→title crosswalk (distant supervision).
    OnetAlternate,
    /// A posting whose raw title matched an alias exactly; teaches the description model.
    AliasMatchedPosting,
    /// A job ad's title as its employer wrote it, labelled with an occupation by a public
    /// benchmark (the JobBERT validation split shipped with jobshift: ESCO occupation → O*NET →
    /// title; distant supervision, noisy).
    VacancyTitle,
    /// Generated postings with known truth.
    Synthetic,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabeledExample {
    /// The raw posting title as written.
    pub title: String,
    /// Posting description, when the label is for a whole posting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The taxonomy title id this example is labelled with.
    pub title_id: String,
    pub source: LabelSource,
    /// Confidence in the label, 0..=1 (1 for distant supervision by construction; the posterior
    /// probability for Dawid–Skene aggregates).
    #[serde(default = "one")]
    pub confidence: f32,
    /// The posting the label belongs to, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posting_id: Option<String>,
}

fn one() -> f32 {
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_roundtrip_and_defaults() {
        let line = r#"{"title":"Sr. Data Engineer","title_id":"data_engineer","source":"crowd"}"#;
        let ex: LabeledExample = serde_json::from_str(line).unwrap();
        assert_eq!(ex.confidence, 1.0);
        assert_eq!(ex.source, LabelSource::Crowd);
        let back = serde_json::to_string(&ex).unwrap();
        assert!(!back.contains("description"));
    }
}
