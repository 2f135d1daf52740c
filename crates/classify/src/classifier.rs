//! A trained classifier (directory on disk) and the cascade that applies it:
//!
//! 1. **alias** — the raw title, then its cleaned form ([`clean_title`]), looked up among the
//!    taxonomy's names and aliases — except a generic title ([`is_generic_title`]:
//!    "Consultant", "Senior Associate") on a posting with a description;
//! 2. **title_embedding** — the cleaned title embedded and scored by the head, each distinct
//!    cleaned title once per run (embeddings and sparse head scores are kept in the
//!    [`EmbedCache`]);
//! 3. **description** — only when the title is ambiguous (top-2 margin below
//!    `ambiguity_margin`, or a generic title) and the posting has a description: "title. description" is embedded,
//!    scored by the description head (or the title head) and averaged with the title scores;
//! 4. **unclassified** — when the calibrated confidence is below `min_confidence`.
//!
//! Directory layout: `classifier.json` ([`ClassifierMeta`]), `head/` (the chosen head),
//! `heads/<kind>/` (every trained head, for comparison), optional `desc_head/`, a re-fit's
//! optional `population_head/` (step 6), `eval.json`, `confusion.json`.

use crate::calibrate::{Isotonic, PopulationHeadInfo};
use crate::embed_cache::EmbedCache;
use crate::head_word::accepts;
use crate::heads::{top_k, Head, HeadKind};
use crate::population::{self, RowText, POPULATION_HEAD_DIR};
use crate::roles::{read_title_field, RoleFinder, RoleMention, RoleTier, TitleField};
use crate::seniority::{
    bracket_groups, cap_chars, clean_title, is_generic_title, resolve_seniority, CleaningRule,
};
use crate::ClassifyError;
use jobshift_core::schema::UNCLASSIFIED;
use jobshift_core::Seniority;
use jobshift_encode::{Encoder, LoadOptions};
use jobshift_taxonomy::{Taxonomy, Title};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// Which cascade step decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Alias,
    TitleEmbedding,
    Description,
    /// A re-fit's population head, fitted on labelled postings of the population (step 6,
    /// [`crate::population`]).
    PopulationHead,
    Unclassified,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Alias => "alias",
            Method::TitleEmbedding => "title_embedding",
            Method::Description => "description",
            Method::PopulationHead => "population_head",
            Method::Unclassified => "unclassified",
        }
    }
}

/// One posting (or bare title) to classify.
#[derive(Debug, Clone, Copy)]
pub struct TitleInput<'a> {
    pub title: &'a str,
    pub description: Option<&'a str>,
}

/// The classifier's answer for one input.
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    /// Taxonomy title id, or `"unclassified"`.
    pub title_id: String,
    /// Calibrated probability that `best` is right (also set when abstaining).
    pub confidence: f32,
    pub method: Method,
    /// The best title even when abstaining (for review), with up to 2 more: (id, score).
    pub alternatives: Vec<(String, f32)>,
    pub seniority: Seniority,
    /// Top-5 title ids by score (for top-5 accuracy); empty for alias hits.
    #[serde(skip)]
    pub top5: Vec<String>,
    /// The best title before abstention.
    #[serde(skip)]
    pub best: String,
    /// Why the posting is unclassified: `empty_title`, `not_a_title` (the title field names no
    /// role and no description named one), `unsupported_script` (the title is written mostly in
    /// a script the encoder was not trained on, and no description named the role),
    /// `low_confidence`; `None` when classified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// Every title the posting names when it names several ("Android Engineers, iOS
    /// Engineers", or several roles in its description); `title_id` is the first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// Why a prediction abstained (see [`Prediction::reason`]).
pub mod reason {
    pub const EMPTY_TITLE: &str = "empty_title";
    pub const NOT_A_TITLE: &str = "not_a_title";
    pub const UNSUPPORTED_SCRIPT: &str = "unsupported_script";
    pub const LOW_CONFIDENCE: &str = "low_confidence";
}

pub use crate::seniority::MAX_TITLE_CHARS;

/// Where re-fits before the population head kept their labelled neighbours (by description,
/// by title): a directory that has them was re-fitted by an earlier jobshift.
pub(crate) const LEGACY_POPULATION_DIRS: [&str; 2] = ["population", "population_titles"];

/// Characters of a description the role finder reads.
const ROLE_SCAN_CHARS: usize = 6000;

/// Cascade switches and thresholds (defaults come from the classifier directory).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CascadeOptions {
    pub use_alias: bool,
    pub use_description: bool,
    pub ambiguity_margin: f32,
    pub min_confidence: f32,
    /// Characters of description used by the description step.
    pub description_chars: usize,
    pub batch_size: usize,
    /// Classify a posting from its description's embedding alone when its title field names
    /// no role and its text names no taxonomy title. On by default only for a classifier with
    /// a description head and its calibration (`jobshift train --postings`): scored by the
    /// title head and its calibration, a whole posting's embedding is the exact title a fifth
    /// of the time on real postings (HN, title withheld: 0.22), under a calibrated confidence
    /// of 0.5–0.8. Off, such a posting abstains with the reason `not_a_title` and its
    /// description is not embedded.
    #[serde(default)]
    pub description_alone: bool,
    /// The title-cleaning rules applied before the alias lookup and the embedding: all of them
    /// (the default), or all but some, to measure what each does
    /// ([`crate::seniority::CleaningRules`]).
    #[serde(default)]
    pub cleaning: crate::seniority::CleaningRules,
}

impl CascadeOptions {
    /// The cascade options a classifier directory's metadata sets (its thresholds), without
    /// loading its encoder.
    pub fn defaults_for(meta: &ClassifierMeta) -> Self {
        CascadeOptions {
            use_alias: true,
            use_description: true,
            ambiguity_margin: meta.ambiguity_margin,
            min_confidence: meta.min_confidence,
            description_chars: 1000,
            batch_size: 128,
            description_alone: meta.desc_calibration.is_some(),
            cleaning: Default::default(),
        }
    }
}

