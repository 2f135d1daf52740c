//! Step 6 of the cascade, for a classifier re-fitted on labelled postings of its population
//! (`jobshift eval --labels … --recalibrate-to DIR`): the labelled postings, embedded twice —
//! by their descriptions (a kNN head in `population/`) and by their titles as written (a kNN
//! head in `population_titles/`) — each with a map from its head's top probability to how
//! often it was right on the labels (cross-fitted, [`FOLDS`] folds). At classification the
//! likelier of the two votes (by its map) speaks for the posting.
//!
//! A posting the cascade leaves unclassified takes its labelled neighbours' title when that
//! title is as likely as the classifier's own threshold asks (`min_confidence`); a posting the
//! embedding or the description classified takes it when it is likelier than the cascade's
//! answer. An exact taxonomy title (the alias step) is never moved: the neighbours' map is
//! measured only where the labels reach, and a labelled sample that missed a kind of posting
//! would otherwise pull that kind's exact titles towards the kinds it has. This is the study's loop —
//! crowd labels from the population train the classifier — for what the taxonomy alone cannot
//! carry: postings whose title field names no role ("Remote", "Multiple positions") and the
//! population's own conventions (what its labellers call a "Senior Engineer" at a start-up).
//! The titles' vote also serves populations labelled without descriptions. Labels that say no
//! title fits a posting (`none_fits`: a comment, an advert, a job the taxonomy lacks) are a
//! class of their own: where the likelier vote is "none fits", the posting keeps what the
//! cascade said, so rows like the ones labelled so are not pulled to the commonest title. Only
//! a re-fitted classifier has it; the default classifier never does.

use crate::calibrate::Isotonic;
use crate::classifier::{description_text, title_text, Classifier};
use crate::examples::EvalItem;
use crate::heads::{top_k, Head, KnnHead};
use crate::{CascadeOptions, ClassifyError};
use jobshift_core::labels::NONE_FITS;
use std::collections::HashMap;
use std::path::Path;

pub(crate) use crate::classifier::{POPULATION_DIR, POPULATION_TITLES_DIR};
/// How many labelled neighbours vote (the kNN head's `neighbours`): the one of these whose
/// cross-fit is most often right on the labels (the first on a tie).
pub const NEIGHBOURS: [usize; 4] = [5, 10, 20, 40];
/// Folds of the cross-fit that measures the neighbours' accuracy on the labels.
pub const FOLDS: usize = 5;
/// Fewest labelled postings with the text (a description, a title) worth remembering by it:
/// fewer, and the map from vote to accuracy would be noise.
pub const MIN_POSTINGS: usize = 50;

pub use crate::calibrate::PopulationInfo;

/// One of a re-fit's two votes, fitted: what it measured and its head.
pub struct NeighbourVote {
    pub info: PopulationInfo,
    head: Head,
}

/// A fitted population, ready to be written beside a re-fitted classifier: the labelled
/// postings by their descriptions and by their titles (either may be missing).
pub struct PopulationFit {
    pub descriptions: Option<NeighbourVote>,
    pub titles: Option<NeighbourVote>,
}

impl PopulationFit {
    /// Writes the heads to `dir/population/` and `dir/population_titles/`.
    pub(crate) fn save(&self, dir: &Path) -> Result<(), ClassifyError> {
        for (vote, sub) in [
            (&self.descriptions, POPULATION_DIR),
            (&self.titles, POPULATION_TITLES_DIR),
        ] {
            if let Some(v) = vote {
                v.head.save(&dir.join(sub))?;
            }
        }
        Ok(())
    }
}

/// Embeds the labelled postings' descriptions (as the description step reads them; only
/// when `opts` reads descriptions) and their titles, and fits a vote and its map on each.
/// `None` when neither text has [`MIN_POSTINGS`] labelled postings with a title the
/// classifier knows.
pub fn fit_population(
    c: &Classifier,
    items: &[EvalItem],
    opts: &CascadeOptions,
) -> Result<Option<PopulationFit>, ClassifyError> {
    // `none_fits` labels are one class past the classifier's titles
    let class_of: HashMap<&str, u32> = c
        .meta
        .classes
        .iter()
        .map(String::as_str)
        .chain([NONE_FITS])
        .enumerate()
        .map(|(i, id)| (id, i as u32))
        .collect();
    let labelled = || {
        items.iter().filter_map(|item| {
            let gold = item.gold_title.as_deref().and_then(|g| class_of.get(g))?;
            Some((item, *gold))
        })
    };
    let described: (Vec<String>, Vec<u32>) = labelled()
        .filter(|_| opts.use_description)
        .filter_map(|(item, y)| {
            let d = item
                .description
                .as_deref()
                .filter(|d| !d.trim().is_empty())?;
            Some((description_text("", d, opts.description_chars), y))
        })
        .unzip();
    let titled: (Vec<String>, Vec<u32>) = labelled()
        .filter_map(|(item, y)| Some((title_text(&item.title)?, y)))
        .unzip();
    let fit = PopulationFit {
        descriptions: fit_vote(c, &described.0, &described.1, opts)?,
        titles: fit_vote(c, &titled.0, &titled.1, opts)?,
    };
    Ok((fit.descriptions.is_some() || fit.titles.is_some()).then_some(fit))
}

/// One vote: `texts` embedded, the neighbour count chosen by the cross-fit, the map fitted on
/// it. `None` below [`MIN_POSTINGS`] texts.
fn fit_vote(
    c: &Classifier,
    texts: &[String],
    labels: &[u32],
    opts: &CascadeOptions,
) -> Result<Option<NeighbourVote>, ClassifyError> {
    if labels.len() < MIN_POSTINGS {
        return Ok(None);
    }
    let dim = c.meta.dim;
    let x = c.embed_texts(texts, opts.batch_size)?;
    // with `none_fits` labels, one class more (the last): "no title fits"
    let titles = c.meta.classes.len();
    let none_fits = labels.iter().filter(|&&l| l as usize == titles).count();
    let k = titles + usize::from(none_fits > 0);
    // the first neighbour count with the most right cross-fitted votes
    let mut best: Option<(usize, usize, Vec<f32>, Vec<bool>)> = None;
    for neighbours in NEIGHBOURS {
        let (top, right) = cross_fit(&x, dim, labels, k, neighbours)?;
        let hits = right.iter().filter(|&&r| r).count();
        if best.as_ref().is_none_or(|b| hits > b.1) {
            best = Some((neighbours, hits, top, right));
        }
    }
    let Some((neighbours, hits, top, right)) = best else {
        return Ok(None);
    };
    let accuracy = hits as f64 / right.len() as f64;
    Ok(Some(NeighbourVote {
        info: PopulationInfo {
            postings: labels.len(),
            none_fits,
            neighbours,
            map: Isotonic::fit(&top, &right),
            cross_fit_accuracy: accuracy,
        },
        head: Head::Knn(KnnHead::fit(&x, dim, labels, k, neighbours)),
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
