//! A collect run, from the companies to the dataset, in two phases:
//!
//! 1. **Fetch** (async, companies in parallel under the concurrency cap): each company's
//!    connector fetches its board; the responses are written to its snapshot, parsed, compared
//!    with the company's history (new / updated / reopened / unchanged) and the new and updated
//!    postings are written to a feed file for ingest. A company is done when its outcome file
//!    `collect/runs/RUN/companies/SLUG.json` exists.
//! 2. **Finalize**: one ingest run over all feed files (validation, normalization,
//!    de-duplication and row accounting are ingest's), then each company's history is updated
//!    from ingest's per-record decisions (closing postings only after a complete run) and
//!    `collect-report.json` is written.
//!
//! Every file is written atomically. `collect/current-run.json` marks a run in progress: after
//! Ctrl-C or kill -9, running the same command again resumes that run, fetching only the
//! companies not done yet; ingest is skipped when the run's ingest report is already there; a
//! company whose history already records the run is not applied twice.

use crate::companies::{CompaniesFile, Company};
use crate::connectors::{self, Session};
use crate::fetch::{FetchOptions, Fetcher};
use crate::history::{self, CompanyState, PostingHistory, RunSummary};
use crate::report::{
    CollectReport, CompanyReport, IngestSummary, PostingCounts, RunSettings, Status,
};
use crate::snapshot::{self, RawResponse, SnapshotLine};
use crate::CollectError;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Options of `jobshift collect`.
#[derive(Debug, Clone, Default)]
pub struct CollectOptions {
    pub fetch: FetchOptions,
    /// Only these companies (by name, case-insensitive).
    pub only: Vec<String>,
    /// Progress bar on stderr.
    pub progress: bool,
}

/// The run in progress (`collect/current-run.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RunInfo {
    run_id: String,
    run_date: String,
    started_utc: String,
    reparse_of: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum FedKind {
    New,
    Updated,
    Reopened,
}

/// A posting handed to ingest; its record number in the feed file is its index + 1.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FedEntry {
    key: String,
    kind: FedKind,
    hash: String,
    title: Option<String>,
}

/// What the fetch phase leaves for the finalize phase, per company.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct FetchOutcome {
    company: Company,
    status: Status,
    errors: Vec<String>,
    requests: u64,
    seconds: f64,
    snapshot: Option<String>,
    /// The snapshot holds responses (conditional requests and reparse can use it).
    has_responses: bool,
    fetched: u64,
    repeated: u64,
    fed: Vec<FedEntry>,
    unchanged: Vec<String>,
    feed_file: Option<String>,
}

fn collect_dir(dataset: &Path) -> PathBuf {
    dataset.join("collect")
}
fn run_dir(dataset: &Path, run: &str) -> PathBuf {
    collect_dir(dataset).join("runs").join(run)
}
fn current_run_path(dataset: &Path) -> PathBuf {
    collect_dir(dataset).join("current-run.json")
}
fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CollectError + '_ {
    move |source| CollectError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The companies a run covers: all, or those `--only` names (an unknown name is an error).
