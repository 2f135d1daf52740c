//! Step 6 of the cascade, for a classifier re-fitted on labelled postings of its population
//! (`jobshift eval --labels … --recalibrate-to DIR`): the **population head**, a logistic
//! regression fitted on the labelled postings that reads, for one posting, what the cascade
//! answered (steps 0–4), the posting's title as written and — where the cascade abstained — its
//! description, and says which title the population's labellers would give it. It is stacking
//! in the usual sense: the cascade's answer is one of the head's inputs, so the head learns
//! where the cascade agrees with the labellers and where their conventions differ (what a
//! population calls a "Senior Software Engineer" whose posting writes React and Node), and it
//! reads the description of a posting whose title field names no role ("Remote", "Multiple
//! positions"). Its top probability goes through a map to how often it was right on the labels
//! (cross-fitted, [`FOLDS`] folds); the head is fitted to the optimum of its L2-penalized
//! log-loss ([`LogregHead::fit_converged`]), with the penalty of [`L2_PENALTIES`] whose
//! cross-fitted log-loss is lowest.
//!
//! How it decides ([`crate::Classifier::classify`]): where the cross-fitted head was not more
//! often right than the cascade's own answers on the labelled postings the cascade answered
//! (`moves_answers`: a population the cascade already answers well, such as generated
//! postings), it only fills abstentions. Otherwise a posting whose cascade answer the labels
//! know (some labelled posting was answered or labelled so) takes the head's title; one the
//! cascade left unclassified takes it when the mapped probability reaches the classifier's
//! `min_confidence`; one whose answer the labels never saw takes it only when the head,
//! measured on the cross-fitted postings whose answer the other folds never saw, is likelier
//! than the cascade's own confidence — and never when there were fewer than [`MIN_UNSEEN`] such
//! postings to measure it on: a labelled sample that missed a kind of posting must not pull
//! that kind towards the kinds it has. For the same reason an abstention whose description is
//! unlike every labelled abstention's — less similar to its nearest one than any labelled
//! abstention was to its own nearest other ([`PopulationHeadInfo::described_floor`]) — stays
//! unclassified: a comment in a thread of postings, when the labels held none, is not a
//! posting of the population's commonest title. Labels that say no title fits a posting
//! (`none_fits`: a comment, an advert, a job the taxonomy lacks) are a class of their own: where
//! the head says "none fits", the posting keeps what the cascade said. This is the study's loop
//! — crowd labels from the population train the classifier. Only a re-fitted classifier has it;
//! the default classifier never does. Measured on HN 2026 (docs/classifier-measurements.md, "labels that
//! help"); it replaced two kNN votes (by description and by title) that answered only where the
//! cascade was unsure.

use crate::calibrate::Isotonic;
use crate::embed_cache::EmbedCache;
use crate::heads::{f32_bytes, gemm_abt, l2_normalize_rows, read_f32, top_k, Head, LogregHead};
use crate::ClassifyError;
use jobshift_core::labels::NONE_FITS;
use jobshift_encode::Encoder;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

pub use crate::calibrate::PopulationHeadInfo;

/// The head's directory inside a re-fitted classifier's.
pub(crate) const POPULATION_HEAD_DIR: &str = "population_head";
/// The labelled abstentions' description embeddings (unit length, row-major, little-endian
/// f32) in [`POPULATION_HEAD_DIR`]: what an abstention's description is compared with.
const DESCRIBED_FILE: &str = "described.f32";

