//! jobshift-label: the crowd-labelling workflow.
//!
//! - [`sample`]: draw postings to label from a dataset (random, stratified by predicted family,
//!   or least-confident first), mix in known-answer gold postings, and write the task files
//!   ([`tasks`]: `tasks.jsonl` + `manifest.json` + `catalog.json`; [`mturk`]: the Mechanical Turk
//!   batch input CSV and HTML question template).
//! - [`server`]: the built-in labelling page (axum), answers kept in an append-only, fsynced
//!   [`store`].
//! - [`import`]: read Mechanical Turk results and the page's store, validate every row, and
//!   aggregate with [`aggregate`] (majority vote, Dawid–Skene, Krippendorff's alpha) into
//!   `LabeledExample` JSONL plus a report.
//!
//! [`catalog`] is the snapshot of the taxonomy the annotators pick from (saved with the tasks so
//! serving and importing use exactly the version the tasks were made with). With the `clap`
//! feature, [`flags`] holds `jobshift label`'s flags.

pub mod aggregate;
pub mod catalog;
pub mod error;
#[cfg(feature = "clap")]
pub mod flags;
pub mod import;
pub mod mturk;
pub mod sample;
pub mod server;
pub mod store;
pub mod tasks;

pub use catalog::{CatalogTitle, TitleCatalog};
pub use error::LabelError;

/// The answer an annotator gives when no taxonomy title fits the posting (also the title id
/// of the label `import` writes for it).
pub use jobshift_core::labels::NONE_FITS;
