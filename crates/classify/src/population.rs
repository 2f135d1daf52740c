//! Step 6 of the cascade, for a classifier re-fitted on labelled postings of its population
//! (`jobshift eval --labels … --recalibrate-to DIR`): the labelled postings' descriptions,
//! embedded, with their titles — a kNN head in `population/` — and a map from that head's
//! top probability to how often it was right on the labels (cross-fitted, [`FOLDS`] folds).
//!
//! A posting the cascade leaves unclassified takes its labelled neighbours' title when that
//! title is as likely as the classifier's own threshold asks (`min_confidence`); a posting the
//! embedding or the description classified takes it when it is likelier than the cascade's
//! answer. An exact taxonomy title (the alias step) is never moved: the neighbours' map is
//! measured only where the labels reach, and a labelled sample that missed a kind of posting
//! would otherwise pull that kind's exact titles towards the kinds it has. This is the study's loop —
//! crowd labels from the population train the classifier — for what titles alone cannot
//! carry: postings whose title field names no role ("Remote", "Multiple positions") and the
//! population's own conventions (what its labellers call a "Senior Engineer" at a start-up).
//! Only a re-fitted classifier has it; the default classifier never does.

use crate::calibrate::Isotonic;
use crate::classifier::{described, description_text, Classifier, Method, Prediction};
use crate::examples::EvalItem;
use crate::heads::{top_k, Head, KnnHead};
use crate::{CascadeOptions, CascadeStats, ClassifyError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// Where a re-fitted classifier keeps the head (under its directory).
pub(crate) const POPULATION_DIR: &str = "population";
/// How many labelled neighbours vote (the kNN head's `neighbours`): the one of these whose
/// cross-fit is most often right on the labels (the first on a tie).
pub const NEIGHBOURS: [usize; 4] = [5, 10, 20, 40];
/// Folds of the cross-fit that measures the neighbours' accuracy on the labels.
pub const FOLDS: usize = 5;
/// Fewest labelled postings with a description worth remembering: fewer, and the map from
/// vote to accuracy would be noise.
pub const MIN_POSTINGS: usize = 50;

/// What a re-fit remembers of its labelled postings (in `classifier.json`, under
/// `recalibration.population`; the head itself is in `population/`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PopulationInfo {
    /// Labelled postings with a description and a title the classifier knows.
    pub postings: usize,
    pub neighbours: usize,
    /// The head's top probability → the share of cross-fitted predictions that were right.
    pub map: Isotonic,
    /// The cross-fitted neighbours' title accuracy on the labelled postings.
    pub cross_fit_accuracy: f64,
}

/// A fitted population head, ready to be written beside a re-fitted classifier.
pub struct PopulationFit {
    pub info: PopulationInfo,
    head: Head,
}

impl PopulationFit {
    /// Writes the head to `dir/population/`.
    pub(crate) fn save(&self, dir: &Path) -> Result<(), ClassifyError> {
        self.head.save(&dir.join(POPULATION_DIR))
    }
}

/// Embeds the labelled postings' descriptions (as the description step reads them) and fits
/// the population head and its map. `None` when fewer than [`MIN_POSTINGS`] labelled postings
/// have a description and a title the classifier knows.
pub fn fit_population(
    c: &Classifier,
    items: &[EvalItem],
    opts: &CascadeOptions,
) -> Result<Option<PopulationFit>, ClassifyError> {
    let class_of: HashMap<&str, u32> = c
        .meta
        .classes
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as u32))
        .collect();
    let mut texts = Vec::new();
    let mut labels = Vec::new();
    for item in items {
        let gold = item.gold_title.as_deref().and_then(|g| class_of.get(g));
        let text = item.description.as_deref().filter(|d| !d.trim().is_empty());
        if let (Some(&y), Some(d)) = (gold, text) {
            texts.push(description_text("", d, opts.description_chars));
            labels.push(y);
        }
    }
    if labels.len() < MIN_POSTINGS {
        return Ok(None);
    }
    let dim = c.meta.dim;
    let x = c.embed_texts(&texts, opts.batch_size)?;
    let k = c.meta.classes.len();
    let mut best: Option<(usize, Vec<f32>, Vec<bool>)> = None;
    for neighbours in NEIGHBOURS {
        let (top, right) = cross_fit(&x, dim, &labels, k, neighbours)?;
        let hits = |r: &[bool]| r.iter().filter(|&&r| r).count();
        if best.as_ref().is_none_or(|b| hits(&right) > hits(&b.2)) {
            best = Some((neighbours, top, right));
        }
    }
    let Some((neighbours, top, right)) = best else {
        return Ok(None);
    };
    let accuracy = right.iter().filter(|&&r| r).count() as f64 / right.len() as f64;
    Ok(Some(PopulationFit {
        info: PopulationInfo {
            postings: labels.len(),
            neighbours,
            map: Isotonic::fit(&top, &right),
            cross_fit_accuracy: accuracy,
        },
        head: Head::Knn(KnnHead::fit(&x, dim, &labels, k, neighbours)),
    }))
}