/// Folds of the cross-fit that measures the head on the labels and chooses its L2 penalty.
pub const FOLDS: usize = 5;
/// Fewest labelled postings worth a head: fewer, and the map from its probability to
/// accuracy would be noise.
pub const MIN_POSTINGS: usize = 50;
/// The L2 penalties the cross-fit tries (on the mean row-weighted log-loss, over inputs scaled
/// to unit-order coordinates); the one whose cross-fitted answers have the lowest weighted
/// log-loss is kept. Strong: a few hundred labels and one input slot per answer overfit
/// easily. On sixteen HN 2026 splits the log-loss kept 1 on every one; the count of right
/// answers, which chose until session 26, jumped between the grid's ends from one labelled
/// sample to the next (docs/classifier-measurements.md, "The penalty chosen by cross-fitted
/// log-loss").
pub const L2_PENALTIES: [f64; 5] = [0.3, 1.0, 3.0, 10.0, 30.0];
/// Fewest cross-fitted postings with an answer the other folds never saw before the head may
/// move such answers: without them, how often it is right there is unmeasured, and a posting
/// whose answer the labels never saw keeps it.
pub const MIN_UNSEEN: usize = 20;
/// Fewest labelled abstentions with a description before step 6 tells an abstention like them
/// from one unlike any ([`PopulationHeadInfo::described_floor`]); with fewer, the nearest
/// labelled description says little, and every abstention is read as before.
pub const MIN_DESCRIBED: usize = 10;

/// A fitted population head, ready to be written beside a re-fitted classifier.
pub struct PopulationFit {
    pub info: PopulationHeadInfo,
    head: Head,
    /// The labelled abstentions' descriptions ([`DESCRIBED_FILE`]).
    described: Vec<f32>,
}

impl PopulationFit {
    /// Writes the head and the labelled abstentions' descriptions to `dir/population_head/`.
    pub(crate) fn save(&self, dir: &Path) -> Result<(), ClassifyError> {
        let sub = dir.join(POPULATION_HEAD_DIR);
        std::fs::create_dir_all(&sub).map_err(|e| ClassifyError::io(&sub, e))?;
        self.head.save(&sub)?;
        let path = sub.join(DESCRIBED_FILE);
        jobshift_core::atomic::write_bytes(&path, &f32_bytes(&self.described))
            .map_err(|e| ClassifyError::io(&path, e))
    }
}

/// A re-fit's population head as step 6 reads it ([`crate::Classifier`] loads it): the head,
/// and the labelled abstentions' descriptions that tell an abstention like them from one
/// unlike any.
pub(crate) struct PopulationHead {
    pub head: Head,
    /// Unit vectors, `dim` wide, row-major (empty for a re-fit from before they were kept,
    /// whose `described_floor` is absent too).
    described: Vec<f32>,
}

impl PopulationHead {
    /// The head in `dir/population_head/`, or `None` when the classifier has none. `dim` is
    /// the encoder's width; `info` what the re-fit recorded: a floor without the descriptions
    /// it was measured on is an error, not a silently missing guard.
    pub(crate) fn load_if_present(
        dir: &Path,
        dim: usize,
        info: Option<&PopulationHeadInfo>,
    ) -> Result<Option<Self>, ClassifyError> {
        let sub = dir.join(POPULATION_HEAD_DIR);
        let Some(head) = Head::load_if_present(&sub)? else {
            return Ok(None);
        };
        let path = sub.join(DESCRIBED_FILE);
        let described = if path.is_file() {
            read_f32(&path)?
        } else {
            Vec::new()
        };
        let floor = info.and_then(|i| i.described_floor);
        if described.len() % dim.max(1) != 0 || (floor.is_some() && described.is_empty()) {
            return Err(ClassifyError::Format(format!(
                "{}: {} values, not the {dim}-wide descriptions the re-fit's floor was measured on; re-fit the classifier: jobshift eval --labels LABELS --recalibrate-to NEW_DIR",
                path.display(),
                described.len()
            )));
        }
        Ok(Some(Self { head, described }))
    }

