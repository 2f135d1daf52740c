//! Steps 5 and 6 of the cascade, for a classifier re-fitted on labelled postings of its
//! population: the population head fitted on them, or the titles those labels move.

use super::cascade::{described, title_text};
use super::{
    description_text, reason, CascadeOptions, CascadeStats, Classifier, Method, Prediction,
    TitleInput,
};
use crate::calibrate::PopulationHeadInfo;
use crate::embed_cache::EmbedCache;
use crate::heads::top_k;
use crate::population::{self, PopulationHead, RowText};
use crate::ClassifyError;
use std::collections::HashMap;

impl Classifier {
    /// What step 6's head reads of `inputs`, whose cascade answers are `preds`
    /// ([`population::HeadRows`], missing texts still zeros): the title as written, the
    /// cascade's answer as a title index (none when abstained), and the description only where
    /// the cascade abstained and may read one; a text the encoder cannot read
    /// ([`Self::can_read`]) is missing. Titles are embedded through `cache`.
    pub(crate) fn population_rows(
        &self,
        inputs: &[TitleInput<'_>],
        preds: &[&Prediction],
        opts: &CascadeOptions,
        cache: &mut EmbedCache,
    ) -> Result<population::HeadRows, ClassifyError> {
        let class_of: HashMap<&str, usize> = self
            .meta
            .classes
            .iter()
            .enumerate()
            .map(|(i, t)| (t.as_str(), i))
            .collect();
        let texts: Vec<RowText> = inputs
            .iter()
            .zip(preds)
            .map(|(input, p)| {
                let answer = (p.method != Method::Unclassified)
                    .then(|| class_of.get(p.title_id.as_str()).copied())
                    .flatten();
                // text mostly in a script the encoder cannot read has no embedding worth
                // learning from: it reads as missing, as at classification (where step 6
                // leaves `unsupported_script` postings as they are)
                RowText {
                    title: title_text(input.title).filter(|t| self.can_read(t, opts)),
                    description: answer
                        .is_none()
                        .then(|| described(input, opts))
                        .flatten()
                        .filter(|d| self.can_read(d, opts))
                        .map(|d| description_text("", d, opts.description_chars)),
                    answer,
                }
            })
            .collect();
        population::head_rows(
            self.encoder(),
            self.meta.classes.len(),
            &texts,
            opts.batch_size,
            cache,
        )
    }

    /// Step 6: the re-fit's population head reads each posting (its title, its description
    /// where the cascade abstained, the cascade's answer) and its title replaces the cascade's
    /// where [`crate::population`]'s rule says: at `min_confidence` or above for an abstention;
    /// and, only when the re-fit found the head more often right than the cascade's answers,
    /// always where the labels know the cascade's answer and where the head is likelier than
    /// the cascade for an answer they never saw. A "none fits" answer leaves the posting, and
    /// so does an abstention whose description is unlike every labelled abstention's.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn population_step(
        &self,
        population: &PopulationHead,
        info: &PopulationHeadInfo,
        inputs: &[TitleInput<'_>],
        preds: &mut [Prediction],
        cache: &mut EmbedCache,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Result<(), ClassifyError> {
        let started = std::time::Instant::now();
        // a head that may not move answers reads only the abstentions; a title in a script the
        // encoder cannot read has no embedding worth reading ([`crate::script`])
        let read: Vec<usize> = (0..preds.len())
            .filter(|&n| info.moves_answers || preds[n].method == Method::Unclassified)
            .filter(|&n| preds[n].reason != Some(reason::UNSUPPORTED_SCRIPT))
            .collect();
        if read.is_empty() {
            return Ok(());
        }
        let read_inputs: Vec<TitleInput<'_>> = read.iter().map(|&n| inputs[n]).collect();
        let read_preds: Vec<&Prediction> = read.iter().map(|&n| &preds[n]).collect();
        let mut rows = self.population_rows(&read_inputs, &read_preds, opts, cache)?;
        rows.fill_missing(&info.title_mean, &info.description_mean);
        stats.population_read += read.len();
        stats.population_described += rows.described;
        let head = &population.head;
        let p = head.predict_proba(&rows.x)?;
        let k = head.num_classes();
        let abstained: Vec<bool> = read
            .iter()
            .map(|&n| preds[n].method == Method::Unclassified)
            .collect();
        let unlike = population.unlike_labelled(&rows, &abstained, info.described_floor);
        for (j, &n) in read.iter().enumerate() {
            if info.abstained_undescribed == 0 && rows.abstained_undescribed(j) {
                continue;
            }
            if unlike[j] {
                stats.population_unlike += 1;
                continue;
            }
            let (class, prob) = top_k(&p[j * k..(j + 1) * k], 1)[0];
            let Some(title) = info.classes.get(class) else {
                continue;
            };
            if title == jobshift_core::labels::NONE_FITS {
                stats.population_none += 1;
                continue;
            }
            let pred = &mut preds[n];
            let abstained = abstained[j];
            let seen = abstained || info.titles_known.binary_search(&pred.title_id).is_ok();
            let q = match (seen, &info.unseen_map) {
                (true, _) => info.map.apply(prob),
                (false, Some(m)) => m.apply(prob),
                (false, None) => continue,
            };
            if *title == pred.title_id {
                // the head confirms an answer the labels know: its cross-fitted map is how
                // often such a confirmation was right, closer than the cascade's re-fitted
                // confidence, which was measured before the head moved the others
                if seen {
                    pred.confidence = q;
                }
                continue;
            }
            let take = if abstained {
                q >= self.meta.min_confidence
            } else {
                seen || q > pred.confidence
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
            pred.method = Method::PopulationHead;
            pred.reason = None;
            if !pred.roles.contains(title) {
                pred.roles.clear();
            }
        }
        stats.population_time += started.elapsed();
        Ok(())
    }

    /// Step 5: a predicted title that the labelled postings of a re-fit
    /// ([`crate::calibrate::Recalibration::remap`]) say is mostly another title becomes that
    /// title (in `title_id`, `best` and `roles`; `alternatives` keep the head's own scores).
    pub(super) fn remap_to_population(&self, preds: &mut [Prediction], stats: &mut CascadeStats) {
        let Some(r) = self
            .meta
            .recalibration
            .as_ref()
            .filter(|r| r.head == self.meta.head && !r.remap.is_empty())
        else {
            return;
        };
        for p in preds {
            if let Some(m) = r.remap.get(&p.best) {
                if p.title_id == p.best {
                    p.title_id = m.to.clone();
                    stats.remapped += 1;
                }
                p.best = m.to.clone();
            }
            if p.roles.iter().any(|t| r.remap.contains_key(t)) {
                let mut seen = std::collections::HashSet::new();
                p.roles = p
                    .roles
                    .iter()
                    .map(|t| r.remap.get(t).map_or(t, |m| &m.to).clone())
                    .filter(|t| seen.insert(t.clone()))
                    .collect();
            }
        }
    }
}
