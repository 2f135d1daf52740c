//! Re-fitting a classifier's confidence on labelled postings of the population it classifies
//! (`jobshift eval --labels … --recalibrate-to DIR`): [`fit_recalibration`] fits the map
//! ([`crate::calibrate::Recalibration`]) from evaluation outcomes, and
//! [`write_recalibrated_classifier`] writes a copy of the classifier directory that uses it.
//! [`fit_remap`] finds the predicted titles the labels say are mostly another title on this
//! population, and [`fit_population`] fits the population head (step 6 of the cascade,
//! [`crate::population`]) on them.

use crate::calibrate::{Isotonic, Recalibration, TitleRemap};
use crate::classifier::{
    CascadeOptions, CascadeStats, Classifier, ClassifierMeta, Method, TitleInput,
};
use crate::eval::Outcome;
use crate::examples::EvalItem;
use crate::heads::HeadKind;
use crate::population::{self, PopulationFit};
use crate::ClassifyError;
use jobshift_core::labels::NONE_FITS;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// How many more of the labelled postings predicted as a title must carry another title than
/// the title itself before [`fit_remap`] moves it (the prediction's prior weight, in postings).
/// Four, not two: with two, a title moved on two or three labels ("2 of 3 predicted
/// `devops_engineer` were labelled `software_engineer`"), which erased titles a population has
/// (on HN 2026 the mean per-role agreement fell from 0.54 to 0.37); four asks for about what a
/// one-sided sign test at 10 % asks of small counts (docs/classifier.md, the remap).
pub(crate) const REMAP_MARGIN: usize = 4;

/// The predicted titles that the labelled postings say are mostly another title on this
/// population, from the outcomes of the classified (not abstained) labelled postings with a
/// gold title: title `p` goes to `g` when, of the postings predicted `p`, at least
/// [`REMAP_MARGIN`] more were labelled `g` than `p` itself, and `g` is at least half of them —
/// the most probable title given the prediction, by the labels, with a prior that favours the
/// prediction (the Bayes decision with the labelled shares as the estimate). Ties go to the
/// smaller title id, so the result does not depend on the outcomes' order.
pub(crate) fn fit_remap(outcomes: &[Outcome]) -> BTreeMap<String, TitleRemap> {
    let mut counts: HashMap<&str, BTreeMap<&str, usize>> = HashMap::new();
    for o in outcomes.iter().filter(|o| o.method != Method::Unclassified) {
        if let Some(g) = &o.gold {
            *counts
                .entry(o.best.as_str())
                .or_default()
                .entry(g.as_str())
                .or_default() += 1;
        }
    }
    let mut remap = BTreeMap::new();
    for (predicted, golds) in counts {
        let n: usize = golds.values().sum();
        let same = golds.get(predicted).copied().unwrap_or(0);
        // the most frequent other gold title, the smaller id on a tie
        let best_other = golds
            .iter()
            .filter(|(g, _)| **g != predicted)
            .max_by_key(|(g, k)| (**k, std::cmp::Reverse(**g)));
        if let Some((to, &k)) = best_other {
            if k >= same + REMAP_MARGIN && 2 * k >= n {
                remap.insert(
                    predicted.to_string(),
                    TitleRemap {
                        to: to.to_string(),
                        predicted: n,
                        labelled_to: k,
                        labelled_same: same,
                    },
                );
            }
        }
    }
    remap
}

/// Fit a [`Recalibration`] from a classifier's outcomes on labelled postings (evaluated
/// *without* any previous recalibration). A prediction is right when it is exactly the labelled
/// title (or, for sets without exact titles, by the evaluation's rule), after `remap` (the
/// titles it moves are judged as moved). Returns the map with the new alias confidence (its
/// accuracy on the labels, Laplace-smoothed) and the new `min_confidence` (the old threshold
/// through the map). Fewer than `MIN_RECALIBRATION` non-alias predictions is an error: the map
/// would be noise.
pub(crate) fn fit_recalibration(
    head: HeadKind,
    alias_confidence_before: f32,
    min_confidence_before: f32,
    outcomes: &[Outcome],
    labels: Vec<String>,
    remap: BTreeMap<String, TitleRemap>,
) -> Result<(Recalibration, f32, f32), String> {
    let ok = |o: &Outcome| match (&o.gold, remap.get(&o.best)) {
        (Some(g), Some(r)) => *g == r.to,
        _ => o.exact.unwrap_or(o.right),
    };
    let (mut conf, mut right) = (Vec::new(), Vec::new());
    let (mut alias_hits, mut alias_right) = (0usize, 0usize);
    for o in outcomes {
        if o.method == Method::Alias {
            alias_hits += 1;
            alias_right += usize::from(ok(o));
        } else {
            conf.push(o.confidence);
            right.push(ok(o));
        }
    }
    if conf.len() < MIN_RECALIBRATION {
        return Err(format!(
            "{} labelled postings reached the embedding steps; at least {MIN_RECALIBRATION} are needed to re-fit confidence (label more postings)",
            conf.len()
        ));
    }
    let map = Isotonic::fit(&conf, &right);
    let alias = if alias_hits == 0 {
        alias_confidence_before
    } else {
        (alias_right as f32 + 1.0) / (alias_hits as f32 + 2.0)
    };
    let min = map.apply(min_confidence_before);
    Ok((
        Recalibration {
            map,
            head,
            examples: outcomes.len(),
            labels,
            alias_confidence_before,
            min_confidence_before,
            remap,
            population_head: None,
        },
        alias,
        min,
    ))
}