pub fn select<'c>(
    file: &'c CompaniesFile,
    only: &[String],
) -> Result<Vec<&'c Company>, CollectError> {
    if only.is_empty() {
        return Ok(file.companies.iter().collect());
    }
    let wanted: Vec<String> = only.iter().map(|n| n.trim().to_lowercase()).collect();
    let unknown: Vec<&String> = only
        .iter()
        .zip(&wanted)
        .filter(|(_, w)| !file.companies.iter().any(|c| c.name.to_lowercase() == **w))
        .map(|(o, _)| o)
        .collect();
    if !unknown.is_empty() {
        return Err(CollectError::Options(format!(
            "--only names companies that are not in the companies file (or whose rows were skipped): {}",
            unknown.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(file
        .companies
        .iter()
        .filter(|c| wanted.contains(&c.name.to_lowercase()))
        .collect())
}

/// Start a new run or resume the interrupted one (which must be of the same kind).
fn begin_run(
    dataset: &Path,
    reparse_of: Option<(String, String)>,
) -> Result<(RunInfo, bool), CollectError> {
    let cur = current_run_path(dataset);
    if let Ok(bytes) = std::fs::read(&cur) {
        let info: RunInfo = serde_json::from_slice(&bytes).map_err(|e| {
            CollectError::Dataset(format!(
                "{}: {e}; delete it to start a new run",
                cur.display()
            ))
        })?;
        let wanted = reparse_of.as_ref().map(|(r, _)| r.clone());
        if info.reparse_of != wanted {
            return Err(CollectError::Dataset(format!(
                "an interrupted {} run {} is pending in {}: run the same command again to finish it, or delete {} to drop it",
                if info.reparse_of.is_some() { "--reparse" } else { "collect" },
                info.run_id,
                dataset.display(),
                cur.display()
            )));
        }
        return Ok((info, true));
    }
    let now = chrono::Utc::now();
    let mut run_id = now.format("%Y%m%dT%H%M%SZ").to_string();
    let mut n = 2;
    while run_dir(dataset, &run_id).exists() {
        run_id = format!("{}-{n}", now.format("%Y%m%dT%H%M%SZ"));
        n += 1;
    }
    let (reparse_of, run_date) = match reparse_of {
        Some((r, d)) => (Some(r), d),
        None => (None, now.date_naive().to_string()),
    };
    let info = RunInfo {
        run_id,
        run_date,
        started_utc: now.to_rfc3339(),
        reparse_of,
    };
    std::fs::create_dir_all(run_dir(dataset, &info.run_id)).map_err(io_err(dataset))?;
    jobshift_core::atomic::write_json(&cur, &info).map_err(io_err(&cur))?;
    Ok((info, false))
}

fn outcome_path(dataset: &Path, run: &str, slug: &str) -> PathBuf {
    run_dir(dataset, run)
        .join("companies")
        .join(format!("{slug}.json"))
}

fn runtime() -> Result<tokio::runtime::Runtime, CollectError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CollectError::Options(format!("cannot start the async runtime: {e}")))
}

/// `jobshift collect`: fetch the companies and grow the dataset (see the module doc).
pub fn collect(
    file: &CompaniesFile,
    dataset: &Path,
    opts: &CollectOptions,
) -> Result<CollectReport, CollectError> {
    let selected = select(file, &opts.only)?;
    std::fs::create_dir_all(dataset).map_err(io_err(dataset))?;
    let _one_collect = collect_lock(dataset)?;
    let (info, resumed) = begin_run(dataset, None)?;
    let t0 = Instant::now();
    let todo: Vec<Company> = selected
        .iter()
        .filter(|c| !outcome_path(dataset, &info.run_id, &c.slug).exists())
        .map(|c| (*c).clone())
        .collect();
    let fetcher = Arc::new(Fetcher::new(opts.fetch.clone()).map_err(CollectError::Options)?);
    let rt = runtime()?;
    rt.block_on(fetch_all(fetcher.clone(), todo, dataset, &info, opts))?;
    drop(rt);
    let order: Vec<&Company> = selected;
    let mut report = finalize(dataset, &info, &order, opts.progress)?;
    report.resumed = resumed;
    report.skipped_rows = file.problems.clone();
    report.settings = RunSettings {
        user_agent: opts.fetch.user_agent.clone(),
        per_host_rate: opts.fetch.per_host_rate,
        concurrency: opts.fetch.concurrency,
        allow_private_network: opts.fetch.allow_private_network,
    };
    report.seconds = t0.elapsed().as_secs_f64();
    write_report(dataset, &info, &report)?;
    Ok(report)
}

async fn fetch_all(
    fetcher: Arc<Fetcher>,
    todo: Vec<Company>,
    dataset: &Path,
    info: &RunInfo,
    opts: &CollectOptions,
) -> Result<(), CollectError> {
    let bar = progress_bar(opts.progress, todo.len() as u64);
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.fetch.concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for company in todo {
        let (fetcher, limit, dataset, info) = (
            fetcher.clone(),
            limit.clone(),
            dataset.to_path_buf(),
            info.clone(),
        );
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            fetch_company(fetcher, company, dataset, info).await
        });
    }
    let (mut failed, mut postings) = (0u64, 0u64);
    let t0 = Instant::now();
    while let Some(joined) = set.join_next().await {
        let outcome = joined
            .map_err(|e| CollectError::Options(format!("a company task panicked: {e}")))??;
        if outcome.status == Status::Failed {
            failed += 1;
        }
        postings += outcome.fetched;
        if let Some(b) = &bar {
            b.inc(1);
            let reqs = fetcher
                .total_requests
                .load(std::sync::atomic::Ordering::Relaxed);
            b.set_message(format!(
                "{failed} failed, {postings} postings, {:.1} req/s",
                reqs as f64 / t0.elapsed().as_secs_f64().max(0.001)
            ));
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(())
}

fn progress_bar(on: bool, len: u64) -> Option<indicatif::ProgressBar> {
    if !on || len == 0 {
        return None;
    }
    let b = indicatif::ProgressBar::new(len);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "collect {bar:30} {pos}/{len} companies  {msg}  [{elapsed}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(b)
}

async fn fetch_company(
    fetcher: Arc<Fetcher>,
    company: Company,
    dataset: PathBuf,
    info: RunInfo,
) -> Result<FetchOutcome, CollectError> {
    let t0 = Instant::now();
    let state = history::load(&dataset, &company.slug).map_err(CollectError::Dataset)?;
    let previous: Vec<RawResponse> = state
        .last_snapshot_run
        .as_ref()
        .and_then(|r| {
            snapshot::read_snapshot(&snapshot::snapshot_path(&dataset, r, &company.slug)).ok()
        })
        .map(|lines| responses_of(lines).collect())
        .unwrap_or_default();
    let mut session = Session::new(&fetcher, &company, previous);
    let status = connectors::fetch(&mut session).await;
    let requests = session.requests();
    let seconds = t0.elapsed().as_secs_f64();
    let mut lines = Vec::with_capacity(session.lines.len() + 2);
    lines.push(SnapshotLine::Header {
        company: company.name.clone(),
        ats: company.ats.name().into(),
        board: company.board.clone(),
        url: company.url.clone(),
        run: info.run_id.clone(),
        started_utc: info.started_utc.clone(),
    });
    lines.append(&mut session.lines);
    lines.push(SnapshotLine::End {
        status,
        errors: std::mem::take(&mut session.errors),
        requests,
        seconds,
    });
    drop(session);
    let snap = snapshot::snapshot_path(&dataset, &info.run_id, &company.slug);
    snapshot::write_snapshot(&snap, &lines).map_err(io_err(&snap))?;
    let rel = format!("snapshots/{}/{}.jsonl.zst", info.run_id, company.slug);
    let (dataset2, info2) = (dataset.clone(), info.clone());
    tokio::task::spawn_blocking(move || {
        build_outcome(
            &dataset2,
            &info2,
            company,
            &state,
            Fetched::of_snapshot(lines, rel),
        )
    })
    .await
    .map_err(|e| CollectError::Options(format!("parse task failed: {e}")))?
}

fn responses_of(lines: Vec<SnapshotLine>) -> impl Iterator<Item = RawResponse> {
    lines.into_iter().filter_map(|l| match l {
        SnapshotLine::Response(r) => Some(r),
        _ => None,
    })
}

/// A company's responses and how its fetch went (from the network or from a snapshot).
struct Fetched {
    lines: Vec<SnapshotLine>,
    status: Status,
    errors: Vec<String>,
    requests: u64,
    seconds: f64,
    snapshot: Option<String>,
}

impl Fetched {
    /// The responses of a snapshot (`rel`: its path in the dataset) and how the fetch went, from
    /// its end line; a snapshot without one (a run cut short) is a partial fetch.
    fn of_snapshot(lines: Vec<SnapshotLine>, rel: String) -> Fetched {
        let (status, errors, requests, seconds) = match lines.last() {
            Some(SnapshotLine::End {
                status,
                errors,
                requests,
                seconds,
            }) => (*status, errors.clone(), *requests, *seconds),
            _ => (
                Status::Partial,
                vec!["snapshot has no end line (the run was cut short)".into()],
                0,
                0.0,
            ),
        };
        Fetched {
            lines,
            status,
            errors,
            requests,
            seconds,
            snapshot: Some(rel),
        }
    }
}

/// Parse a company's responses, sort its postings against its history and write the feed
/// file and the outcome file.
fn build_outcome(
    dataset: &Path,
    info: &RunInfo,
    company: Company,
    state: &CompanyState,
    fetched: Fetched,
) -> Result<FetchOutcome, CollectError> {
    let Fetched {
        lines,
        status,
        mut errors,
        requests,
        seconds,
        snapshot,
    } = fetched;
    let responses: Vec<RawResponse> = responses_of(lines).collect();
    let refs: Vec<&RawResponse> = responses.iter().collect();
    let parsed = connectors::parse(company.ats, &refs, &mut errors);
    let mut fed = Vec::new();
    let mut unchanged = Vec::new();
    let mut records = Vec::new();
    for p in &parsed.postings {
        let hash = p.content_hash();
        let (kind, first_seen) = match state.postings.get(&p.key) {
            None => (Some(FedKind::New), info.run_date.as_str()),
            Some(h) if h.closed.is_some() => (Some(FedKind::Reopened), h.first_seen.as_str()),
            Some(h) if h.hash != hash => (Some(FedKind::Updated), h.first_seen.as_str()),
            Some(_) => (None, ""),
        };
        match kind {
            None => unchanged.push(p.key.clone()),
            Some(kind) => {
                records.push(p.to_ingest_record(&company, first_seen, &info.run_date));
                fed.push(FedEntry {
                    key: p.key.clone(),
                    kind,
                    hash,
                    title: p.title.clone(),
                });
            }
        }
    }
    let feed_file = if records.is_empty() {
        None
    } else {
        let rel = format!("collect/runs/{}/feed/{}.jsonl", info.run_id, company.slug);
        let path = dataset.join(&rel);
        jobshift_core::atomic::with_writer(&path, |w| {
            use std::io::Write;
            for r in &records {
                serde_json::to_writer(&mut *w, r)?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })
        .map_err(io_err(&path))?;
        Some(rel)
    };
    let outcome = FetchOutcome {
        fetched: parsed.postings.len() as u64 + parsed.repeated,
        repeated: parsed.repeated,
        has_responses: !responses.is_empty(),
        company,
        status,
        errors,
        requests,
        seconds,
        snapshot,
        fed,
        unchanged,
        feed_file,
    };
    let p = outcome_path(dataset, &info.run_id, &outcome.company.slug);
    jobshift_core::atomic::write_json(&p, &outcome).map_err(io_err(&p))?;
    Ok(outcome)
}

/// (file, record) pairs listed in one of ingest's per-run decision files.
fn records_in(
    dataset: &Path,
    rel: Option<&String>,
) -> Result<HashMap<String, HashSet<u64>>, CollectError> {
    let mut out: HashMap<String, HashSet<u64>> = HashMap::new();
    let Some(rel) = rel else { return Ok(out) };
    let path = dataset.join(rel);
    let f = std::fs::File::open(&path).map_err(io_err(&path))?;
    for line in std::io::BufReader::new(f).lines() {
        let line = line.map_err(io_err(&path))?;
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let (Some(file), Some(rec)) = (v["file"].as_str(), v["record"].as_u64()) {
            out.entry(file.to_string()).or_default().insert(rec);
        }
    }
    Ok(out)
}

/// Ingest the feeds, apply each company's outcome to its history, build the report.
fn finalize(
    dataset: &Path,
    info: &RunInfo,
    order: &[&Company],
    progress: bool,
) -> Result<CollectReport, CollectError> {
    // every company done in this run, in the companies file's order, then any others
    let dir = run_dir(dataset, &info.run_id).join("companies");
    let mut slugs: Vec<String> = order.iter().map(|c| c.slug.clone()).collect();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut extra: Vec<String> = rd
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".json")
                    .map(str::to_string)
            })
            .filter(|s| !s.starts_with('.') && !slugs.contains(s))
            .collect();
        extra.sort();
        slugs.extend(extra);
    }
    let mut outcomes = Vec::new();
    for s in &slugs {
        let p = dir.join(format!("{s}.json"));
        if let Ok(b) = std::fs::read(&p) {
            let o: FetchOutcome = serde_json::from_slice(&b)
                .map_err(|e| CollectError::Dataset(format!("{}: {e}", p.display())))?;
            outcomes.push(o);
        }
    }
    // one ingest run over all feed files
    let feeds: Vec<PathBuf> = outcomes
        .iter()
        .filter_map(|o| o.feed_file.as_ref().map(|f| dataset.join(f)))
        .collect();
    let ingest_saved = run_dir(dataset, &info.run_id).join("ingest-report.json");
    let ingest = if let Ok(b) = std::fs::read(&ingest_saved) {
        Some(
            serde_json::from_slice::<jobshift_ingest::IngestReport>(&b)
                .map_err(|e| CollectError::Dataset(format!("{}: {e}", ingest_saved.display())))?,
        )
    } else if feeds.is_empty() {
        None
    } else {
        let opts = jobshift_ingest::IngestOptions {
            source: Some("collect".into()),
            progress,
            ..Default::default()
        };
        let r = jobshift_ingest::ingest(&feeds, dataset, &opts)?;
        jobshift_core::atomic::write_json(&ingest_saved, &r).map_err(io_err(&ingest_saved))?;
        Some(r)
    };
    let rejected = records_in(
        dataset,
        ingest.as_ref().and_then(|r| r.rejects_file.as_ref()),
    )?;
    let duplicates = records_in(
        dataset,
        ingest.as_ref().and_then(|r| r.duplicates_file.as_ref()),
    )?;
    let mut report = CollectReport {
        run_id: info.run_id.clone(),
        run_date: info.run_date.clone(),
        started_utc: info.started_utc.clone(),
        dataset: dataset.display().to_string(),
        reparse_of: info.reparse_of.clone(),
        ingest: ingest.as_ref().map(|r| IngestSummary {
            run_id: r.run_id.clone(),
            read: r.read,
            accepted: r.accepted,
            duplicates: r.duplicates,
            rejected: r.rejected,
            postings_total: r.postings_total,
            rejects_file: r.rejects_file.clone(),
            duplicates_file: r.duplicates_file.clone(),
        }),
        ..Default::default()
    };
    let empty = HashSet::new();
    for o in outcomes {
        let result_path = run_dir(dataset, &info.run_id)
            .join("results")
            .join(format!("{}.json", o.company.slug));
        let mut state = history::load(dataset, &o.company.slug).map_err(CollectError::Dataset)?;
        if state.last_run.as_deref() == Some(&info.run_id) {
            if let Ok(b) = std::fs::read(&result_path) {
                if let Ok(r) = serde_json::from_slice::<CompanyReport>(&b) {
                    report.companies.push(r);
                    continue;
                }
            }
        }
        let feed_name = o
            .feed_file
            .as_ref()
            .map(|f| dataset.join(f).display().to_string());
        let rej = feed_name
            .as_ref()
            .and_then(|f| rejected.get(f))
            .unwrap_or(&empty);
        let dup = feed_name
            .as_ref()
            .and_then(|f| duplicates.get(f))
            .unwrap_or(&empty);
        let r = apply(&mut state, &o, info, rej, dup);
        jobshift_core::atomic::write_json(&result_path, &r).map_err(io_err(&result_path))?;
        history::save(dataset, &o.company.slug, &state).map_err(io_err(dataset))?;
        report.companies.push(r);
    }
    report.total();
    Ok(report)
}

