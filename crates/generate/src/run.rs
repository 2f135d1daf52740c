//! The streaming driver: month by month, batch by batch (postings generated in parallel from
//! their keys, written in order), into `postings/part-YYYY-MM-NNN.EXT` files and per-month truth
//! parts that are merged into `truth.parquet|csv` at the end. Memory holds one batch, the plan
//! (months × titles numbers) and the company universe — never N postings.
//!
//! Resume: after each month the state file `.generate-state.json` records it; a rerun with the
//! same options skips finished months. A finished directory is reported, not regenerated.

use crate::calibrate::{Calibration, StudyTargets};
use crate::catalog::Catalog;
use crate::changes::{change_table, write_change_table, write_expected_counts};
use crate::companies::{default_company_count, Companies};
use crate::plan::{MonthPlan, Plan, YearMonth, REPOST_MAX_BACK};
use crate::posting::{title_industries, Ctx, DupKind, Record};
use crate::rawtitle::TitleNoise;
use crate::rng::{rng_for, Key};
use crate::sink::{io_err, push_labelled, PostingsFile, TruthFile, TruthRow};
use crate::{GenerateError, GenerateOptions, TaxonomySource};
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Progress of a run, reported after every batch.
#[derive(Debug, Clone)]
pub struct Progress {
    pub records_written: u64,
    pub records_total: u64,
    pub month: YearMonth,
}

/// Counts of one month (kept in the state file so a resumed run reports the whole run).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MonthStats {
    pub records: u64,
    pub originals: u64,
    pub reposts: u64,
    pub exact_copies: u64,
    pub near_copies: u64,
    pub malformed: u64,
    pub malformed_by_kind: BTreeMap<String, u64>,
    pub ambiguous_titles: u64,
    pub files: Vec<String>,
}

impl MonthStats {
    fn add(&mut self, o: &MonthStats) {
        self.records += o.records;
        self.originals += o.originals;
        self.reposts += o.reposts;
        self.exact_copies += o.exact_copies;
        self.near_copies += o.near_copies;
        self.malformed += o.malformed;
        for (k, v) in &o.malformed_by_kind {
            *self.malformed_by_kind.entry(k.clone()).or_default() += v;
        }
        self.ambiguous_titles += o.ambiguous_titles;
        self.files.extend(o.files.iter().cloned());
    }
}

/// What a run produced (also written to `manifest.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GenerateSummary {
    pub out_dir: PathBuf,
    pub fingerprint: String,
    pub seed: u64,
    /// `--exact-volumes`: counts are the rounded expected counts, not sampled around them.
    #[serde(default)]
    pub exact_volumes: bool,
    pub format: String,
    pub from: String,
    pub to: String,
    pub taxonomy_version: String,
    pub titles: usize,
    pub companies: u32,
    pub months: usize,
    /// All records written.
    pub records: u64,
    /// Originals + re-posts: the postings a correct ingest keeps.
    pub unique_postings: u64,
    /// Counts by kind over the whole run.
    pub totals: MonthStats,
    /// Postings files, relative to `out_dir`.
    pub truth_file: String,
    pub changes_file: String,
    pub expected_counts_file: String,
    /// Study titles the catalog lacks (their figures could not be injected).
    pub missing_study_titles: Vec<String>,
    pub resumed_months: usize,
    pub already_complete: bool,
    pub seconds: f64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    fingerprint: String,
    done: BTreeMap<String, MonthStats>,
}

const STATE_FILE: &str = ".generate-state.json";
const MANIFEST_FILE: &str = "manifest.json";
const TRUTH_PARTS: &str = ".truth-parts";
const BATCH: usize = 2048;

/// Load the titles a [`TaxonomySource`] names.
pub fn load_catalog_for(src: &TaxonomySource) -> Result<Catalog, GenerateError> {
    match src {
        TaxonomySource::Builtin => Catalog::builtin(),
        TaxonomySource::Dir(d) => Catalog::load_taxonomy_dir(d),
        TaxonomySource::StudySample => Ok(Catalog::study_sample()),
    }
}

