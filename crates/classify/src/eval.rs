//! Evaluation on held-out real titles.
//!
//! A prediction is right when the predicted title is a crosswalk title of one of the gold
//! O*NET occupations, or its SOC-6 code equals a gold occupation's SOC-6. Reported per set:
//! top-1 / top-5 title accuracy, macro-F1 (over gold titles), SOC-6 and SOC-2 accuracy,
//! family and level accuracy, calibration error, coverage at fixed precision, the share and
//! accuracy of every cascade step, a per-family table and the most-confused pairs.
//! Abstentions are scored on the best title (coverage at precision shows what abstaining buys).
//!
//! Posting sets (with descriptions and an exact gold title, see `examples::hn_alias_postings` and
//! `examples::generated_postings`) also report exact-title accuracy and the share of items the
//! description step decided; [`with_title`] derives the "title withheld / generic title"
//! variants, and [`description_study`] is the whole study of the description step that
//! `jobshift eval --descriptions` prints.

use crate::calibrate::{coverage_at_precision, expected_calibration_error};
use crate::classifier::{CascadeOptions, CascadeStats, Classifier, Method, Prediction, TitleInput};
use crate::embed_cache::EmbedCache;
use crate::examples::{EvalItem, EvalSet};
use crate::heads::HeadKind;
use crate::ClassifyError;
use jobshift_taxonomy::Taxonomy;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;

/// Scores of one classifier on one held-out set.
#[derive(Debug, Clone, Serialize)]
pub struct SetScores {
    pub set: String,
    pub head: String,
    pub n: usize,
    pub removed_seen_in_training: usize,
    pub removed_unmapped: usize,
    /// Best title right (abstentions scored on their best guess).
    pub top1: f64,
    /// Right and not abstained, over all items: an abstention counts as wrong.
    pub top1_strict: f64,
    /// Share of items answered (not abstained).
    pub coverage: f64,
    /// Share of answered items that are right.
    pub precision: f64,
    pub top5: f64,
    pub macro_f1: f64,
    pub soc6: f64,
    pub soc2: f64,
    /// Over items whose gold occupation has a taxonomy title.
    pub family: f64,
    pub level: f64,
    pub ece: f64,
    /// Calibration error against exact-title correctness (sets that know the exact gold title:
    /// labelled postings), the notion `jobshift eval --labels --recalibrate-to` fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ece_exact: Option<f64>,
    /// Share of items whose predicted title is exactly the gold title (sets that know it).
    pub exact_title: Option<f64>,
    /// Share of items decided by the description step.
    pub description_share: f64,
    /// Coverage (share kept, most confident first) at 80 / 90 / 95 % precision.
    pub coverage_at_precision: BTreeMap<String, f64>,
    /// Per cascade step: share of items and top-1 accuracy.
    pub methods: BTreeMap<String, MethodScore>,
    pub per_family: Vec<FamilyRow>,
    /// Precision and recall per gold or predicted title (answered predictions only).
    pub per_title: Vec<TitleRow>,
    /// Confidence against accuracy in ten bins (what [`SetScores::ece`] summarizes).
    pub reliability: Vec<ReliabilityBin>,
    pub most_confused: Vec<ConfusedPair>,
    pub seconds: f64,
    pub stats: CascadeStats,
    /// Per item, in order: what the cascade said and whether it was right (for re-fitting
    /// confidence on labelled postings; not serialized).
    #[serde(skip)]
    pub outcomes: Vec<Outcome>,
}

/// One evaluated item.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub confidence: f32,
    pub method: Method,
    /// The best title (before abstention), and the gold title where the set knows one.
    pub best: String,
    pub gold: Option<String>,
    /// The best title is right (gold title or SOC-6, the rule).
    pub right: bool,
    /// The best title is exactly the gold title (sets that know it).
    pub exact: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MethodScore {
    pub n: usize,
    pub share: f64,
    pub top1: f64,
}

/// One family: `n` items whose gold title is in it, `top1` their best-guess accuracy; the
/// precision and recall columns count answered predictions only (an abstention is a miss for
/// recall and no prediction for precision), a prediction being right by the set's rule.
#[derive(Debug, Clone, Serialize)]
pub struct FamilyRow {
    pub family: String,
    pub n: usize,
    pub top1: f64,
    /// Answered predictions in this family.
    pub predicted: usize,
    /// Share of them that are right (`None` when nothing was predicted in the family).
    pub precision: Option<f64>,
    /// Share of the family's `n` items answered and right.
    pub recall: f64,
}

/// One title, as [`FamilyRow`] for a family: `support` items have it as their gold title,
/// `predicted` answered predictions name it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TitleRow {
    pub title: String,
    pub support: usize,
    pub predicted: usize,
    pub precision: Option<f64>,
    pub recall: f64,
    /// Harmonic mean of precision and recall (0 when either is 0 or undefined).
    pub f1: f64,
}

