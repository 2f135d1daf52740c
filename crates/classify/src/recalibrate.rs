//! Re-fitting a classifier's confidence on labelled postings of the population it classifies
//! (`jobshift eval --labels … --recalibrate-to DIR`): [`fit_recalibration`] fits the map
//! ([`crate::calibrate::Recalibration`]) from evaluation outcomes, and
//! [`write_recalibrated_classifier`] writes a copy of the classifier directory that uses it.

use crate::calibrate::{Isotonic, Recalibration};
use crate::classifier::{ClassifierMeta, Method};
use crate::eval::Outcome;
use crate::heads::HeadKind;
use crate::ClassifyError;

/// Fit a [`Recalibration`] from a classifier's outcomes on labelled postings (evaluated
/// *without* any previous recalibration). A prediction is right when it is exactly the labelled
/// title (or, for sets without exact titles, by the evaluation's rule). Returns the map with the
/// new alias confidence (its accuracy on the labels, Laplace-smoothed) and the new
/// `min_confidence` (the old threshold through the map). Fewer than `MIN_RECALIBRATION`
/// non-alias predictions is an error: the map would be noise.
pub(crate) fn fit_recalibration(
    head: HeadKind,
    alias_confidence_before: f32,
    min_confidence_before: f32,
    outcomes: &[Outcome],
    labels: Vec<String>,
) -> Result<(Recalibration, f32, f32), String> {
    let ok = |o: &Outcome| o.exact.unwrap_or(o.right);
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
        },
        alias,
        min,
    ))
}

/// Copy the classifier directory `src` to the new directory `to` with its confidence re-fitted
/// on labelled outcomes ([`fit_recalibration`]). The outcomes must come from `head`, the
/// directory's chosen head, evaluated without an earlier re-fit. Returns the written metadata.
pub fn write_recalibrated_classifier(
    src: &std::path::Path,
    to: &std::path::Path,
    head: HeadKind,
    outcomes: &[Outcome],
    labels: Vec<String>,
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
    let (recal, alias, min) = fit_recalibration(
        meta.head,
        meta.alias_confidence,
        meta.min_confidence,
        outcomes,
        labels,
    )
    .map_err(ClassifyError::Format)?;
    crate::copy_dir(src, to, &|n| n.starts_with(".tmp-"))?;
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
                right: true, // the lenient rule says right; the exact title decides
                exact: Some(i % 10 < 3),
            });
        }
        for i in 0..200 {
            outcomes.push(Outcome {
                confidence: 0.95,
                method: Method::Alias,
                right: i % 2 == 0,
                exact: Some(i % 2 == 0),
            });
        }
        let (r, alias, min) =
            fit_recalibration(crate::heads::HeadKind::Knn, 0.95, 0.5, &outcomes, vec![]).unwrap();
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
            vec![]
        )
        .is_err());
    }
}