    /// Which rows of `rows` step 6 must leave as the cascade had them because their
    /// description is unlike every labelled abstention's: below `floor`, of those for which
    /// `abstained` says the cascade abstained. All false without a floor.
    pub(crate) fn unlike_labelled(
        &self,
        rows: &HeadRows,
        abstained: &[bool],
        floor: Option<f32>,
    ) -> Vec<bool> {
        let mut unlike = vec![false; abstained.len()];
        let Some(floor) = floor else {
            return unlike;
        };
        let (mut asked, mut queries) = (Vec::new(), Vec::new());
        for r in (0..abstained.len()).filter(|&r| abstained[r]) {
            if let Some(d) = rows.description(r) {
                asked.push(r);
                queries.extend_from_slice(d);
            }
        }
        for (&r, s) in asked
            .iter()
            .zip(nearest_similarities(&queries, &self.described, rows.dim))
        {
            unlike[r] = s < floor;
        }
        unlike
    }
}

/// For each of `queries` (row-major, `dim` wide, any length), its cosine with the nearest of
/// `refs` (unit vectors, `dim` wide); −∞ when there are none.
fn nearest_similarities(queries: &[f32], refs: &[f32], dim: usize) -> Vec<f32> {
    let n = queries.len() / dim.max(1);
    let m = refs.len() / dim.max(1);
    if m == 0 {
        return vec![f32::NEG_INFINITY; n];
    }
    let mut q = queries.to_vec();
    l2_normalize_rows(&mut q, dim);
    let mut s = vec![0f32; n * m];
    gemm_abt(&mut s, &q, refs, dim, 1);
    s.chunks(m)
        .map(|r| r.iter().copied().fold(f32::NEG_INFINITY, f32::max))
        .collect()
}

/// The floor for [`PopulationHeadInfo::described_floor`] over the labelled abstentions'
/// descriptions `refs` (unit vectors, `dim` wide) labelled `titles`: the lowest cosine of any
/// of them with its nearest other — the least typical labelled abstention still counts as like
/// the labels — but never above the median cosine of one with its nearest of another title:
/// a posting as like a labelled one as the population's different jobs are to each other is
/// one of its postings, even where the labels are near-copies of a few templates. `None` below
/// [`MIN_DESCRIBED`].
fn described_floor(refs: &[f32], titles: &[&str], dim: usize) -> Option<f32> {
    let n = refs.len() / dim.max(1);
    if n < MIN_DESCRIBED {
        return None;
    }
    let mut s = vec![0f32; n * n];
    gemm_abt(&mut s, refs, refs, dim, 1);
    let nearest = |i: usize, other_title: bool| {
        (0..n)
            .filter(|&j| j != i && (!other_title || titles[j] != titles[i]))
            .map(|j| s[i * n + j])
            .fold(f32::NEG_INFINITY, f32::max)
    };
    let least_typical = (0..n)
        .map(|i| nearest(i, false))
        .fold(f32::INFINITY, f32::min);
    let mut across: Vec<f32> = (0..n)
        .map(|i| nearest(i, true))
        .filter(|v| v.is_finite())
        .collect();
    across.sort_by(f32::total_cmp);
    Some(match across.get(across.len().saturating_sub(1) / 2) {
        Some(&median) => least_typical.min(median),
        None => least_typical,
    })
}

/// The head's input width for a classifier with `dim`-wide embeddings and `titles` titles: the
/// title as written, the description, the cascade's answer (one slot per title, the last
/// "abstained").
fn width(dim: usize, titles: usize) -> usize {
    2 * dim + titles + 1
}

/// The head's input rows for some postings: `[title as written | description where the cascade
/// abstained | the answer, one-hot]`, and which rows lack a text they should have (a blank
/// title; an abstention without a description), to be filled by [`HeadRows::fill_missing`].
pub(crate) struct HeadRows {
    /// Row-major, `width` values a row.
    pub x: Vec<f32>,
    width: usize,
    /// The embeddings' width (the title and description parts are each this wide).
    dim: usize,
    has_title: Vec<bool>,
    has_description: Vec<bool>,
    /// Abstentions without a description (the description part is what they lack).
    abstained_undescribed: Vec<bool>,
    /// Descriptions embedded.
    pub described: usize,
}

impl HeadRows {
    /// Whether row `r` is an abstention without a description.
    pub(crate) fn abstained_undescribed(&self, r: usize) -> bool {
        self.abstained_undescribed[r]
    }