/// Each labelled posting's neighbours' title, from a head fitted on the other folds: its top
/// probability and whether it is the label, in fold order.
fn cross_fit(
    x: &[f32],
    dim: usize,
    labels: &[u32],
    k: usize,
    neighbours: usize,
) -> Result<(Vec<f32>, Vec<bool>), ClassifyError> {
    let (mut top, mut right) = (Vec::new(), Vec::new());
    for fold in 0..FOLDS {
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..labels.len()).partition(|i| i % FOLDS != fold);
        let rows = |ix: &[usize]| -> Vec<f32> {
            ix.iter()
                .flat_map(|&i| x[i * dim..(i + 1) * dim].iter().copied())
                .collect()
        };
        let y: Vec<u32> = train.iter().map(|&i| labels[i]).collect();
        let head = Head::Knn(KnnHead::fit(&rows(&train), dim, &y, k, neighbours));
        let p = head.predict_proba(&rows(&test))?;
        for (j, &i) in test.iter().enumerate() {
            let (class, prob) = top_k(&p[j * k..(j + 1) * k], 1)[0];
            top.push(prob);
            right.push(class as u32 == labels[i]);
        }
    }
    Ok((top, right))
}

/// The population head of a re-fitted classifier directory, when it has one.
pub(crate) fn load(dir: &Path) -> Result<Option<Head>, ClassifyError> {
    let d = dir.join(POPULATION_DIR);
    if d.join("head.json").is_file() {
        Head::load(&d).map(Some)
    } else {
        Ok(None)
    }
}

/// Step 6: each prediction whose posting has a description and that the population could
/// change (abstained, or not an alias hit and less confident than the population map's best)
/// is compared with its labelled neighbours' title; see the module doc for the rule.
pub(crate) fn apply(
    c: &Classifier,
    head: &Head,
    info: &PopulationInfo,
    inputs: &[crate::TitleInput<'_>],
    preds: &mut [Prediction],
    opts: &CascadeOptions,
    stats: &mut CascadeStats,
) -> Result<(), ClassifyError> {
    let ceiling = info.map.apply(1.0);
    let (rows, texts): (Vec<usize>, Vec<String>) = inputs
        .iter()
        .zip(preds.iter())
        .enumerate()
        .filter(|(_, (_, p))| {
            p.method == Method::Unclassified
                || (p.method != Method::Alias && p.confidence < ceiling)
        })
        .filter_map(|(i, (input, _))| {
            described(input, opts).map(|d| (i, description_text("", d, opts.description_chars)))
        })
        .unzip();
    if rows.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let x = c.embed_texts(&texts, opts.batch_size)?;
    let p = head.predict_proba(&x)?;
    let k = c.meta.classes.len();
    for (j, &i) in rows.iter().enumerate() {
        let (class, prob) = top_k(&p[j * k..(j + 1) * k], 1)[0];
        let (title, q) = (&c.meta.classes[class], info.map.apply(prob));
        let pred = &mut preds[i];
        let abstained = pred.method == Method::Unclassified;
        let take = if abstained {
            q >= c.meta.min_confidence
        } else {
            q > pred.confidence && *title != pred.title_id
        };
        if !take {
            continue;
        }
        if abstained {
            stats.population_filled += 1;
            stats.unclassified -= 1;
        } else {
            stats.population_moved += 1;
        }
        pred.title_id = title.clone();
        pred.best = title.clone();
        pred.confidence = q;
        pred.method = Method::LabelledNeighbours;
        pred.reason = None;
        if !pred.roles.contains(title) {
            pred.roles.clear();
        }
    }
    stats.population_read += rows.len();
    stats.population_time += started.elapsed();
    Ok(())
}
