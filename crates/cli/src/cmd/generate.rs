//! `jobshift generate`: write a realistic synthetic postings corpus with ground truth
//! (flags and printing only; the work is in jobshift-generate).

use anyhow::Context;
use jobshift_generate::flags::GenerateArgs;
use jobshift_generate::GenerateOptions;

pub fn run(a: GenerateArgs) -> anyhow::Result<()> {
    let opts = a.options()?;
    let catalog = jobshift_generate::load_catalog_for(&opts.taxonomy)?;
    if a.classified_only {
        return run_classified(&a, &catalog, &opts);
    }
    let bar = indicatif::ProgressBar::new(opts.postings);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} [{bar:30}] {pos}/{len} postings ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let cb = |p: &jobshift_generate::Progress| {
        bar.set_position(p.records_written);
        bar.set_message(p.month.to_string());
    };
    let mut s = jobshift_generate::generate_with(&catalog, &opts, &a.out, Some(&cb))
        .with_context(|| format!("generating into {}", a.out.display()))?;
    // a finished corpus's manifest holds the directory as its first run named it
    s.out_dir = a.out.clone();
    bar.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    print!("{}", s.text(a.labels_rate));
    Ok(())
}

fn run_classified(
    a: &GenerateArgs,
    catalog: &jobshift_generate::Catalog,
    opts: &GenerateOptions,
) -> anyhow::Result<()> {
    let copts = a.classified_options(catalog)?;
    let bar = indicatif::ProgressBar::new(opts.postings);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{bar:30}] {pos}/{len} classified postings ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let cb = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let s = jobshift_generate::generate_classified(catalog, opts, &copts, &a.out, Some(&cb))
        .with_context(|| format!("generating a classified dataset into {}", a.out.display()))?;
    bar.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    print!("{}", s.text(a.labels_rate, a.postings_table));
    Ok(())
}
