//! `jobshift report DATASET_DIR --out DIR`: the study's analysis (jobshift-trends) rendered as
//! report.html, report.md, report.json and CSV tables (jobshift-report).

use anyhow::Context;
pub use jobshift_trends::flags::AnalysisFlags;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Dataset directory (with classified/ written by `jobshift classify`), or the same layout in
    /// an S3-compatible bucket: s3://BUCKET/PREFIX (credentials and endpoint from the AWS_*
    /// environment variables)
    pub dataset_dir: PathBuf,
    /// Output directory for report.html, report.md, report.json and the CSV tables
    #[arg(long, default_value = "report")]
    pub out: PathBuf,
    #[command(flatten)]
    pub analysis: AnalysisFlags,
    /// With --cluster, the executors' own --memory-pool applies instead of --memory-limit
    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let opts = a.analysis.options();
    if opts.memory_limit.is_some() && a.cluster.cluster.is_none() {
        jobshift_core::memory::return_freed_memory_to_the_os();
    }
    let started = std::time::Instant::now();
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message(format!("analysing {}", a.dataset_dir.display()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let trends = match &a.cluster.cluster {
        Some(url) => {
            let dir = a.dataset_dir.clone();
            let opts = &opts;
            super::cluster::on_cluster(url, a.cluster.cluster_timeout, |ctx| async move {
                jobshift_cluster::client::analyze(ctx, &dir, opts).await
            })
        }
        None => jobshift_trends::analyze(&a.dataset_dir, &opts).map_err(anyhow::Error::new),
    };
    spinner.finish_and_clear();
    let trends = match trends {
        // the engine spills beyond the limit, but a spill merge and the ordered aggregation
        // after it need a few MB that cannot spill (see jobshift_trends::engine): say what to do
        Err(e)
            if a.cluster.cluster.is_none()
                && matches!(
                    e.downcast_ref::<jobshift_trends::TrendsError>(),
                    Some(jobshift_trends::TrendsError::ResourcesExhausted { .. })
                ) =>
        {
            let limit = a
                .analysis
                .memory_limit
                .0
                .map_or("none".to_string(), |b| format!("{} MiB", b >> 20));
            return Err(e.context(format!(
                "analysing {}: the query engine ran out of its memory limit ({limit}); rerun with a \
                 larger --memory-limit (e.g. 2GiB) or --memory-limit none",
                a.dataset_dir.display()
            )));
        }
        t => t.with_context(|| format!("analysing {}", a.dataset_dir.display()))?,
    };
    let paths = jobshift_report::write_report(&trends, &a.out)
        .with_context(|| format!("writing the report into {}", a.out.display()))?;
    println!("{}", jobshift_report::Headline(&trends));
    for n in &trends.notes {
        eprintln!("note: {n}");
    }
    println!("report: {}", paths.html.display());
    println!(
        "        {} · {} · {}",
        paths.markdown.display(),
        paths.json.display(),
        paths.dir.join("*.csv").display()
    );
    eprintln!("done in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}