/// The calibration and plan a run with these options would use, without writing anything:
/// expected and sampled counts per title and month, for scoring recovery.
pub fn plan_for(catalog: &Catalog, opts: &GenerateOptions) -> Result<Plan, GenerateError> {
    let cal = Calibration::solve(catalog, &StudyTargets::study(), opts.seed)?;
    Plan::build(catalog, cal, opts)
}

/// Generate into `out_dir` with the titles `opts.taxonomy` names.
pub fn generate(opts: &GenerateOptions, out_dir: &Path) -> Result<GenerateSummary, GenerateError> {
    let catalog = load_catalog_for(&opts.taxonomy)?;
    generate_with(&catalog, opts, out_dir, None)
}

fn fingerprint(catalog: &Catalog, opts: &GenerateOptions) -> String {
    let mut h = blake3::Hasher::new();
    // `exact_volumes: false` is left out so runs made before the option existed still resume
    // (and `labels_rate: 0.0`, for the same reason)
    let shown = format!("{opts:?}")
        .replace(", exact_volumes: false", "")
        .replace(", labels_rate: 0.0", "");
    h.update(shown.as_bytes());
    h.update(catalog.version().as_bytes());
    for t in catalog.titles() {
        h.update(format!("{t:?}").as_bytes());
    }
    h.finalize().to_hex()[..16].to_string()
}

/// An affine permutation of 0..n: output position i holds logical slot (a·i + b) mod n, so
/// titles are interleaved in the files without holding the month in memory.
pub(crate) struct Perm {
    n: u64,
    a: u64,
    b: u64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Perm {
    pub(crate) fn new(n: u64, rng: &mut impl Rng) -> Self {
        if n <= 1 {
            return Perm { n, a: 1, b: 0 };
        }
        let mut a = rng.random_range(1..n) | 1;
        while gcd(a % n, n) != 1 || a % n == 0 {
            a = a.wrapping_add(2);
        }
        Perm {
            n,
            a: a % n,
            b: rng.random_range(0..n),
        }
    }
    pub(crate) fn at(&self, i: u64) -> u64 {
        if self.n <= 1 {
            return i;
        }
        ((self.a as u128 * i as u128 + self.b as u128) % self.n as u128) as u64
    }
}

/// Selection sampling (Knuth's algorithm S): picks exactly `need` of `total` positions in one
/// streaming pass.
struct Selector {
    need: u64,
    left: u64,
    rng: crate::rng::GenRng,
}

impl Selector {
    fn take(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        let pick =
            self.need > 0 && self.rng.random::<f64>() * (self.left as f64) < self.need as f64;
        self.left -= 1;
        if pick {
            self.need -= 1;
        }
        pick
    }
}

/// Where a run starts: a finished corpus made with the same options, or the months already done.
enum Start {
    Complete(Box<GenerateSummary>),
    Resume(State),
}

/// Reads `out_dir`'s manifest or resume state; refuses a directory holding another run's output.
fn start(out_dir: &Path, fp: &str) -> Result<Start, GenerateError> {
    let manifest_path = out_dir.join(MANIFEST_FILE);
    let state_path = out_dir.join(STATE_FILE);
    if manifest_path.exists() {
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|e| io_err(&manifest_path, e))?;
        let mut prev: GenerateSummary = serde_json::from_str(&text).map_err(|e| {
            GenerateError::OutputDir(format!(
                "{} exists but cannot be read ({e}); choose an empty directory or delete it",
                manifest_path.display()
            ))
        })?;
        if prev.fingerprint == fp {
            prev.already_complete = true;
            return Ok(Start::Complete(Box::new(prev)));
        }
        return Err(GenerateError::OutputDir(format!(
            "{} already holds a generated corpus made with other options (see {}); choose an empty directory or delete it",
            out_dir.display(),
            manifest_path.display()
        )));
    }
    if state_path.exists() {
        let text = std::fs::read_to_string(&state_path).map_err(|e| io_err(&state_path, e))?;
        let s: State = serde_json::from_str(&text).map_err(|e| io_err(&state_path, e))?;
        if s.fingerprint != fp {
            return Err(GenerateError::OutputDir(format!(
                "{} holds an unfinished run with other options ({}); rerun with the same options to resume, or use an empty directory",
                out_dir.display(),
                state_path.display()
            )));
        }
        return Ok(Start::Resume(s));
    }
    if out_dir.join("postings").exists() {
        return Err(GenerateError::OutputDir(format!(
            "{} already has a postings/ directory not made by this generator run; choose an empty directory",
            out_dir.display()
        )));
    }
    Ok(Start::Resume(State {
        fingerprint: fp.to_string(),
        done: BTreeMap::new(),
    }))
}