    /// Row `r`'s description embedding, when it has one (only abstentions do).
    fn description(&self, r: usize) -> Option<&[f32]> {
        let (w, dim) = (self.width, self.dim);
        self.has_description[r].then(|| &self.x[r * w + dim..r * w + 2 * dim])
    }

    /// The title part's and the description part's means over the rows that have them (empty
    /// where none has).
    fn means(&self) -> (Vec<f32>, Vec<f32>) {
        let (w, dim) = (self.width, self.dim);
        let mean = |part: usize, has: &[bool]| -> Vec<f32> {
            let rows: Vec<&[f32]> = self
                .x
                .chunks(w)
                .zip(has)
                .filter(|(_, &h)| h)
                .map(|(r, _)| r)
                .collect();
            if rows.is_empty() {
                return Vec::new();
            }
            (0..dim)
                .map(|j| {
                    let sum: f64 = rows.iter().map(|r| f64::from(r[part * dim + j])).sum();
                    (sum / rows.len() as f64) as f32
                })
                .collect()
        };
        (mean(0, &self.has_title), mean(1, &self.has_description))
    }

    /// Fills the texts a row lacks with the labelled postings' mean of that part: a zero
    /// vector is not "no information" to a linear head (its intercept is fitted with the
    /// texts present), the mean is.
    pub(crate) fn fill_missing(&mut self, title_mean: &[f32], description_mean: &[f32]) {
        let (w, dim) = (self.width, self.dim);
        for (r, row) in self.x.chunks_mut(w).enumerate() {
            if !self.has_title[r] && title_mean.len() == dim {
                row[..dim].copy_from_slice(title_mean);
            }
            if self.abstained_undescribed[r] && description_mean.len() == dim {
                row[dim..2 * dim].copy_from_slice(description_mean);
            }
        }
    }
}

/// What the head reads of one posting: its title as written (`None` when blank), its
/// description where the cascade abstained (the text the description step embeds; `None`
/// otherwise or when it has none), and the cascade's answer as a title index (`None`:
/// abstained). The classifier prepares them ([`crate::Classifier`]'s step 6).
pub(crate) struct RowText {
    pub title: Option<String>,
    pub description: Option<String>,
    pub answer: Option<usize>,
}

/// The head's input rows for postings read as `texts`, for a classifier with `titles` titles
/// ([`HeadRows`], missing texts still zeros). Titles go through `title_cache` (the caller's
/// cache: each distinct title embedded once); descriptions are embedded here.
pub(crate) fn head_rows(
    encoder: &dyn Encoder,
    titles: usize,
    texts: &[RowText],
    batch: usize,
    title_cache: &mut EmbedCache,
) -> Result<HeadRows, ClassifyError> {
    let dim = encoder.dim();
    let w = width(dim, titles);
    // `ensure` embeds each distinct text once
    let t_refs: Vec<&str> = texts.iter().filter_map(|t| t.title.as_deref()).collect();
    title_cache.ensure(encoder, &t_refs, batch, &mut |_, _| {})?;
    // descriptions in a cache of this call's own (they would swell the caller's title cache)
    let d_refs: Vec<&str> = texts
        .iter()
        .filter_map(|t| t.description.as_deref())
        .collect();
    let mut descriptions = EmbedCache::new(dim);
    descriptions.ensure(encoder, &d_refs, batch, &mut |_, _| {})?;
    let missing = |t: &str| ClassifyError::Predict(format!("text {t:?} was not embedded"));
    let mut rows = HeadRows {
        x: vec![0f32; texts.len() * w],
        width: w,
        dim,
        has_title: texts.iter().map(|t| t.title.is_some()).collect(),
        has_description: texts.iter().map(|t| t.description.is_some()).collect(),
        abstained_undescribed: texts
            .iter()
            .map(|t| t.answer.is_none() && t.description.is_none())
            .collect(),
        described: 0,
    };
    for (text, row) in texts.iter().zip(rows.x.chunks_mut(w)) {
        if let Some(t) = &text.title {
            row[..dim].copy_from_slice(title_cache.get(t).ok_or_else(|| missing(t))?);
        }
        if let Some(d) = &text.description {
            row[dim..2 * dim].copy_from_slice(descriptions.get(d).ok_or_else(|| missing(d))?);
            rows.described += 1;
        }
        row[2 * dim + text.answer.unwrap_or(titles)] = 1.0;
    }
    Ok(rows)
}

