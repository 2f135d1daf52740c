//! Classified-only generation: the generator's truth written straight as a *classified* dataset
//! (`DIR/classified/month=YYYY-MM/part-NNN.parquet`, [`jobshift_core::schema::classified_schema`]),
//! with no descriptions, for benchmarking `jobshift report` at 100M+ postings and for scoring
//! the trends stage at scale.
//!
//! It uses the same calibration and plan as the full generator (per-title volumes, seasonality,
//! the study's injected changes, multinomial sampling, re-posts, the company universe with its
//! heavy tail and entries/exits), so the counts the report sees have the same distributions; it
//! skips what only ingest and classify need (descriptions, copies, malformed records). Every row
//! is a unique posting, as if ingest had de-duplicated perfectly.
//!
//! Classification is either **perfect** (`title_id` = the true title, `method` = "truth") or
//! **simulated** from a measured confusion matrix (`method` = "simulated"): each posting's
//! predicted title is drawn from the row of its true title (`P(pred | true)`, predicted may be
//! `unclassified`); titles without a row are predicted correctly. The true title is kept in
//! `extra` (`{"true_title_id": ...}`) so the simulation can be audited.
//!
//! Files are independent units, a pure function of (seed, month, file number): they are built in
//! parallel (rayon), each written to a temporary file and renamed, and a rerun skips files that
//! exist (resume). Memory holds the plan, the companies and one row group per worker thread.

use crate::catalog::Catalog;
use crate::changes::{change_table, write_change_table, write_expected_counts};
use crate::companies::{default_company_count, Companies};
use crate::plan::{Plan, YearMonth};
use crate::posting::{draw_date, title_industries};
use crate::rawtitle::{draw_seniority, raw_title, TitleNoise};
use crate::rng::{pick, rng_for, Key};
use crate::run::plan_for;
use crate::sink::{io_err, push_labelled};
use crate::vocab::COUNTRIES;
use crate::{GenerateError, GenerateOptions};
use arrow::array::{
    ArrayRef, Date32Builder, Float32Builder, StringBuilder, UInt32Builder, UInt64Builder,
};
use arrow::record_batch::RecordBatch;
use jobshift_core::classified::{ClassifiedManifest, MANIFEST_FILE};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use rand::Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Rows per Arrow batch.
const BATCH_ROWS: u64 = 8192;
/// Rows per Parquet row group (similar to DuckDB's default, so both engines see the same
/// parallelism).
const ROW_GROUP_ROWS: usize = 131_072;

/// One true title's confusion: cumulative probabilities, each with its predicted title (None =
/// unclassified).
type CumulativeRow = Vec<(f64, Option<usize>)>;

/// How predicted titles are drawn from true ones.
#[derive(Debug, Clone)]
pub struct ConfusionSim {
    /// Where the matrix came from (recorded in the manifest).
    pub source: String,
    /// Per catalog title: cumulative probabilities and the predicted title (None = unclassified);
    /// `None` for titles the matrix has no row for (predicted correctly).
    rows: Vec<Option<CumulativeRow>>,
    /// Titles with a row.
    pub titles_covered: usize,
    /// Predicted ids the catalog does not know (mapped to unclassified).
    pub unknown_predicted: Vec<String>,
}

