//! Confidence calibration and the numbers that judge it.
//!
//! - [`Isotonic`]: a monotone map from a head's raw top-1 probability to the probability that the
//!   prediction is right, fitted on a validation split by pool-adjacent-violators. It works for
//!   every head (the random forest's vote shares are far from probabilities).
//! - [`expected_calibration_error`], [`coverage_at_precision`] and [`coverage_precision_curve`]
//!   for reports; [`net_correct_threshold`] chooses the
//!   abstention threshold (`min_confidence`) from validation.
//! - [`Recalibration`]: what a re-fit on a population's labels recorded (fitted and written by
//!   [`crate::recalibrate`]).

use serde::{Deserialize, Serialize};

/// Confidence re-fitted on labelled postings of the population being classified
/// (`jobshift eval --labels … --recalibrate-to DIR`). The training-time calibration is fitted on a validation split
/// of the training sources (O*NET alternate titles); on another population (real vacancy titles,
/// one employer's postings) the same score can mean a different chance of being right. This map
/// takes the calibrated confidence of the embedding and description steps to the share of
/// predictions that were right on the labelled postings; the alias step's confidence becomes its
/// measured accuracy there. `min_confidence` is carried through the map, so the same predictions
/// abstain as before. Where the labels show that a predicted title is usually another one on this
/// population (`remap`), the prediction becomes that title.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recalibration {
    /// Calibrated confidence → probability right on the labelled postings.
    pub map: Isotonic,
    /// The head it was fitted with (it applies only to that head).
    pub head: crate::heads::HeadKind,
    /// Labelled postings it was fitted on, and where they came from.
    pub examples: usize,
    pub labels: Vec<String>,
    /// The values before recalibration, for the record.
    pub alias_confidence_before: f32,
    pub min_confidence_before: f32,
    /// Predicted title id → the title the labelled postings predicted as it mostly were
    /// ([`crate::recalibrate`]'s rule); absent when none qualified or the re-fit left it out.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub remap: std::collections::BTreeMap<String, TitleRemap>,
    /// The population head (step 6, [`crate::population`]): what it was fitted on and
    /// measured; absent when the labels were too few or the re-fit left it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub population_head: Option<PopulationHeadInfo>,
}

/// What a re-fit's population head (step 6 of the cascade, [`crate::population`]; the head
/// itself is in the classifier's `population_head/`) was fitted on and measured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PopulationHeadInfo {
    /// Labelled postings it was fitted on: a title the classifier knows, or `none_fits`.
    pub postings: usize,
    /// Of them, `none_fits` labels ("no title fits"): a posting the head gives to them keeps
    /// the cascade's answer or abstention.
    #[serde(default, skip_serializing_if = "crate::is_zero")]
    pub none_fits: usize,
    /// Of them, postings the cascade abstained on whose description the head read.
    pub described: usize,
    /// Of them, postings the cascade abstained on that had no description: where there were
    /// none, the head never learned that case, and an abstention without a description stays.
    #[serde(default)]
    pub abstained_undescribed: usize,
    /// The head's classes in order: the labelled titles (and `none_fits`).
    pub classes: Vec<String>,
    /// The titles the labelled postings were answered or labelled as, sorted: an answer
    /// outside them is one the labels never saw, and moves only when the head is likelier.
    pub titles_known: Vec<String>,
    /// The L2 penalty the cross-fit chose ([`crate::population::L2_PENALTIES`]; a head re-fitted
    /// before 2026-12-07, session 25, recorded its AdamW weight decay here as `weight_decay`).
    #[serde(alias = "weight_decay")]
    pub l2_penalty: f64,
    /// The labelled postings' mean title and description embeddings: what a posting that
    /// lacks the text reads in its place (empty when no labelled posting had it).
    #[serde(default)]
    pub title_mean: Vec<f32>,
    #[serde(default)]
    pub description_mean: Vec<f32>,
    /// The lowest cosine similarity of a labelled abstention's description with its nearest
    /// other's, or, where lower, the median similarity of one with its nearest of another title
    /// (the descriptions are in the head's directory): an abstention whose description is less
    /// similar than this to every labelled abstention's is unlike anything the labels held,
    /// and step 6 leaves it unclassified. Absent with fewer than
    /// [`crate::population::MIN_DESCRIBED`] described labelled abstentions, and in re-fits from
    /// before 2026-12-07 (session 26), which read every abstention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub described_floor: Option<f32>,
    /// The head's top probability → the share of cross-fitted predictions that were right,
    /// over the postings whose answer the other folds had seen (or that abstained).
    pub map: Isotonic,
    /// Cross-fitted postings whose cascade answer the other folds never saw, and — when there
    /// were at least [`crate::population::MIN_UNSEEN`] — the same map over them alone: a
    /// posting whose answer the labels never saw takes the head's title only where this map
    /// is above the cascade's confidence (without it, never).
    pub unseen_answers: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unseen_map: Option<Isotonic>,
    /// The cross-fitted head's title accuracy on the labelled postings.
    pub cross_fit_accuracy: f64,
    /// The cross-fitted head's mean weighted log-loss on them, which chose the penalty (0 in
    /// re-fits from before 2026-12-07, session 26, which chose by the accuracy).
    #[serde(default)]
    pub cross_fit_log_loss: f64,
    /// The cascade's own exact-title accuracy on the same postings (abstentions wrong).
    pub cascade_accuracy: f64,
    /// Of the labelled postings, those the cascade answered; the cross-fitted head's and the
    /// cascade's accuracy on them; and whether the head was the more often right there. When
    /// it was not (a population the cascade already answers well), the head fills abstentions
    /// only and never moves an answer.
    pub answered: usize,
    pub answered_cross_fit_accuracy: f64,
    pub answered_cascade_accuracy: f64,
    pub moves_answers: bool,
}