/// Fits the population head on labelled postings already read into `rows`, whose labels are
/// `golds` (titles the classifier knows, or `none_fits`) and whose cascade answers are
/// `answered` (`None`: abstained): fills the texts rows lack, chooses the L2 penalty and fits
/// the maps by the cross-fit, then fits the head on all of them. [`crate::fit_population`]
/// runs the cascade, reads the rows and asks for [`MIN_POSTINGS`] labelled postings first.
pub(crate) fn fit_head(
    mut rows: HeadRows,
    golds: &[&str],
    answered: &[Option<&str>],
) -> Result<Option<PopulationFit>, ClassifyError> {
    let (title_mean, description_mean) = rows.means();
    // the labelled abstentions' descriptions, which an abstention to fill must resemble
    let (mut described_refs, mut described_titles) = (Vec::new(), Vec::new());
    for (r, &gold) in golds.iter().enumerate() {
        if let Some(d) = rows.description(r) {
            described_refs.extend_from_slice(d);
            described_titles.push(gold);
        }
    }
    l2_normalize_rows(&mut described_refs, rows.dim);
    let described_floor = described_floor(&described_refs, &described_titles, rows.dim);
    rows.fill_missing(&title_mean, &description_mean);
    let abstained_undescribed = rows.abstained_undescribed.iter().filter(|&&a| a).count();
    let (x, described, dim) = (rows.x, rows.described, rows.width);
    // the head's classes: the labelled titles in id order (`none_fits` among them)
    let classes: Vec<String> = golds
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(str::to_string)
        .collect();
    let class_of: HashMap<&str, u32> = classes
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i as u32))
        .collect();
    let y: Vec<u32> = golds.iter().map(|g| class_of[g]).collect();
    let k = classes.len();
    let weights = row_weights(&y, k);
    // the penalty whose cross-fitted answers have the lowest weighted log-loss
    let mut best: Option<(f64, f64, CrossFit)> = None;
    // strongest penalty first, each fold's fit starting from its optimum for the stronger
    // penalty before (a regularization path: the same optima in fewer steps); a tie goes to
    // the weaker penalty, as if the grid were walked upward keeping the first
    let mut fold_heads: Vec<Option<LogregHead>> = vec![None; FOLDS];
    for &l2 in L2_PENALTIES.iter().rev() {
        let fit = cross_fit(
            &x,
            dim,
            &y,
            &weights,
            k,
            l2,
            &mut fold_heads,
            answered,
            golds,
        )?;
        let loss = fit.loss.iter().sum::<f64>() / fit.loss.len().max(1) as f64;
        if best.as_ref().is_none_or(|b| loss <= b.1) {
            best = Some((l2, loss, fit));
        }
    }
    let Some((l2_penalty, cross_fit_log_loss, fit)) = best else {
        return Ok(None);
    };
    let hits = fit.right.iter().filter(|&&r| r).count();
    // each map is anchored at chance: a head whose answer is as likely as any other (top
    // probability 1/k) counts once as wrong, so that a head measured only where it was sure
    // does not map its doubts to certainty (isotonic maps hold their end values outside the
    // fitted range)
    let map_of = |unseen: bool| {
        let (mut top, mut right): (Vec<f32>, Vec<bool>) = fit
            .top
            .iter()
            .zip(&fit.right)
            .zip(&fit.unseen)
            .filter(|(_, &u)| u == unseen)
            .map(|((&t, &r), _)| (t, r))
            .unzip();
        let measured = top.len();
        top.push(1.0 / k as f32);
        right.push(false);
        (measured, Isotonic::fit(&top, &right))
    };
    let (_, map) = map_of(false);
    let (unseen_answers, unseen_map) = map_of(true);
    let cascade_right = (0..golds.len())
        .filter(|&i| answered[i] == Some(golds[i]))
        .count();
    // on the postings the cascade answered (labelled with a title: a "none fits" answer from
    // the head leaves an answer as it is): is the head more often right than the answers?
    let moved_if_wrong = |i: usize| answered[i].is_some() && golds[i] != NONE_FITS;
    let answered_count = (0..golds.len()).filter(|&i| moved_if_wrong(i)).count();
    let head_right_on_answered = fit
        .index
        .iter()
        .zip(&fit.right)
        .filter(|(&i, &r)| r && moved_if_wrong(i))
        .count();
    let share = |n: usize| n as f64 / answered_count.max(1) as f64;
    let titles_known: BTreeSet<String> = answered
        .iter()
        .flatten()
        .chain(golds.iter().filter(|g| **g != NONE_FITS))
        .map(|t| t.to_string())
        .collect();
    let head = LogregHead::fit_converged(&x, dim, &y, &weights, k, l2_penalty, None)?;
    Ok(Some(PopulationFit {
        info: PopulationHeadInfo {
            postings: golds.len(),
            none_fits: golds.iter().filter(|g| **g == NONE_FITS).count(),
            described,
            abstained_undescribed,
            classes,
            titles_known: titles_known.into_iter().collect(),
            l2_penalty,
            title_mean,
            description_mean,
            described_floor,
            map,
            unseen_answers,
            unseen_map: (unseen_answers >= MIN_UNSEEN).then_some(unseen_map),
            cross_fit_accuracy: hits as f64 / fit.right.len() as f64,
            cross_fit_log_loss,
            cascade_accuracy: cascade_right as f64 / golds.len() as f64,
            answered: answered_count,
            answered_cross_fit_accuracy: share(head_right_on_answered),
            answered_cascade_accuracy: share(cascade_right),
            moves_answers: head_right_on_answered > cascade_right,
        },
        head: Head::Logreg(head),
        described: described_refs,
    }))
}

