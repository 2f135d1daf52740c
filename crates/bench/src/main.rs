//! `jobshift-bench`: the benchmark suite, a binary of its own beside `jobshift` (not part of the
//! binary users install). Runs each pipeline stage at each size as a child process of the
//! `jobshift` binary (so each stage's peak memory is its own: read from the child's rusage via
//! `wait4`), records wall time, CPU time, rows/s per core, peak RSS and output size, runs the
//! peers in the same run (DuckDB on the report's own SQL, sentence-transformers + scikit-learn on
//! a classification sample), scores recovered changes against the generator's truth, writes
//! `results.json` and renders a Markdown section with the exact commands.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(clap::Parser)]
#[command(
    name = "jobshift-bench",
    version,
    about = "Benchmark jobshift's stages at scale (wall time, rows/s per core, peak memory) against peers"
)]
#[command(after_help = "Stages (run in this order for each size):\n  \
generate  full-text postings with ground truth (jobshift generate, Parquet)\n  \
ingest    jobshift ingest of those postings\n  \
classify  jobshift classify of the ingested dataset (default classifier)\n  \
synth     classified-only generation (jobshift generate --classified-only): truth written as a classified dataset, no text;\n            with --synth-postings a postings table (raw titles) + labelled sample for the real classifier (classify stage)\n  \
report    jobshift report on SIZE/dataset if it was classified, else on SIZE/synth; DuckDB runs the same SQL on the same Parquet\n\n\
Example: jobshift-bench --sizes 1M,10M --stages generate,ingest,classify,report --out /scratch/bench\n         \
jobshift-bench --sizes 100M --stages synth,report --out /scratch/bench")]
pub struct Args {
    /// The jobshift binary to measure [default: `jobshift` beside this binary, as
    /// `cargo build --release -p jobshift -p jobshift-bench` puts it]
    #[arg(long, value_name = "PATH")]
    pub jobshift: Option<PathBuf>,
    /// Sizes (postings), comma-separated: 1M, 10M, 100M, 250k, 5000
    #[arg(long, value_delimiter = ',', default_value = "1M,10M")]
    pub sizes: Vec<String>,
    /// Stages to run: generate, ingest, classify, synth, report
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "generate,ingest,classify,report"
    )]
    pub stages: Vec<String>,
    /// Working directory: SIZE/{corpus,dataset,synth,report}, logs, results.json, bench.md
    #[arg(long, default_value = "jobshift-bench")]
    pub out: PathBuf,
    /// Do not run the peers (DuckDB, sentence-transformers + scikit-learn)
    #[arg(long)]
    pub no_peers: bool,
    /// Python interpreter for the peers (needs duckdb; torch, sentence-transformers, scikit-learn
    /// for the classification peer)
    #[arg(long, default_value = "python3", env = "JOBSHIFT_BENCH_PYTHON")]
    pub python: String,
    /// The repository's benches/ directory (peer scripts)
    #[arg(long)]
    pub benches_dir: Option<PathBuf>,
    /// synth stage: simulate the classifier from this confusion matrix (truth → predicted title)
    #[arg(long)]
    pub simulate_confusion: Option<PathBuf>,
    /// synth stage: write the postings table (raw titles, no text) with a labelled sample
    /// instead of a classified dataset; the classify stage then runs the real classifier on it
    /// (`classify --no-description`), measures its confusion matrix on the labelled sample
    /// (`eval --labels`), and the report stage corrects with that matrix (with --corrected)
    #[arg(long, conflicts_with = "simulate_confusion")]
    pub synth_postings: bool,
    /// Share of postings in the labelled sample (synth stage with --synth-postings; generate
    /// stage with --corrected), on which the classify stage measures the confusion matrix
    #[arg(long, default_value_t = 0.01)]
    pub labels_rate: f64,
    /// generate and synth stages: `--exact-volumes` (realized counts = expected counts, no
    /// sampling noise; recovery is then scored against the injected change without it)
    #[arg(long)]
    pub exact_volumes: bool,
    /// report stage: also correct for misclassification, with the confusion measured on the
    /// corpus' labelled sample when there is one (else the classifier's held-out matrix)
    #[arg(long)]
    pub corrected: bool,
    /// report stage: extra arguments for `jobshift report`, e.g. "--assume-unique"
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub report_args: String,
    /// classify stage peer: model for benches/classify/reference.py (default: the minilm model
    /// directory, the default classifier's encoder)
    #[arg(long)]
    pub peer_model: Option<String>,
    /// Delete each size's big intermediates (corpus, dataset, synth) after its last stage
    #[arg(long)]
    pub cleanup: bool,
    /// Replace the section between `<!-- jobshift-bench:begin -->` and
    /// `<!-- jobshift-bench:end -->` in this Markdown file with the rendered results
    #[arg(long)]
    pub update_doc: Option<PathBuf>,
    /// Only render bench.md (and --update-doc) from an existing results.json
    #[arg(long)]
    pub render_only: bool,
}

