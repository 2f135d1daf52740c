//! Plain-text summaries of the crate's reports, the lines `jobshift` prints: a library user
//! can log the same. Each is a `Display` value (`println!("{}", report.summary(...))`).

use crate::classifier::{CascadeStats, ClassifierMeta};
use crate::dataset::ClassifyReport;
use crate::eval::{self, SetScores};
use crate::finetune::FinetuneReport;
use crate::train::TrainReport;
use std::fmt;
use std::path::Path;

/// Time per cascade step, for benchmarks: each step's own rate is the postings it handled
/// divided by its own time; "overall" includes reading, cleaning and assembling.
pub struct StepTimes<'a> {
    stats: &'a CascadeStats,
    total_seconds: f64,
}

impl CascadeStats {
    /// Time per step, with `total_seconds` the whole run's wall time.
    pub fn step_times(&self, total_seconds: f64) -> StepTimes<'_> {
        StepTimes {
            stats: self,
            total_seconds,
        }
    }
}

impl fmt::Display for StepTimes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (stats, total_seconds) = (self.stats, self.total_seconds);
        let rate = |n: usize, s: f64| n as f64 / s.max(1e-9);
        // the thread pool the encoder and heads run on
        let threads = rayon::current_num_threads();
        writeln!(f, "cascade steps ({threads} threads):")?;
        writeln!(
            f,
            "  alias            {:>9} postings looked up in {:>8.3}s = {:>10.0} postings/s ({} hits)",
            stats.inputs,
            stats.alias_time.as_secs_f64(),
            rate(stats.inputs, stats.alias_time.as_secs_f64()),
            stats.alias_hits
        )?;
        // the postings step 2 scored: not those step 0 or the alias step decided
        let embedded_postings = stats.title_step;
        let title_s = (stats.title_encode_time + stats.title_head_time).as_secs_f64();
        writeln!(
            f,
            "  title embedding  {:>9} postings ({} distinct titles encoded) in {:>8.3}s = {:>10.0} postings/s, {:.0} distinct titles/s (encode {:.3}s, head {:.3}s for {} titles scored, {} reused)",
            embedded_postings,
            stats.title_embedded,
            title_s,
            rate(embedded_postings, title_s),
            rate(stats.title_embedded, title_s),
            stats.title_encode_time.as_secs_f64(),
            stats.title_head_time.as_secs_f64(),
            stats.title_head_scored,
            stats.title_head_reused
        )?;
        writeln!(
            f,
            "  description      {:>9} postings in {:>8.3}s = {:>10.0} postings/s",
            stats.description_used,
            stats.description_time.as_secs_f64(),
            rate(stats.description_used, stats.description_time.as_secs_f64())
        )?;
        if stats.population_read > 0 {
            let secs = stats.population_time.as_secs_f64();
            writeln!(
                f,
                "  population head  {:>9} postings in {:>8.3}s = {:>10.0} postings/s ({} descriptions read; {} abstentions classified, {} moved{}{})",
                stats.population_read,
                secs,
                rate(stats.population_read, secs),
                stats.population_described,
                stats.population_filled,
                stats.population_moved,
                if stats.population_none > 0 {
                    format!(", {} left as they were: most like postings labelled none_fits", stats.population_none)
                } else {
                    String::new()
                },
                if stats.population_unlike > 0 {
                    format!(", {} abstentions left: their descriptions unlike every labelled abstention's", stats.population_unlike)
                } else {
                    String::new()
                }
            )?;
        }
        writeln!(
            f,
            "  overall          {:>9} postings in {:>8.3}s = {:>10.0} postings/s ({:.0} per core)",
            stats.inputs,
            total_seconds,
            rate(stats.inputs, total_seconds),
            rate(stats.inputs, total_seconds) / threads.max(1) as f64
        )?;
        Ok(())
    }
}

/// `eval --details`: the per-family and per-title precision/recall tables, the reliability
/// diagram and the most-confused pairs of one set.
pub struct SetDetails<'a>(&'a SetScores);