/// Each labelled posting's weight in the fit: its title's count to the power −1/2 (scaled to
/// mean 1), halfway between counting every posting once — which, with the strong penalty the
/// cross-fit picks, pulls a population's rarer titles into its commonest (on HN 2026, every
/// frontend and data engineer to software engineer) — and weighting every title alike, which
/// costs the common titles more than it gives the rare ones.
fn row_weights(y: &[u32], k: usize) -> Vec<f32> {
    let mut count = vec![0usize; k];
    for &c in y {
        count[c as usize] += 1;
    }
    let raw: Vec<f64> = y
        .iter()
        .map(|&c| (count[c as usize] as f64).powf(-0.5))
        .collect();
    let mean = raw.iter().sum::<f64>() / raw.len().max(1) as f64;
    raw.iter().map(|w| (w / mean) as f32).collect()
}

/// The cross-fit's record, one entry per labelled posting in fold order: the head's top
/// probability, whether it was the label, and whether the posting's cascade answer was unseen
/// by the other folds (answered or labelled so by none of them).
struct CrossFit {
    /// The labelled posting of each entry.
    index: Vec<usize>,
    /// The posting's weighted log-loss: −ln p(label) × its row weight.
    loss: Vec<f64>,
    top: Vec<f32>,
    right: Vec<bool>,
    unseen: Vec<bool>,
}

