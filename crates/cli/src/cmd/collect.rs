//! `jobshift collect --companies FILE --out DATASET`: fetch open postings from company career
//! sites into a dataset; `collect discover URL...` finds the board a careers page embeds;
//! `collect status DATASET` prints each company's health (see docs/collect.md).

use anyhow::Context;
use jobshift_collect::flags::{CollectArgs, CollectCommand, NetArgs};
use jobshift_collect::CollectOptions;
use std::io::IsTerminal;

pub fn run(args: CollectArgs) -> anyhow::Result<()> {
    match args.command {
        Some(CollectCommand::Discover { urls, net }) => return discover(&urls, &net),
        Some(CollectCommand::Status { dataset, json }) => return status(&dataset, json),
        None => {}
    }
    let out = args.out.clone().context("--out DATASET is required")?;
    let progress = !args.quiet && !args.json && std::io::stderr().is_terminal();
    let report = if args.reparse {
        jobshift_collect::reparse(&out, args.run.as_deref(), &args.only, progress)
            .with_context(|| format!("reparse into {} failed", out.display()))?
    } else {
        let file = args
            .companies
            .clone()
            .context("--companies FILE is required")?;
        let companies = jobshift_collect::read_companies(&file).map_err(anyhow::Error::msg)?;
        for p in &companies.problems {
            eprintln!("{}: {p} (row skipped)", file.display());
        }
        let fetch = args.net.fetch_options()?;
        if args.net.user_agent.is_none() {
            eprintln!(
                "note: no --user-agent contact set; board operators cannot reach you. Use e.g. \
                 --user-agent \"jobshift (+mailto:you@example.org)\" or JOBSHIFT_USER_AGENT"
            );
        }
        if args.dry_run {
            let selected = jobshift_collect::run::select(&companies, &args.only)?;
            let plan = jobshift_collect::plan(&selected);
            if args.json {
                println!("{}", serde_json::to_string_pretty(&plan)?);
            } else {
                for p in &plan {
                    match &p.first_request {
                        Ok(u) => println!("{} [{}]: {u}", p.name, p.ats),
                        Err(e) => println!("{} [{}]: cannot run: {e}", p.name, p.ats),
                    }
                }
                println!(
                    "{} companies; at most {} requests per second per host, {} in flight; nothing was fetched (--dry-run)",
                    plan.len(),
                    fetch.per_host_rate,
                    fetch.concurrency
                );
            }
            return Ok(());
        }
        let opts = CollectOptions {
            fetch,
            only: args.only.clone(),
            progress,
        };
        jobshift_collect::collect(&companies, &out, &opts).with_context(|| {
            format!(
                "collect into {} stopped; companies already done are kept, run the same command again to finish",
                out.display()
            )
        })?
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.summary());
        println!("report: {}", out.join("collect-report.json").display());
    }
    if !report.accounting_holds() {
        anyhow::bail!("internal accounting error: a company's fetched postings do not add up (please report this)");
    }
    // a scheduled run that reached no board at all must not look like a success
    if !report.companies.is_empty() && report.ok == 0 && report.partial == 0 {
        anyhow::bail!(
            "every company failed ({} of {}); the reasons are in {} (the dataset keeps what earlier runs collected)",
            report.failed,
            report.companies.len(),
            out.join("collect-report.json").display()
        );
    }
    Ok(())
}

fn discover(urls: &[String], net: &NetArgs) -> anyhow::Result<()> {
    let fetcher =
        jobshift_collect::Fetcher::new(net.fetch_options()?).map_err(anyhow::Error::msg)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let results = rt.block_on(jobshift_collect::discover::discover(&fetcher, urls));
    println!("name,ats,board,url");
    let mut failed = 0;
    for (u, r) in urls.iter().zip(results) {
        match r {
            Ok(found) if found.is_empty() => {
                eprintln!("{u}: no ATS board or JobPosting markup found")
            }
            Ok(found) => found.iter().for_each(|d| println!("{}", d.csv_row())),
            Err(e) => {
                failed += 1;
                eprintln!("{u}: {e}");
            }
        }
    }
    anyhow::ensure!(failed < urls.len(), "no page could be fetched");
    Ok(())
}

fn status(dataset: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let health = jobshift_collect::status(dataset).with_context(|| {
        format!(
            "{} has no collect history (run `jobshift collect` first)",
            dataset.display()
        )
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&health)?);
        return Ok(());
    }
    print!("{}", jobshift_collect::HealthTable(&health));
    Ok(())
}