/// Apply one company's outcome to its history; returns its report line.
fn apply(
    state: &mut CompanyState,
    o: &FetchOutcome,
    info: &RunInfo,
    rejected: &HashSet<u64>,
    duplicates: &HashSet<u64>,
) -> CompanyReport {
    let day = info.run_date.clone();
    let mut r = CompanyReport {
        name: o.company.name.clone(),
        ats: o.company.ats.name().into(),
        board: o.company.board.clone(),
        status: o.status,
        postings: PostingCounts {
            fetched: o.fetched,
            unchanged: o.unchanged.len() as u64,
            repeated: o.repeated,
            ..Default::default()
        },
        open: 0,
        errors: o.errors.clone(),
        requests: o.requests,
        seconds: o.seconds,
        snapshot: o.snapshot.clone(),
    };
    state.name = o.company.name.clone();
    state.ats = o.company.ats.name().into();
    state.board = o.company.board.clone();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, f) in o.fed.iter().enumerate() {
        seen.insert(f.key.as_str());
        let record = i as u64 + 1;
        if rejected.contains(&record) {
            r.postings.rejected += 1;
            continue;
        }
        if duplicates.contains(&record) {
            r.postings.duplicates += 1;
        }
        match f.kind {
            FedKind::New => r.postings.new += 1,
            FedKind::Updated => r.postings.updated += 1,
            FedKind::Reopened => r.postings.reopened += 1,
        }
        let h = state
            .postings
            .entry(f.key.clone())
            .or_insert_with(|| PostingHistory {
                first_seen: day.clone(),
                ..Default::default()
            });
        h.last_seen = day.clone();
        h.closed = None;
        h.hash = f.hash.clone();
        h.title = f.title.clone();
    }
    for k in &o.unchanged {
        seen.insert(k.as_str());
        if let Some(h) = state.postings.get_mut(k) {
            if h.last_seen < day {
                h.last_seen = day.clone();
            }
        }
    }
    if o.status == Status::Ok {
        for (k, h) in state.postings.iter_mut() {
            if h.closed.is_none() && !seen.contains(k.as_str()) {
                h.closed = Some(day.clone());
                r.postings.closed += 1;
            }
        }
    }
    r.open = state.open_postings();
    state.last_run = Some(info.run_id.clone());
    if o.status == Status::Failed {
        state.consecutive_failures += 1;
    } else {
        state.consecutive_failures = 0;
        state.last_success = Some(day.clone());
    }
    if o.has_responses && info.reparse_of.is_none() {
        state.last_snapshot_run = Some(info.run_id.clone());
    }
    state.runs.push(RunSummary {
        run: info.run_id.clone(),
        date: day,
        status: o.status.name().into(),
        fetched: r.postings.fetched,
        new: r.postings.new,
        closed: r.postings.closed,
    });
    if state.runs.len() > history::RUNS_KEPT {
        let cut = state.runs.len() - history::RUNS_KEPT;
        state.runs.drain(..cut);
    }
    r
}