/// Each labelled posting's answer from a head fitted on the other folds ([`CrossFit`]).
/// `answered` and `golds` are the postings' cascade answers and labels; `fold_heads`, one per
/// fold ([`FOLDS`]), holds each fold's last fitted head, where its next fit starts, and
/// receives this fit's.
#[allow(clippy::too_many_arguments)]
fn cross_fit(
    x: &[f32],
    dim: usize,
    labels: &[u32],
    row_weights: &[f32],
    k: usize,
    l2_penalty: f64,
    fold_heads: &mut [Option<LogregHead>],
    answered: &[Option<&str>],
    golds: &[&str],
) -> Result<CrossFit, ClassifyError> {
    let mut fit = CrossFit {
        index: Vec::new(),
        loss: Vec::new(),
        top: Vec::new(),
        right: Vec::new(),
        unseen: Vec::new(),
    };
    for (fold, fold_head) in fold_heads.iter_mut().enumerate() {
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..labels.len()).partition(|i| i % FOLDS != fold);
        let rows = |ix: &[usize]| -> Vec<f32> {
            ix.iter()
                .flat_map(|&i| x[i * dim..(i + 1) * dim].iter().copied())
                .collect()
        };
        let seen: BTreeSet<&str> = train
            .iter()
            .flat_map(|&i| answered[i].into_iter().chain([golds[i]]))
            .collect();
        let y: Vec<u32> = train.iter().map(|&i| labels[i]).collect();
        let weights: Vec<f32> = train.iter().map(|&i| row_weights[i]).collect();
        let head = LogregHead::fit_converged(
            &rows(&train),
            dim,
            &y,
            &weights,
            k,
            l2_penalty,
            fold_head.as_ref(),
        )?;
        let p = head.predict_proba(&rows(&test))?;
        for (j, &i) in test.iter().enumerate() {
            let (class, prob) = top_k(&p[j * k..(j + 1) * k], 1)[0];
            fit.index.push(i);
            let p_label = f64::from(p[j * k + labels[i] as usize]).max(1e-12);
            fit.loss.push(-p_label.ln() * f64::from(row_weights[i]));
            fit.top.push(prob);
            fit.right.push(class as u32 == labels[i]);
            fit.unseen
                .push(answered[i].is_some_and(|a| !seen.contains(a)));
        }
        *fold_head = Some(head);
    }
    Ok(fit)
}

#[cfg(test)]
mod tests {
    use super::{
        described_floor, fit_head, nearest_similarities, row_weights, width, HeadRows,
        L2_PENALTIES, MIN_DESCRIBED,
    };
    use rand::{Rng, SeedableRng};

    /// 200 labelled abstentions over `dim`-wide random texts (3 titles known to the
    /// classifier), labelled "a" or "b" by `label` of the title text.
    fn labelled_rows(
        dim: usize,
        mut label: impl FnMut(&[f32]) -> bool,
    ) -> (HeadRows, Vec<&'static str>) {
        let (n, titles) = (200, 3);
        let w = width(dim, titles);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut x = vec![0f32; n * w];
        let mut golds = Vec::new();
        for row in x.chunks_mut(w) {
            for v in &mut row[..2 * dim] {
                *v = rng.random_range(-1.0..1.0);
            }
            row[2 * dim + titles] = 1.0; // abstained
            golds.push(if label(&row[..dim]) { "a" } else { "b" });
        }
        let rows = HeadRows {
            x,
            width: w,
            dim,
            has_title: vec![true; n],
            has_description: vec![true; n],
            abstained_undescribed: vec![false; n],
            described: n,
        };
        (rows, golds)
    }

    #[test]
    fn the_penalty_is_the_one_whose_cross_fitted_log_loss_is_lowest() {
        // labels the texts do not predict (by a coin of their own): the strongest penalty,
        // whose head says least, has the lowest log-loss — a count of right answers is a coin
        let mut coin = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (rows, golds) = labelled_rows(4, |_| coin.random_bool(0.5));
        let fit = fit_head(rows, &golds, &[None; 200]).unwrap().unwrap();
        assert_eq!(fit.info.l2_penalty, L2_PENALTIES[4], "{:?}", fit.info);
        // near ln 2 for two even classes, and recorded
        assert!(
            (fit.info.cross_fit_log_loss - 2f64.ln()).abs() < 0.05,
            "{:?}",
            fit.info
        );
        // labels the first coordinate decides: the head learns them, at a weaker penalty
        let (rows, golds) = labelled_rows(4, |t| t[0] > 0.0);
        let fit = fit_head(rows, &golds, &[None; 200]).unwrap().unwrap();
        assert!(fit.info.l2_penalty < L2_PENALTIES[4], "{:?}", fit.info);
        assert!(fit.info.cross_fit_accuracy > 0.8, "{:?}", fit.info);
        assert!(fit.info.cross_fit_log_loss < 0.6, "{:?}", fit.info);
    }