impl ConfusionSim {
    /// Read a confusion matrix JSON (`{"TRUE": {"PRED": n}}`, optionally under `"confusion"`), as
    /// `jobshift eval` / `jobshift train` write it, and index it by the catalog.
    pub fn load(path: &Path, catalog: &Catalog) -> Result<Self, GenerateError> {
        let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| GenerateError::Options(format!("{}: not JSON: {e}", path.display())))?;
        let m = v.get("confusion").unwrap_or(&v);
        let obj = m.as_object().ok_or_else(|| {
            GenerateError::Options(format!(
                "{}: expected {{\"TRUE_ID\": {{\"PREDICTED_ID\": count}}}} (optionally under \"confusion\")",
                path.display()
            ))
        })?;
        let mut rows = vec![None; catalog.len()];
        let mut covered = 0;
        let mut unknown = std::collections::BTreeSet::new();
        for (t, row) in obj {
            let Some(ti) = catalog.index_of(t) else {
                continue; // a true title the generator never draws
            };
            let row = row.as_object().ok_or_else(|| {
                GenerateError::Options(format!(
                    "{}: row {t:?} is not an object of counts",
                    path.display()
                ))
            })?;
            let mut cum = Vec::with_capacity(row.len());
            let mut acc = 0.0;
            for (p, n) in row {
                let n = n
                    .as_f64()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| {
                        GenerateError::Options(format!(
                            "{}: row {t:?}, predicted {p:?}: count must be a non-negative number",
                            path.display()
                        ))
                    })?;
                if n == 0.0 {
                    continue;
                }
                let pred = if p == jobshift_core::schema::UNCLASSIFIED {
                    None
                } else {
                    match catalog.index_of(p) {
                        Some(i) => Some(i),
                        None => {
                            unknown.insert(p.clone());
                            None
                        }
                    }
                };
                acc += n;
                cum.push((acc, pred));
            }
            if acc > 0.0 {
                for c in cum.iter_mut() {
                    c.0 /= acc;
                }
                rows[ti] = Some(cum);
                covered += 1;
            }
        }
        Ok(Self {
            source: path.display().to_string(),
            rows,
            titles_covered: covered,
            unknown_predicted: unknown.into_iter().collect(),
        })
    }

    /// The predicted title of a posting of true title `t` (None = unclassified).
    fn draw(&self, t: usize, u: f64) -> Option<usize> {
        match &self.rows[t] {
            None => Some(t),
            Some(cum) => {
                let i = cum.partition_point(|(c, _)| *c <= u).min(cum.len() - 1);
                cum[i].1
            }
        }
    }
}

/// Options of classified-only generation beyond [`GenerateOptions`].
#[derive(Debug, Clone, Default)]
pub struct ClassifiedOptions {
    /// Simulate the classifier with this confusion matrix; `None` = perfect classification.
    pub confusion: Option<ConfusionSim>,
    /// Write raw titles as employers write them in `title` (slower); default: the title's name.
    pub raw_titles: bool,
    /// Write the *postings* table instead (`DIR/postings/month=YYYY-MM/part-NNN.parquet`,
    /// [`jobshift_core::schema::postings_schema`]): raw titles, no descriptions, the true title in
    /// `extra`, for `jobshift classify DIR --no-description` — the real classifier at 10M+
    /// postings without generating and ingesting full text.
    pub postings_table: bool,
}

/// What a classified-only run produced (`DIR/manifest.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassifiedSummary {
    pub out_dir: PathBuf,
    pub mode: String,
    pub seed: u64,
    pub from: String,
    pub to: String,
    pub taxonomy_version: String,
    pub titles: usize,
    pub companies: u32,
    pub months: usize,
    pub files: usize,
    /// Rows written (unique postings, all classified).
    pub rows: u64,
    pub reposts: u64,
    /// Simulated classification only: the matrix, titles it covers, postings predicted as their
    /// true title and as unclassified.
    pub confusion: Option<String>,
    pub confusion_titles_covered: usize,
    pub predicted_correct: u64,
    pub predicted_unclassified: u64,
    pub files_resumed: usize,
    pub seconds: f64,
}

/// Title attributes as strings, resolved once.
struct TitleCols {
    id: String,
    name: String,
    family: String,
    level: &'static str,
    tier: &'static str,
}

struct FileJob {
    month: usize,
    file_no: u64,
    start: u64,
    end: u64,
}

/// The taxonomy columns written for each title, by title index.
fn title_cols(catalog: &Catalog) -> Vec<TitleCols> {
    catalog
        .titles()
        .iter()
        .map(|t| TitleCols {
            id: t.id.clone(),
            name: t.name.clone(),
            family: t.family.clone(),
            level: t.level.as_str(),
            tier: t.tier().as_str(),
        })
        .collect()
}

/// The files to write: each month's unique postings in runs of `rows_per_file`.
fn file_jobs(plan: &Plan, rows_per_file: u64) -> Vec<FileJob> {
    let mut jobs = Vec::new();
    for (mi, mp) in plan.months.iter().enumerate() {
        let mut s = 0;
        let mut f = 0;
        while s < mp.unique {
            let e = (s + rows_per_file).min(mp.unique);
            jobs.push(FileJob {
                month: mi,
                file_no: f,
                start: s,
                end: e,
            });
            s = e;
            f += 1;
        }
    }
    jobs
}