impl SetScores {
    pub fn details(&self) -> SetDetails<'_> {
        SetDetails(self)
    }

    /// `eval --labels`' line: postings, exact-title accuracy and its calibration error, each
    /// cascade step's share and top-1, and the speed.
    pub fn labels_line(&self) -> String {
        let steps: Vec<String> = self
            .methods
            .iter()
            .map(|(m, s)| format!("{m} {:.1}% (top-1 {:.3})", 100.0 * s.share, s.top1))
            .collect();
        format!(
            "{} labelled postings; exact title {:.3}, calibration error against it {:.3}; steps: {}; {:.0} postings/s",
            self.n,
            self.exact_title.unwrap_or(f64::NAN),
            self.ece_exact.unwrap_or(f64::NAN),
            steps.join(", "),
            self.n as f64 / self.seconds.max(1e-9)
        )
    }

    /// One line: the set, its size, what was removed, each cascade step's share and top-1, and
    /// the speed.
    pub fn steps_line(&self) -> String {
        let r = self;
        let steps: Vec<String> = r
            .methods
            .iter()
            .map(|(m, s)| format!("{m} {:.0}% (top-1 {:.3})", 100.0 * s.share, s.top1))
            .collect();
        format!(
            "{} / {}: {} rows ({} removed as seen in training, {} without an O*NET code); steps: {}; {:.0} titles/s",
            r.set,
            r.head,
            r.n,
            r.removed_seen_in_training,
            r.removed_unmapped,
            steps.join(", "),
            r.n as f64 / r.seconds.max(1e-9)
        )
    }
}

impl fmt::Display for SetDetails<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let opt = |p: Option<f64>| p.map_or("    -".to_string(), |p| format!("{p:.3}"));
        writeln!(
            f,
            "  per family (gold n, best-guess top-1; precision and recall of answered predictions):"
        )?;
        for fam in &r.per_family {
            writeln!(
                f,
                "    {:<32} n={:<5} top-1 {:.3}  predicted {:<5} precision {}  recall {:.3}",
                fam.family,
                fam.n,
                fam.top1,
                fam.predicted,
                opt(fam.precision),
                fam.recall
            )?;
        }
        let mut titles: Vec<&eval::TitleRow> =
            r.per_title.iter().filter(|t| t.support > 0).collect();
        titles.sort_by(|a, b| b.support.cmp(&a.support).then(a.title.cmp(&b.title)));
        writeln!(
            f,
            "  per title, the {} most frequent gold titles of {} (the whole table is in the JSON scores):",
            titles.len().min(25),
            titles.len()
        )?;
        for t in titles.iter().take(25) {
            writeln!(
                f,
                "    {:<36} support {:<5} predicted {:<5} precision {}  recall {:.3}  F1 {:.3}",
                t.title,
                t.support,
                t.predicted,
                opt(t.precision),
                t.recall,
                t.f1
            )?;
        }
        writeln!(
            f,
            "  reliability (confidence bin: items, mean confidence, share right; ECE {:.3}):",
            r.ece
        )?;
        for b in &r.reliability {
            let bar = "#".repeat((b.accuracy * 40.0).round() as usize);
            writeln!(
                f,
                "    {:.1}–{:.1}  n={:<6} confidence {:.3}  right {:.3}  {bar}",
                b.from, b.to, b.n, b.mean_confidence, b.accuracy
            )?;
        }
        writeln!(f, "  most confused (gold → predicted):")?;
        for p in r.most_confused.iter().take(10) {
            writeln!(f, "    {:>4}  {} → {}", p.count, p.gold, p.predicted)?;
        }
        Ok(())
    }
}

/// What `classify` did: rows, files, postings per step, step times, where the output is.
pub struct ClassifySummary<'a> {
    rep: &'a ClassifyReport,
    dataset_dir: &'a Path,
}

impl ClassifyReport {
    pub fn summary<'a>(&'a self, dataset_dir: &'a Path) -> ClassifySummary<'a> {
        ClassifySummary {
            rep: self,
            dataset_dir,
        }
    }
}

