//! `jobshift`: the command-line front end. It only parses arguments and calls the stage crates;
//! each subcommand lives in `cmd/<name>.rs` and owns nothing but its flags and its printing.

mod cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "jobshift",
    version,
    about = "Which jobs are growing and which are disappearing, and how sure are we",
    long_about = "jobshift turns job postings into per-title trends: ingest → classify → report.\n\
                  Start with `jobshift demo`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole pipeline on the built-in corpus and write a report
    Demo(cmd::demo::Args),
    /// Read postings files into a canonical, de-duplicated dataset
    Ingest(jobshift_ingest::flags::IngestArgs),
    /// Collect open postings from company career sites (ATS boards, JSON-LD) into a dataset
    Collect(jobshift_collect::flags::CollectArgs),
    /// Inspect a dataset, or publish one to object storage (s3://)
    Dataset(cmd::dataset::Args),
    /// Browse and check the taxonomy of standardized titles
    Taxonomy(jobshift_taxonomy::flags::TaxonomyArgs),
    /// Fetch and inspect encoder models
    Model(jobshift_encode::flags::ModelArgs),
    /// Embed texts with a sentence-transformer model
    Embed(jobshift_encode::flags::EmbedArgs),
    /// Train the title classifier
    Train(jobshift_classify::flags::TrainArgs),
    /// Evaluate a classifier on held-out sets
    Eval(jobshift_classify::flags::EvalArgs),
    /// Contrastively fine-tune an encoder on same-title pairs
    Finetune(jobshift_classify::flags::FinetuneArgs),
    /// Classify every posting of a dataset
    Classify(cmd::classify::ClassifyCommand),
    /// Classify raw titles from a file
    ClassifyTitles(jobshift_classify::flags::ClassifyTitlesArgs),
    /// Compute trends and write the report (HTML, Markdown, CSV, JSON)
    Report(cmd::report::Args),
    /// Run SQL over a dataset (tables `postings` and `titles`)
    Sql(cmd::sql::Args),
    /// Generate realistic postings with ground truth
    Generate(jobshift_generate::flags::GenerateArgs),
    /// Crowd labelling: sample tasks, serve the labelling page, import and aggregate answers
    Label(jobshift_label::flags::LabelArgs),
    /// Serve a dashboard and a read-only HTTP API over a dataset's trends
    Serve(jobshift_serve::flags::ServeArgs),
    /// Run this machine as a cluster node (Apache DataFusion Ballista scheduler or executor)
    Cluster(jobshift_cluster::flags::NodeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Ingest(a) => cmd::ingest::run(a),
        Command::Collect(a) => cmd::collect::run(a),
        Command::Dataset(a) => cmd::dataset::run(a),
        Command::Taxonomy(a) => cmd::taxonomy::run(a),
        Command::Model(a) => cmd::model::run(a),
        Command::Embed(a) => cmd::embed::run(a),
        Command::Train(a) => cmd::classify::train(a),
        Command::Eval(a) => cmd::classify::eval(a),
        Command::Finetune(a) => cmd::classify::finetune(a),
        Command::Classify(a) => cmd::classify::classify(a),
        Command::ClassifyTitles(a) => cmd::classify::classify_titles(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Sql(a) => cmd::sql::run(a),
        Command::Generate(a) => cmd::generate::run(a),
        Command::Label(a) => cmd::label::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Cluster(a) => cmd::cluster::run(a),
    }
}