/// One predicted title the labelled postings take to another: of `predicted` labelled postings
/// predicted as the title, `labelled_to` were labelled `to` and `labelled_same` the title itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TitleRemap {
    pub to: String,
    pub predicted: usize,
    pub labelled_to: usize,
    pub labelled_same: usize,
}

/// Piecewise-linear monotone calibration map (PAV blocks, interpolated between block centres).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Isotonic {
    /// Raw scores (increasing).
    pub x: Vec<f32>,
    /// Calibrated probabilities (non-decreasing).
    pub y: Vec<f32>,
}

impl Isotonic {
    /// The identity map (used when there is no validation data).
    pub fn identity() -> Self {
        Isotonic {
            x: vec![0.0, 1.0],
            y: vec![0.0, 1.0],
        }
    }

    /// Fit on (raw score, was the prediction right) pairs.
    pub fn fit(scores: &[f32], correct: &[bool]) -> Self {
        if scores.is_empty() {
            return Self::identity();
        }
        let mut pairs: Vec<(f32, f32)> = scores
            .iter()
            .zip(correct)
            .map(|(&s, &c)| (s, if c { 1.0 } else { 0.0 }))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        // blocks: (sum_x, sum_y, count)
        let mut blocks: Vec<(f64, f64, f64)> = Vec::new();
        for (s, c) in pairs {
            blocks.push((s as f64, c as f64, 1.0));
            while blocks.len() >= 2 {
                let n = blocks.len();
                let (a, b) = (blocks[n - 2], blocks[n - 1]);
                if a.1 / a.2 >= b.1 / b.2 {
                    blocks.pop();
                    blocks[n - 2] = (a.0 + b.0, a.1 + b.1, a.2 + b.2);
                } else {
                    break;
                }
            }
        }
        // light smoothing toward the block mean with a Beta(1,1) prior so tiny blocks do not
        // claim 0 or 1
        let x: Vec<f32> = blocks.iter().map(|b| (b.0 / b.2) as f32).collect();
        let mut y: Vec<f32> = blocks
            .iter()
            .map(|b| ((b.1 + 1.0) / (b.2 + 2.0)) as f32)
            .collect();
        for i in 1..y.len() {
            if y[i] < y[i - 1] {
                y[i] = y[i - 1];
            }
        }
        Isotonic { x, y }
    }