/// What every month of one run shares.
struct MonthRun<'a> {
    catalog: &'a Catalog,
    opts: &'a GenerateOptions,
    plan: &'a Plan,
    companies: &'a Companies,
    industries: &'a [Vec<usize>],
    out_dir: &'a Path,
    progress: Option<&'a (dyn Fn(&Progress) + Sync)>,
    /// Records the whole run writes, for progress.
    total: u64,
}

/// One month's open outputs and counters.
struct MonthSink {
    key: String,
    stats: MonthStats,
    truth: TruthFile,
    labels: String,
    label_rng: crate::rng::GenRng,
    file_no: usize,
    file: Option<PostingsFile>,
}

impl MonthRun<'_> {
    fn truth_ext(&self) -> &'static str {
        if self.opts.format.is_text() {
            "csv"
        } else {
            "parquet"
        }
    }

    /// Generates month `mi` (postings files, truth part, labels) and returns its counts.
    fn month(
        &self,
        mi: usize,
        mp: &MonthPlan,
        written: &mut u64,
    ) -> Result<MonthStats, GenerateError> {
        let opts = self.opts;
        let text = opts.format.is_text();
        let csv = opts.format == crate::OutputFormat::Csv;
        let key = mp.ym.to_string();
        let window_start = mi.saturating_sub(REPOST_MAX_BACK);
        let samplers: Vec<_> = (window_start..=mi)
            .map(|m| self.companies.for_month(m))
            .collect();
        let ctx = Ctx {
            seed: opts.seed,
            catalog: self.catalog,
            plan: self.plan,
            companies: self.companies,
            month_companies: &samplers,
            window_start,
            noise: TitleNoise {
                ambiguous: opts.rates.ambiguous_title,
            },
            title_industries: self.industries,
        };
        let mut perm_rng = rng_for(opts.seed, &[Key::S("perm"), Key::N(mi as u64)]);
        let perm = Perm::new(mp.unique, &mut perm_rng);
        let sel = |k: &str, need: u64| Selector {
            need,
            left: mp.unique,
            rng: rng_for(opts.seed, &[Key::S("select"), Key::S(k), Key::N(mi as u64)]),
        };
        let mut sel_exact = sel("exact", mp.exact_copies);
        let mut sel_near = sel("near", mp.near_copies);
        let mut sel_bad = sel("malformed", mp.malformed);
        let truth_part = self
            .out_dir
            .join(TRUTH_PARTS)
            .join(format!("{key}.{}", self.truth_ext()));
        let mut sink = MonthSink {
            key,
            stats: MonthStats::default(),
            truth: TruthFile::create(&truth_part, !text)?,
            labels: String::new(),
            label_rng: rng_for(opts.seed, &[Key::S("labels"), Key::N(mi as u64)]),
            file_no: 0,
            file: None,
        };
        let mut copy_no: u64 = 0;
        let mut pos: u64 = 0;
        while pos < mp.unique {
            let end = (pos + BATCH as u64).min(mp.unique);
            // decide sequentially which positions get copies (cheap), then build in parallel
            let mut jobs: Vec<(u64, Vec<(DupKind, u64)>)> =
                Vec::with_capacity((end - pos) as usize);
            for i in pos..end {
                let mut copies = Vec::new();
                for (s, kind) in [
                    (&mut sel_exact, DupKind::ExactCopy),
                    (&mut sel_near, DupKind::NearCopy),
                    (&mut sel_bad, DupKind::Malformed),
                ] {
                    if s.take() {
                        copies.push((kind, copy_no));
                        copy_no += 1;
                    }
                }
                jobs.push((perm.at(i), copies));
            }
            let built: Vec<Vec<Record>> = jobs
                .par_iter()
                .map(|(slot, copies)| {
                    let u = ctx.unique(mi, *slot);
                    let mut out = Vec::with_capacity(1 + copies.len());
                    for (kind, n) in copies {
                        out.push(ctx.copy(mi, *n, &u, *kind, text, csv));
                    }
                    out.insert(0, u);
                    out
                })
                .collect();
            for r in built.into_iter().flatten() {
                self.write_record(&mut sink, r)?;
                *written += 1;
            }
            pos = end;
            if let Some(cb) = self.progress {
                cb(&Progress {
                    records_written: *written,
                    records_total: self.total,
                    month: mp.ym,
                });
            }
        }
        if let Some(f) = sink.file.take() {
            f.finish()?;
        }
        sink.truth.finish(self.catalog)?;
        if opts.labels_rate > 0.0 {
            let p = self
                .out_dir
                .join("labels")
                .join(format!("month={}.jsonl", sink.key));
            jobshift_core::atomic::write_bytes(&p, sink.labels.as_bytes())
                .map_err(|e| io_err(&p, e))?;
        }
        Ok(sink.stats)
    }

    /// Writes one record to the month's postings file (opening the next file when one is full),
    /// its truth row, and, when sampled, its label; counts it.
    fn write_record(&self, sink: &mut MonthSink, r: Record) -> Result<(), GenerateError> {
        let opts = self.opts;
        let stats = &mut sink.stats;
        if sink
            .file
            .as_ref()
            .is_some_and(|f| f.rows() >= opts.rows_per_file)
        {
            let f = sink.file.take().expect("checked");
            f.finish()?;
        }
        if sink.file.is_none() {
            let name = format!(
                "part-{}-{:03}.{}",
                sink.key,
                sink.file_no,
                opts.format.ext()
            );
            stats.files.push(format!("postings/{name}"));
            let path = self.out_dir.join("postings").join(name);
            sink.file = Some(PostingsFile::create(&path, opts.format)?);
            sink.file_no += 1;
        }
        let mut row = TruthRow::from_record(&r);
        match r.dup_kind {
            DupKind::Original => stats.originals += 1,
            DupKind::Repost => stats.reposts += 1,
            DupKind::ExactCopy => stats.exact_copies += 1,
            DupKind::NearCopy => stats.near_copies += 1,
            DupKind::Malformed => stats.malformed += 1,
        }
        if r.ambiguous_title && r.dup_kind.is_unique() {
            stats.ambiguous_titles += 1;
        }
        if opts.labels_rate > 0.0
            && r.dup_kind.is_unique()
            && sink.label_rng.random::<f64>() < opts.labels_rate
        {
            push_labelled(
                &mut sink.labels,
                &r.title,
                (!r.description.is_empty()).then_some(r.description.as_str()),
                &self.catalog.titles()[r.title_index].id,
                r.posting_ref.clone(),
            )?;
        }
        let kind = sink.file.as_mut().expect("opened").write(r)?;
        if let Some(k) = kind {
            row.malformed_kind = Some(k.as_str());
            *stats
                .malformed_by_kind
                .entry(k.as_str().to_string())
                .or_default() += 1;
        }
        sink.truth.write(row, self.catalog)?;
        stats.records += 1;
        Ok(())
    }
}