/// Fits the population head (step 6, [`crate::population`]) on the labelled postings `items`
/// (gold titles the classifier knows, and `none_fits`): runs the cascade (steps 0–4, as `c`
/// classifies them without a re-fit) on them for its answers, reads their rows, and fits the
/// head and its maps ([`population::fit_head`]). `None` below [`population::MIN_POSTINGS`]
/// labelled postings.
pub fn fit_population(
    c: &Classifier,
    items: &[EvalItem],
    opts: &CascadeOptions,
) -> Result<Option<PopulationFit>, ClassifyError> {
    let known: BTreeSet<&str> = c.meta.classes.iter().map(String::as_str).collect();
    let labelled: Vec<(&EvalItem, &str)> = items
        .iter()
        .filter_map(|item| {
            let gold = item.gold_title.as_deref()?;
            (known.contains(gold) || gold == NONE_FITS).then_some((item, gold))
        })
        .collect();
    if labelled.len() < population::MIN_POSTINGS {
        return Ok(None);
    }
    let inputs: Vec<TitleInput<'_>> = labelled
        .iter()
        .map(|(item, _)| TitleInput {
            title: &item.title,
            description: item.description.as_deref(),
        })
        .collect();
    let mut cache = c.new_cache();
    let mut stats = CascadeStats::default();
    let preds = c.cascade(&inputs, &mut cache, opts, &mut stats)?;
    let rows = c.population_rows(&inputs, &preds.iter().collect::<Vec<_>>(), opts, &mut cache)?;
    // what each labelled posting's answer was (`None`: abstained)
    let answered: Vec<Option<&str>> = preds
        .iter()
        .map(|p| (p.method != Method::Unclassified).then_some(p.title_id.as_str()))
        .collect();
    let golds: Vec<&str> = labelled.iter().map(|(_, g)| *g).collect();
    population::fit_head(rows, &golds, &answered)
}

/// Copy the classifier directory `src` to the new directory `to` with its confidence re-fitted
/// on labelled outcomes ([`fit_recalibration`]) and, with `remap`, the predicted titles the
/// labels say are mostly another title moved to it ([`fit_remap`]). The outcomes must come from
/// `head`, the directory's chosen head, evaluated without an earlier re-fit. With `population`
/// ([`fit_population`]) the copy also holds the population head (step 6 of
/// the cascade). Returns the written metadata.
pub fn write_recalibrated_classifier(
    src: &std::path::Path,
    to: &std::path::Path,
    head: HeadKind,
    outcomes: &[Outcome],
    labels: Vec<String>,
    remap: bool,
    population: Option<&PopulationFit>,
) -> Result<ClassifierMeta, crate::ClassifyError> {
    if std::fs::read_dir(to).is_ok_and(|mut d| d.next().is_some()) {
        return Err(ClassifyError::Format(format!(
            "{} exists and is not empty; choose a new directory",
            to.display()
        )));
    }
    let mut meta = ClassifierMeta::read(src)?;
    if meta.head != head {
        return Err(ClassifyError::Format(format!(
            "re-fitting applies to the classifier's chosen head ({}), not {}; drop --head",
            meta.head.as_str(),
            head.as_str()
        )));
    }
    let (mut recal, alias, min) = fit_recalibration(
        meta.head,
        meta.alias_confidence,
        meta.min_confidence,
        outcomes,
        labels,
        if remap {
            fit_remap(outcomes)
        } else {
            BTreeMap::new()
        },
    )
    .map_err(ClassifyError::Format)?;
    // an earlier re-fit's population head (or older labelled neighbours) is not this one's
    let skip = |n: &str| {
        n.starts_with(".tmp-")
            || n == population::POPULATION_HEAD_DIR
            || crate::classifier::LEGACY_POPULATION_DIRS.contains(&n)
    };
    crate::copy_dir(src, to, &skip)?;
    if let Some(p) = population {
        p.save(to)?;
        recal.population_head = Some(p.info.clone());
    }
    meta.alias_confidence = alias;
    meta.min_confidence = min;
    if let Some(n) = to.file_name() {
        meta.name = n.to_string_lossy().to_string();
    }
    meta.recalibration = Some(recal);
    meta.write(to)?;
    Ok(meta)
}