/// One measured process.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Measurement {
    pub size: u64,
    pub stage: String,
    /// "jobshift" or the peer's name
    pub engine: String,
    pub command: String,
    pub ok: bool,
    pub wall_s: f64,
    pub user_s: f64,
    pub sys_s: f64,
    /// Rows the stage processed (records generated / read / classified / aggregated).
    pub rows: u64,
    /// rows / wall / cores of the machine.
    pub rows_per_s_per_core: f64,
    /// rows / CPU second actually used.
    pub rows_per_cpu_s: f64,
    pub peak_rss_mb: f64,
    pub output_bytes: u64,
    pub load_before: String,
    pub when: String,
    /// Stage-specific numbers (peer timings, ratios, recovery errors).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
}

struct Exit {
    ok: bool,
    wall_s: f64,
    user_s: f64,
    sys_s: f64,
    peak_rss_mb: f64,
}

/// Run a child to completion and read its own resource usage.
///
/// std has no API for a child's rusage, so this waits with `libc::wait4` (the child's peak RSS
/// and CPU times, not this process's nor other children's).
fn run_measured(cmd: &mut Command, log: &Path) -> anyhow::Result<Exit> {
    let f = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let f2 = f.try_clone()?;
    cmd.stdout(Stdio::from(f))
        .stderr(Stdio::from(f2))
        .stdin(Stdio::null());
    let started = Instant::now();
    let child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child, not yet reaped (Child::wait is never called on it);
        // status and ru point to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            bail!("waiting for child {pid}: {err}");
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    Ok(Exit {
        ok,
        wall_s: wall,
        user_s: tv(ru.ru_utime),
        sys_s: tv(ru.ru_stime),
        // Linux reports ru_maxrss in KiB
        peak_rss_mb: ru.ru_maxrss as f64 / 1024.0,
    })
}

fn parse_size(s: &str) -> anyhow::Result<u64> {
    let t = s.trim().to_ascii_lowercase().replace('_', "");
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1_000f64),
        Some('m') => (&t[..t.len() - 1], 1_000_000f64),
        Some('g') | Some('b') => (&t[..t.len() - 1], 1_000_000_000f64),
        _ => (&t[..], 1f64),
    };
    let v: f64 = num
        .parse()
        .with_context(|| format!("size {s:?}: expected a number with an optional k/M/G suffix"))?;
    if v <= 0.0 {
        bail!("size {s:?} must be positive");
    }
    Ok((v * mult).round() as u64)
}

fn size_label(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

fn dir_bytes(p: &Path) -> u64 {
    let Ok(md) = std::fs::symlink_metadata(p) else {
        return 0;
    };
    if md.is_file() {
        return md.len();
    }
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.filter_map(|e| e.ok())
        .map(|e| dir_bytes(&e.path()))
        .sum()
}

fn parquet_files(p: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(p) {
        let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        v.sort();
        for e in v {
            if e.is_dir() {
                parquet_files(&e, out);
            } else if e.extension().is_some_and(|x| x == "parquet")
                && !e
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                out.push(e);
            }
        }
    }
}

/// Rows in the Parquet files under `p` (footers only).
fn parquet_rows(p: &Path) -> u64 {
    let mut files = Vec::new();
    parquet_files(p, &mut files);
    files
        .iter()
        .filter_map(|f| {
            let file = std::fs::File::open(f).ok()?;
            let r = parquet::file::reader::SerializedFileReader::new(file).ok()?;
            use parquet::file::reader::FileReader;
            Some(r.metadata().file_metadata().num_rows() as u64)
        })
        .sum()
}

fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+*".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn cmd_string(prog: &str, args: &[String]) -> String {
    std::iter::once(prog.to_string())
        .chain(args.iter().map(|a| shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Ctx {
    exe: PathBuf,
    cores: usize,
    out: PathBuf,
    results: Vec<Measurement>,
}

impl Ctx {
    fn results_path(&self) -> PathBuf {
        self.out.join("results.json")
    }
    fn save(&self) -> anyhow::Result<()> {
        jobshift_core::atomic::write_json(&self.results_path(), &self.results)
            .with_context(|| format!("writing {}", self.results_path().display()))
    }
    /// Keep one measurement per (size, stage, engine): the latest.
    fn record(&mut self, m: Measurement) -> anyhow::Result<()> {
        self.results
            .retain(|r| !(r.size == m.size && r.stage == m.stage && r.engine == m.engine));
        self.results.push(m);
        // jobshift first, then its peers (the order they run in)
        let key = |m: &Measurement| {
            (
                m.size,
                // eval-labels is part of the classify stage (--synth-postings)
                stage_rank(if m.stage == "eval-labels" {
                    "classify"
                } else {
                    &m.stage
                }),
                m.engine != "jobshift",
                m.engine.clone(),
            )
        };
        self.results.sort_by_key(key);
        self.save()
    }

    /// Run `prog args` measured; `shown` is the command as a user would type it.
    #[allow(clippy::too_many_arguments)]
    fn measure(
        &self,
        size: u64,
        stage: &str,
        engine: &str,
        prog: &Path,
        args: &[String],
        shown: String,
        rows_hint: u64,
    ) -> anyhow::Result<Measurement> {
        let logs = self.out.join(size_label(size)).join("logs");
        std::fs::create_dir_all(&logs)?;
        let log = logs.join(format!("{stage}-{engine}.log"));
        let load_before = load_avg();
        eprintln!("[{}] {stage} ({engine}): {shown}", size_label(size));
        let mut cmd = Command::new(prog);
        cmd.args(args);
        let e = run_measured(&mut cmd, &log)?;
        let m = Measurement {
            size,
            stage: stage.into(),
            engine: engine.into(),
            command: shown,
            ok: e.ok,
            wall_s: round(e.wall_s, 2),
            user_s: round(e.user_s, 2),
            sys_s: round(e.sys_s, 2),
            rows: rows_hint,
            rows_per_s_per_core: rate(rows_hint as f64, e.wall_s * self.cores as f64),
            rows_per_cpu_s: rate(rows_hint as f64, e.user_s + e.sys_s),
            peak_rss_mb: round(e.peak_rss_mb, 1),
            output_bytes: 0,
            load_before,
            when: now_utc(),
            extra: BTreeMap::new(),
        };
        eprintln!(
            "    {} in {:.1}s (cpu {:.1}s), peak RSS {:.0} MB; log {}",
            if e.ok { "ok" } else { "FAILED" },
            e.wall_s,
            e.user_s + e.sys_s,
            e.peak_rss_mb,
            log.display()
        );
        Ok(m)
    }
}

fn round(x: f64, d: i32) -> f64 {
    let p = 10f64.powi(d);
    (x * p).round() / p
}

fn rate(rows: f64, secs: f64) -> f64 {
    if secs > 0.0 {
        round(rows / secs, 0)
    } else {
        0.0
    }
}

/// The classifier on the corpus' labelled sample (when the generator wrote one), with the
/// cascade the classify stage used: `DS/confusion.json`, which the report stage corrects with.
fn eval_labels(
    ctx: &mut Ctx,
    size: u64,
    labels: &Path,
    ds: &Path,
    titles_only: bool,
) -> anyhow::Result<()> {
    if !labels.is_dir() {
        return Ok(());
    }
    let exe = ctx.exe.clone();
    let mut args: Vec<String> = vec![
        "eval".into(),
        "--labels".into(),
        labels.display().to_string(),
        "--confusion-out".into(),
        ds.join("confusion.json").display().to_string(),
    ];
    if titles_only {
        args.push("--no-description".into());
    }
    let n = count_lines(labels);
    let shown = cmd_string("jobshift", &args);
    let mut m = ctx.measure(size, "eval-labels", "jobshift", &exe, &args, shown, n)?;
    if let Ok(t) = std::fs::read_to_string(ds.join("eval-labels.json")) {
        if let Ok(v) = serde_json::from_str::<Value>(&t) {
            if let Some(x) = v.get(0).and_then(|r| r.get("exact_title")) {
                m.extra.insert("exact_title_accuracy".into(), x.clone());
            }
        }
    }
    ctx.record(m)
}

/// Lines in the `*.jsonl` files of a directory (labelled examples).
fn count_lines(dir: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if let Ok(t) = std::fs::read_to_string(e.path()) {
                n += t.lines().filter(|l| !l.trim().is_empty()).count() as u64;
            }
        }
    }
    n
}

fn stage_rank(s: &str) -> usize {
    ["generate", "synth", "ingest", "classify", "report"]
        .iter()
        .position(|x| *x == s)
        .unwrap_or(9)
}

fn benches_dir(a: &Args) -> Option<PathBuf> {
    if let Some(d) = &a.benches_dir {
        return Some(d.clone());
    }
    // the repository's benches/ beside the working directory, or above the binary
    let mut cands = vec![PathBuf::from("benches")];
    if let Ok(exe) = std::env::current_exe() {
        let mut p = exe.parent().map(Path::to_path_buf);
        while let Some(d) = p {
            cands.push(d.join("benches"));
            p = d.parent().map(Path::to_path_buf);
        }
    }
    cands.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../benches"));
    cands
        .into_iter()
        .find(|d| d.join("trends/run.py").is_file())
}

fn main() -> anyhow::Result<()> {
    run(<Args as clap::Parser>::parse())
}

/// The `jobshift` binary: --jobshift, else the one beside this binary.
fn jobshift_binary(a: &Args) -> anyhow::Result<PathBuf> {
    let exe = match &a.jobshift {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .context("locating this binary")?
            .with_file_name(format!("jobshift{}", std::env::consts::EXE_SUFFIX)),
    };
    if !exe.is_file() {
        bail!(
            "{} not found: build it (`cargo build --release -p jobshift -p jobshift-bench`) or pass \
             --jobshift PATH",
            exe.display()
        );
    }
    Ok(exe)
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let exe = jobshift_binary(&a)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut ctx = Ctx {
        exe,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        out: a.out.clone(),
        results: Vec::new(),
    };
    if let Ok(text) = std::fs::read_to_string(ctx.results_path()) {
        ctx.results = serde_json::from_str(&text)
            .with_context(|| format!("reading {}", ctx.results_path().display()))?;
    }
    if !a.render_only {
        let sizes: Vec<u64> = a
            .sizes
            .iter()
            .map(|s| parse_size(s))
            .collect::<anyhow::Result<_>>()?;
        for s in &a.stages {
            if stage_rank(s) == 9 {
                bail!("unknown stage {s:?}: expected generate, ingest, classify, synth or report");
            }
        }
        let mut stages = a.stages.clone();
        stages.sort_by_key(|s| stage_rank(s));
        stages.dedup();
        let benches = benches_dir(&a);
        if !a.no_peers && benches.is_none() {
            eprintln!("note: benches/ (peer scripts) not found; pass --benches-dir; peers skipped");
        }
        for &size in &sizes {
            for stage in &stages {
                run_stage(&mut ctx, &a, size, stage, benches.as_deref())?;
            }
            if a.cleanup {
                for d in ["corpus", "dataset", "synth"] {
                    let p = a.out.join(size_label(size)).join(d);
                    if p.exists() {
                        std::fs::remove_dir_all(&p)
                            .with_context(|| format!("removing {}", p.display()))?;
                    }
                }
            }
        }
        if !a.no_peers && stages.iter().any(|s| s == "classify") {
            if let Some(b) = benches.as_deref() {
                classify_peer(&mut ctx, &a, b)?;
            }
        }
    }
    let md = render(&ctx.results, ctx.cores);
    let md_path = a.out.join("bench.md");
    jobshift_core::atomic::write_bytes(&md_path, md.as_bytes())
        .with_context(|| format!("writing {}", md_path.display()))?;
    if let Some(doc) = &a.update_doc {
        update_doc(doc, &md)?;
    }
    println!("results: {}", ctx.results_path().display());
    println!("table:   {}", md_path.display());
    Ok(())
}

