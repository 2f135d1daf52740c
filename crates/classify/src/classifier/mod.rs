//! A trained classifier: its directory on disk ([`ClassifierMeta`], loading, the encoder and
//! heads it reads) and [`Classifier::classify`], the cascade that applies it. The cascade's
//! parts live beside this file:
//!
//! - [`prediction`]: what the cascade takes and gives ([`TitleInput`], [`Prediction`],
//!   [`Method`], [`reason`]), its options ([`CascadeOptions`]) and counters ([`CascadeStats`]);
//! - `cascade`: the steps in order — 0. what the title field holds (no role, several roles,
//!   a role named in the text); 1. the exact alias; 2. the title embedding, each distinct
//!   cleaned title once per run (embeddings and sparse head scores kept in the
//!   [`EmbedCache`]); 3. the description where the title is ambiguous or names no role;
//!   4. the calibrated confidence and the abstention (`decide`);
//! - `title_rules`: the rules that read a title's parts where the whole matches no alias
//!   (the title before a separator, a bracketed or lead specialty, the head word's check and
//!   the title a refused title ends with);
//! - `population_step`: for a classifier re-fitted on labelled postings of its population,
//!   step 6 (the population head) or step 5 (the titles those labels move).
//!
//! Directory layout: `classifier.json` ([`ClassifierMeta`]), `head/` (the chosen head),
//! `heads/<kind>/` (every trained head, for comparison), optional `desc_head/`, a re-fit's
//! optional `population_head/` (step 6), `eval.json`, `confusion.json`.

mod cascade;
mod population_step;
pub mod prediction;
mod title_rules;

pub use cascade::description_text;
pub use prediction::{reason, CascadeOptions, CascadeStats, Method, Prediction, TitleInput};

use crate::calibrate::Isotonic;
use crate::embed_cache::EmbedCache;
use crate::heads::{Head, HeadKind};
use crate::population::PopulationHead;
use crate::roles::RoleFinder;
use crate::ClassifyError;
use jobshift_encode::{Encoder, LoadOptions};
use jobshift_taxonomy::{Taxonomy, Title};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What `classifier.json` records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassifierMeta {
    pub format: u32,
    pub name: String,
    /// The encoder as given to `load_encoder` (name, repo id or directory).
    pub model: String,
    /// The encoder's own id.
    pub model_id: String,
    pub dim: usize,
    pub taxonomy_version: String,
    /// "builtin" or the taxonomy directory used.
    pub taxonomy_origin: String,
    pub seed: u64,
    pub head: HeadKind,
    /// Class index → taxonomy title id.
    pub classes: Vec<String>,
    pub calibration: Isotonic,
    pub desc_calibration: Option<Isotonic>,
    /// Share of alias-step predictions that were right on validation (the alias confidence).
    pub alias_confidence: f32,
    pub ambiguity_margin: f32,
    pub min_confidence: f32,
    /// Free-form record of training counts and validation / held-out scores.
    pub scores: serde_json::Value,
    pub created_by: String,
    /// Confidence re-fitted on the user's own labelled postings (`jobshift eval --labels
    /// --recalibrate-to`), applied after `calibration` for the head it was fitted with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recalibration: Option<crate::calibrate::Recalibration>,
    /// The training recipe that built it ([`crate::train::RECIPE`]; 0 = before recipes were
    /// numbered). A cached default classifier from another recipe is retrained.
    #[serde(default)]
    pub recipe: u32,
    /// For each head word the cascade checks ([`crate::head_word::CHECKED`]: engineer,
    /// developer, programmer), the titles whose training titles are written with it; a title
    /// with that head is not answered with any other. Empty in a classifier trained before
    /// they were recorded (recipe 3 and earlier): no check.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub head_words: std::collections::BTreeMap<String, Vec<String>>,
}

impl ClassifierMeta {
    /// Write `DIR/classifier.json` (atomically).
    pub fn write(&self, dir: &Path) -> Result<(), ClassifyError> {
        let p = dir.join("classifier.json");
        jobshift_core::atomic::write_json(&p, self).map_err(|e| ClassifyError::io(&p, e))
    }

