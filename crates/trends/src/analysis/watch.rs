//! Step 7 of the analysis: the watch list — the titles the user named (or the study's), with a
//! note for each that cannot be shown.

use super::{Series, DEFAULT_WATCH};
use crate::engine::Catalog;
use crate::options::TrendOptions;

/// The watched title ids that have postings, in the order given.
pub(super) fn list(
    opts: &TrendOptions,
    titles: &[Series],
    catalog: &Catalog,
    notes: &mut Vec<String>,
) -> Vec<String> {
    if opts.watch.is_empty() {
        DEFAULT_WATCH
            .iter()
            .filter(|id| titles.iter().any(|t| &t.id == *id))
            .map(|s| s.to_string())
            .collect()
    } else {
        for id in &opts.watch {
            if !titles.iter().any(|t| &t.id == id) {
                let hint = if catalog.titles.iter().any(|t| &t.id == id) {
                    "it has no postings in the windows"
                } else {
                    "it is not a title id of the taxonomy (see `jobshift taxonomy`)"
                };
                notes.push(format!("watch list: {id:?} is not shown: {hint}"));
            }
        }
        opts.watch
            .iter()
            .filter(|id| titles.iter().any(|t| &t.id == *id))
            .cloned()
            .collect()
    }
}