    pub fn apply(&self, s: f32) -> f32 {
        if self.x.is_empty() {
            return s;
        }
        if s <= self.x[0] {
            return self.y[0];
        }
        let last = self.x.len() - 1;
        if s >= self.x[last] {
            return self.y[last];
        }
        let i = self.x.partition_point(|&v| v <= s);
        let (x0, x1, y0, y1) = (self.x[i - 1], self.x[i], self.y[i - 1], self.y[i]);
        if x1 <= x0 {
            return y1;
        }
        y0 + (y1 - y0) * (s - x0) / (x1 - x0)
    }
}

/// Expected calibration error over `bins` equal-width confidence bins.
pub(crate) fn expected_calibration_error(conf: &[f32], correct: &[bool], bins: usize) -> f64 {
    if conf.is_empty() {
        return 0.0;
    }
    let bins = bins.max(1);
    let mut sum_c = vec![0f64; bins];
    let mut sum_a = vec![0f64; bins];
    let mut cnt = vec![0f64; bins];
    for (&c, &ok) in conf.iter().zip(correct) {
        let b = ((c.clamp(0.0, 1.0) * bins as f32) as usize).min(bins - 1);
        sum_c[b] += c as f64;
        sum_a[b] += if ok { 1.0 } else { 0.0 };
        cnt[b] += 1.0;
    }
    let n = conf.len() as f64;
    (0..bins)
        .filter(|&b| cnt[b] > 0.0)
        .map(|b| (cnt[b] / n) * ((sum_a[b] - sum_c[b]) / cnt[b]).abs())
        .sum()
}

/// Largest share of items that can be kept (most confident first) with precision ≥ `target`.
/// Returns (coverage, confidence threshold); (0, 1) when no prefix reaches the target.
pub(crate) fn coverage_at_precision(conf: &[f32], correct: &[bool], target: f64) -> (f64, f32) {
    let mut idx: Vec<usize> = (0..conf.len()).collect();
    idx.sort_by(|&a, &b| conf[b].total_cmp(&conf[a]));
    let mut ok = 0usize;
    let mut best = (0.0, 1.0f32);
    for (i, &j) in idx.iter().enumerate() {
        if correct[j] {
            ok += 1;
        }
        let kept = i + 1;
        // only cut between distinct confidences
        let boundary = idx.get(i + 1).is_none_or(|&nj| conf[nj] < conf[j]);
        if boundary && ok as f64 / kept as f64 >= target {
            best = (kept as f64 / conf.len() as f64, conf[j]);
        }
    }
    best
}

/// One point of a coverage-vs-precision curve: keep items with confidence ≥ `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct OperatingPoint {
    pub threshold: f32,
    /// Share of items kept (classified).
    pub coverage: f64,
    /// Share of kept items that are right.
    pub precision: f64,
}

/// Coverage and precision when keeping items with confidence ≥ each of `thresholds`.
pub(crate) fn coverage_precision_curve(
    conf: &[f32],
    correct: &[bool],
    thresholds: &[f32],
) -> Vec<OperatingPoint> {
    thresholds
        .iter()
        .map(|&t| {
            let (mut kept, mut ok) = (0usize, 0usize);
            for (&c, &r) in conf.iter().zip(correct) {
                if c >= t {
                    kept += 1;
                    ok += r as usize;
                }
            }
            OperatingPoint {
                threshold: t,
                coverage: kept as f64 / conf.len().max(1) as f64,
                precision: if kept == 0 {
                    0.0
                } else {
                    ok as f64 / kept as f64
                },
            }
        })
        .collect()
}