/// The directories of one corpus size.
struct StageDirs {
    dir: PathBuf,
    corpus: PathBuf,
    dataset: PathBuf,
    synth: PathBuf,
}

fn shown(args: &[String]) -> String {
    cmd_string("jobshift", args)
}

fn p(x: &Path) -> String {
    x.display().to_string()
}

fn run_stage(
    ctx: &mut Ctx,
    a: &Args,
    size: u64,
    stage: &str,
    benches: Option<&Path>,
) -> anyhow::Result<()> {
    let dir = ctx.out.join(size_label(size));
    std::fs::create_dir_all(&dir)?;
    let d = StageDirs {
        corpus: dir.join("corpus"),
        dataset: dir.join("dataset"),
        synth: dir.join("synth"),
        dir,
    };
    match stage {
        "generate" => stage_generate(ctx, a, size, &d),
        "ingest" => stage_ingest(ctx, a, size, &d),
        "classify" if !d.dataset.join("postings").is_dir() && d.synth.join("postings").is_dir() => {
            stage_classify_synth(ctx, a, size, &d)
        }
        "classify" => stage_classify(ctx, a, size, &d),
        "synth" => stage_synth(ctx, a, size, &d),
        "report" => stage_report(ctx, a, size, &d, benches),
        _ => unreachable!("validated"),
    }
}

/// The corpus, with a labelled sample when the report is corrected.
fn stage_generate(ctx: &mut Ctx, a: &Args, size: u64, d: &StageDirs) -> anyhow::Result<()> {
    let StageDirs { corpus, .. } = d;
    let exe = ctx.exe.clone();
    let stage = "generate";
    let mut args: Vec<String> = vec![
        "generate".into(),
        "--postings".into(),
        size.to_string(),
        "--out".into(),
        p(corpus),
        "--format".into(),
        "parquet".into(),
    ];
    if a.exact_volumes {
        args.push("--exact-volumes".into());
    }
    if a.corrected {
        // a labelled sample: the classify stage measures the confusion on it
        args.extend(["--labels-rate".into(), a.labels_rate.to_string()]);
    }
    let mut m = ctx.measure(size, stage, "jobshift", &exe, &args, shown(&args), size)?;
    m.output_bytes = dir_bytes(corpus);
    ctx.record(m)?;
    Ok(())
}

/// Ingest the corpus' postings files into the dataset.
fn stage_ingest(ctx: &mut Ctx, _a: &Args, size: u64, d: &StageDirs) -> anyhow::Result<()> {
    let StageDirs {
        corpus, dataset, ..
    } = d;
    let exe = ctx.exe.clone();
    let stage = "ingest";
    let mut files = Vec::new();
    parquet_files(&corpus.join("postings"), &mut files);
    if files.is_empty() {
        bail!(
            "ingest at {}: no postings in {}; run the generate stage first",
            size_label(size),
            corpus.display()
        );
    }
    let records = parquet_rows(&corpus.join("postings"));
    let mut args: Vec<String> = vec!["ingest".into()];
    args.extend(files.iter().map(|f| p(f)));
    args.extend(["--out".into(), p(dataset), "--quiet".into()]);
    let shown_args: Vec<String> = vec![
        "ingest".into(),
        format!("{}/postings/*.parquet", p(corpus)),
        "--out".into(),
        p(dataset),
        "--quiet".into(),
    ];
    let mut m = ctx.measure(
        size,
        stage,
        "jobshift",
        &exe,
        &args,
        cmd_string("jobshift", &shown_args).replace('\'', ""),
        records,
    )?;
    m.output_bytes = dir_bytes(&dataset.join("postings"));
    m.extra.insert(
        "postings_kept".into(),
        Value::from(parquet_rows(&dataset.join("postings"))),
    );
    ctx.record(m)?;
    Ok(())
}