fn write_report(
    dataset: &Path,
    info: &RunInfo,
    report: &CollectReport,
) -> Result<(), CollectError> {
    let mut report = report.clone();
    report.finished_utc = chrono::Utc::now().to_rfc3339();
    let p = run_dir(dataset, &info.run_id).join("report.json");
    jobshift_core::atomic::write_json(&p, &report).map_err(io_err(&p))?;
    let p = dataset.join("collect-report.json");
    jobshift_core::atomic::write_json(&p, &report).map_err(io_err(&p))?;
    let cur = current_run_path(dataset);
    std::fs::remove_file(&cur).map_err(io_err(&cur))?;
    Ok(())
}

/// One collect (or reparse) at a time per dataset: the run state under `DATASET/collect/` is
/// this process's until it ends. The lock is the same kind as the dataset's writer lock (it
/// names its holder, and a dead holder's lock is taken over), in `collect/` so that the ingest
/// each company's postings go through still takes the dataset's own writer lock.
fn collect_lock(dataset: &Path) -> Result<jobshift_core::commit::WriterLock, CollectError> {
    let dir = dataset.join("collect");
    jobshift_core::commit::WriterLock::acquire_for_this_process(&dir)
        .map_err(|e| CollectError::Dataset(e.to_string()))
}

/// `jobshift collect --reparse`: parse the snapshots of run `run` (default: the latest) again
/// and apply them like a fetch would, without any request.
pub fn reparse(
    dataset: &Path,
    run: Option<&str>,
    only: &[String],
    progress: bool,
) -> Result<CollectReport, CollectError> {
    let _one_collect = collect_lock(dataset)?;
    let snaps = dataset.join("snapshots");
    let source = match run {
        Some(r) => r.to_string(),
        None => {
            let mut runs: Vec<String> = std::fs::read_dir(&snaps)
                .map_err(io_err(&snaps))?
                .filter_map(|e| e.ok()?.file_name().to_str().map(str::to_string))
                .filter(|n| !n.starts_with('.'))
                .collect();
            runs.sort();
            runs.pop().ok_or_else(|| {
                CollectError::Dataset(format!("no snapshots in {}", snaps.display()))
            })?
        }
    };
    let src_dir = snaps.join(&source);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src_dir)
        .map_err(io_err(&src_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".jsonl.zst"))
        .collect();
    files.sort();
    let run_date =
        chrono::NaiveDateTime::parse_from_str(source.get(..16).unwrap_or(""), "%Y%m%dT%H%M%SZ")
            .map(|t| t.date().to_string())
            .unwrap_or_else(|_| chrono::Utc::now().date_naive().to_string());
    let (info, resumed) = begin_run(dataset, Some((source.clone(), run_date)))?;
    let t0 = Instant::now();
    let wanted: Vec<String> = only.iter().map(|s| s.to_lowercase()).collect();
    let mut order = Vec::new();
    for f in files {
        let slug = f
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".jsonl.zst"))
            .unwrap_or("")
            .to_string();
        let lines = snapshot::read_snapshot(&f).map_err(CollectError::Snapshot)?;
        let Some(SnapshotLine::Header {
            company,
            ats,
            board,
            url,
            ..
        }) = lines.first().cloned()
        else {
            return Err(CollectError::Snapshot(format!(
                "{}: no header line",
                f.display()
            )));
        };
        if !wanted.is_empty() && !wanted.contains(&company.to_lowercase()) {
            continue;
        }
        let company = Company {
            name: company,
            ats: ats.parse().map_err(CollectError::Snapshot)?,
            board,
            url,
            line: 0,
            slug: slug.clone(),
        };
        if !outcome_path(dataset, &info.run_id, &slug).exists() {
            let state = history::load(dataset, &slug).map_err(CollectError::Dataset)?;
            let rel = format!("snapshots/{source}/{slug}.jsonl.zst");
            let fetched = Fetched::of_snapshot(lines, rel);
            build_outcome(dataset, &info, company.clone(), &state, fetched)?;
        }
        order.push(company);
    }
    let refs: Vec<&Company> = order.iter().collect();
    let mut report = finalize(dataset, &info, &refs, progress)?;
    report.resumed = resumed;
    report.seconds = t0.elapsed().as_secs_f64();
    write_report(dataset, &info, &report)?;
    Ok(report)
}