/// Generate with an explicit catalog, reporting progress after every batch.
pub fn generate_with(
    catalog: &Catalog,
    opts: &GenerateOptions,
    out_dir: &Path,
    progress: Option<&(dyn Fn(&Progress) + Sync)>,
) -> Result<GenerateSummary, GenerateError> {
    let started = Instant::now();
    opts.validate()?;
    let fp = fingerprint(catalog, opts);
    std::fs::create_dir_all(out_dir).map_err(|e| io_err(out_dir, e))?;
    let manifest_path = out_dir.join(MANIFEST_FILE);
    let state_path = out_dir.join(STATE_FILE);
    let mut state = match start(out_dir, &fp)? {
        Start::Complete(summary) => return Ok(*summary),
        Start::Resume(state) => state,
    };

    let plan = plan_for(catalog, opts)?;
    let n_companies = opts
        .companies
        .unwrap_or_else(|| default_company_count(opts.postings));
    let companies = Companies::build(opts.seed, n_companies, plan.months.len());
    let industries = title_industries(catalog);
    let run = MonthRun {
        catalog,
        opts,
        plan: &plan,
        companies: &companies,
        industries: &industries,
        out_dir,
        progress,
        total: plan.total_records(),
    };
    let mut written: u64 = state.done.values().map(|s| s.records).sum();
    let resumed_months = state.done.len();
    for (mi, mp) in plan.months.iter().enumerate() {
        let key = mp.ym.to_string();
        if state.done.contains_key(&key) {
            continue;
        }
        let stats = run.month(mi, mp, &mut written)?;
        state.done.insert(key, stats);
        jobshift_core::atomic::write_json(&state_path, &state)
            .map_err(|e| io_err(&state_path, e))?;
    }

    // merge truth parts
    let parts_dir = out_dir.join(TRUTH_PARTS);
    let truth_name = format!("truth.{}", run.truth_ext());
    let truth_path = out_dir.join(&truth_name);
    merge_truth(&plan, &parts_dir, &truth_path, opts.format.is_text())?;
    let rows = change_table(catalog, &plan);
    write_change_table(&rows, &out_dir.join("truth-changes.csv"))?;
    write_expected_counts(catalog, &plan, &out_dir.join("expected-counts.csv"))?;

    let mut totals = MonthStats::default();
    for s in state.done.values() {
        totals.add(s);
    }
    let summary = GenerateSummary {
        out_dir: out_dir.to_path_buf(),
        fingerprint: fp,
        seed: opts.seed,
        exact_volumes: opts.exact_volumes,
        format: opts.format.ext().to_string(),
        from: opts.from.to_string(),
        to: opts.to.to_string(),
        taxonomy_version: catalog.version().to_string(),
        titles: catalog.len(),
        companies: n_companies,
        months: plan.months.len(),
        records: totals.records,
        unique_postings: totals.originals + totals.reposts,
        totals,
        truth_file: truth_name,
        changes_file: "truth-changes.csv".into(),
        expected_counts_file: "expected-counts.csv".into(),
        missing_study_titles: plan.calibration.missing_named.clone(),
        resumed_months,
        already_complete: false,
        seconds: started.elapsed().as_secs_f64(),
    };
    jobshift_core::atomic::write_json(&manifest_path, &summary)
        .map_err(|e| io_err(&manifest_path, e))?;
    let _ = std::fs::remove_file(&state_path);
    let _ = std::fs::remove_dir_all(&parts_dir);
    Ok(summary)
}