/// A classify-style manifest, so `jobshift report --corrected` finds the confusion matrix that
/// was simulated.
fn write_manifest(copts: &ClassifiedOptions, classified: &Path) -> Result<(), GenerateError> {
    let cls_manifest = ClassifiedManifest {
        classifier: match &copts.confusion {
            Some(c) => format!(
                "simulated from the confusion matrix {} (jobshift generate --classified-only)",
                c.source
            ),
            None => "generator truth: perfect classification (jobshift generate --classified-only)"
                .to_string(),
        },
        confusion: copts.confusion.as_ref().map(|c| c.source.clone()),
        ..Default::default()
    };
    cls_manifest
        .write(classified)
        .map_err(|e| io_err(&classified.join(MANIFEST_FILE), e))
}

/// The summary's one-line description of what was generated.
fn mode_text(copts: &ClassifiedOptions, exact_volumes: bool) -> String {
    format!(
        "classified-only, {}{}",
        if copts.postings_table {
            "postings table (raw titles, not classified)"
        } else if copts.confusion.is_some() {
            "simulated classification"
        } else {
            "perfect classification"
        },
        if exact_volumes { ", exact volumes" } else { "" }
    )
}

/// Generate a classified dataset into `out_dir` (see the module doc). `opts.postings` is the
/// number of rows; copy and malformed rates are ignored (every row is a unique posting).
pub fn generate_classified(
    catalog: &Catalog,
    opts: &GenerateOptions,
    copts: &ClassifiedOptions,
    out_dir: &Path,
    progress: Option<&(dyn Fn(u64, u64) + Sync)>,
) -> Result<ClassifiedSummary, GenerateError> {
    let started = Instant::now();
    let mut opts = opts.clone();
    opts.rates.exact_copy = 0.0;
    opts.rates.near_copy = 0.0;
    opts.rates.malformed = 0.0;
    opts.validate()?;
    let plan = plan_for(catalog, &opts)?;
    let n_companies = opts
        .companies
        .unwrap_or_else(|| default_company_count(opts.postings));
    let companies = Companies::build(opts.seed, n_companies, plan.months.len());
    let samplers: Vec<_> = (0..plan.months.len())
        .map(|m| companies.for_month(m))
        .collect();
    let industries = title_industries(catalog);
    let cols = title_cols(catalog);
    let table = if copts.postings_table {
        "postings"
    } else {
        "classified"
    };
    let classified = out_dir.join(table);
    std::fs::create_dir_all(&classified).map_err(|e| io_err(&classified, e))?;
    let labels_dir = out_dir.join("labels");
    if opts.labels_rate > 0.0 {
        std::fs::create_dir_all(&labels_dir).map_err(|e| io_err(&labels_dir, e))?;
    }

    let jobs = file_jobs(&plan, opts.rows_per_file);
    let total: u64 = plan.total_unique();
    let done = AtomicU64::new(0);
    let correct = AtomicU64::new(0);
    let unclassified = AtomicU64::new(0);
    let resumed = AtomicU64::new(0);
    let env = Env {
        opts: &opts,
        copts,
        plan: &plan,
        companies: &companies,
        samplers: &samplers,
        industries: &industries,
        cols: &cols,
        catalog,
    };
    jobs.par_iter()
        .try_for_each(|job| -> Result<(), GenerateError> {
            let ym = plan.months[job.month].ym;
            let path = classified
                .join(format!("month={ym}"))
                .join(format!("part-{:03}.parquet", job.file_no));
            let n = job.end - job.start;
            if path.exists() {
                resumed.fetch_add(1, Ordering::Relaxed);
            } else {
                let labels_path =
                    labels_dir.join(format!("month={ym}-part-{:03}.jsonl", job.file_no));
                let (c, u) = env.write_file(job, &path, &labels_path)?;
                correct.fetch_add(c, Ordering::Relaxed);
                unclassified.fetch_add(u, Ordering::Relaxed);
            }
            let d = done.fetch_add(n, Ordering::Relaxed) + n;
            if let Some(cb) = progress {
                cb(d, total);
            }
            Ok(())
        })?;

    // what the dataset holds: truth tables as in a full run, plus a classify-style manifest so
    // `jobshift report --corrected` finds the confusion matrix that was simulated
    let rows = change_table(catalog, &plan);
    write_change_table(&rows, &out_dir.join("truth-changes.csv"))?;
    write_expected_counts(catalog, &plan, &out_dir.join("expected-counts.csv"))?;
    if !copts.postings_table {
        write_manifest(copts, &classified)?;
    }
    let summary = ClassifiedSummary {
        out_dir: out_dir.to_path_buf(),
        mode: mode_text(copts, opts.exact_volumes),
        seed: opts.seed,
        from: opts.from.to_string(),
        to: opts.to.to_string(),
        taxonomy_version: catalog.version().to_string(),
        titles: catalog.len(),
        companies: n_companies,
        months: plan.months.len(),
        files: jobs.len(),
        rows: total,
        reposts: plan
            .months
            .iter()
            .map(|m| m.reposts.iter().sum::<u64>())
            .sum(),
        confusion: copts.confusion.as_ref().map(|c| c.source.clone()),
        confusion_titles_covered: copts.confusion.as_ref().map_or(0, |c| c.titles_covered),
        predicted_correct: correct.into_inner(),
        predicted_unclassified: unclassified.into_inner(),
        files_resumed: resumed.into_inner() as usize,
        seconds: started.elapsed().as_secs_f64(),
    };
    let p = out_dir.join("manifest.json");
    jobshift_core::atomic::write_json(&p, &summary).map_err(|e| io_err(&p, e))?;
    Ok(summary)
}