    /// Read `DIR/classifier.json`.
    pub fn read(dir: &Path) -> Result<Self, ClassifyError> {
        let path = dir.join("classifier.json");
        let bytes = std::fs::read(&path).map_err(|e| ClassifyError::io(&path, e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClassifyError::Format(format!("{}: {e}", path.display())))
    }
}

pub use crate::seniority::MAX_TITLE_CHARS;

/// Where re-fits before the population head kept their labelled neighbours (by description,
/// by title): a directory that has them was re-fitted by an earlier jobshift.
pub(crate) const LEGACY_POPULATION_DIRS: [&str; 2] = ["population", "population_titles"];

/// Characters of a description the role finder reads.
const ROLE_SCAN_CHARS: usize = 6000;

pub struct Classifier {
    pub meta: ClassifierMeta,
    pub dir: PathBuf,
    taxonomy: Taxonomy,
    encoder: Box<dyn Encoder>,
    head: Head,
    desc_head: Option<Head>,
    /// A re-fit's population head (step 6, [`crate::population`]).
    population_head: Option<PopulationHead>,
    class_titles: Vec<usize>,
    title_index: HashMap<String, usize>,
    roles: RoleFinder,
    /// The encoder was trained on English only: text mostly in another script is not embedded
    /// ([`jobshift_encode::registry::english_only`], [`crate::script`]).
    english_only: bool,
    /// Per class, the checked head words its training titles are written with (a bit per
    /// [`crate::head_word::CHECKED`] word); `None`: no check (`meta.head_words` empty).
    class_heads: Option<Vec<u8>>,
    /// Distinguishes this classifier's head scores in an [`EmbedCache`] from another's.
    id: u64,
}

/// Source of [`Classifier`] ids (0 is never handed out: an empty cache's owner).
static NEXT_CLASSIFIER_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl Classifier {
    /// Assemble a classifier from parts (used by training and tests).
    pub fn from_parts(
        meta: ClassifierMeta,
        dir: PathBuf,
        taxonomy: Taxonomy,
        encoder: Box<dyn Encoder>,
        head: Head,
        desc_head: Option<Head>,
    ) -> Result<Self, ClassifyError> {
        let title_index: HashMap<String, usize> = taxonomy
            .titles()
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        let mut class_titles = Vec::with_capacity(meta.classes.len());
        for id in &meta.classes {
            let i = title_index.get(id).ok_or_else(|| {
                ClassifyError::Format(format!(
                    "classifier {} knows title {id:?} which the taxonomy ({}) does not; retrain with `jobshift train` for this taxonomy",
                    dir.display(),
                    taxonomy.version()
                ))
            })?;
            class_titles.push(*i);
        }
        if head.num_classes() != meta.classes.len() {
            return Err(ClassifyError::Format(format!(
                "{}: head has {} classes, classifier.json lists {}",
                dir.display(),
                head.num_classes(),
                meta.classes.len()
            )));
        }
        if encoder.dim() != meta.dim {
            return Err(ClassifyError::Format(format!(
                "{}: encoder {} gives {}-d vectors, the classifier was trained on {}-d ({})",
                dir.display(),
                encoder.model_id(),
                encoder.dim(),
                meta.dim,
                meta.model_id
            )));
        }
        let roles = RoleFinder::new(&taxonomy);
        let english_only = jobshift_encode::registry::english_only(encoder.model_id());
        let software: Vec<bool> = class_titles
            .iter()
            .map(|&i| {
                crate::head_word::SOFTWARE_FAMILIES.contains(&taxonomy.titles()[i].family.as_str())
            })
            .collect();
        let class_heads = crate::head_word::class_heads(&meta.head_words, &meta.classes, &software);
        Ok(Classifier {
            class_heads,
            meta,
            dir,
            roles,
            english_only,
            taxonomy,
            encoder,
            head,
            desc_head,
            population_head: None,
            class_titles,
            title_index,
            id: NEXT_CLASSIFIER_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Load a classifier directory written by `jobshift train`, with its encoder and taxonomy
    /// (the built-in one, or `taxonomy_dir` for a user's copy).
    pub fn load(dir: &Path) -> Result<Self, ClassifyError> {
        Self::load_with(dir, None, None)
    }

    /// Like [`load`](Self::load) with a different head (`heads/<kind>/`) and/or taxonomy dir.
    pub fn load_with(
        dir: &Path,
        head: Option<HeadKind>,
        taxonomy_dir: Option<&Path>,
    ) -> Result<Self, ClassifyError> {
        Self::load_on(dir, head, taxonomy_dir, LoadOptions::default())
    }

    /// Like [`load_with`](Self::load_with), running the encoder (and the kNN head's similarity
    /// products) with `options` (`--device`, `--dtype`, batching). Never falls back: a device
    /// that cannot be used is an error from [`jobshift_encode::parse_device`] before this is called.
    pub fn load_on(
        dir: &Path,
        head: Option<HeadKind>,
        taxonomy_dir: Option<&Path>,
        options: LoadOptions,
    ) -> Result<Self, ClassifyError> {
        let meta_path = dir.join("classifier.json");
        if !meta_path.is_file() {
            return Err(ClassifyError::NoClassifier {
                path: dir.to_path_buf(),
                hint: "run `jobshift train` (or pass --classifier DIR)".into(),
            });
        }
        let mut meta = ClassifierMeta::read(dir)?;
        let taxonomy = match taxonomy_dir {
            Some(d) => Taxonomy::load_dir(d)?,
            None if meta.taxonomy_origin != "builtin" => {
                Taxonomy::load_dir(Path::new(&meta.taxonomy_origin))?
            }
            None => Taxonomy::builtin()?,
        };
        let (head, calib) = match head {
            Some(kind) if kind != meta.head => {
                let hd = dir.join("heads").join(kind.as_str());
                let h = Head::load(&hd)?;
                let cal_path = hd.join("calibration.json");
                let cal: Isotonic = match std::fs::read(&cal_path) {
                    Ok(b) => serde_json::from_slice(&b).map_err(|e| {
                        ClassifyError::Format(format!("{}: {e}", cal_path.display()))
                    })?,
                    Err(_) => Isotonic::identity(),
                };
                (h, cal)
            }
            _ => (Head::load(&dir.join("head"))?, meta.calibration.clone()),
        };
        meta.head = head.kind();
        meta.calibration = calib;
        let mut desc_head = Head::load_if_present(&dir.join("desc_head"))?;
        if let Some(old) = LEGACY_POPULATION_DIRS
            .iter()
            .map(|d| dir.join(d))
            .find(|d| d.join("head.json").is_file())
        {
            return Err(ClassifyError::Format(format!(
                "{} holds labelled neighbours ({}) from an earlier jobshift, which now fits a population head instead; re-fit it: jobshift eval --labels LABELS --recalibrate-to NEW_DIR",
                dir.display(),
                old.display()
            )));
        }
        let mut head = head;
        for h in std::iter::once(&mut head).chain(desc_head.as_mut()) {
            h.use_device(&options.device)?;
        }
        let encoder = jobshift_encode::load_encoder_with(
            &meta.model,
            options,
            jobshift_encode::default_cache_bytes(),
        )?;
        let population_head = PopulationHead::load_if_present(
            dir,
            encoder.dim(),
            meta.recalibration
                .as_ref()
                .and_then(|r| r.population_head.as_ref()),
        )?;
        let mut c = Self::from_parts(meta, dir.to_path_buf(), taxonomy, encoder, head, desc_head)?;
        c.population_head = population_head;
        Ok(c)
    }

    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }
    pub fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
    pub fn head(&self) -> &Head {
        &self.head
    }

    /// Default cascade options stored with the classifier.
    pub fn default_options(&self) -> CascadeOptions {
        CascadeOptions::defaults_for(&self.meta)
    }

    /// The taxonomy title of a class index.
    pub fn class_title(&self, class: usize) -> &Title {
        &self.taxonomy.titles()[self.class_titles[class]]
    }

    /// Look up a title id (taxonomy).
    pub fn title(&self, id: &str) -> Option<&Title> {
        self.title_index
            .get(id)
            .map(|&i| &self.taxonomy.titles()[i])
    }

    /// Classify one posting with the classifier's own options and a fresh embedding cache (a
    /// live service: a stream of distinct titles cannot grow memory).
    pub fn classify_one(
        &self,
        title: &str,
        description: Option<&str>,
    ) -> Result<Prediction, ClassifyError> {
        let mut cache = self.new_cache();
        self.classify(
            &[TitleInput { title, description }],
            &mut cache,
            &self.default_options(),
            &mut CascadeStats::default(),
        )?
        .into_iter()
        .next()
        .ok_or_else(|| ClassifyError::Predict("the classifier returned nothing".into()))
    }

    /// A fresh per-run embedding cache for this classifier's encoder.
    pub fn new_cache(&self) -> EmbedCache {
        EmbedCache::new(self.meta.dim)
    }

    /// Classify a batch through the cascade. `cache` holds title embeddings across calls.
    ///
    /// The steps, each a method below: 0. titles that name no role or several
    /// ([`Classifier::postings_without_a_role`]); 1. the exact alias ([`Classifier::alias_step`]);
    /// 2. the title embedding, each distinct cleaned title once ([`Classifier::title_scores`]);
    /// 3. the description where the title is ambiguous, or where it names no role
    /// ([`Classifier::description_scores`]); 4. the confidence and the abstention
    /// ([`Classifier::decide`]); then, where the classifier was re-fitted on labelled postings
    /// of its population, 6. the population head fitted on them
    /// ([`Classifier::population_step`]), or, for a re-fit without one, 5. the titles those
    /// labels move ([`Classifier::remap_to_population`]).
    pub fn classify(
        &self,
        inputs: &[TitleInput<'_>],
        cache: &mut EmbedCache,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Result<Vec<Prediction>, ClassifyError> {
        let mut out = self.cascade(inputs, cache, opts, stats)?;
        let refit = self
            .meta
            .recalibration
            .as_ref()
            .filter(|r| r.head == self.meta.head);
        match (
            self.population_head.as_ref(),
            refit.and_then(|r| r.population_head.as_ref()),
        ) {
            (Some(head), Some(info)) => {
                self.population_step(head, info, inputs, &mut out, cache, opts, stats)?
            }
            _ => self.remap_to_population(&mut out, stats),
        }
        Ok(out)
    }

    /// Sentence embeddings of `texts` (`texts.len() × dim`), `batch` texts per forward pass.
    pub(crate) fn embed_texts(
        &self,
        texts: &[String],
        batch: usize,
    ) -> Result<Vec<f32>, ClassifyError> {
        let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        let mut out = Vec::with_capacity(refs.len() * self.meta.dim);
        for chunk in refs.chunks(batch.max(1)) {
            out.extend_from_slice(&self.encoder.encode(chunk)?.data);
        }
        Ok(out)
    }
}