impl fmt::Display for ClassifySummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (rep, dataset_dir) = (self.rep, self.dataset_dir);
        writeln!(
            f,
            "{} postings classified in {} file(s) ({} already done) in {:.1}s ({:.0} postings/s)",
            rep.rows,
            rep.files_done_now,
            rep.files_skipped_resume,
            rep.seconds,
            rep.rows as f64 / rep.seconds.max(1e-9)
        )?;
        for (m, n) in &rep.by_method {
            writeln!(f, "  {m:<16} {n}")?;
        }
        if rep.stats.inputs > 0 {
            write!(f, "{}", rep.stats.step_times(rep.seconds))?;
            writeln!(
                f,
                "  distinct titles embedded: {}",
                rep.distinct_titles_embedded
            )?;
        }
        writeln!(f, "  output: {}", dataset_dir.join("classified").display())?;
        Ok(())
    }
}

/// What `train` built: the validation scores per head and the held-out table.
impl fmt::Display for TrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rep = self;
        writeln!(f, "classifier written to {}", rep.dir.display())?;
        writeln!(
            f,
            "model {} · taxonomy {} · {} train / {} validation rows · default head: {}",
            rep.model_id, rep.taxonomy_version, rep.train_rows, rep.val_rows, rep.chosen_head
        )?;
        writeln!(f, "validation (held out by title):")?;
        for h in &rep.heads {
            writeln!(
                f,
                "  {:<9} top-1 {:.3}  top-5 {:.3}  ECE {:.3}  train {:.1}s",
                h.head, h.val_top1, h.val_top5, h.val_ece_calibrated, h.train_seconds
            )?;
        }
        if !rep.held_out.is_empty() {
            writeln!(f, "held-out real titles:")?;
            write!(f, "{}", eval::render_table(&rep.held_out))?;
        }
        Ok(())
    }
}

/// A classifier's cascade thresholds and its validation coverage at each precision.
pub struct Thresholds<'a>(&'a ClassifierMeta);

impl ClassifierMeta {
    pub fn thresholds(&self) -> Thresholds<'_> {
        Thresholds(self)
    }
}

impl fmt::Display for Thresholds<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let meta = self.0;
        writeln!(
            f,
            "cascade thresholds: alias confidence {:.3} (measured precision), min_confidence {:.3}, ambiguity_margin {:.3}",
            meta.alias_confidence, meta.min_confidence, meta.ambiguity_margin
        )?;
        if let Some(t) = meta.scores.get("thresholds") {
            for (p, pt) in t["at_precision"].as_object().into_iter().flatten() {
                writeln!(
                    f,
                    "  validation coverage at {p}% precision: {:.3} (threshold {:.3})",
                    pt["coverage"].as_f64().unwrap_or(0.0),
                    pt["threshold"].as_f64().unwrap_or(1.0)
                )?;
            }
        }
        Ok(())
    }
}

/// What `finetune` did, and how to train a classifier on the result.
impl fmt::Display for FinetuneReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rep = self;
        writeln!(
            f,
            "fine-tuned model {} written to {}",
            rep.model_id,
            rep.out.display()
        )?;
        writeln!(
            f,
            "{} titles, {} steps ({} per epoch) of {} pairs; loss {:.4} (first 20 steps) → {:.4} (last 20); {:.1}s",
            rep.titles,
            rep.steps,
            rep.steps_per_epoch,
            rep.pairs_per_step,
            rep.first_loss,
            rep.final_loss,
            rep.seconds
        )?;
        writeln!(
            f,
            "weight tensors changed by training: {} of {}",
            rep.changed_tensors, rep.trained_tensors
        )?;
        writeln!(
            f,
            "train a classifier on it with: jobshift train --model {} --name finetuned",
            rep.out.display()
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_times_name_every_step_and_the_rate_per_core() {
        let stats = CascadeStats {
            inputs: 1000,
            alias_hits: 400,
            title_step: 550,
            title_embedded: 300,
            ..Default::default()
        };
        let text = stats.step_times(2.0).to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].starts_with("cascade steps ("));
        assert!(lines[1].contains("1000 postings looked up") && lines[1].contains("(400 hits)"));
        assert!(lines[2].contains("550 postings (300 distinct titles encoded)"));
        assert!(lines[4].contains("500 postings/s"), "{}", lines[4]);
    }
}
