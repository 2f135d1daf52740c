//! What `jobshift generate` prints after a run: the counts written, the truth files, and what
//! to run next. Each is a `Display` value over a run's summary.

use crate::{ClassifiedSummary, GenerateSummary};
use std::fmt;

/// A full corpus run (`generate_with`), with the labelled sample's rate.
pub struct CorpusText<'a> {
    s: &'a GenerateSummary,
    labels_rate: f64,
}

impl GenerateSummary {
    pub fn text(&self, labels_rate: f64) -> CorpusText<'_> {
        CorpusText {
            s: self,
            labels_rate,
        }
    }
}

impl fmt::Display for CorpusText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.s;
        if s.already_complete {
            writeln!(
                f,
                "{} already holds this corpus (same options); nothing to do.",
                s.out_dir.display()
            )?;
        }
        writeln!(
            f,
            "wrote {} records to {} ({} months, {} titles, {} companies, {}) in {:.1}s",
            s.records,
            s.out_dir.display(),
            s.months,
            s.titles,
            s.companies,
            s.taxonomy_version,
            s.seconds
        )?;
        writeln!(
            f,
            "  unique postings {} (originals {}, re-posts {}), exact copies {}, near copies {}, malformed {}, ambiguous titles {}",
            s.unique_postings,
            s.totals.originals,
            s.totals.reposts,
            s.totals.exact_copies,
            s.totals.near_copies,
            s.totals.malformed,
            s.totals.ambiguous_titles
        )?;
        if !s.totals.malformed_by_kind.is_empty() {
            let kinds: Vec<String> = s
                .totals
                .malformed_by_kind
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            writeln!(f, "  malformed by kind: {}", kinds.join(", "))?;
        }
        writeln!(
            f,
            "  truth: {}   changes: {}   expected counts: {}",
            s.out_dir.join(&s.truth_file).display(),
            s.out_dir.join(&s.changes_file).display(),
            s.out_dir.join(&s.expected_counts_file).display()
        )?;
        if self.labels_rate > 0.0 {
            writeln!(
                f,
                "  labelled sample ({:.2}% of unique postings): {1}  (jobshift eval --labels {1} ...)",
                100.0 * self.labels_rate,
                s.out_dir.join("labels").display()
            )?;
        }
        if !s.missing_study_titles.is_empty() {
            writeln!(
                f,
                "  note: study titles missing from the taxonomy (not injected): {}",
                s.missing_study_titles.join(", ")
            )?;
        }
        if s.resumed_months > 0 && !s.already_complete {
            writeln!(
                f,
                "  resumed: {} months were already done",
                s.resumed_months
            )?;
        }
        Ok(())
    }
}

/// A classified-only run (`generate_classified`).
pub struct ClassifiedText<'a> {
    s: &'a ClassifiedSummary,
    labels_rate: f64,
    postings_table: bool,
}

impl ClassifiedSummary {
    pub fn text(&self, labels_rate: f64, postings_table: bool) -> ClassifiedText<'_> {
        ClassifiedText {
            s: self,
            labels_rate,
            postings_table,
        }
    }
}

impl fmt::Display for ClassifiedText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.s;
        writeln!(
            f,
            "wrote {} {} postings ({}) to {} in {} files ({} months, {} titles, {} companies) in {:.1}s ({:.0} rows/s)",
            s.rows,
            if self.postings_table { "unclassified" } else { "classified" },
            s.mode,
            s.out_dir
                .join(if self.postings_table { "postings" } else { "classified" })
                .display(),
            s.files,
            s.months,
            s.titles,
            s.companies,
            s.seconds,
            s.rows as f64 / s.seconds.max(1e-9)
        )?;
        if let Some(c) = &s.confusion {
            writeln!(
                f,
                "  simulated classification from {c} ({} titles have a row; others predicted correctly): \
                 {:.1}% predicted as their true title, {:.1}% unclassified",
                s.confusion_titles_covered,
                100.0 * s.predicted_correct as f64 / s.rows.max(1) as f64,
                100.0 * s.predicted_unclassified as f64 / s.rows.max(1) as f64
            )?;
        }
        if s.files_resumed > 0 {
            writeln!(
                f,
                "  resumed: {} files were already written",
                s.files_resumed
            )?;
        }
        writeln!(
            f,
            "  truth: {}",
            s.out_dir.join("truth-changes.csv").display()
        )?;
        if self.labels_rate > 0.0 {
            writeln!(
                f,
                "  labelled sample ({:.2}% of postings): {}",
                100.0 * self.labels_rate,
                s.out_dir.join("labels").display()
            )?;
        }
        if self.postings_table {
            writeln!(
                f,
                "  next: jobshift classify {0} --no-description && jobshift report {0} --out REPORT",
                s.out_dir.display()
            )?;
        }
        if s.confusion.is_some() {
            writeln!(
                f,
                "  `jobshift report {} --corrected` finds the simulated matrix through classified/manifest.json",
                s.out_dir.display()
            )?;
        }
        Ok(())
    }
}