/// The abstention threshold that maximizes *right minus wrong* among the kept items: every
/// kept prediction counts +1 when right and −1 when wrong, abstentions count 0. With
/// calibrated confidences this keeps exactly the predictions whose measured chance of being
/// right is at least one half — a wrong title costs a trend count as much as a right one
/// adds. Cuts only between distinct confidences; returns threshold 0 (never abstain) when
/// keeping everything is best.
pub(crate) fn net_correct_threshold(conf: &[f32], correct: &[bool]) -> OperatingPoint {
    let mut idx: Vec<usize> = (0..conf.len()).collect();
    idx.sort_by(|&a, &b| conf[b].total_cmp(&conf[a]));
    let (mut net, mut ok) = (0i64, 0usize);
    // keeping nothing: net 0
    let mut best = (0i64, 0usize, 0usize, f32::INFINITY);
    for (i, &j) in idx.iter().enumerate() {
        if correct[j] {
            net += 1;
            ok += 1;
        } else {
            net -= 1;
        }
        let boundary = idx.get(i + 1).is_none_or(|&nj| conf[nj] < conf[j]);
        if boundary && net > best.0 {
            best = (net, i + 1, ok, conf[j]);
        }
    }
    let n = conf.len().max(1) as f64;
    let threshold = if best.1 == conf.len() { 0.0 } else { best.3 };
    OperatingPoint {
        threshold: if threshold.is_finite() {
            threshold
        } else {
            1.0
        },
        coverage: best.1 as f64 / n,
        precision: if best.1 == 0 {
            0.0
        } else {
            best.2 as f64 / best.1 as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_is_monotone_and_tracks_accuracy() {
        // score s is right with probability s
        let mut s = Vec::new();
        let mut c = Vec::new();
        for i in 0..1000 {
            let v = i as f32 / 1000.0;
            s.push(v);
            c.push((i * 7919 % 1000) < i); // deterministic, P(right) ≈ v
        }
        let iso = Isotonic::fit(&s, &c);
        let mut prev = 0.0;
        for i in 0..=20 {
            let v = iso.apply(i as f32 / 20.0);
            assert!(v >= prev - 1e-6);
            prev = v;
        }
        assert!((iso.apply(0.8) - 0.8).abs() < 0.15, "{}", iso.apply(0.8));
        let conf: Vec<f32> = s.iter().map(|&v| iso.apply(v)).collect();
        assert!(expected_calibration_error(&conf, &c, 10) < 0.05);
    }

    #[test]
    fn coverage_and_threshold() {
        let conf = [0.9, 0.8, 0.7, 0.6];
        let ok = [true, true, false, true];
        let (cov, thr) = coverage_at_precision(&conf, &ok, 0.75);
        assert_eq!(cov, 1.0);
        assert_eq!(thr, 0.6);
        let (cov, thr) = coverage_at_precision(&conf, &ok, 0.9);
        assert_eq!(cov, 0.5);
        assert_eq!(thr, 0.8);
        assert_eq!(coverage_at_precision(&conf, &[false; 4], 0.5), (0.0, 1.0));
    }

    #[test]
    fn net_correct_keeps_the_items_more_often_right_than_wrong() {
        let conf = [0.9, 0.8, 0.6, 0.4, 0.3, 0.2];
        let ok = [true, true, true, false, true, false];
        let p = net_correct_threshold(&conf, &ok);
        // keep 5: net 4 − 1 = 3 equals keep 3 (net 3); the first (smaller cut) wins ties
        assert_eq!(p.threshold, 0.6);
        assert_eq!(p.coverage, 0.5);
        assert_eq!(p.precision, 1.0);
        let all = net_correct_threshold(&[0.9, 0.5], &[true, true]);
        assert_eq!((all.threshold, all.coverage), (0.0, 1.0));
        let none = net_correct_threshold(&[0.9, 0.5], &[false, false]);
        assert_eq!((none.threshold, none.coverage), (1.0, 0.0));
        let curve = coverage_precision_curve(&conf, &ok, &[0.0, 0.5, 1.0]);
        assert_eq!(curve[0].coverage, 1.0);
        assert_eq!(curve[1].coverage, 0.5);
        assert_eq!(curve[2].coverage, 0.0);
    }

    #[test]
    fn ece_of_perfectly_calibrated_is_zero() {
        assert_eq!(
            expected_calibration_error(&[1.0, 1.0], &[true, true], 10),
            0.0
        );
        assert!((expected_calibration_error(&[1.0, 1.0], &[true, false], 10) - 0.5).abs() < 1e-9);
    }
}