/// The real classifier on the synthetic postings table (titles only), then its confusion on
/// the labelled sample, for the report's correction.
fn stage_classify_synth(ctx: &mut Ctx, _a: &Args, size: u64, d: &StageDirs) -> anyhow::Result<()> {
    let StageDirs { synth, .. } = d;
    let exe = ctx.exe.clone();
    let stage = "classify";
    // the real classifier on the synthetic postings table (titles only), then its
    // confusion on the labelled sample, for the report's correction
    let rows = parquet_rows(&synth.join("postings"));
    let args: Vec<String> = vec![
        "classify".into(),
        p(synth),
        "--no-description".into(),
        "--force".into(),
    ];
    let mut m = ctx.measure(size, stage, "jobshift", &exe, &args, shown(&args), rows)?;
    m.output_bytes = dir_bytes(&synth.join("classified"));
    m.extra
        .insert("input".into(), Value::from("synth postings table"));
    ctx.record(m)?;
    eval_labels(ctx, size, &synth.join("labels"), synth, true)?;
    Ok(())
}

/// Classify the ingested dataset, then measure the confusion on the corpus' labelled sample.
fn stage_classify(ctx: &mut Ctx, _a: &Args, size: u64, d: &StageDirs) -> anyhow::Result<()> {
    let StageDirs {
        corpus, dataset, ..
    } = d;
    let exe = ctx.exe.clone();
    let stage = "classify";
    let rows = parquet_rows(&dataset.join("postings"));
    if rows == 0 {
        bail!(
            "classify at {}: no ingested postings in {}; run the ingest stage first",
            size_label(size),
            dataset.display()
        );
    }
    let args: Vec<String> = vec!["classify".into(), p(dataset)];
    let mut m = ctx.measure(size, stage, "jobshift", &exe, &args, shown(&args), rows)?;
    m.output_bytes = dir_bytes(&dataset.join("classified"));
    ctx.record(m)?;
    eval_labels(ctx, size, &corpus.join("labels"), dataset, false)?;
    Ok(())
}

/// A classified-only (or postings-table) corpus, generated straight into a dataset.
fn stage_synth(ctx: &mut Ctx, a: &Args, size: u64, d: &StageDirs) -> anyhow::Result<()> {
    let StageDirs { synth, .. } = d;
    let exe = ctx.exe.clone();
    let stage = "synth";
    let mut args: Vec<String> = vec![
        "generate".into(),
        "--classified-only".into(),
        "--postings".into(),
        size.to_string(),
        "--out".into(),
        p(synth),
    ];
    if let Some(c) = &a.simulate_confusion {
        args.extend(["--simulate-confusion".into(), p(c)]);
    }
    if a.synth_postings {
        args.extend([
            "--postings-table".into(),
            "--labels-rate".into(),
            a.labels_rate.to_string(),
        ]);
    }
    if a.exact_volumes {
        args.push("--exact-volumes".into());
    }
    let mut m = ctx.measure(size, stage, "jobshift", &exe, &args, shown(&args), size)?;
    m.output_bytes = dir_bytes(&synth.join(if a.synth_postings {
        "postings"
    } else {
        "classified"
    }));
    if let Ok(s) = std::fs::read_to_string(synth.join("manifest.json")) {
        if let Ok(v) = serde_json::from_str::<Value>(&s) {
            for k in [
                "mode",
                "predicted_correct",
                "predicted_unclassified",
                "confusion",
            ] {
                if let Some(x) = v.get(k) {
                    m.extra.insert(k.into(), x.clone());
                }
            }
        }
    }
    ctx.record(m)?;
    Ok(())
}