/// Fewest non-alias labelled predictions [`fit_recalibration`] accepts.
pub(crate) const MIN_RECALIBRATION: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recalibration_maps_over_confidence_to_measured_accuracy() {
        // an over-confident classifier: says 0.9 but is right 30 % of the time; its alias step
        // is right 50 % of the time though it claims 0.95
        let mut outcomes = Vec::new();
        for i in 0..1000 {
            outcomes.push(Outcome {
                confidence: 0.9,
                method: Method::TitleEmbedding,
                best: "a".into(),
                gold: None,
                right: true, // the lenient rule says right; the exact title decides
                exact: Some(i % 10 < 3),
            });
        }
        for i in 0..200 {
            outcomes.push(Outcome {
                confidence: 0.95,
                method: Method::Alias,
                best: "b".into(),
                gold: None,
                right: i % 2 == 0,
                exact: Some(i % 2 == 0),
            });
        }
        let (r, alias, min) = fit_recalibration(
            crate::heads::HeadKind::Knn,
            0.95,
            0.5,
            &outcomes,
            vec![],
            BTreeMap::new(),
        )
        .unwrap();
        assert!(
            (r.map.apply(0.9) - 0.3).abs() < 0.01,
            "{}",
            r.map.apply(0.9)
        );
        assert!((alias - 0.5).abs() < 0.01, "{alias}");
        assert!(min <= r.map.apply(0.9), "threshold carried through the map");
        assert_eq!(r.examples, 1200);
        // too few non-alias predictions: refused, not fitted on noise
        assert!(fit_recalibration(
            crate::heads::HeadKind::Knn,
            0.95,
            0.5,
            &outcomes[..50],
            vec![],
            BTreeMap::new(),
        )
        .is_err());
    }

    fn outcome(best: &str, gold: &str, method: Method) -> Outcome {
        Outcome {
            confidence: 0.8,
            method,
            best: best.into(),
            gold: Some(gold.into()),
            right: best == gold,
            exact: Some(best == gold),
        }
    }

    #[test]
    fn a_title_the_labels_mostly_call_another_is_remapped_when_enough_say_so() {
        let mut o = Vec::new();
        // predicted backend 9 times: 6 labelled software, 2 backend, 1 data
        for g in [
            "software", "software", "software", "software", "software", "software", "backend",
        ] {
            o.push(outcome("backend", g, Method::TitleEmbedding));
        }
        o.push(outcome("backend", "backend", Method::Alias));
        o.push(outcome("backend", "data", Method::Description));
        // predicted software 6 times, always right: stays
        for _ in 0..6 {
            o.push(outcome("software", "software", Method::Alias));
        }
        // predicted mobile once, labelled software: one label is too few to move it
        o.push(outcome("mobile", "software", Method::TitleEmbedding));
        // predicted qa 7 times: 5 software, 2 qa: not enough more than itself
        for g in [
            "software", "qa", "software", "software", "qa", "software", "software",
        ] {
            o.push(outcome("qa", g, Method::TitleEmbedding));
        }
        // predicted frontend 6 times, spread: no title has half of them
        for g in ["a", "b", "c", "a", "b", "frontend"] {
            o.push(outcome("frontend", g, Method::TitleEmbedding));
        }
        // abstentions never count
        for _ in 0..10 {
            o.push(outcome("sales", "software", Method::Unclassified));
        }
        let remap = fit_remap(&o);
        assert_eq!(remap.keys().collect::<Vec<_>>(), ["backend"], "{remap:?}");
        let r = &remap["backend"];
        assert_eq!(
            (r.to.as_str(), r.predicted, r.labelled_to, r.labelled_same),
            ("software", 9, 6, 2)
        );
        // the same outcomes in another order give the same remap
        o.reverse();
        assert_eq!(fit_remap(&o), remap);
        // a tie between two other titles goes to the smaller id
        let tie: Vec<Outcome> = ["y", "x", "y", "x", "x", "y", "x", "y"]
            .iter()
            .map(|g| outcome("p", g, Method::TitleEmbedding))
            .collect();
        assert_eq!(fit_remap(&tie)["p"].to, "x");
    }
}