/// Time and counts per cascade step (for benchmarks and reports).
#[derive(Debug, Clone, Default, Serialize)]
pub struct CascadeStats {
    pub inputs: usize,
    pub alias_hits: usize,
    pub title_embedded: usize,
    /// Postings the title step scored (step 2: not decided by step 0 or the alias step; each
    /// distinct cleaned title among them is embedded once, `title_embedded`).
    pub title_step: usize,
    pub title_cache_hits: usize,
    /// Distinct cleaned titles scored by the head (the others reused a score from the cache).
    pub title_head_scored: usize,
    /// Distinct cleaned titles of a call whose head score an earlier call had kept.
    pub title_head_reused: usize,
    pub description_used: usize,
    /// Postings whose title field names no role (`not_a_title`), with or without a description.
    pub not_a_title: usize,
    /// Postings whose title field is written mostly in a script the encoder cannot read
    /// (`unsupported_script`), with or without a description ([`crate::script`]).
    pub unsupported_script: usize,
    /// Postings classified from the role their description names (header, role lines, hiring
    /// sentences), their title field naming none or abstaining.
    pub role_from_description: usize,
    /// Postings classified from their description's embedding alone (title field names no role,
    /// the text names no taxonomy title).
    pub description_only: usize,
    /// Postings naming several roles (all kept in `roles`).
    pub several_roles: usize,
    /// Postings classified from the role their title field names inside more words: a sentence
    /// about hiring ("Reflex Is Hiring Software Engineers") or beside parts that name no role
    /// ("Founding Engineers & GTM").
    pub role_in_title: usize,
    /// Postings whose title the embedding left below the threshold, classified by the exact
    /// title before a separator ("Senior Software Engineer, Database Engine").
    pub leading_title: usize,
    /// Postings whose title the embedding left below the threshold, classified by the
    /// specialty a lead title names ("Frontend Technical Lead" → Frontend Engineer).
    pub lead_specialty: usize,
    /// Postings whose title ends in a checked head word ("engineer", "developer",
    /// "programmer") whose best-scored title is never written with it ("CT Senior Network
    /// Engineer" → Radiologic Technologist): that title was set aside ([`crate::head_word`]).
    pub head_word_refused: usize,
    /// Of those, postings then classified by the exact title their title ends with ("CT Senior
    /// Network Engineer" → Network Engineer).
    pub trailing_title: usize,
    /// Predictions a re-fit on labelled postings moved to another title (step 5).
    #[serde(skip_serializing_if = "crate::is_zero")]
    pub remapped: usize,
    /// Abstentions a re-fit's population head classified (step 6).
    #[serde(skip_serializing_if = "crate::is_zero")]
    pub population_filled: usize,
    /// Predictions a re-fit's population head moved to another title (step 6).
    #[serde(skip_serializing_if = "crate::is_zero")]
    pub population_moved: usize,
    /// Of the postings step 6 read, those the head gave to the labels' "none fits" (left as
    /// the cascade had them).
    #[serde(skip_serializing_if = "crate::is_zero")]
    pub population_none: usize,
    pub unclassified: usize,
    pub alias_time: Duration,
    pub title_encode_time: Duration,
    pub title_head_time: Duration,
    pub description_time: Duration,
    /// Postings step 6's population head read, of them those whose description it embedded
    /// (the cascade abstained on them), and its time.
    #[serde(skip_serializing_if = "crate::is_zero")]
    pub population_read: usize,
    #[serde(skip_serializing_if = "crate::is_zero")]
    pub population_described: usize,
    pub population_time: Duration,
}

impl CascadeStats {
    pub fn add(&mut self, o: &CascadeStats) {
        self.inputs += o.inputs;
        self.alias_hits += o.alias_hits;
        self.title_embedded += o.title_embedded;
        self.title_step += o.title_step;
        self.title_cache_hits += o.title_cache_hits;
        self.title_head_scored += o.title_head_scored;
        self.title_head_reused += o.title_head_reused;
        self.description_used += o.description_used;
        self.not_a_title += o.not_a_title;
        self.unsupported_script += o.unsupported_script;
        self.role_from_description += o.role_from_description;
        self.description_only += o.description_only;
        self.several_roles += o.several_roles;
        self.role_in_title += o.role_in_title;
        self.leading_title += o.leading_title;
        self.lead_specialty += o.lead_specialty;
        self.head_word_refused += o.head_word_refused;
        self.trailing_title += o.trailing_title;
        self.remapped += o.remapped;
        self.population_filled += o.population_filled;
        self.population_moved += o.population_moved;
        self.population_none += o.population_none;
        self.unclassified += o.unclassified;
        self.alias_time += o.alias_time;
        self.title_encode_time += o.title_encode_time;
        self.title_head_time += o.title_head_time;
        self.description_time += o.description_time;
        self.population_read += o.population_read;
        self.population_described += o.population_described;
        self.population_time += o.population_time;
    }
}