/// The report on whichever dataset was classified, its recovery of the true changes, and the
/// DuckDB peer on the same input.
fn stage_report(
    ctx: &mut Ctx,
    a: &Args,
    size: u64,
    d: &StageDirs,
    benches: Option<&Path>,
) -> anyhow::Result<()> {
    let StageDirs {
        dir,
        corpus,
        dataset,
        synth,
    } = d;
    let exe = ctx.exe.clone();
    let stage = "report";
    let (ds, truth) = if dataset.join("classified").is_dir() {
        (dataset.clone(), corpus.join("truth-changes.csv"))
    } else if synth.join("classified").is_dir() {
        (synth.clone(), synth.join("truth-changes.csv"))
    } else {
        bail!(
            "report at {}: neither {}/classified nor {}/classified exists; run classify or synth first",
            size_label(size),
            dataset.display(),
            synth.display()
        );
    };
    let which = if &ds == dataset { "dataset" } else { "synth" };
    let rdir = dir.join(format!("report-{which}"));
    let rows = parquet_rows(&ds.join("classified"));
    let mut args: Vec<String> = vec!["report".into(), p(&ds), "--out".into(), p(&rdir)];
    if a.corrected {
        let measured = ds.join("confusion.json");
        if measured.is_file() {
            // the matrix measured on the corpus' own labelled sample (eval-labels)
            args.extend(["--confusion".into(), p(&measured)]);
        } else {
            args.push("--corrected".into());
        }
    }
    args.extend(a.report_args.split_whitespace().map(str::to_string));
    let mut m = ctx.measure(size, stage, "jobshift", &exe, &args, shown(&args), rows)?;
    m.output_bytes = dir_bytes(&rdir);
    m.extra.insert("input".into(), Value::from(which));
    m.extra.insert(
        "input_bytes".into(),
        Value::from(dir_bytes(&ds.join("classified"))),
    );
    if m.ok {
        if let Some(acc) = score_recovery(&rdir.join("report.json"), &truth) {
            m.extra.insert("recovery".into(), acc);
        }
    }
    let js_ok = m.ok;
    let js_wall = m.wall_s;
    ctx.record(m)?;
    if js_ok && !a.no_peers {
        if let Some(b) = benches {
            duckdb_peer(ctx, a, size, &ds, &rdir, b, js_wall, rows)?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn duckdb_peer(
    ctx: &mut Ctx,
    a: &Args,
    size: u64,
    ds: &Path,
    rdir: &Path,
    benches: &Path,
    js_wall: f64,
    rows: u64,
) -> anyhow::Result<()> {
    let json_out = rdir.join("duckdb.json");
    let script = benches.join("trends/run.py");
    let args: Vec<String> = vec![
        script.display().to_string(),
        "--duckdb-only".into(),
        "--dataset".into(),
        ds.display().to_string(),
        "--out".into(),
        rdir.display().to_string(),
        "--json-out".into(),
        json_out.display().to_string(),
    ];
    let shown = cmd_string("python3", &args);
    let mut m = ctx.measure(
        size,
        "report",
        "duckdb",
        Path::new(&a.python),
        &args,
        shown,
        rows,
    )?;
    if let Ok(s) = std::fs::read_to_string(&json_out) {
        if let Ok(v) = serde_json::from_str::<Value>(&s) {
            if let Some(q) = v.get("duckdb_seconds").and_then(Value::as_f64) {
                m.extra
                    .insert("duckdb_query_seconds".into(), Value::from(q));
                m.extra.insert(
                    "ratio_jobshift_over_duckdb_queries".into(),
                    Value::from(round(js_wall / q.max(1e-9), 2)),
                );
            }
            for k in ["duckdb_version", "baseline_agrees", "threads"] {
                if let Some(x) = v.get(k) {
                    m.extra.insert(k.into(), x.clone());
                }
            }
        }
    }
    m.extra.insert(
        "ratio_jobshift_over_duckdb_process".into(),
        Value::from(round(js_wall / m.wall_s.max(1e-9), 2)),
    );
    ctx.record(m)
}

/// The classification peer: the study's recipe (sentence-transformers + scikit-learn random
/// forest) on the default classifier's held-out titles, against `jobshift classify-titles` on
/// the same titles.
fn classify_peer(ctx: &mut Ctx, a: &Args, benches: &Path) -> anyhow::Result<()> {
    let clf = jobshift_classify::classifier_dir("default");
    let sample = clf.join("heldout_jobbert.jsonl");
    if !sample.is_file() {
        eprintln!(
            "note: {} missing; classification peer skipped",
            sample.display()
        );
        return Ok(());
    }
    let dir = ctx.out.join("classify-sample");
    std::fs::create_dir_all(&dir)?;
    // our side: the same titles through the whole cascade
    let text = std::fs::read_to_string(&sample)?;
    let mut titles = String::new();
    let mut n = 0u64;
    for line in text.lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            if let Some(t) = v.get("title").and_then(Value::as_str) {
                titles.push_str(&t.replace('\n', " "));
                titles.push('\n');
                n += 1;
            }
        }
    }
    let input = dir.join("titles.txt");
    std::fs::write(&input, titles)?;
    let exe = ctx.exe.clone();
    let args: Vec<String> = vec![
        "classify-titles".into(),
        "--input".into(),
        input.display().to_string(),
        "--output".into(),
        dir.join("jobshift.jsonl").display().to_string(),
    ];
    let m = ctx.measure(
        0,
        "classify-sample",
        "jobshift",
        &exe,
        &args,
        cmd_string("jobshift", &args),
        n,
    )?;
    let js_rate = rate(n as f64, m.wall_s);
    ctx.record(m)?;
    let model = a.peer_model.clone().unwrap_or_else(|| {
        jobshift_encode::resolve_model("minilm")
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "sentence-transformers/all-MiniLM-L6-v2".into())
    });
    let out_json = dir.join("reference.json");
    let args: Vec<String> = vec![
        benches.join("classify/reference.py").display().to_string(),
        "--classifier".into(),
        clf.display().to_string(),
        "--model".into(),
        model,
        "--out".into(),
        out_json.display().to_string(),
    ];
    let mut m = ctx.measure(
        0,
        "classify-sample",
        "sentence-transformers+sklearn",
        Path::new(&a.python),
        &args,
        cmd_string("python3", &args),
        n,
    )?;
    if let Ok(s) = std::fs::read_to_string(&out_json) {
        if let Ok(v) = serde_json::from_str::<Value>(&s) {
            if let Some(r) = v.get("results").and_then(Value::as_array).and_then(|rs| {
                rs.iter()
                    .find(|r| r.get("set").and_then(Value::as_str) == Some("jobbert"))
            }) {
                m.extra.insert("reference".into(), r.clone());
                if let Some(t) = r.get("overall_titles_per_s").and_then(Value::as_f64) {
                    m.extra.insert(
                        "ratio_jobshift_over_peer_titles_per_s".into(),
                        Value::from(round(js_rate / t.max(1e-9), 2)),
                    );
                    m.extra
                        .insert("jobshift_titles_per_s_wall".into(), Value::from(js_rate));
                }
            }
            for k in ["encode_train_s", "fit_s", "train_rows"] {
                if let Some(x) = v.get(k) {
                    m.extra.insert(k.into(), x.clone());
                }
            }
        }
    }
    ctx.record(m)
}