    /// The unit vector at `degrees` in the plane of the first two axes of 3.
    fn at(degrees: f32) -> [f32; 3] {
        let r = degrees.to_radians();
        [r.cos(), r.sin(), 0.0]
    }

    #[test]
    fn the_floor_is_the_least_typical_descriptions_nearest_other() {
        // eleven descriptions 2° apart, and one 30° past the last of them
        let mut refs: Vec<f32> = (0..11).flat_map(|i| at(2.0 * i as f32)).collect();
        refs.extend(at(50.0));
        let one_title = ["cook"; 12];
        let floor = described_floor(&refs, &one_title, 3).expect("12 described abstentions");
        assert!((floor - 30f32.to_radians().cos()).abs() < 1e-5, "{floor}");
        // too few to say what is typical
        let few = 3 * (MIN_DESCRIBED - 1);
        assert_eq!(described_floor(&refs[..few], &one_title, 3), None);
        // two titles of near-copies, 1° apart within a title and 60°–65° from the nearest of
        // the other title (six of each; of the middle two cosines the lower, 63°): the floor is
        // how near the titles come, not how near the copies are
        let copies: Vec<f32> = (0..6)
            .flat_map(|i| at(i as f32))
            .chain((0..6).flat_map(|i| at(65.0 + i as f32)))
            .collect();
        let titles = [["cook"; 6], ["nurse"; 6]].concat();
        let floor = described_floor(&copies, &titles, 3).unwrap();
        assert!((floor - 63f32.to_radians().cos()).abs() < 1e-5, "{floor}");
    }

    #[test]
    fn a_query_is_measured_against_its_nearest_description_at_any_length() {
        let refs: Vec<f32> = [at(0.0), at(90.0)].concat();
        // 10° from the first, five times unit length; 45° from both; the third axis
        let queries = [5.0 * at(10.0)[0], 5.0 * at(10.0)[1], 0.0]
            .into_iter()
            .chain(at(45.0))
            .chain([0.0, 0.0, 1.0])
            .collect::<Vec<f32>>();
        let s = nearest_similarities(&queries, &refs, 3);
        let want = [10f32.to_radians().cos(), 45f32.to_radians().cos(), 0.0];
        assert!(
            s.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-5),
            "{s:?}"
        );
        // no labelled descriptions: nothing is like them
        assert_eq!(
            nearest_similarities(&queries, &[], 3),
            [f32::NEG_INFINITY; 3]
        );
    }

    #[test]
    fn a_rarer_title_weighs_more_per_posting_and_less_in_all() {
        // 16 postings of title 0, 4 of title 1, 1 of title 2
        let y: Vec<u32> = [vec![0; 16], vec![1; 4], vec![2]].concat();
        let w = row_weights(&y, 3);
        let mean = w.iter().sum::<f32>() / w.len() as f32;
        assert!((mean - 1.0).abs() < 1e-5, "scaled to mean 1: {mean}");
        // per posting: 1/4, 1/2, 1 (before scaling) — twice as much for a quarter the count
        assert!((w[16] / w[0] - 2.0).abs() < 1e-5 && (w[20] / w[16] - 2.0).abs() < 1e-5);
        // per title: the common title still weighs most in all (16/4 = 4 against 4/2 = 2 and 1)
        let total = |c: u32| -> f32 {
            y.iter()
                .zip(&w)
                .filter(|(l, _)| **l == c)
                .map(|(_, w)| w)
                .sum()
        };
        assert!(total(0) > total(1) && total(1) > total(2));
    }
}