fn merge_truth(plan: &Plan, parts_dir: &Path, out: &Path, text: bool) -> Result<(), GenerateError> {
    let ext = if text { "csv" } else { "parquet" };
    let parts: Vec<PathBuf> = plan
        .months
        .iter()
        .map(|m| parts_dir.join(format!("{}.{ext}", m.ym)))
        .collect();
    if text {
        jobshift_core::atomic::with_writer(out, |w| {
            use std::io::{BufRead, Write};
            for (k, p) in parts.iter().enumerate() {
                let f = std::fs::File::open(p)?;
                let mut rdr = std::io::BufReader::new(f);
                let mut header = Vec::new();
                rdr.read_until(b'\n', &mut header)?;
                if k == 0 {
                    w.write_all(&header)?;
                }
                std::io::copy(&mut rdr, w)?;
            }
            Ok(())
        })
        .map_err(|e| io_err(out, e))
    } else {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        use parquet::arrow::ArrowWriter;
        jobshift_core::atomic::with_writer(out, |w| {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::ZSTD(
                    parquet::basic::ZstdLevel::try_new(3).map_err(std::io::Error::other)?,
                ))
                .set_max_row_group_row_count(Some(65_536))
                .build();
            let mut writer = ArrowWriter::try_new(w, crate::sink::truth_schema(), Some(props))
                .map_err(std::io::Error::other)?;
            for p in &parts {
                let f = std::fs::File::open(p)?;
                let rdr = ParquetRecordBatchReaderBuilder::try_new(f)
                    .and_then(|b| b.with_batch_size(65_536).build())
                    .map_err(std::io::Error::other)?;
                for batch in rdr {
                    let batch = batch.map_err(std::io::Error::other)?;
                    writer.write(&batch).map_err(std::io::Error::other)?;
                }
            }
            writer.close().map_err(std::io::Error::other)?;
            Ok(())
        })
        .map_err(|e| io_err(out, e))
    }
}
