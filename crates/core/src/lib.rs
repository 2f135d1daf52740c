//! Shared pieces of the jobshift pipeline.
//!
//! Every stage crate depends on this one and on nothing of each other's internals:
//! - [`schema`]: the Arrow schema of the canonical postings dataset and the columns
//!   classification adds, so ingest, classify, trends and the generator agree on names;
//! - [`vocab`]: the shared vocabulary of levels, tiers and seniority;
//! - [`normalize`]: title normalization used for alias matching, dedup keys and caching;
//! - [`labels`]: the labelled-example format labelling writes and training reads;
//! - [`month`]: the calendar month used by plans, partitions and windows;
//! - [`dataset`]: where things live inside a dataset directory;
//! - [`places`]: place tables several stages read (the US states);
//! - [`numbers`]: numbers as people read them (digits grouped by commas);
//! - [`atomic`]: write-to-temp-then-rename, the only way jobshift writes outputs;
//! - [`test_support`]: tests skip for a missing asset only through it (fails in CI);
//! - [`classified`]: `classified/manifest.json`, what classify (or the generator) records about
//!   how a classified table was made and what the report reads back;
//! - [`commit`]: one writer at a time per dataset, staged runs committed all-or-nothing, and
//!   readers that never see a half-moved dataset.

pub mod atomic;
pub mod classified;
pub mod commit;
pub mod dataset;
pub mod labels;
pub mod memory;
pub mod month;
pub mod normalize;
pub mod numbers;
pub mod places;
pub mod schema;
pub mod test_support;
pub mod vocab;

pub use month::YearMonth;
pub use vocab::{Level, Seniority, Tier};
