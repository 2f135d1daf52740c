//! One module per subcommand. Each exports its clap `Args` and a `run` function.

pub mod bench;
pub mod classify;
pub mod dataset;
pub mod demo;
pub mod embed;
pub mod generate;
pub mod ingest;
pub mod label;
pub mod model;
pub mod report;
pub mod sql;
pub mod taxonomy;