/// Error of every ranked title's recovered 2025-vs-2024 change (the report's latest year)
/// against the generator's injected change (and the change its sampled counts realize), raw
/// and corrected, in percentage points.
fn score_recovery(report_json: &Path, truth_csv: &Path) -> Option<Value> {
    let rep: Value = serde_json::from_str(&std::fs::read_to_string(report_json).ok()?).ok()?;
    let year = rep
        .get("years")?
        .as_array()?
        .iter()
        .filter_map(Value::as_i64)
        .max()?
        .to_string();
    let truth = jobshift_generate::read_change_truth(truth_csv, year.parse().ok()?).ok()?;
    let interval = |v: Option<&Value>| -> Option<(f64, f64)> {
        let a = v?.as_array()?;
        Some((a.first()?.as_f64()?, a.get(1)?.as_f64()?))
    };
    fn at_year<'v>(v: Option<&'v Value>, year: &str) -> Option<&'v Value> {
        v.and_then(|c| c.get(year))
    }
    let mut titles = Vec::new();
    for t in rep.get("titles")?.as_array()? {
        if t.get("ranked").and_then(Value::as_bool) != Some(true) {
            continue;
        }
        let corrected = t.get("corrected");
        titles.push(jobshift_generate::RecoveredTitle {
            id: t.get("id")?.as_str()?.to_string(),
            raw: at_year(t.get("change"), &year).and_then(Value::as_f64),
            raw_ci95: interval(at_year(t.get("ci95"), &year)),
            corrected: at_year(corrected.and_then(|c| c.get("change")), &year)
                .and_then(Value::as_f64),
            corrected_ci95: interval(at_year(corrected.and_then(|c| c.get("ci95")), &year)),
        });
    }
    let e = jobshift_generate::recovery_errors(&truth, titles);
    // in points
    let points = |v: Vec<f64>| -> Vec<f64> { v.into_iter().map(|x| x * 100.0).collect() };
    let (mut raw, mut cor, mut raw_real, mut cor_real, mut raw_same, mut raw_same_real) = (
        points(e.raw),
        points(e.corrected),
        points(e.raw_real),
        points(e.corrected_real),
        points(e.raw_same),
        points(e.raw_same_real),
    );
    // 95% intervals that cover the realized change: [raw covered, raw n, corrected covered, n]
    let cover = [
        e.raw_cover.0,
        e.raw_cover.1,
        e.corrected_cover.0,
        e.corrected_cover.1,
    ];
    let stats = |v: &mut Vec<f64>| -> Value {
        if v.is_empty() {
            return Value::Null;
        }
        v.sort_by(|a, b| a.total_cmp(b));
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        serde_json::json!({"n": v.len(), "median": round(q(0.5), 3), "p90": round(q(0.9), 3),
            "mean": round(v.iter().sum::<f64>() / v.len() as f64, 3), "max": round(q(1.0), 3)})
    };
    let base = rep
        .get("baseline")
        .and_then(|b| b.get("change"))
        .and_then(|c| c.get(&year))
        .and_then(Value::as_f64);
    let base_truth = truth
        .iter()
        .find(|((s, _), _)| s == "baseline")
        .map(|(_, v)| v.injected);
    Some(serde_json::json!({
        "year": year,
        "abs_error_points_vs_injected_raw": stats(&mut raw),
        "abs_error_points_vs_injected_corrected": stats(&mut cor),
        "abs_error_points_vs_realized_raw": stats(&mut raw_real),
        "abs_error_points_vs_realized_corrected": stats(&mut cor_real),
        "abs_error_points_vs_injected_raw_same_titles_as_corrected": stats(&mut raw_same),
        "abs_error_points_vs_realized_raw_same_titles_as_corrected": stats(&mut raw_same_real),
        "ci95_covers_realized_raw": (cover[1] > 0)
            .then(|| round(cover[0] as f64 / cover[1] as f64, 3)),
        "ci95_covers_realized_corrected": (cover[3] > 0)
            .then(|| round(cover[2] as f64 / cover[3] as f64, 3)),
        "correction": rep.get("correction").cloned(),
        "baseline_recovered": base,
        "baseline_injected": base_truth,
    }))
}

fn fmt_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.0} kB", b / 1e3)
    }
}