/// One bin of the reliability diagram: items whose confidence is in `[from, to)` (the last bin
/// includes 1), their mean confidence and the share whose best title is right. A calibrated
/// classifier has `accuracy ≈ mean_confidence` in every bin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityBin {
    pub from: f64,
    pub to: f64,
    pub n: usize,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

/// One evaluated item as the per-title table counts it: its gold title (when known), the
/// predicted title, whether the prediction was answered (not abstained) and whether it is right.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scored<'a> {
    pub gold: Option<&'a str>,
    pub predicted: &'a str,
    pub answered: bool,
    pub right: bool,
}

/// Per-title precision and recall (see [`TitleRow`]) of `items` grouped by `key` (the title
/// itself, or its family); rows in key order.
pub(crate) fn precision_recall<'a>(
    items: &[Scored<'a>],
    key: impl Fn(&'a str) -> Option<String>,
) -> Vec<TitleRow> {
    // key → (support, support answered and right, predicted, predicted and right)
    let mut rows: BTreeMap<String, (usize, usize, usize, usize)> = BTreeMap::new();
    for it in items {
        if let Some(g) = it.gold.and_then(&key) {
            let r = rows.entry(g).or_default();
            r.0 += 1;
            r.1 += usize::from(it.answered && it.right);
        }
        if it.answered {
            if let Some(p) = key(it.predicted) {
                let r = rows.entry(p).or_default();
                r.2 += 1;
                r.3 += usize::from(it.right);
            }
        }
    }
    rows.into_iter()
        .map(|(title, (support, found, predicted, right))| {
            let precision = (predicted > 0).then(|| right as f64 / predicted as f64);
            let recall = if support == 0 {
                0.0
            } else {
                found as f64 / support as f64
            };
            let p = precision.unwrap_or(0.0);
            let f1 = if p + recall > 0.0 {
                2.0 * p * recall / (p + recall)
            } else {
                0.0
            };
            TitleRow {
                title,
                support,
                predicted,
                precision,
                recall,
                f1,
            }
        })
        .collect()
}

/// The reliability diagram of confidences `conf` against `right`, in `bins` equal-width bins
/// over [0, 1] (empty bins left out).
pub fn reliability(conf: &[f32], right: &[bool], bins: usize) -> Vec<ReliabilityBin> {
    let bins = bins.max(1);
    let mut acc = vec![(0usize, 0f64, 0usize); bins];
    for (&c, &r) in conf.iter().zip(right) {
        let b = ((c.clamp(0.0, 1.0) as f64 * bins as f64) as usize).min(bins - 1);
        acc[b].0 += 1;
        acc[b].1 += c as f64;
        acc[b].2 += usize::from(r);
    }
    acc.into_iter()
        .enumerate()
        .filter(|(_, a)| a.0 > 0)
        .map(|(b, (n, sum, ok))| ReliabilityBin {
            from: b as f64 / bins as f64,
            to: (b + 1) as f64 / bins as f64,
            n,
            mean_confidence: sum / n as f64,
            accuracy: ok as f64 / n as f64,
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfusedPair {
    pub gold: String,
    pub predicted: String,
    pub count: usize,
}

/// Per gold title → predicted title counts on held-out data (for misclassification
/// correction in trends). Abstentions count under `"unclassified"`.
pub type Confusion = BTreeMap<String, BTreeMap<String, usize>>;

/// Write a confusion matrix as `{"description", ["examples",] "confusion"}` JSON, the form
/// `jobshift report --confusion` reads (atomically).
pub fn write_confusion(
    path: &std::path::Path,
    description: &str,
    examples: Option<usize>,
    confusion: &Confusion,
) -> Result<(), ClassifyError> {
    let mut doc = serde_json::json!({ "description": description });
    if let Some(n) = examples {
        doc["examples"] = serde_json::json!(n);
    }
    doc["confusion"] = serde_json::json!(confusion);
    jobshift_core::atomic::write_json(path, &doc).map_err(|e| ClassifyError::io(path, e))
}

/// [`label_study`]'s result: the scores, a report per labels file, and where the confusion
/// matrix and the scores were written.
pub struct LabelStudy {
    pub scores: SetScores,
    /// The labelled postings, in the order of `scores.outcomes`.
    pub items: Vec<crate::examples::EvalItem>,
    /// The `none_fits` labels (no title fits the posting): not scored; a re-fit's labelled
    /// neighbours learn from them where to leave postings unclassified.
    pub none_fits: Vec<crate::examples::EvalItem>,
    pub reports: Vec<crate::examples::LabelFileReport>,
    pub confusion_path: std::path::PathBuf,
    pub scores_path: std::path::PathBuf,
}

/// [`evaluate_labels`]' result: scores, confusion, a report per labels file, the postings
/// scored and the `none_fits` ones.
pub type LabelledEvaluation = (
    SetScores,
    Confusion,
    Vec<crate::examples::LabelFileReport>,
    Vec<crate::examples::EvalItem>,
    Vec<crate::examples::EvalItem>,
);

/// `jobshift eval --labels`: the classifier on the user's own labelled postings (see
/// [`evaluate_labels`]), writing the confusion matrix by title (default: `confusion.json`
/// beside the first labels path: `DIR/labels` → `DIR/confusion.json`) and the scores (default:
/// `eval-labels.json` beside the matrix).
pub fn label_study(
    c: &Classifier,
    labels: &[std::path::PathBuf],
    opts: &CascadeOptions,
    confusion_out: Option<std::path::PathBuf>,
    scores_out: Option<std::path::PathBuf>,
) -> Result<LabelStudy, ClassifyError> {
    let (scores, confusion, reports, items, none_fits) = evaluate_labels(c, labels, opts)?;
    let beside = labels
        .first()
        .and_then(|p| p.parent())
        .unwrap_or(std::path::Path::new("."));
    let confusion_path = confusion_out.unwrap_or_else(|| beside.join("confusion.json"));
    let description = format!(
        "confusion of classifier {} (head {}, {}) on {} labelled postings from {:?}: gold title -> predicted title -> count ('unclassified' = abstained)",
        c.meta.name,
        c.meta.head.as_str(),
        if opts.use_description { "titles and descriptions" } else { "titles only" },
        scores.n,
        labels
    );
    write_confusion(&confusion_path, &description, Some(scores.n), &confusion)?;
    let scores_path =
        scores_out.unwrap_or_else(|| confusion_path.with_file_name("eval-labels.json"));
    jobshift_core::atomic::write_json(&scores_path, &[&scores])
        .map_err(|e| ClassifyError::io(&scores_path, e))?;
    Ok(LabelStudy {
        scores,
        items,
        none_fits,
        reports,
        confusion_path,
        scores_path,
    })
}

/// The classifier on the user's own labelled postings ([`crate::examples::labelled_set`], files or
/// directories of labelled examples) with cascade `opts` (descriptions are read only when
/// `opts.use_description`): the scores, the confusion matrix by exact title, a report per
/// labels file (accepted, rejected lines), the labelled postings scored and the `none_fits`
/// ones.
pub fn evaluate_labels(
    c: &Classifier,
    labels: &[std::path::PathBuf],
    opts: &CascadeOptions,
) -> Result<LabelledEvaluation, ClassifyError> {
    let (set, none_fits, reports) =
        crate::examples::labelled_set(c.taxonomy(), labels, opts.use_description)?;
    if set.items.is_empty() {
        let rejected: Vec<String> = reports
            .iter()
            .flat_map(|r| {
                r.rejected
                    .iter()
                    .take(5)
                    .map(move |l| format!("{}: {l}", r.file))
            })
            .take(10)
            .collect();
        return Err(ClassifyError::Format(format!(
            "no usable labelled examples in {labels:?}{}{}",
            if rejected.is_empty() {
                ""
            } else {
                "; rejected: "
            },
            rejected.join("; ")
        )));
    }
    let mut cache = c.new_cache();
    let mut confusion = Confusion::new();
    let scores = evaluate(c, &set, &mut cache, opts, &mut confusion)?;
    Ok((scores, confusion, reports, set.items, none_fits))
}

fn soc6(code: &str) -> &str {
    code.get(..7).unwrap_or(code)
}
fn soc2(code: &str) -> &str {
    code.get(..2).unwrap_or(code)
}

/// Gold resolution of one item through the taxonomy.
struct Gold {
    titles: BTreeSet<String>,
    soc6: BTreeSet<String>,
    soc2: BTreeSet<String>,
    families: BTreeSet<String>,
    levels: BTreeSet<String>,
    /// The default title of the first gold code (the row of the confusion matrix).
    primary: Option<String>,
}

fn resolve_gold(
    tax: &Taxonomy,
    codes: &BTreeSet<String>,
    by_onet: &HashMap<&str, Vec<&str>>,
) -> Gold {
    let mut g = Gold {
        titles: BTreeSet::new(),
        soc6: BTreeSet::new(),
        soc2: BTreeSet::new(),
        families: BTreeSet::new(),
        levels: BTreeSet::new(),
        primary: None,
    };
    for code in codes {
        g.soc6.insert(soc6(code).to_string());
        g.soc2.insert(soc2(code).to_string());
        let mut ids: Vec<&str> = by_onet.get(code.as_str()).cloned().unwrap_or_default();
        if let Some(t) = tax.title_for_onet(code) {
            if g.primary.is_none() {
                g.primary = Some(t.id.clone());
            }
            ids.push(t.id.as_str());
        }
        for id in ids {
            if let Some(t) = tax.get(id) {
                g.titles.insert(t.id.clone());
                g.families.insert(t.family.clone());
                g.levels.insert(t.level.as_str().to_string());
            }
        }
    }
    g
}

fn is_right(c: &Classifier, gold: &Gold, pred: &str) -> bool {
    if gold.titles.contains(pred) {
        return true;
    }
    match c.title(pred) {
        Some(t) => gold.soc6.contains(soc6(&t.onet_soc)) || gold.soc6.contains(soc6(&t.soc)),
        None => false,
    }
}

/// Running counts over a set's items; [`Tally::scores`] turns them into [`SetScores`].
#[derive(Default)]
struct Tally {
    top1: usize,
    top5: usize,
    s6: usize,
    s2: usize,
    fam: usize,
    lev: usize,
    /// Items whose gold code maps to at least one taxonomy title (family and level denominators).
    with_title: usize,
    exact: usize,
    with_gold_title: usize,
    answered: usize,
    answered_right: usize,
    per_method: BTreeMap<String, (usize, usize)>,
    per_family: BTreeMap<String, (usize, usize)>,
    // macro-F1 over gold primary titles
    tp: HashMap<String, usize>,
    fp: HashMap<String, usize>,
    fnn: HashMap<String, usize>,
    pairs: HashMap<(String, String), usize>,
    outcomes: Vec<Outcome>,
    /// (gold title, predicted title, answered, right) per item, for the precision/recall tables
    scored_items: Vec<(Option<String>, String, bool, bool)>,
}

impl Tally {
    /// Counts one item's prediction against its gold answer, and adds it to `confusion`.
    fn add(
        &mut self,
        c: &Classifier,
        item: &EvalItem,
        p: &Prediction,
        gold: &Gold,
        confusion: &mut Confusion,
    ) {
        if let Some(g) = &item.gold_title {
            self.with_gold_title += 1;
            if &p.best == g {
                self.exact += 1;
            }
        }
        let ok = is_right(c, gold, &p.best);
        self.outcomes.push(Outcome {
            confidence: p.confidence,
            method: p.method,
            best: p.best.clone(),
            gold: item.gold_title.clone(),
            right: ok,
            exact: item.gold_title.as_ref().map(|g| &p.best == g),
        });
        if ok {
            self.top1 += 1;
        }
        if p.method != Method::Unclassified {
            self.answered += 1;
            self.answered_right += usize::from(ok);
        }
        if p.top5.iter().any(|t| is_right(c, gold, t)) {
            self.top5 += 1;
        }
        let pt = c.title(&p.best);
        if let Some(t) = pt {
            if gold.soc6.contains(soc6(&t.onet_soc)) || gold.soc6.contains(soc6(&t.soc)) {
                self.s6 += 1;
            }
            if gold.soc2.contains(soc2(&t.onet_soc)) || gold.soc2.contains(soc2(&t.soc)) {
                self.s2 += 1;
            }
        }
        if !gold.titles.is_empty() {
            self.with_title += 1;
            if let Some(t) = pt {
                if gold.families.contains(&t.family) {
                    self.fam += 1;
                }
                if gold.levels.contains(t.level.as_str()) {
                    self.lev += 1;
                }
            }
        }
        let m = self
            .per_method
            .entry(p.method.as_str().to_string())
            .or_default();
        m.0 += 1;
        if ok {
            m.1 += 1;
        }
        // the confusion row: the exact gold title when the set knows it (labelled postings: a
        // matrix by title, for the trends correction), else the gold code's default title
        let exact_gold = item.gold_title.as_ref();
        self.scored_items.push((
            exact_gold.or(gold.primary.as_ref()).cloned(),
            p.best.clone(),
            p.method != Method::Unclassified,
            ok,
        ));
        if let Some(primary) = exact_gold.or(gold.primary.as_ref()) {
            let fam_id = c
                .title(primary)
                .map(|t| t.family.clone())
                .unwrap_or_default();
            let f = self.per_family.entry(fam_id).or_default();
            f.0 += 1;
            if ok {
                f.1 += 1;
                *self.tp.entry(primary.clone()).or_default() += 1;
            } else {
                *self.fnn.entry(primary.clone()).or_default() += 1;
                *self.fp.entry(p.best.clone()).or_default() += 1;
                *self
                    .pairs
                    .entry((primary.clone(), p.best.clone()))
                    .or_default() += 1;
            }
            let predicted = if p.method == Method::Unclassified {
                jobshift_core::schema::UNCLASSIFIED.to_string()
            } else if exact_gold.is_some() {
                p.best.clone()
            } else if ok {
                primary.clone()
            } else {
                p.best.clone()
            };
            *confusion
                .entry(primary.clone())
                .or_default()
                .entry(predicted)
                .or_default() += 1;
        }
    }

    /// Macro-F1 over the gold titles.
    fn macro_f1(&self) -> f64 {
        let gold_titles: BTreeSet<&String> = self.tp.keys().chain(self.fnn.keys()).collect();
        if gold_titles.is_empty() {
            return 0.0;
        }
        gold_titles
            .iter()
            .map(|t| {
                let a = *self.tp.get(*t).unwrap_or(&0) as f64;
                let b = *self.fp.get(*t).unwrap_or(&0) as f64;
                let d = *self.fnn.get(*t).unwrap_or(&0) as f64;
                if a == 0.0 {
                    0.0
                } else {
                    2.0 * a / (2.0 * a + b + d)
                }
            })
            .sum::<f64>()
            / gold_titles.len() as f64
    }

    /// The 20 most frequent (gold, predicted) errors, most frequent first.
    fn most_confused(&mut self) -> Vec<ConfusedPair> {
        let mut confused: Vec<ConfusedPair> = std::mem::take(&mut self.pairs)
            .into_iter()
            .map(|((g, p), count)| ConfusedPair {
                gold: g,
                predicted: p,
                count,
            })
            .collect();
        confused.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.gold.cmp(&b.gold))
                .then(a.predicted.cmp(&b.predicted))
        });
        confused.truncate(20);
        confused
    }

    fn scores(
        mut self,
        c: &Classifier,
        set: &EvalSet,
        stats: CascadeStats,
        seconds: f64,
    ) -> SetScores {
        let n = self.outcomes.len();
        let macro_f1 = self.macro_f1();
        let most_confused = self.most_confused();
        let conf: Vec<f32> = self.outcomes.iter().map(|o| o.confidence).collect();
        let right: Vec<bool> = self.outcomes.iter().map(|o| o.right).collect();
        let scored: Vec<Scored<'_>> = self
            .scored_items
            .iter()
            .map(|(g, p, answered, right)| Scored {
                gold: g.as_deref(),
                predicted: p,
                answered: *answered,
                right: *right,
            })
            .collect();
        let per_title = precision_recall(&scored, |id| {
            (id != jobshift_core::schema::UNCLASSIFIED).then(|| id.to_string())
        });
        let family_pr: BTreeMap<String, TitleRow> =
            precision_recall(&scored, |id| c.title(id).map(|t| t.family.clone()))
                .into_iter()
                .map(|r| (r.title.clone(), r))
                .collect();
        let frac = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let mut cov = BTreeMap::new();
        for target in [0.8, 0.9, 0.95] {
            cov.insert(
                format!("{:.0}%", target * 100.0),
                coverage_at_precision(&conf, &right, target).0,
            );
        }
        SetScores {
            set: set.name.clone(),
            head: c.meta.head.as_str().to_string(),
            n,
            removed_seen_in_training: set.removed_seen,
            removed_unmapped: set.removed_unmapped,
            top1: frac(self.top1, n),
            top1_strict: frac(self.answered_right, n),
            coverage: frac(self.answered, n),
            precision: frac(self.answered_right, self.answered),
            top5: frac(self.top5, n),
            macro_f1,
            soc6: frac(self.s6, n),
            soc2: frac(self.s2, n),
            family: frac(self.fam, self.with_title),
            level: frac(self.lev, self.with_title),
            ece: expected_calibration_error(&conf, &right, 15),
            ece_exact: (self.with_gold_title == n && n > 0).then(|| {
                let exact: Vec<bool> = self
                    .outcomes
                    .iter()
                    .map(|o| o.exact == Some(true))
                    .collect();
                expected_calibration_error(&conf, &exact, 15)
            }),
            exact_title: (self.with_gold_title > 0).then(|| frac(self.exact, self.with_gold_title)),
            description_share: frac(stats.description_used, n),
            coverage_at_precision: cov,
            methods: self
                .per_method
                .into_iter()
                .map(|(k, (m, ok))| {
                    (
                        k,
                        MethodScore {
                            n: m,
                            share: frac(m, n),
                            top1: frac(ok, m),
                        },
                    )
                })
                .collect(),
            per_family: self
                .per_family
                .into_iter()
                .map(|(f, (m, ok))| {
                    let pr = family_pr.get(&f);
                    FamilyRow {
                        n: m,
                        top1: frac(ok, m),
                        predicted: pr.map_or(0, |r| r.predicted),
                        precision: pr.and_then(|r| r.precision),
                        recall: pr.map_or(0.0, |r| r.recall),
                        family: f,
                    }
                })
                .collect(),
            per_title,
            reliability: reliability(&conf, &right, 10),
            most_confused,
            seconds,
            stats,
            outcomes: self.outcomes,
        }
    }
}

/// Evaluate `c` on `set` with cascade options `opts`. Also accumulates `confusion`.
pub fn evaluate(
    c: &Classifier,
    set: &EvalSet,
    cache: &mut EmbedCache,
    opts: &CascadeOptions,
    confusion: &mut Confusion,
) -> Result<SetScores, ClassifyError> {
    let start = Instant::now();
    let mut by_onet: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in c.taxonomy().crosswalk() {
        by_onet
            .entry(e.onet_soc.as_str())
            .or_default()
            .push(e.title_id.as_str());
    }
    let inputs: Vec<TitleInput> = set
        .items
        .iter()
        .map(|i| TitleInput {
            title: &i.title,
            description: i.description.as_deref(),
        })
        .collect();
    let mut stats = CascadeStats::default();
    let mut preds = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(4096) {
        preds.extend(c.classify(chunk, cache, opts, &mut stats)?);
    }
    let mut tally = Tally {
        outcomes: Vec::with_capacity(preds.len()),
        scored_items: Vec::with_capacity(preds.len()),
        ..Tally::default()
    };
    for (item, p) in set.items.iter().zip(&preds) {
        let gold = resolve_gold(c.taxonomy(), &item.gold_onet, &by_onet);
        tally.add(c, item, p, &gold, confusion);
    }
    Ok(tally.scores(c, set, stats, start.elapsed().as_secs_f64()))
}

/// A compact text table of scores (one row per set × head).
pub fn render_table(rows: &[SetScores]) -> String {
    let mut s = String::from(
        "set            head       n      strict answrd prec   top1   top5   macroF1 soc6   soc2   family level  ECE    cov@90%\n",
    );
    for r in rows {
        s.push_str(&format!(
            "{:<14} {:<9} {:>6} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>7.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3}\n",
            r.set,
            r.head,
            r.n,
            r.top1_strict,
            r.coverage,
            r.precision,
            r.top1,
            r.top5,
            r.macro_f1,
            r.soc6,
            r.soc2,
            r.family,
            r.level,
            r.ece,
            r.coverage_at_precision.get("90%").copied().unwrap_or(0.0)
        ));
    }
    s
}

/// How a posting set's title is presented to the cascade (description experiments).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TitleMode<'a> {
    /// The posting's own title.
    Real,
    /// The title replaced by a generic word (e.g. "Position").
    Generic(&'a str),
    /// No title at all (empty string).
    Withheld,
}

/// A copy of `set` with its titles replaced per `mode`, named `<set>/<suffix>`.
pub(crate) fn with_title(set: &EvalSet, mode: TitleMode<'_>, suffix: &str) -> EvalSet {
    let mut out = set.clone();
    out.name = format!("{}/{suffix}", set.name);
    for item in &mut out.items {
        match mode {
            TitleMode::Real => {}
            TitleMode::Generic(w) => item.title = w.to_string(),
            TitleMode::Withheld => item.title.clear(),
        }
    }
    out
}

/// A text table for posting sets: exact-title accuracy and the description step's share.
pub fn render_posting_table(rows: &[SetScores]) -> String {
    let mut s = String::from(
        "set/variant                               head       n     exact  top1   top5   soc6   soc2   family level  desc%\n",
    );
    for r in rows {
        s.push_str(&format!(
            "{:<41} {:<9} {:>5} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>5.0}%\n",
            r.set,
            r.head,
            r.n,
            r.exact_title.unwrap_or(f64::NAN),
            r.top1,
            r.top5,
            r.soc6,
            r.soc2,
            r.family,
            r.level,
            100.0 * r.description_share
        ));
    }
    s
}

/// Write a held-out set with its gold resolved through `tax` (one JSON object per line:
/// title, gold_onet, gold_titles, gold_soc6, gold_soc2, gold_families, gold_levels), and the
/// taxonomy's titles, for the Python reference script.
pub(crate) fn export_set(
    tax: &Taxonomy,
    set: &EvalSet,
    path: &std::path::Path,
) -> Result<(), ClassifyError> {
    let mut by_onet: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in tax.crosswalk() {
        by_onet
            .entry(e.onet_soc.as_str())
            .or_default()
            .push(e.title_id.as_str());
    }
    jobshift_core::atomic::with_writer(path, |w| {
        use std::io::Write;
        for item in &set.items {
            let g = resolve_gold(tax, &item.gold_onet, &by_onet);
            let v = serde_json::json!({
                "title": item.title, "gold_onet": item.gold_onet, "gold_titles": g.titles,
                "gold_soc6": g.soc6, "gold_soc2": g.soc2, "gold_families": g.families,
                "gold_levels": g.levels,
            });
            serde_json::to_writer(&mut *w, &v).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
    .map_err(|e| ClassifyError::io(path, e))
}

/// Write the taxonomy's titles (id, name, family, level, soc, onet_soc) as JSONL.
pub(crate) fn export_titles(tax: &Taxonomy, path: &std::path::Path) -> Result<(), ClassifyError> {
    jobshift_core::atomic::with_writer(path, |w| {
        use std::io::Write;
        for t in tax.titles() {
            let v = serde_json::json!({"id": t.id, "name": t.name, "family": t.family,
                "level": t.level.as_str(), "soc": t.soc, "onet_soc": t.onet_soc});
            serde_json::to_writer(&mut *w, &v).map_err(std::io::Error::other)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })
    .map_err(|e| ClassifyError::io(path, e))
}

/// Normalized titles a classifier was trained or validated on (`train.jsonl` and
/// `validation.jsonl` in its directory): the held-out sets leave them out.
pub fn training_titles(dir: &std::path::Path) -> Result<HashSet<String>, ClassifyError> {
    use std::io::BufRead;
    let mut seen = HashSet::new();
    for f in ["train.jsonl", "validation.jsonl"] {
        let p = dir.join(f);
        let file = std::fs::File::open(&p).map_err(|e| {
            ClassifyError::Format(format!(
                "{}: {e} (written by `jobshift train`; retrain to recreate it)",
                p.display()
            ))
        })?;
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| ClassifyError::io(&p, e))?;
            let ex: jobshift_core::labels::LabeledExample =
                serde_json::from_str(&line).map_err(|e| {
                    ClassifyError::Format(format!("{} line {}: {e}", p.display(), i + 1))
                })?;
            seen.insert(jobshift_core::normalize::normalize_title(&ex.title));
        }
    }
    Ok(seen)
}

/// The heads a classifier directory holds (`heads/<kind>/head.json`), in `HeadKind::ALL` order,
/// and the kinds it lacks (not trained). With none, the directory's chosen head (`None`).
pub fn trained_heads(dir: &std::path::Path) -> (Vec<Option<HeadKind>>, Vec<HeadKind>) {
    let (mut have, mut missing) = (Vec::new(), Vec::new());
    for h in HeadKind::ALL {
        if dir
            .join("heads")
            .join(h.as_str())
            .join("head.json")
            .is_file()
        {
            have.push(Some(h));
        } else {
            missing.push(h);
        }
    }
    if have.is_empty() {
        have.push(None);
    }
    (have, missing)
}

/// The held-out evaluation `jobshift eval` runs: each head of `heads` (`None`: the classifier's
/// default), loaded by `load`, on every set of `sets` — titles only, with or without the alias
/// step, with every title-cleaning rule or without some (`cleaning`, to measure each rule), the
/// held-out titles embedded once through the persistent cache. Returns a row per head × set and
/// the confusion matrix of the classifier's default head (the matrix `report --corrected` reads;
/// with several heads the others' confusions are not added to it).
pub fn held_out<E: From<ClassifyError>>(
    dir: &std::path::Path,
    sets: &[EvalSet],
    heads: &[Option<HeadKind>],
    use_alias: bool,
    cleaning: crate::seniority::CleaningRules,
    mut load: impl FnMut(Option<HeadKind>) -> Result<Classifier, E>,
) -> Result<(Vec<SetScores>, Confusion), E> {
    let default_head = crate::ClassifierMeta::read(dir).ok().map(|m| m.head);
    let mut rows = Vec::new();
    let mut confusion = Confusion::new();
    let mut cache: Option<EmbedCache> = None;
    for &head in heads {
        let c = load(head)?;
        let key = format!("{}|{}", c.meta.model_id, c.meta.model);
        let cache = match &mut cache {
            Some(c) => c,
            None => cache.insert(EmbedCache::persistent(&key, c.meta.dim)?),
        };
        let opts = CascadeOptions {
            use_alias,
            use_description: false,
            cleaning,
            ..c.default_options()
        };
        let texts: Vec<String> = sets
            .iter()
            .flat_map(|s| {
                s.items
                    .iter()
                    .map(|i| crate::seniority::clean_title_with(&i.title, cleaning))
            })
            .collect();
        let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        crate::embed_cache::embed_all(
            cache,
            c.encoder(),
            &refs,
            "embedding held-out titles",
            true,
        )?;
        cache.save(&key)?;
        for set in sets {
            let mut conf = Confusion::new();
            let s = evaluate(&c, set, cache, &opts, &mut conf)?;
            if head.is_none() || head == default_head {
                for (g, row) in conf {
                    let d = confusion.entry(g).or_default();
                    for (p, n) in row {
                        *d.entry(p).or_default() += n;
                    }
                }
            }
            rows.push(s);
        }
    }
    Ok((rows, confusion))
}

/// What [`description_study`] measured: every variant on every set and head, and the
/// ambiguity-margin sweep of the first head.
pub struct DescriptionStudy {
    pub rows: Vec<SetScores>,
    pub sweep: Vec<SetScores>,
}

/// The study of the description step on posting sets with descriptions: for each head (loaded
/// by `load`), each set is scored with the real title, with and without the alias step and the
/// description step, with a `generic` title in place of the real one, and with the title
/// withheld; on the first head the ambiguity margin is swept over `margins`. `done` hears of
/// each finished (set, head).
pub fn description_study(
    load: &mut dyn FnMut(Option<HeadKind>) -> Result<Classifier, ClassifyError>,
    sets: &[EvalSet],
    heads: &[Option<HeadKind>],
    generic: &str,
    margins: &[f32],
    done: &mut dyn FnMut(&str, &str),
) -> Result<DescriptionStudy, ClassifyError> {
    let mut rows = Vec::new();
    let mut sweep = Vec::new();
    for (hi, head) in heads.iter().enumerate() {
        let c = load(*head)?;
        let mut cache = c.new_cache();
        // the withheld-title variants measure the description alone, calibrated or not
        let base = CascadeOptions {
            description_alone: true,
            ..c.default_options()
        };
        let m = base.ambiguity_margin;
        // (variant name, title mode, alias step, description step, margin)
        let variants: Vec<(String, TitleMode, bool, bool, f32)> = vec![
            ("title".into(), TitleMode::Real, true, false, m),
            (format!("title+desc(m={m})"), TitleMode::Real, true, true, m),
            ("title,no-alias".into(), TitleMode::Real, false, false, m),
            (
                format!("title+desc(m={m}),no-alias"),
                TitleMode::Real,
                false,
                true,
                m,
            ),
            (
                "title+desc(always),no-alias".into(),
                TitleMode::Real,
                false,
                true,
                f32::INFINITY,
            ),
            (
                format!("generic={generic}"),
                TitleMode::Generic(generic),
                true,
                false,
                m,
            ),
            (
                format!("generic={generic}+desc(always)"),
                TitleMode::Generic(generic),
                false,
                true,
                f32::INFINITY,
            ),
            (
                "withheld+desc(always)".into(),
                TitleMode::Withheld,
                false,
                true,
                f32::INFINITY,
            ),
        ];
        for set in sets {
            for (name, mode, alias, desc, margin) in &variants {
                let s = with_title(set, *mode, name);
                let opts = CascadeOptions {
                    use_alias: *alias,
                    use_description: *desc,
                    ambiguity_margin: *margin,
                    ..base
                };
                let mut conf = Confusion::new();
                rows.push(evaluate(&c, &s, &mut cache, &opts, &mut conf)?);
                done(
                    rows.last().map(|r| r.set.as_str()).unwrap_or(""),
                    c.meta.head.as_str(),
                );
            }
            if hi == 0 {
                // margin sweep on the real titles; HN titles are aliases by construction, so
                // the sweep there runs without the alias step
                let alias = !set.name.starts_with("hn_alias");
                for &mg in margins {
                    let s = with_title(
                        set,
                        TitleMode::Real,
                        &format!("margin={mg}{}", if alias { "" } else { ",no-alias" }),
                    );
                    let opts = CascadeOptions {
                        use_alias: alias,
                        use_description: true,
                        ambiguity_margin: mg,
                        ..base
                    };
                    let mut conf = Confusion::new();
                    sweep.push(evaluate(&c, &s, &mut cache, &opts, &mut conf)?);
                }
            }
        }
    }
    Ok(DescriptionStudy { rows, sweep })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_counts_answers_and_recall_counts_abstentions_as_misses() {
        let it = |gold: Option<&'static str>, predicted, answered, right| Scored {
            gold,
            predicted,
            answered,
            right,
        };
        let items = [
            it(Some("a"), "a", true, true),
            it(Some("a"), "b", true, false),
            it(Some("a"), "a", false, true), // abstained on a right best guess: a miss
            it(Some("b"), "b", true, true),
            it(None, "b", true, false), // no gold title: counts for b's precision only
        ];
        let rows = precision_recall(&items, |t| Some(t.to_string()));
        assert_eq!(
            rows,
            vec![
                TitleRow {
                    title: "a".into(),
                    support: 3,
                    predicted: 1,
                    precision: Some(1.0),
                    recall: 1.0 / 3.0,
                    f1: 0.5,
                },
                TitleRow {
                    title: "b".into(),
                    support: 1,
                    predicted: 3,
                    precision: Some(1.0 / 3.0),
                    recall: 1.0,
                    f1: 0.5,
                },
            ]
        );
        // grouped by a coarser key (families): a and b are one group; unknown keys drop out
        let fam = precision_recall(&items, |t| (t != "zz").then(|| "f".to_string()));
        assert_eq!(fam.len(), 1);
        assert_eq!((fam[0].support, fam[0].predicted), (4, 4));
        assert_eq!(fam[0].precision, Some(0.5));
        assert_eq!(fam[0].recall, 0.5);
        // a title never predicted has no precision and an F1 of 0
        let never = precision_recall(&[it(Some("c"), "d", false, false)], |t| Some(t.into()));
        assert_eq!(never[0].precision, None);
        assert_eq!(never[0].f1, 0.0);
    }

    #[test]
    fn reliability_bins_confidence_against_accuracy() {
        let conf = [0.05, 0.15, 0.12, 0.95, 1.0, 1.0];
        let right = [false, true, false, true, true, false];
        let bins = reliability(&conf, &right, 10);
        assert_eq!(bins.len(), 3, "{bins:?}");
        assert_eq!((bins[0].from, bins[0].n, bins[0].accuracy), (0.0, 1, 0.0));
        assert_eq!((bins[1].n, bins[1].accuracy), (2, 0.5));
        assert!((bins[1].mean_confidence - 0.135).abs() < 1e-6);
        // 1.0 falls in the last bin, with 0.95
        assert_eq!((bins[2].from, bins[2].to, bins[2].n), (0.9, 1.0, 3));
        assert!((bins[2].accuracy - 2.0 / 3.0).abs() < 1e-12);
    }
}