/// Column builders for one batch of the classified table (the postings table is its prefix).
struct Columns {
    id: StringBuilder,
    source: StringBuilder,
    company: StringBuilder,
    title: StringBuilder,
    null: StringBuilder,
    country: StringBuilder,
    date: Date32Builder,
    prec: StringBuilder,
    extra: StringBuilder,
    dups: UInt32Builder,
    file: StringBuilder,
    rec: UInt64Builder,
    tid: StringBuilder,
    tname: StringBuilder,
    family: StringBuilder,
    level: StringBuilder,
    tier: StringBuilder,
    sen: StringBuilder,
    conf: Float32Builder,
    method: StringBuilder,
}

impl Columns {
    fn with_capacity(n: usize, input_file: &str) -> Self {
        Columns {
            id: StringBuilder::with_capacity(n, n * 17),
            source: StringBuilder::with_capacity(n, n * 9),
            company: StringBuilder::with_capacity(n, n * 24),
            title: StringBuilder::with_capacity(n, n * 24),
            null: StringBuilder::with_capacity(n, 0),
            country: StringBuilder::with_capacity(n, n * 2),
            date: Date32Builder::with_capacity(n),
            prec: StringBuilder::with_capacity(n, n * 3),
            extra: StringBuilder::with_capacity(n, 0),
            dups: UInt32Builder::with_capacity(n),
            file: StringBuilder::with_capacity(n, n * input_file.len()),
            rec: UInt64Builder::with_capacity(n),
            tid: StringBuilder::with_capacity(n, n * 20),
            tname: StringBuilder::with_capacity(n, n * 20),
            family: StringBuilder::with_capacity(n, n * 16),
            level: StringBuilder::with_capacity(n, n * 12),
            tier: StringBuilder::with_capacity(n, n * 20),
            sen: StringBuilder::with_capacity(n, n * 6),
            conf: Float32Builder::with_capacity(n),
            method: StringBuilder::with_capacity(n, n * 8),
        }
    }

    /// The arrays in schema order; `fields` of them (the postings table stops early).
    fn finish(mut self, fields: usize) -> Vec<ArrayRef> {
        let nulls: ArrayRef = Arc::new(self.null.finish());
        let dates: ArrayRef = Arc::new(self.date.finish());
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.source.finish()),
            Arc::new(self.company.finish()),
            Arc::new(self.title.finish()),
            nulls.clone(), // description
            nulls.clone(), // location
            Arc::new(self.country.finish()),
            dates.clone(), // posted_date
            Arc::new(self.prec.finish()),
            dates.clone(), // first_seen
            dates,         // last_seen
            nulls.clone(), // url
            Arc::new(self.extra.finish()),
            Arc::new(self.dups.finish()),
            Arc::new(self.file.finish()),
            Arc::new(self.rec.finish()),
            Arc::new(self.tid.finish()),
            Arc::new(self.tname.finish()),
            Arc::new(self.family.finish()),
            Arc::new(self.level.finish()),
            Arc::new(self.tier.finish()),
            Arc::new(self.sen.finish()),
            nulls.clone(), // soc
            Arc::new(self.conf.finish()),
            Arc::new(self.method.finish()),
            nulls.clone(), // reason: the classification is simulated, not abstained
            jobshift_core::schema::roles_array(std::iter::repeat_n(&[] as &[&str], nulls.len())),
        ];
        columns.truncate(fields);
        columns
    }
}

