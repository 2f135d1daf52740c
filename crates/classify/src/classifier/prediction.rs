//! What the cascade takes and gives: a posting's title and description ([`TitleInput`]), the
//! answer ([`Prediction`]: title, confidence, the step that decided, or the reason it abstained),
//! the options a run sets ([`CascadeOptions`]) and what each step did ([`CascadeStats`]).

use super::ClassifierMeta;
use jobshift_core::Seniority;
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
    /// Postings whose embedding answered a title of another family and kind than the exact
    /// title before a separator ("Data Scientist - Credit Risk": not a Credit Analyst),
    /// classified by that title.
    pub leading_title_kept: usize,
    /// Postings classified by the one exact title a later part of a header-like title field
    /// names, its first part naming none ("Shoefitr - Software Engineer - Pittsburgh, PA"),
    /// where the embedding abstained or answered a title of another family and kind.
    pub header_title: usize,
    /// Postings whose title the embedding left below the threshold, classified by the
    /// specialty a lead title names ("Frontend Technical Lead" → Frontend Engineer).
    pub lead_specialty: usize,
    /// Postings whose title the embedding left below the threshold, classified by the exact
    /// title after the technologies it names first ("Rust Software Engineer").
    pub technology_title: usize,
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
    /// Of the abstentions step 6 read, those left unclassified because their description was
    /// unlike every labelled abstention's ([`crate::population::PopulationHeadInfo::described_floor`]).
    #[serde(skip_serializing_if = "crate::is_zero")]
    pub population_unlike: usize,
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
        self.leading_title_kept += o.leading_title_kept;
        self.header_title += o.header_title;
        self.lead_specialty += o.lead_specialty;
        self.technology_title += o.technology_title;
        self.head_word_refused += o.head_word_refused;
        self.trailing_title += o.trailing_title;
        self.remapped += o.remapped;
        self.population_filled += o.population_filled;
        self.population_moved += o.population_moved;
        self.population_none += o.population_none;
        self.population_unlike += o.population_unlike;
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