fn fmt_int(n: f64) -> String {
    let s = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 && c.is_ascii_digit() {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The Markdown section: one row per measurement, then the exact commands.
fn render(results: &[Measurement], cores: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Measured by `jobshift-bench` (each stage a child process; peak RSS from its rusage; \
         {cores} cores; rows/s/core = rows ÷ wall ÷ {cores}).\n\n"
    ));
    s.push_str("| size | stage | engine | wall | CPU | rows | rows/s/core | peak RSS | output | load before | notes |\n");
    s.push_str("|---|---|---|---:|---:|---:|---:|---:|---:|---|---|\n");
    for m in results {
        let mut notes = Vec::new();
        if !m.ok {
            notes.push("**failed**".to_string());
        }
        if let Some(r) = m.extra.get("ratio_jobshift_over_duckdb_queries") {
            notes.push(format!("jobshift ÷ DuckDB queries = {r}"));
        }
        if let Some(q) = m.extra.get("duckdb_query_seconds") {
            notes.push(format!("DuckDB queries {q} s"));
        }
        if let Some(r) = m.extra.get("ratio_jobshift_over_peer_titles_per_s") {
            notes.push(format!("jobshift ÷ peer titles/s = {r}"));
        }
        if let Some(x) = m.extra.get("exact_title_accuracy").and_then(Value::as_f64) {
            notes.push(format!(
                "exact-title accuracy on the labelled sample {x:.3}"
            ));
        }
        if let Some(x) = m.extra.get("input").and_then(Value::as_str) {
            notes.push(format!("input: {x}"));
        }
        if let Some(k) = m.extra.get("postings_kept") {
            notes.push(format!("kept {k}"));
        }
        if let Some(x) = m.extra.get("mode").and_then(Value::as_str) {
            notes.push(x.to_string());
        }
        if let Some(rec) = m.extra.get("recovery") {
            let med = |k: &str| {
                rec.get(k)
                    .and_then(|v| v.get("median"))
                    .and_then(Value::as_f64)
                    .map(|x| format!("{x:.2}"))
            };
            let n = rec
                .get("abs_error_points_vs_injected_raw")
                .and_then(|v| v.get("n"))
                .cloned()
                .unwrap_or(Value::Null);
            if let Some(r) = med("abs_error_points_vs_injected_raw") {
                let real = med("abs_error_points_vs_realized_raw")
                    .map(|rr| format!(", vs realized {rr}"))
                    .unwrap_or_default();
                notes.push(format!(
                    "median abs error of {n} ranked titles: raw vs injected {r} pt{real}"
                ));
            }
            if let Some(c) = med("abs_error_points_vs_injected_corrected") {
                let nc = rec
                    .get("abs_error_points_vs_injected_corrected")
                    .and_then(|v| v.get("n"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let cr = med("abs_error_points_vs_realized_corrected").unwrap_or_default();
                let rs = med("abs_error_points_vs_injected_raw_same_titles_as_corrected")
                    .unwrap_or_default();
                let rsr = med("abs_error_points_vs_realized_raw_same_titles_as_corrected")
                    .unwrap_or_default();
                notes.push(format!(
                    "corrected ({nc} titles with a corrected change): vs injected {c}, vs realized {cr} (raw on those titles: {rs}, {rsr})"
                ));
            }
        }
        let size = if m.size == 0 {
            "sample".to_string()
        } else {
            size_label(m.size)
        };
        s.push_str(&format!(
            "| {} | {} | {} | {:.1} s | {:.1} s | {} | {} | {:.0} MB | {} | {} | {} |\n",
            size,
            m.stage,
            m.engine,
            m.wall_s,
            m.user_s + m.sys_s,
            fmt_int(m.rows as f64),
            fmt_int(m.rows_per_s_per_core),
            m.peak_rss_mb,
            if m.output_bytes > 0 {
                fmt_bytes(m.output_bytes)
            } else {
                "—".into()
            },
            m.load_before,
            notes.join("; ")
        ));
    }
    s.push_str("\nExact commands (as run; `jobshift` = the release binary):\n\n```sh\n");
    for m in results {
        s.push_str(&m.command);
        s.push('\n');
    }
    s.push_str("```\n");
    s
}

fn update_doc(doc: &Path, md: &str) -> anyhow::Result<()> {
    const BEGIN: &str = "<!-- jobshift-bench:begin -->";
    const END: &str = "<!-- jobshift-bench:end -->";
    let text =
        std::fs::read_to_string(doc).with_context(|| format!("reading {}", doc.display()))?;
    let (Some(b), Some(e)) = (text.find(BEGIN), text.find(END)) else {
        bail!(
            "{} has no {BEGIN} … {END} markers; add them where the table belongs",
            doc.display()
        );
    };
    if e < b {
        bail!("{}: {END} comes before {BEGIN}", doc.display());
    }
    let new = format!("{}{BEGIN}\n{md}{}", &text[..b], &text[e..]);
    jobshift_core::atomic::write_bytes(doc, new.as_bytes())
        .with_context(|| format!("writing {}", doc.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1M").unwrap(), 1_000_000);
        assert_eq!(parse_size("250k").unwrap(), 250_000);
        assert_eq!(parse_size("5000").unwrap(), 5000);
        assert_eq!(parse_size("1.5m").unwrap(), 1_500_000);
        assert!(parse_size("x").is_err());
        assert_eq!(size_label(10_000_000), "10M");
        assert_eq!(size_label(20_000), "20k");
    }

    #[test]
    fn child_rusage_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Command::new("sh");
        c.args([
            "-c",
            "head -c 30000000 /dev/zero | tr '\\0' x > /dev/null; exit 3",
        ]);
        let e = run_measured(&mut c, &dir.path().join("log")).unwrap();
        assert!(!e.ok);
        assert!(e.peak_rss_mb > 0.0);
    }
}