struct Env<'a> {
    opts: &'a GenerateOptions,
    copts: &'a ClassifiedOptions,
    plan: &'a Plan,
    companies: &'a Companies,
    samplers: &'a [crate::companies::MonthCompanies],
    industries: &'a [Vec<usize>],
    cols: &'a [TitleCols],
    catalog: &'a Catalog,
}

fn days_since_epoch(d: chrono::NaiveDate) -> i32 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    (d - epoch).num_days() as i32
}

impl Env<'_> {
    /// Write one file; returns (postings predicted correctly, predicted unclassified).
    /// The rows `pos..end` of a file: drawn employers, dates, seniorities and (raw) titles, with
    /// the truth or a simulated prediction; appends sampled labels to `labels` and counts the
    /// correct and unclassified predictions.
    fn batch(
        &self,
        job: &FileJob,
        perm: &crate::run::Perm,
        (pos, end): (u64, u64),
        input_file: &str,
        labels: &mut String,
        (correct, unclassified): (&mut u64, &mut u64),
    ) -> Result<Vec<ArrayRef>, GenerateError> {
        let postings_table = self.copts.postings_table;
        let mp = &self.plan.months[job.month];
        let ym: YearMonth = mp.ym;
        let noise = TitleNoise { ambiguous: 0.04 };
        let n = (end - pos) as usize;
        let mut rng = rng_for(
            self.opts.seed,
            &[
                Key::S("classified"),
                Key::N(job.month as u64),
                Key::N(pos / BATCH_ROWS),
            ],
        );
        let mut label_rng = rng_for(
            self.opts.seed,
            &[
                Key::S("labels"),
                Key::N(job.month as u64),
                Key::N(pos / BATCH_ROWS),
            ],
        );
        let mut cols = Columns::with_capacity(n, input_file);
        for i in pos..end {
            let slot = perm.at(i);
            let t = mp.title_of_slot(slot);
            let (company_id, country_idx) = self.samplers[job.month].draw_employer(
                self.companies,
                &self.industries[t],
                &mut rng,
            );
            let company = &self.companies.list[company_id as usize];
            let country = &COUNTRIES[country_idx];
            let spec = &self.catalog.titles()[t];
            let seniority = draw_seniority(spec.level, &mut rng);
            let date = days_since_epoch(draw_date(ym, &mut rng));
            let _ = write!(cols.id, "p{:04}{:02}-{slot:08}", ym.year, ym.month);
            cols.id.append_value("");
            cols.source.append_value("generated");
            cols.company.append_value(&company.name);
            let title: Cow<str> = if self.copts.raw_titles || postings_table {
                let city = *pick(&mut rng, country.cities);
                Cow::Owned(raw_title(spec, seniority, country, city, noise, &mut rng).0)
            } else {
                Cow::Borrowed(&spec.name)
            };
            if self.opts.labels_rate > 0.0 && label_rng.random::<f64>() < self.opts.labels_rate {
                let posting_id = format!("p{:04}{:02}-{slot:08}", ym.year, ym.month);
                push_labelled(labels, &title, None, &spec.id, posting_id)?;
            }
            cols.title.append_value(&title);
            cols.null.append_null();
            cols.country.append_value(country.iso);
            cols.date.append_value(date);
            cols.prec.append_value("day");
            cols.dups.append_value(0);
            cols.file.append_value(input_file);
            cols.rec.append_value(i + 1);
            cols.sen.append_value(seniority.as_str());
            cols.conf.append_value(1.0);
            let pred = match &self.copts.confusion {
                _ if postings_table => {
                    let _ = write!(cols.extra, "{{\"true_title_id\":\"{}\"}}", spec.id);
                    cols.extra.append_value("");
                    Some(t)
                }
                None => {
                    cols.extra.append_null();
                    cols.method.append_value("truth");
                    Some(t)
                }
                Some(c) => {
                    let _ = write!(cols.extra, "{{\"true_title_id\":\"{}\"}}", spec.id);
                    cols.extra.append_value("");
                    cols.method.append_value("simulated");
                    c.draw(t, rng.random::<f64>())
                }
            };
            match pred {
                Some(p) => {
                    if p == t {
                        *correct += 1;
                    }
                    let c = &self.cols[p];
                    cols.tid.append_value(&c.id);
                    cols.tname.append_value(&c.name);
                    cols.family.append_value(&c.family);
                    cols.level.append_value(c.level);
                    cols.tier.append_value(c.tier);
                }
                None => {
                    *unclassified += 1;
                    cols.tid.append_value(jobshift_core::schema::UNCLASSIFIED);
                    cols.tname.append_null();
                    cols.family.append_null();
                    cols.level.append_null();
                    cols.tier.append_null();
                }
            }
        }
        let fields = if postings_table {
            jobshift_core::schema::postings_schema().fields().len()
        } else {
            usize::MAX
        };
        Ok(cols.finish(fields))
    }

    fn write_file(
        &self,
        job: &FileJob,
        path: &Path,
        labels_path: &Path,
    ) -> Result<(u64, u64), GenerateError> {
        let postings_table = self.copts.postings_table;
        let mut labels = String::new();
        let mp = &self.plan.months[job.month];
        let ym: YearMonth = mp.ym;
        // the same interleaving of titles as the full generator's files
        let mut perm_rng = rng_for(self.opts.seed, &[Key::S("perm"), Key::N(job.month as u64)]);
        let perm = crate::run::Perm::new(mp.unique, &mut perm_rng);
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)
            .map_err(|e| io_err(dir, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(3).map_err(|e| io_err(path, e))?,
            ))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let schema = if postings_table {
            jobshift_core::schema::postings_schema()
        } else {
            jobshift_core::schema::classified_schema()
        };
        let file = tmp.reopen().map_err(|e| io_err(path, e))?;
        let mut writer =
            ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| io_err(path, e))?;
        let input_file = format!("generated/{ym}/part-{:03}", job.file_no);
        let (mut correct, mut unclassified) = (0u64, 0u64);
        let mut pos = job.start;
        while pos < job.end {
            let end = (pos + BATCH_ROWS).min(job.end);
            let columns = self.batch(
                job,
                &perm,
                (pos, end),
                &input_file,
                &mut labels,
                (&mut correct, &mut unclassified),
            )?;
            let batch =
                RecordBatch::try_new(schema.clone(), columns).map_err(|e| io_err(path, e))?;
            writer.write(&batch).map_err(|e| io_err(path, e))?;
            pos = end;
        }
        writer.close().map_err(|e| io_err(path, e))?;
        if self.opts.labels_rate > 0.0 {
            // before the postings file: a rerun skips files that exist, so their labels must too
            jobshift_core::atomic::write_bytes(labels_path, labels.as_bytes())
                .map_err(|e| io_err(labels_path, e))?;
        }
        tmp.as_file().sync_all().map_err(|e| io_err(path, e))?;
        tmp.persist(path).map_err(|e| io_err(path, e.error))?;
        Ok((correct, unclassified))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaxonomySource;
    use arrow::array::AsArray;

    fn small_opts(n: u64) -> GenerateOptions {
        GenerateOptions {
            postings: n,
            taxonomy: TaxonomySource::StudySample,
            rows_per_file: 700,
            ..GenerateOptions::default()
        }
    }

    #[test]
    fn writes_every_planned_posting_and_is_deterministic() {
        let cat = Catalog::study_sample();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let o = small_opts(20_000);
        let copts = ClassifiedOptions::default();
        let sa = generate_classified(&cat, &o, &copts, a.path(), None).unwrap();
        let sb = generate_classified(&cat, &o, &copts, b.path(), None).unwrap();
        assert_eq!(sa.rows, sb.rows);
        assert_eq!(sa.rows, 20_000);
        assert_eq!(sa.predicted_correct, 20_000);
        let f =
            |d: &Path| std::fs::read(d.join("classified/month=2024-03/part-000.parquet")).unwrap();
        assert_eq!(f(a.path()), f(b.path()));
        // per-title counts in the files equal the plan's
        let plan = plan_for(&cat, &{
            let mut x = o.clone();
            x.rates.exact_copy = 0.0;
            x.rates.near_copy = 0.0;
            x.rates.malformed = 0.0;
            x
        })
        .unwrap();
        let mut counts = std::collections::BTreeMap::<String, u64>::new();
        for e in walk(&a.path().join("classified")) {
            let rdr = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(&e).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap();
            for batch in rdr {
                let batch = batch.unwrap();
                let col = batch.column_by_name("title_id").unwrap().as_string::<i32>();
                for v in col.iter() {
                    *counts.entry(v.unwrap().to_string()).or_default() += 1;
                }
            }
        }
        for (i, t) in cat.titles().iter().enumerate() {
            let want: u64 = plan.months.iter().map(|m| m.counts[i]).sum();
            assert_eq!(counts.get(&t.id).copied().unwrap_or(0), want, "{}", t.id);
        }
    }

    #[test]
    fn simulated_confusion_moves_postings() {
        let cat = Catalog::study_sample();
        let dir = tempfile::tempdir().unwrap();
        let a = &cat.titles()[0].id;
        let b = &cat.titles()[1].id;
        let cpath = dir.path().join("confusion.json");
        std::fs::write(
            &cpath,
            format!(r#"{{"confusion": {{"{a}": {{"{a}": 1, "{b}": 1, "unclassified": 2, "no_such": 0}}}}}}"#),
        )
        .unwrap();
        let c = ConfusionSim::load(&cpath, &cat).unwrap();
        assert_eq!(c.titles_covered, 1);
        let out = dir.path().join("ds");
        let copts = ClassifiedOptions {
            confusion: Some(c),
            raw_titles: true,
            ..Default::default()
        };
        let s = generate_classified(&cat, &small_opts(20_000), &copts, &out, None).unwrap();
        assert!(s.predicted_unclassified > 0);
        assert!(s.predicted_correct < s.rows);
        assert!(out.join("classified/manifest.json").is_file());
        assert!(out.join("truth-changes.csv").is_file());
    }

    #[test]
    fn postings_table_carries_raw_titles_truth_and_a_labelled_sample() {
        let cat = Catalog::study_sample();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let o = small_opts(20_000);
        let copts = ClassifiedOptions {
            postings_table: true,
            ..Default::default()
        };
        let labelled = GenerateOptions {
            labels_rate: 0.05,
            ..o.clone()
        };
        let sa = generate_classified(&cat, &labelled, &copts, a.path(), None).unwrap();
        assert_eq!(sa.rows, 20_000);
        assert!(!a.path().join("classified").exists());
        let files = walk(&a.path().join("postings"));
        assert!(!files.is_empty());
        let mut rows = 0;
        let mut raw_differs = 0;
        for f in &files {
            let r = std::fs::File::open(f).unwrap();
            let rd = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(r)
                .unwrap()
                .build()
                .unwrap();
            for batch in rd {
                let batch = batch.unwrap();
                assert_eq!(batch.schema(), jobshift_core::schema::postings_schema());
                let title = batch.column_by_name("title").unwrap().as_string::<i32>();
                let extra = batch.column_by_name("extra").unwrap().as_string::<i32>();
                for i in 0..batch.num_rows() {
                    let v: serde_json::Value = serde_json::from_str(extra.value(i)).unwrap();
                    let truth = v["true_title_id"].as_str().unwrap();
                    let t = cat.titles().iter().find(|t| t.id == truth).unwrap();
                    if title.value(i) != t.name {
                        raw_differs += 1;
                    }
                }
                rows += batch.num_rows();
            }
        }
        assert_eq!(rows, 20_000);
        assert!(
            raw_differs > 1_000,
            "raw titles are written, not names: {raw_differs}"
        );
        // the labelled sample: ~5 % of postings, every label a real posting of that title
        let mut labels = 0usize;
        for e in std::fs::read_dir(a.path().join("labels")).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            for line in text.lines() {
                let ex: jobshift_core::labels::LabeledExample = serde_json::from_str(line).unwrap();
                assert!(cat.titles().iter().any(|t| t.id == ex.title_id));
                assert!(ex.posting_id.is_some());
                labels += 1;
            }
        }
        assert!(
            (700..1_300).contains(&labels),
            "{labels} labels for 5 % of 20,000"
        );
        // the sample does not change the postings; same seed, same bytes
        generate_classified(&cat, &o, &copts, b.path(), None).unwrap();
        let f =
            |d: &Path| std::fs::read(d.join("postings/month=2024-03/part-000.parquet")).unwrap();
        assert_eq!(f(a.path()), f(b.path()));
        assert!(!b.path().join("labels").exists());
    }

    fn walk(d: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.extension().is_some_and(|x| x == "parquet") {
                out.push(p);
            }
        }
        out
    }
}
