//! `jobshift sql DATASET_DIR "SELECT ..."` (or `s3://BUCKET/PREFIX`): run any query over a dataset's tables `postings`
//! (classified/, else postings/) and `titles` (the taxonomy); print a table or write CSV/Parquet.

use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Dataset directory, or s3://BUCKET/PREFIX (credentials and endpoint from the AWS_*
    /// environment variables)
    pub dataset_dir: PathBuf,
    /// The query, e.g. "SELECT title_id, COUNT(*) FROM postings GROUP BY 1 ORDER BY 2 DESC LIMIT 20"
    pub query: String,
    /// Write the result as CSV to this file instead of printing it
    #[arg(long, conflicts_with = "parquet")]
    pub csv: Option<PathBuf>,
    /// Write the result as Parquet to this file instead of printing it
    #[arg(long)]
    pub parquet: Option<PathBuf>,
    /// Taxonomy directory for the `titles` table (default: the built-in taxonomy)
    #[arg(long)]
    pub taxonomy: Option<PathBuf>,
    #[command(flatten)]
    pub cluster: super::cluster::ClusterArgs,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let out = match &a.cluster.cluster {
        Some(url) => {
            let (dir, query, taxonomy) = (&a.dataset_dir, &a.query, a.taxonomy.as_deref());
            super::cluster::on_cluster(url, a.cluster.cluster_timeout, |ctx| async move {
                jobshift_cluster::client::run_sql(&ctx, dir, query, taxonomy).await
            })
        }
        None => jobshift_trends::run_sql(&a.dataset_dir, &a.query, a.taxonomy.as_deref())
            .map_err(anyhow::Error::new),
    }
    .with_context(|| format!("querying {}", a.dataset_dir.display()))?;
    if let Some(p) = &a.csv {
        out.write_csv(p)?;
        eprintln!("{} rows → {}", out.rows(), p.display());
    } else if let Some(p) = &a.parquet {
        out.write_parquet(p)?;
        eprintln!("{} rows → {}", out.rows(), p.display());
    } else {
        println!("{}", out.to_table()?);
        eprintln!("{} rows (table `postings` = {:?})", out.rows(), out.source);
    }
    Ok(())
}