pub struct Classifier {
    pub meta: ClassifierMeta,
    pub dir: PathBuf,
    taxonomy: Taxonomy,
    encoder: Box<dyn Encoder>,
    head: Head,
    desc_head: Option<Head>,
    /// A re-fit's population head (step 6, [`crate::population`]).
    population_head: Option<Head>,
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
        let population_head = Head::load_if_present(&dir.join(POPULATION_HEAD_DIR))?;
        let mut head = head;
        for h in std::iter::once(&mut head).chain(desc_head.as_mut()) {
            h.use_device(&options.device)?;
        }
        let encoder = jobshift_encode::load_encoder_with(
            &meta.model,
            options,
            jobshift_encode::default_cache_bytes(),
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
    /// the cascade for an answer they never saw. A "none fits" answer leaves the posting.
    #[allow(clippy::too_many_arguments)]
    fn population_step(
        &self,
        head: &Head,
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
        let p = head.predict_proba(&rows.x)?;
        let k = head.num_classes();
        for (j, &n) in read.iter().enumerate() {
            if info.abstained_undescribed == 0 && rows.abstained_undescribed(j) {
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
            let abstained = pred.method == Method::Unclassified;
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
    fn remap_to_population(&self, preds: &mut [Prediction], stats: &mut CascadeStats) {
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

    /// Steps 0–4 of [`Classifier::classify`].
    pub(crate) fn cascade(
        &self,
        inputs: &[TitleInput<'_>],
        cache: &mut EmbedCache,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Result<Vec<Prediction>, ClassifyError> {
        stats.inputs += inputs.len();
        let mut out: Vec<Option<Prediction>> = vec![None; inputs.len()];
        // bound the work per title (a description pasted into the title field)
        let capped: Vec<&str> = inputs
            .iter()
            .map(|i| cap_chars(i.title, MAX_TITLE_CHARS))
            .collect();
        let inputs: Vec<TitleInput<'_>> = inputs
            .iter()
            .zip(&capped)
            .map(|(i, t)| TitleInput {
                title: t,
                description: i.description,
            })
            .collect();
        let inputs = &inputs[..];
        // 0. postings whose title field names no role, or several
        let t0 = Instant::now();
        let cleaned: Vec<String> = inputs
            .iter()
            .map(|i| crate::seniority::clean_title_with(i.title, opts.cleaning))
            .collect();
        // the alias each title names (looked up once; steps 0 and 1 both read it)
        let alias: Vec<Option<&Title>> = inputs
            .iter()
            .zip(&cleaned)
            .map(|(inp, c)| {
                opts.use_alias
                    .then(|| self.alias_hit(inp.title, c))
                    .flatten()
            })
            .collect();
        let description_only = self.postings_without_a_role(inputs, &alias, opts, &mut out, stats);
        let mut is_description_only = vec![false; inputs.len()];
        for &i in &description_only {
            is_description_only[i] = true;
        }
        // 1. alias
        if opts.use_alias {
            self.alias_step(
                inputs,
                &cleaned,
                &alias,
                &is_description_only,
                opts,
                &mut out,
                stats,
            );
        }
        stats.alias_time += t0.elapsed();
        // 2. title embedding, each distinct cleaned title once
        let todo: Vec<usize> = (0..inputs.len())
            .filter(|&i| out[i].is_none() && !is_description_only[i])
            .collect();
        stats.title_step += todo.len();
        if todo.is_empty() && description_only.is_empty() {
            return Ok(out.into_iter().flatten().collect());
        }
        let titles = self.title_scores(&todo, &cleaned, cache, opts, stats)?;
        // 3. description for ambiguous titles, and alone where the title names no role
        let t3 = Instant::now();
        let desc_probs = self.description_scores(
            inputs,
            &cleaned,
            &todo,
            &description_only,
            &titles,
            opts,
            stats,
        )?;
        stats.description_time += t3.elapsed();
        // 4. confidence and abstention
        let k = self.meta.classes.len();
        for &i in todo.iter().chain(&description_only) {
            let (row, method): (&[f32], Method) = match desc_probs.get(&i) {
                Some(p) => (p.as_slice(), Method::Description),
                None => match titles.slot.get(cleaned[i].as_str()) {
                    Some(&s) => (&titles.probs[s * k..][..k], Method::TitleEmbedding),
                    None => {
                        // description-only row without a description (cannot happen: kept
                        // only when described); abstain rather than guess
                        out[i] = Some(self.abstention(inputs[i].title, reason::NOT_A_TITLE, 0.0));
                        stats.unclassified += 1;
                        continue;
                    }
                },
            };
            out[i] = Some(self.decide(
                &inputs[i],
                &cleaned[i],
                row,
                method,
                is_description_only[i],
                opts,
                stats,
            ));
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Step 0: a title field that names no role (empty, a location, "Multiple roles") is
    /// abstained on, or — with a description — classified by the role the text names; rows
    /// whose text names none are returned, for the description alone. A title naming several
    /// roles takes the first and keeps all in `roles`. Exact aliases are left to step 1.
    fn postings_without_a_role(
        &self,
        inputs: &[TitleInput<'_>],
        alias: &[Option<&Title>],
        opts: &CascadeOptions,
        out: &mut [Option<Prediction>],
        stats: &mut CascadeStats,
    ) -> Vec<usize> {
        // rows whose description alone is embedded (title names no role, text names no title)
        let mut description_only: Vec<usize> = Vec::new();
        for (i, inp) in inputs.iter().enumerate() {
            if alias[i].is_some() {
                continue;
            }
            let desc = described(inp, opts);
            if inp.title.trim().is_empty() && desc.is_none() {
                out[i] = Some(self.abstention(inp.title, reason::EMPTY_TITLE, 0.0));
                stats.unclassified += 1;
                continue;
            }
            if !self.can_read(inp.title, opts) {
                // "软件工程师": the text may still name the role in words the finder knows
                stats.unsupported_script += 1;
                out[i] = Some(
                    self.role_named_in_text(inp.title, desc, stats)
                        .unwrap_or_else(|| {
                            stats.unclassified += 1;
                            self.abstention(inp.title, reason::UNSUPPORTED_SCRIPT, 0.0)
                        }),
                );
                continue;
            }
            let field = match read_title_field(inp.title, &self.roles, desc.is_some()) {
                TitleField::NotATitle if !opts.cleaning.applies(CleaningRule::NonTitles) => {
                    TitleField::Other
                }
                field => field,
            };
            match field {
                TitleField::NotATitle => {
                    stats.not_a_title += 1;
                    if let Some(p) = self.role_named_in_text(inp.title, desc, stats) {
                        out[i] = Some(p);
                    } else if let Some(p) = desc
                        // "Factual is currently hiring engineers", and a software stack
                        .filter(|d| crate::roles::hires_engineers(d))
                        .and_then(|d| self.software_engineer_of(inp.title, d))
                    {
                        stats.role_from_description += 1;
                        out[i] = Some(p);
                    } else if desc.is_some_and(|d| self.can_read(d, opts)) && opts.description_alone
                    {
                        description_only.push(i);
                    } else {
                        out[i] = Some(self.abstention(inp.title, reason::NOT_A_TITLE, 0.0));
                        stats.unclassified += 1;
                    }
                }
                field if opts.use_alias && opts.cleaning.applies(CleaningRule::SeveralRoles) => {
                    out[i] = self.roles_named_in_title(inp.title, field, stats);
                }
                _ => {}
            }
        }
        description_only
    }

    /// The role(s) a posting's text names (header, role lines, hiring sentences), as the
    /// prediction of a posting whose title field gives none: the first, all in `roles`.
    fn role_named_in_text(
        &self,
        title: &str,
        description: Option<&str>,
        stats: &mut CascadeStats,
    ) -> Option<Prediction> {
        let d = description?;
        let found = self.roles.roles_in_posting(d, ROLE_SCAN_CHARS);
        if found.is_empty() {
            return None;
        }
        stats.role_from_description += 1;
        stats.several_roles += usize::from(found.len() > 1);
        Some(self.role_prediction(title, d, &found))
    }

    /// Whether this classifier's encoder can read `text`: any text for an encoder not known to
    /// be English-only, else text not mostly in another script than Latin ([`crate::script`];
    /// `--skip-cleaning other-scripts` reads every text).
    fn can_read(&self, text: &str, opts: &CascadeOptions) -> bool {
        !self.english_only
            || !opts.cleaning.applies(CleaningRule::OtherScripts)
            || crate::script::latin_readable(text)
    }

    /// The role(s) a title field that is no exact alias names inside more words, as an alias
    /// prediction: a sentence about hiring ("Reflex (YC W23) Is Hiring Software Engineers"),
    /// several roles ("Frontend / Backend Developer": the first, all in `roles`), or one role
    /// beside parts that name none ("Founding Engineers & GTM"). `field` is step 0's reading
    /// of the title ([`read_title_field`]). `None` leaves the title to the embedding.
    fn roles_named_in_title(
        &self,
        title: &str,
        field: TitleField,
        stats: &mut CascadeStats,
    ) -> Option<Prediction> {
        let (found, inside) = match field {
            TitleField::HiringRoles(found) => (found, true),
            _ => {
                let several = self.roles.roles_in_title(title);
                if several.len() > 1 {
                    (several, false)
                } else {
                    (
                        self.roles
                            .role_among_conjoined_parts(title)
                            .into_iter()
                            .collect(),
                        true,
                    )
                }
            }
        };
        let first = &self.taxonomy.titles()[*found.first()?];
        let ids: Vec<String> = found
            .iter()
            .map(|&t| self.taxonomy.titles()[t].id.clone())
            .collect();
        stats.alias_hits += 1;
        stats.several_roles += usize::from(ids.len() > 1);
        stats.role_in_title += usize::from(inside);
        let top5 = ids.iter().take(5).cloned().collect();
        let roles = if ids.len() > 1 { ids } else { Vec::new() };
        Some(self.alias_prediction(title, first, top5, roles))
    }

    /// Step 1: a title (raw or cleaned) that is a taxonomy name or alias takes that title —
    /// except a generic one ("Consultant") when a description is there to decide.
    #[allow(clippy::too_many_arguments)]
    fn alias_step(
        &self,
        inputs: &[TitleInput<'_>],
        cleaned: &[String],
        alias: &[Option<&Title>],
        is_description_only: &[bool],
        opts: &CascadeOptions,
        out: &mut [Option<Prediction>],
        stats: &mut CascadeStats,
    ) {
        for (i, inp) in inputs.iter().enumerate() {
            if out[i].is_some() || is_description_only[i] {
                continue;
            }
            let has_description =
                opts.use_description && inp.description.is_some_and(|d| !d.trim().is_empty());
            if has_description && is_generic_title(&cleaned[i]) {
                // "Consultant" may be an alias, but the description knows better
                continue;
            }
            if let Some(t) = alias[i] {
                stats.alias_hits += 1;
                out[i] = Some(self.alias_prediction(inp.title, t, vec![t.id.clone()], Vec::new()));
            }
        }
    }

    /// A software engineer, read from the description (method `description`, the alias
    /// confidence), when the posting's text writes out a software stack
    /// ([`crate::roles::names_software_stack`]) and the taxonomy has the title; the caller has
    /// established that the posting hires an engineer of some kind.
    fn software_engineer_of(&self, title: &str, description: &str) -> Option<Prediction> {
        if !crate::roles::names_software_stack(description) {
            return None;
        }
        let t = self.taxonomy.match_exact("software engineer")?;
        let mut p = self.alias_prediction(title, t, vec![t.id.clone()], Vec::new());
        p.method = Method::Description;
        Some(p)
    }

    /// A prediction by the alias step: title `t` at the alias step's measured confidence.
    fn alias_prediction(
        &self,
        raw_title: &str,
        t: &Title,
        top5: Vec<String>,
        roles: Vec<String>,
    ) -> Prediction {
        Prediction {
            title_id: t.id.clone(),
            confidence: self.meta.alias_confidence,
            method: Method::Alias,
            alternatives: vec![(t.id.clone(), 1.0)],
            seniority: resolve_seniority(raw_title, Some(t.level)),
            top5,
            best: t.id.clone(),
            reason: None,
            roles,
        }
    }

    /// The title an exact name or alias gives a posting title (raw, else cleaned), refined by a
    /// bracketed specialty: "Senior Software Engineer (Backend)" is "Backend Engineer" when that
    /// is an alias. The specialty replaces the plain match only when the plain match is the
    /// generic title of its O*NET occupation (the crosswalk's default, as software engineer is
    /// for Software Developers) and the specialty is in the same family — "Full Stack Engineer
    /// (React)" stays full stack, "Software Engineer (Windows)" stays software. Without a plain
    /// match it is taken only when the cleaned title is a bare head word or generic ("Founding
    /// Engineer (Full-stack)"); a longer title is left to the embedding.
    fn alias_hit(&self, raw: &str, cleaned: &str) -> Option<&Title> {
        let plain = self
            .taxonomy
            .match_exact(raw)
            .or_else(|| self.taxonomy.match_exact(cleaned))
            .or_else(|| {
                // "Founding Engineers", "Forward Deployed Engineers": the plural of an alias
                [raw, cleaned]
                    .into_iter()
                    .filter_map(crate::roles::singular_title)
                    .filter(|one| !is_generic_title(one))
                    .find_map(|one| self.taxonomy.match_exact(&one))
            });
        let specialty = if raw.contains(['(', '[']) {
            self.bracket_specialty(raw, cleaned)
        } else {
            None
        };
        match (plain, specialty) {
            // "Founding Engineer (Full-stack)": the title is only its head word (or generic)
            (None, Some(s))
                if cleaned.split_whitespace().count() <= 1 || is_generic_title(cleaned) =>
            {
                Some(s)
            }
            // "Senior Software Engineer (Backend)": a generic title, refined within its family
            // (not a plural's: "Software Engineers (Backend, Frontend)" hires both)
            (Some(p), Some(s))
                if s.id != p.id
                    && s.family == p.family
                    && self.is_onet_default(p)
                    && !is_plural_head(cleaned) =>
            {
                Some(s)
            }
            (p, _) => p,
        }
    }

    /// The title the first part of `raw` names when a separator (`,` `|` `:` ` - ` ` / ` `–`
    /// `—` outside brackets) follows it with the team, product or area the role works on:
    /// "Senior Software Engineer, Database Engine", "Platform Engineer - Orchestration", "Sr
    /// Data Engineer, Alerts", "Software Engineer / Distributed Database". Only an exact name
    /// or alias counts, and never a generic one ("Director, People Experience", "Engineer,
    /// Backend" stay unclassified). The cascade
    /// asks this only of titles the embedding left below the threshold: where the embedding is
    /// sure, the tail often refines the title ("Software Engineer, Security" is a security
    /// engineer), so the plain leading title would be a step back.
    fn leading_title(&self, raw: &str) -> Option<&Title> {
        let first = raw[..leading_part_end(raw)?].trim();
        let cleaned = clean_title(first);
        if first.is_empty() || is_generic_title(&cleaned) {
            return None;
        }
        self.taxonomy
            .match_exact(first)
            .or_else(|| self.taxonomy.match_exact(&cleaned))
    }

    /// A bracketed group of `raw` (whole, or one of its `/`, `,`, `&`, `+` parts) joined to the
    /// cleaned title's last word, when that is an exact alias ("Platform/API" + "engineer" →
    /// "Platform engineer").
    fn bracket_specialty(&self, raw: &str, cleaned: &str) -> Option<&Title> {
        let last = cleaned.split_whitespace().last()?;
        // "Senior Engineers (Fullstack & Ads)": the specialty names one of them
        let singular = crate::roles::singular_title(last);
        let heads = std::iter::once(last).chain(singular.as_deref());
        for head in heads {
            for group in bracket_groups(raw) {
                let parts = std::iter::once(group).chain(group.split(['/', ',', '&', '+']));
                for part in parts.map(str::trim).filter(|p| !p.is_empty()) {
                    if let Some(t) = self.taxonomy.match_exact(&format!("{part} {head}")) {
                        return Some(t);
                    }
                }
            }
        }
        None
    }

    /// The title a lead role's specialty names ("Frontend Technical Lead", "QA Lead", "Data
    /// Engineering Lead", "Machine Learning Team Lead"): the cleaned title ends in lead, tech
    /// lead, technical lead, team lead or leader, and the specialty before it, as its
    /// practitioner ("frontend engineer", "qa engineer", "data engineer", "product designer"
    /// for "Product Design Lead") or as itself, is an exact, non-generic title. Asked, like
    /// [`Self::leading_title`], only where the embedding abstained ("Engineering Lead",
    /// "Strategic Project Lead" stay unclassified). A business function's lead is not its
    /// engineer ([`BUSINESS_FUNCTIONS`]: "Site Lead" is no site engineer, "Design Lead" no design
    /// engineer, "Business Lead" no business developer): there only the specialty itself counts.
    fn lead_specialty(&self, cleaned: &str) -> Option<&Title> {
        const LEADS: &[&[&str]] = &[
            &["technical", "lead"],
            &["tech", "lead"],
            &["team", "lead"],
            &["technical", "leader"],
            &["lead"],
            &["leader"],
        ];
        let toks: Vec<&str> = cleaned.split_whitespace().collect();
        let n = LEADS.iter().find(|l| toks.ends_with(l))?.len();
        let specialty = toks[..toks.len() - n].join(" ");
        if specialty.is_empty() || is_generic_title(&specialty) {
            return None;
        }
        let stem = |suffix: &str| {
            specialty
                .strip_suffix(suffix)
                .map(str::trim_end)
                .filter(|s| !s.is_empty())
        };
        let practitioner = !specialty
            .split(' ')
            .any(|w| BUSINESS_FUNCTIONS.contains(&w));
        let candidates = [
            stem("engineering").map(|s| format!("{s} engineer")),
            stem("design").map(|s| format!("{s} designer")),
            practitioner.then(|| format!("{specialty} engineer")),
            practitioner.then(|| format!("{specialty} developer")),
            Some(specialty.clone()),
        ];
        candidates
            .into_iter()
            .flatten()
            .filter(|c| !is_generic_title(c))
            .find_map(|c| self.taxonomy.match_exact(&c))
    }

    /// Where the best of `top` (the head's best titles for `row`) is never written with the
    /// title's checked head word `head`: the best titles that are, to take their place
    /// ([`crate::head_word`]). `None` when the best is written so, or no title is.
    fn top_written_with(
        &self,
        row: &[f32],
        top: &[(usize, f32)],
        head: usize,
    ) -> Option<Vec<(usize, f32)>> {
        let bits = self.class_heads.as_ref()?;
        if accepts(head, bits[top.first()?.0]) {
            return None;
        }
        let masked: Vec<f32> = row
            .iter()
            .zip(bits)
            .map(|(p, b)| {
                if accepts(head, *b) {
                    *p
                } else {
                    f32::NEG_INFINITY
                }
            })
            .collect();
        let allowed: Vec<(usize, f32)> = top_k(&masked, top.len())
            .into_iter()
            .filter(|(_, p)| p.is_finite())
            .collect();
        (!allowed.is_empty()).then_some(allowed)
    }

    /// The exact, non-generic title a cleaned title ends with, written with its checked head
    /// word `head` ("ct network engineer" → Network Engineer, "billing platform engineer" →
    /// Platform Engineer, "cno software engineer" → Software Engineer), longest first. Asked
    /// only where the embedding's best title was refused for its head word
    /// ([`crate::head_word`]) and what remained fell below the threshold: measured on every
    /// title the embedding left below the threshold, the title a title ends with was right on
    /// about nine in ten HN titles but on 0.56 of the O*NET reported titles and 0.25 of the
    /// JobBERT titles ("Furnace Production Engineer" → Site Reliability Engineer), so it is not
    /// a general rule. A phrase that starts inside a phrase the taxonomy writes is no title
    /// of its own: "development engineer" in "Senior Business Development Engineer" (the
    /// taxonomy writes "business development"), "automation engineer" in "Marketing Automation
    /// Engineer" ([`RoleFinder::writes_together`]).
    fn trailing_title(&self, cleaned: &str, head: usize) -> Option<&Title> {
        let bits = self.class_heads.as_ref()?;
        crate::head_word::trailing_phrases(cleaned)
            .iter()
            .filter(|(before, p)| {
                let first = p.split(' ').next().unwrap_or_default();
                !is_generic_title(p) && !self.roles.writes_together(before, first)
            })
            .filter_map(|(_, p)| self.taxonomy.match_exact(p))
            .find(|t| {
                let class = self.meta.classes.iter().position(|c| *c == t.id);
                class.is_some_and(|c| accepts(head, bits[c]))
            })
    }

    /// Whether `t` is the title its O*NET occupation's postings count under by default.
    fn is_onet_default(&self, t: &Title) -> bool {
        self.taxonomy
            .title_for_onet(&t.onet_soc)
            .is_some_and(|d| d.id == t.id)
    }

    /// Step 2: the head's class probabilities for each distinct cleaned title of the rows
    /// `todo`, embedding only what `cache` lacks and scoring only titles no earlier call scored
    /// (a title's scores depend on its embedding alone, so a kept row is the row the head would
    /// return again).
    fn title_scores<'c>(
        &self,
        todo: &[usize],
        cleaned: &'c [String],
        cache: &mut EmbedCache,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Result<TitleScores<'c>, ClassifyError> {
        let t1 = Instant::now();
        let mut distinct: Vec<&str> = Vec::new();
        let mut slot: HashMap<&str, usize> = HashMap::new();
        for &i in todo {
            let c = cleaned[i].as_str();
            if !slot.contains_key(c) {
                slot.insert(c, distinct.len());
                distinct.push(c);
            }
        }
        let before = cache.encoded;
        cache.ensure(
            self.encoder.as_ref(),
            &distinct,
            opts.batch_size,
            &mut |_, _| {},
        )?;
        stats.title_embedded += cache.encoded - before;
        stats.title_cache_hits += todo.len() - (cache.encoded - before);
        stats.title_encode_time += t1.elapsed();
        let t2 = Instant::now();
        let k = self.meta.classes.len();
        let unscored: Vec<&str> = {
            let kept = cache.head_scores(self.id);
            distinct
                .iter()
                .copied()
                .filter(|t| !kept.contains(t))
                .collect()
        };
        let fresh = if unscored.is_empty() {
            Vec::new()
        } else {
            let x = cache.matrix(&unscored)?;
            self.head.predict_proba(&x)?
        };
        stats.title_head_scored += unscored.len();
        stats.title_head_reused += distinct.len() - unscored.len();
        let mut probs = vec![0f32; distinct.len() * k];
        let kept = cache.head_scores(self.id);
        let mut next_fresh = fresh.chunks(k.max(1));
        for (t, row) in distinct.iter().zip(probs.chunks_mut(k.max(1))) {
            if !kept.fill(t, row) {
                // scored in this call (`unscored` is in `distinct` order)
                let Some(f) = next_fresh.next() else {
                    return Err(ClassifyError::Predict(format!(
                        "the head returned fewer rows than the {} titles it scored",
                        unscored.len()
                    )));
                };
                row.copy_from_slice(f);
            }
        }
        for (t, f) in unscored.iter().zip(fresh.chunks(k.max(1))) {
            kept.insert(t, f);
        }
        stats.title_head_time += t2.elapsed();
        Ok(TitleScores { slot, probs })
    }

    /// Step 3: probabilities from the description — averaged with the title's where the title
    /// is ambiguous (top-2 margin below `ambiguity_margin`, or generic), alone for the rows
    /// `description_only` (never blended with a meaningless title's scores). Row → probabilities.
    #[allow(clippy::too_many_arguments)]
    fn description_scores(
        &self,
        inputs: &[TitleInput<'_>],
        cleaned: &[String],
        todo: &[usize],
        description_only: &[usize],
        titles: &TitleScores<'_>,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Result<HashMap<usize, Vec<f32>>, ClassifyError> {
        let k = self.meta.classes.len();
        let (slot, probs) = (&titles.slot, &titles.probs);
        let mut desc_rows: Vec<usize> = Vec::new();
        let mut desc_texts: Vec<String> = Vec::new();
        if opts.use_description {
            for &i in todo {
                let row = &probs[slot[cleaned[i].as_str()] * k..][..k];
                let top = top_k(row, 2);
                let margin = top[0].1 - top.get(1).map(|t| t.1).unwrap_or(0.0);
                if margin < opts.ambiguity_margin || is_generic_title(&cleaned[i]) {
                    if let Some(d) = inputs[i]
                        .description
                        .filter(|d| !d.trim().is_empty() && self.can_read(d, opts))
                    {
                        desc_rows.push(i);
                        desc_texts.push(description_text(
                            inputs[i].title,
                            d,
                            opts.description_chars,
                        ));
                    }
                }
            }
        }
        let n_blended = desc_rows.len();
        for &i in description_only {
            if let Some(d) = described(&inputs[i], opts) {
                desc_rows.push(i);
                desc_texts.push(description_text("", d, opts.description_chars));
            }
        }
        let mut desc_probs: HashMap<usize, Vec<f32>> = HashMap::new();
        if !desc_rows.is_empty() {
            let dm = self.embed_texts(&desc_texts, opts.batch_size)?;
            let head = self.desc_head.as_ref().unwrap_or(&self.head);
            let p = head.predict_proba(&dm)?;
            for (j, &i) in desc_rows.iter().enumerate() {
                let drow = &p[j * k..(j + 1) * k];
                let combined: Vec<f32> = if j < n_blended {
                    let trow = &probs[slot[cleaned[i].as_str()] * k..][..k];
                    trow.iter().zip(drow).map(|(a, b)| 0.5 * (a + b)).collect()
                } else {
                    drow.to_vec()
                };
                desc_probs.insert(i, combined);
            }
            stats.description_used += desc_rows.len();
            stats.description_only += desc_rows.len() - n_blended;
        }
        Ok(desc_probs)
    }

    /// Step 4 for one row scored by `method` (`row`: its class probabilities): the calibrated
    /// (and, when re-fitted, recalibrated) confidence, the top titles, and below
    /// `min_confidence` an abstention — unless the posting names its role in the header or a
    /// role line, which is then taken.
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        input: &TitleInput<'_>,
        cleaned: &str,
        row: &[f32],
        method: Method,
        description_alone: bool,
        opts: &CascadeOptions,
        stats: &mut CascadeStats,
    ) -> Prediction {
        let mut top = top_k(row, 5);
        // "CT Senior Network Engineer" is an engineer: not a title never written so
        // (Radiologic Technologist), whatever the embedding's neighbours say
        let head = (!description_alone && opts.cleaning.applies(CleaningRule::HeadWords))
            .then(|| crate::head_word::checked_head(cleaned))
            .flatten();
        let written = head.and_then(|h| self.top_written_with(row, &top, h));
        let refused = written.is_some();
        if let Some(w) = written {
            top = w;
        }
        stats.head_word_refused += usize::from(refused);
        let calib = match method {
            Method::Description => self
                .meta
                .desc_calibration
                .as_ref()
                .unwrap_or(&self.meta.calibration),
            _ => &self.meta.calibration,
        };
        let mut confidence = calib.apply(top[0].1);
        if let Some(r) = self
            .meta
            .recalibration
            .as_ref()
            .filter(|r| r.head == self.meta.head)
        {
            confidence = r.map.apply(confidence);
        }
        let best = self.class_title(top[0].0);
        let abstain = confidence < opts.min_confidence;
        if abstain {
            // a low-confidence title whose posting names its role in the header or a role
            // line: the named role
            if let Some(d) = described(input, opts) {
                let found: Vec<RoleMention> = self
                    .roles
                    .roles_in_posting(d, ROLE_SCAN_CHARS)
                    .into_iter()
                    .filter(|m| m.tier <= RoleTier::RoleLine)
                    .collect();
                if !found.is_empty() {
                    stats.role_from_description += 1;
                    stats.several_roles += usize::from(found.len() > 1);
                    return self.role_prediction(input.title, d, &found);
                }
                // "Senior Engineer" in a posting that writes out a software stack ("Stack: TS,
                // Postgres, React, GraphQL"): a software engineer, as any reader takes it
                if let Some(p) = is_bare_engineer(cleaned)
                    .then(|| self.software_engineer_of(input.title, d))
                    .flatten()
                {
                    stats.role_from_description += 1;
                    return p;
                }
            }
            // "Senior Software Engineer, Database Engine": the title before the team;
            // "Frontend Technical Lead": the practitioner of the specialty led
            if !description_alone && opts.use_alias {
                if let Some(t) = self.leading_title(input.title) {
                    stats.leading_title += 1;
                    return self.alias_prediction(input.title, t, vec![t.id.clone()], Vec::new());
                }
                if let Some(t) = self.lead_specialty(cleaned) {
                    stats.lead_specialty += 1;
                    return self.alias_prediction(input.title, t, vec![t.id.clone()], Vec::new());
                }
                // "CT Senior Network Engineer", its embedding's answer refused: the title it
                // ends with
                if let Some(t) = head
                    .filter(|_| refused)
                    .and_then(|h| self.trailing_title(cleaned, h))
                {
                    stats.trailing_title += 1;
                    return self.alias_prediction(input.title, t, vec![t.id.clone()], Vec::new());
                }
            }
            stats.unclassified += 1;
        }
        Prediction {
            title_id: if abstain {
                UNCLASSIFIED.to_string()
            } else {
                best.id.clone()
            },
            confidence,
            method: if abstain {
                Method::Unclassified
            } else {
                method
            },
            alternatives: top
                .iter()
                .take(3)
                .map(|(c, s)| (self.class_title(*c).id.clone(), *s))
                .collect(),
            seniority: resolve_seniority(
                input.title,
                if abstain { None } else { Some(best.level) },
            ),
            top5: top
                .iter()
                .map(|(c, _)| self.class_title(*c).id.clone())
                .collect(),
            best: best.id.clone(),
            reason: abstain.then_some(if description_alone {
                reason::NOT_A_TITLE
            } else {
                reason::LOW_CONFIDENCE
            }),
            roles: Vec::new(),
        }
    }

    /// An abstention that names its reason.
    fn abstention(&self, title: &str, why: &'static str, confidence: f32) -> Prediction {
        Prediction {
            title_id: UNCLASSIFIED.to_string(),
            confidence,
            method: Method::Unclassified,
            alternatives: Vec::new(),
            seniority: resolve_seniority(title, None),
            top5: Vec::new(),
            best: UNCLASSIFIED.to_string(),
            reason: Some(why),
            roles: Vec::new(),
        }
    }

    /// The prediction for a posting whose description names its role(s): the first (most
    /// trusted) is the title, all are kept in `roles`; the confidence is the alias step's (an
    /// exact alias match, read from the text). Seniority from the title field and the words
    /// around the role.
    fn role_prediction(&self, title: &str, description: &str, found: &[RoleMention]) -> Prediction {
        let first = &self.taxonomy.titles()[found[0].title];
        let ids: Vec<String> = found
            .iter()
            .map(|m| self.taxonomy.titles()[m.title].id.clone())
            .collect();
        let header = description
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        let words = format!("{title} {}", cap_chars(header, MAX_TITLE_CHARS));
        Prediction {
            title_id: first.id.clone(),
            confidence: self.meta.alias_confidence,
            method: Method::Description,
            alternatives: vec![(first.id.clone(), 1.0)],
            seniority: resolve_seniority(&words, Some(first.level)),
            top5: ids.iter().take(5).cloned().collect(),
            best: first.id.clone(),
            reason: None,
            roles: if ids.len() > 1 { ids } else { Vec::new() },
        }
    }
}

/// Whether a cleaned title's last word is a plural ("Software Engineers").
fn is_plural_head(cleaned: &str) -> bool {
    cleaned
        .split_whitespace()
        .last()
        .is_some_and(|w| crate::roles::singular_title(w).is_some())
}

/// Whether a cleaned title is only "engineer(s)" ("Senior Engineer", "Staff+ Engineers"):
/// which engineer, only the posting says.
fn is_bare_engineer(cleaned: &str) -> bool {
    matches!(cleaned, "engineer" | "engineers")
}

/// Words of a lead's specialty that name a business function or a place, not a technical
/// specialty: their lead is not "X engineer" or "X developer" ([`Classifier::lead_specialty`]).
const BUSINESS_FUNCTIONS: &[&str] = &[
    "business",
    "site",
    "design",
    "customer",
    "service",
    "market",
    "product",
    "team",
    "operations",
    "project",
    "program",
    "account",
    "sales",
    "marketing",
    "community",
    "people",
    "finance",
    "legal",
    "office",
    "studio",
    "store",
    "shift",
    "content",
    "strategic",
    "growth",
    "partner",
    "partnerships",
    "client",
    "support",
    "gtm",
    "revenue",
    "revops",
];

/// Where the first part of a title ends: the first `,` `|` `:` `–` `—` or spaced `-` outside
/// brackets (None without one).
fn leading_part_end(raw: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut prev_space = false;
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' | '|' | ':' | '–' | '—' if depth == 0 => return Some(i),
            // " - " and " / " (a slash without spaces joins words of one title: "Node/React")
            '-' | '/'
                if depth == 0
                    && prev_space
                    && chars.peek().is_some_and(|(_, n)| n.is_whitespace()) =>
            {
                return Some(i)
            }
            _ => {}
        }
        prev_space = c.is_whitespace();
    }
    None
}

/// The text the description step embeds: the title, then the start of the description.
pub fn description_text(title: &str, description: &str, max_chars: usize) -> String {
    let mut d: String = description.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = d.char_indices().nth(max_chars) {
        d.truncate(cut);
    }
    format!("{title}. {d}")
}

/// The text step 6's head reads for a title: the title field as written, `None` when blank.
fn title_text(title: &str) -> Option<String> {
    let t = title.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Step 2's result: each distinct cleaned title's row in `probs` (classes wide).
struct TitleScores<'c> {
    slot: HashMap<&'c str, usize>,
    probs: Vec<f32>,
}

/// The posting's description when the cascade may read it (descriptions on, not blank).
fn described<'a>(input: &TitleInput<'a>, opts: &CascadeOptions) -> Option<&'a str> {
    input
        .description
        .filter(|d| opts.use_description && !d.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::leading_part_end;

    #[test]
    fn the_leading_part_ends_at_the_first_separator_outside_brackets() {
        let first = |s: &'static str| leading_part_end(s).map(|i| s[..i].trim());
        assert_eq!(
            first("Senior Software Engineer, Database Engine"),
            Some("Senior Software Engineer")
        );
        assert_eq!(
            first("Platform Engineer - Orchestration"),
            Some("Platform Engineer")
        );
        assert_eq!(first("Data Engineer | Remote"), Some("Data Engineer"));
        assert_eq!(first("Engineer – Payments"), Some("Engineer"));
        assert_eq!(
            first("Software Engineer / Distributed Database"),
            Some("Software Engineer")
        );
        // a comma inside brackets, a hyphenated word, a slash between words: no separator
        assert_eq!(first("Staff Engineer (Embedded, Telematics)"), None);
        assert_eq!(first("Full-Stack Engineer"), None);
        assert_eq!(first("Full Stack Node/React Engineer"), None);
        assert_eq!(
            first("Staff Engineer (Embedded, Telematics) - Berlin"),
            Some("Staff Engineer (Embedded, Telematics)")
        );
        assert_eq!(first("Software Engineer"), None);
    }
}
