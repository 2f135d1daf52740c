//! Writers for postings (Parquet, JSON Lines, CSV) and for the ground truth. Each file is
//! written into a temporary file beside its destination and renamed into place when complete
//! (the streaming form of `jobshift_core::atomic`, which needs the whole content up front), so a
//! crashed run never leaves a half-written file under a final name.

use crate::catalog::Catalog;
use crate::posting::{MalformedKind, Record};
use crate::GenerateError;
use arrow::array::{ArrayRef, BooleanBuilder, StringBuilder, UInt32Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tempfile::NamedTempFile;

/// Output format of the postings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Parquet,
    Jsonl,
    Csv,
}

impl OutputFormat {
    pub fn ext(self) -> &'static str {
        match self {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Jsonl => "jsonl",
            OutputFormat::Csv => "csv",
        }
    }
    /// Text formats carry malformed records; Parquet is typed and does not.
    pub fn is_text(self) -> bool {
        !matches!(self, OutputFormat::Parquet)
    }
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(OutputFormat::Parquet),
            "jsonl" | "ndjson" => Ok(OutputFormat::Jsonl),
            "csv" => Ok(OutputFormat::Csv),
            _ => Err(format!("format {s:?}: expected parquet, jsonl or csv")),
        }
    }
}

/// Column names of the postings files: ones `jobshift ingest` recognizes without `--map`.
pub const POSTING_COLUMNS: [&str; 8] = [
    "posting_ref",
    "title",
    "company",
    "location",
    "country",
    "date_posted",
    "url",
    "description",
];

pub(crate) fn io_err(path: &Path, e: impl std::fmt::Display) -> GenerateError {
    GenerateError::Io(format!("{}: {e}", path.display()))
}

/// Append one posting of the labelled sample (`--labels-rate`) to `out` as a JSONL line of
/// [`jobshift_core::labels::LabeledExample`] (source `synthetic`, the true title as its label).
pub(crate) fn push_labelled(
    out: &mut String,
    title: &str,
    description: Option<&str>,
    title_id: &str,
    posting_id: String,
) -> Result<(), GenerateError> {
    let ex = jobshift_core::labels::LabeledExample {
        title: title.to_string(),
        description: description.map(str::to_string),
        title_id: title_id.to_string(),
        source: jobshift_core::labels::LabelSource::Synthetic,
        confidence: 1.0,
        posting_id: Some(posting_id),
    };
    let line = serde_json::to_string(&ex)
        .map_err(|e| GenerateError::Options(format!("labelled example: {e}")))?;
    out.push_str(&line);
    out.push('\n');
    Ok(())
}

fn temp_beside(path: &Path) -> Result<NamedTempFile, GenerateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| io_err(dir, e))
}

fn persist(tmp: NamedTempFile, path: &Path) -> Result<(), GenerateError> {
    tmp.as_file().sync_all().map_err(|e| io_err(path, e))?;
    tmp.persist(path).map_err(|e| io_err(path, e.error))?;
    Ok(())
}

fn postings_schema() -> SchemaRef {
    Arc::new(Schema::new(
        POSTING_COLUMNS
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ))
}

fn date_str(r: &Record) -> String {
    match &r.bad_date {
        Some(b) => b.clone(),
        None => r.date.format("%Y-%m-%d").to_string(),
    }
}

// one value per file being written: the size of its largest variant costs nothing
#[allow(clippy::large_enum_variant)]
enum Inner {
    Parquet {
        writer: ArrowWriter<File>,
        buf: Vec<Record>,
    },
    Jsonl {
        w: BufWriter<File>,
    },
    Csv {
        w: csv::Writer<BufWriter<File>>,
        deferred: Option<Record>,
    },
}

/// One postings file being written.
pub struct PostingsFile {
    path: PathBuf,
    tmp_path: PathBuf,
    tmp: Option<NamedTempFile>,
    inner: Inner,
    rows: u64,
}

const PARQUET_BATCH: usize = 8192;

impl PostingsFile {
    pub fn create(path: &Path, format: OutputFormat) -> Result<Self, GenerateError> {
        let tmp = temp_beside(path)?;
        let file = tmp.reopen().map_err(|e| io_err(path, e))?;
        let tmp_path = tmp.path().to_path_buf();
        let inner = match format {
            OutputFormat::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::SNAPPY)
                    .set_max_row_group_row_count(Some(PARQUET_BATCH * 2))
                    .build();
                let writer = ArrowWriter::try_new(file, postings_schema(), Some(props))
                    .map_err(|e| io_err(path, e))?;
                Inner::Parquet {
                    writer,
                    buf: Vec::with_capacity(PARQUET_BATCH),
                }
            }
            OutputFormat::Jsonl => Inner::Jsonl {
                w: BufWriter::with_capacity(1 << 20, file),
            },
            OutputFormat::Csv => {
                // flexible: malformed rows with an extra field are written on purpose
                let mut w = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(BufWriter::with_capacity(1 << 20, file));
                w.write_record(POSTING_COLUMNS)
                    .map_err(|e| io_err(path, e))?;
                Inner::Csv { w, deferred: None }
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            tmp_path,
            tmp: Some(tmp),
            inner,
            rows: 0,
        })
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Write one record. Returns the malformed kind actually written (CSV writes at most one
    /// unterminated quote per file, as its last record, and a second becomes a broken record;
    /// JSONL has no unterminated-quote form and writes a broken record instead).
    pub fn write(&mut self, r: Record) -> Result<Option<MalformedKind>, GenerateError> {
        let path = self.tmp_path.clone();
        self.rows += 1;
        let mut kind = r.malformed;
        match &mut self.inner {
            Inner::Parquet { writer, buf } => {
                buf.push(r);
                if buf.len() >= PARQUET_BATCH {
                    flush_parquet(writer, buf).map_err(|e| io_err(&path, e))?;
                }
            }
            Inner::Jsonl { w } => {
                let mut obj = serde_json::Map::new();
                obj.insert("posting_ref".into(), r.posting_ref.as_str().into());
                if r.malformed != Some(MalformedKind::MissingTitle) {
                    obj.insert("title".into(), r.title.as_str().into());
                }
                obj.insert("company".into(), r.company.as_str().into());
                obj.insert("location".into(), r.location.as_str().into());
                obj.insert("country".into(), r.country_field.as_str().into());
                obj.insert("date_posted".into(), date_str(&r).into());
                obj.insert("url".into(), r.url.as_str().into());
                obj.insert("description".into(), r.description.as_str().into());
                let line = serde_json::to_string(&obj).map_err(|e| io_err(&path, e))?;
                let line = if matches!(
                    kind,
                    Some(MalformedKind::BrokenRecord | MalformedKind::UnterminatedQuote)
                ) {
                    kind = Some(MalformedKind::BrokenRecord);
                    // cut off mid-object, as a truncated write leaves it
                    let half = line.len() / 2;
                    let cut = (0..=half)
                        .rev()
                        .find(|&i| line.is_char_boundary(i))
                        .unwrap_or(0);
                    line[..cut].to_string()
                } else {
                    line
                };
                w.write_all(line.as_bytes())
                    .and_then(|_| w.write_all(b"\n"))
                    .map_err(|e| io_err(&path, e))?;
            }
            Inner::Csv { w, deferred } => {
                if kind == Some(MalformedKind::UnterminatedQuote) && deferred.is_none() {
                    *deferred = Some(r);
                    return Ok(kind);
                }
                let title = if kind == Some(MalformedKind::MissingTitle) {
                    ""
                } else {
                    r.title.as_str()
                };
                let date = date_str(&r);
                let mut fields: Vec<&str> = vec![
                    r.posting_ref.as_str(),
                    title,
                    r.company.as_str(),
                    r.location.as_str(),
                    r.country_field.as_str(),
                    date.as_str(),
                    r.url.as_str(),
                    r.description.as_str(),
                ];
                if matches!(
                    kind,
                    Some(MalformedKind::UnterminatedQuote | MalformedKind::BrokenRecord)
                ) {
                    kind = Some(MalformedKind::BrokenRecord);
                    fields.push("extra field");
                }
                w.write_record(&fields).map_err(|e| io_err(&path, e))?;
            }
        }
        Ok(kind)
    }

    /// Flush, close and rename into place.
    pub fn finish(mut self) -> Result<PathBuf, GenerateError> {
        let path = self.path.clone();
        match self.inner {
            Inner::Parquet {
                mut writer,
                mut buf,
            } => {
                if !buf.is_empty() {
                    flush_parquet(&mut writer, &mut buf).map_err(|e| io_err(&path, e))?;
                }
                writer.close().map_err(|e| io_err(&path, e))?;
            }
            Inner::Jsonl { mut w } => w.flush().map_err(|e| io_err(&path, e))?,
            Inner::Csv { mut w, deferred } => {
                w.flush().map_err(|e| io_err(&path, e))?;
                let mut inner = w.into_inner().map_err(|e| io_err(&path, e.error()))?;
                if let Some(r) = deferred {
                    // quotes stripped from the rest of the line so the open quote runs to EOF
                    let clean = |s: &str| s.replace(['"', '\n', '\r'], " ");
                    let line = format!(
                        "{},\"{},{},{},{},{},{},\n",
                        clean(&r.posting_ref),
                        clean(&r.title),
                        clean(&r.company),
                        clean(&r.location),
                        clean(&r.country_field),
                        r.date.format("%Y-%m-%d"),
                        clean(&r.url)
                    );
                    inner
                        .write_all(line.as_bytes())
                        .map_err(|e| io_err(&path, e))?;
                }
                inner.flush().map_err(|e| io_err(&path, e))?;
            }
        }
        let tmp = self.tmp.take().expect("temp file present until finish");
        persist(tmp, &path)?;
        Ok(path)
    }
}

fn flush_parquet(
    writer: &mut ArrowWriter<File>,
    buf: &mut Vec<Record>,
) -> Result<(), parquet::errors::ParquetError> {
    let mut cols: Vec<StringBuilder> = (0..POSTING_COLUMNS.len())
        .map(|_| StringBuilder::new())
        .collect();
    for r in buf.iter() {
        cols[0].append_value(&r.posting_ref);
        if r.malformed == Some(MalformedKind::MissingTitle) {
            cols[1].append_null();
        } else {
            cols[1].append_value(&r.title);
        }
        cols[2].append_value(&r.company);
        cols[3].append_value(&r.location);
        cols[4].append_value(&r.country_field);
        cols[5].append_value(date_str(r));
        cols[6].append_value(&r.url);
        cols[7].append_value(&r.description);
    }
    let arrays: Vec<ArrayRef> = cols
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(postings_schema(), arrays)
        .map_err(|e| parquet::errors::ParquetError::General(e.to_string()))?;
    writer.write(&batch)?;
    buf.clear();
    Ok(())
}

/// Columns of the truth file.
pub const TRUTH_COLUMNS: [&str; 15] = [
    "posting_ref",
    "title_id",
    "title_name",
    "family",
    "level",
    "tier",
    "seniority",
    "dup_group",
    "dup_kind",
    "malformed_kind",
    "ambiguous_title",
    "company_id",
    "country",
    "date_posted",
    "month",
];

pub(crate) fn truth_schema() -> SchemaRef {
    let f = |n: &str, t: DataType, null: bool| Field::new(n, t, null);
    Arc::new(Schema::new(vec![
        f("posting_ref", DataType::Utf8, false),
        f("title_id", DataType::Utf8, false),
        f("title_name", DataType::Utf8, false),
        f("family", DataType::Utf8, false),
        f("level", DataType::Utf8, false),
        f("tier", DataType::Utf8, false),
        f("seniority", DataType::Utf8, false),
        f("dup_group", DataType::Utf8, false),
        f("dup_kind", DataType::Utf8, false),
        f("malformed_kind", DataType::Utf8, true),
        f("ambiguous_title", DataType::Boolean, false),
        f("company_id", DataType::UInt32, false),
        f("country", DataType::Utf8, false),
        f("date_posted", DataType::Utf8, false),
        f("month", DataType::Utf8, false),
    ]))
}

/// Truth rows: Parquet (with Parquet postings) or CSV (with text postings).
pub struct TruthFile {
    path: PathBuf,
    tmp: Option<NamedTempFile>,
    inner: TruthInner,
}

enum TruthInner {
    Parquet {
        writer: ArrowWriter<File>,
        buf: Vec<TruthRow>,
    },
    Csv {
        w: csv::Writer<BufWriter<File>>,
    },
}

/// One row of ground truth (owned strings are cheap: ~100 bytes a row, flushed every 8k rows).
#[derive(Debug, Clone)]
pub struct TruthRow {
    pub posting_ref: String,
    pub title_index: usize,
    pub seniority: &'static str,
    pub dup_group: String,
    pub dup_kind: &'static str,
    pub malformed_kind: Option<&'static str>,
    pub ambiguous_title: bool,
    pub company_id: u32,
    pub country: &'static str,
    pub date_posted: String,
    pub month: String,
}

impl TruthRow {
    pub fn from_record(r: &Record) -> Self {
        TruthRow {
            posting_ref: r.posting_ref.clone(),
            title_index: r.title_index,
            seniority: r.seniority.as_str(),
            dup_group: r.dup_group.clone(),
            dup_kind: r.dup_kind.as_str(),
            malformed_kind: r.malformed.map(|m| m.as_str()),
            ambiguous_title: r.ambiguous_title,
            company_id: r.company_id,
            country: r.country_iso,
            date_posted: r.date.format("%Y-%m-%d").to_string(),
            month: r.date.format("%Y-%m").to_string(),
        }
    }
}

impl TruthFile {
    pub fn create(path: &Path, parquet: bool) -> Result<Self, GenerateError> {
        let tmp = temp_beside(path)?;
        let file = tmp.reopen().map_err(|e| io_err(path, e))?;
        let inner = if parquet {
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(
                    ZstdLevel::try_new(3).expect("valid level"),
                ))
                // bounded buffering: a month can hold millions of rows
                .set_max_row_group_row_count(Some(65_536))
                .build();
            TruthInner::Parquet {
                writer: ArrowWriter::try_new(file, truth_schema(), Some(props))
                    .map_err(|e| io_err(path, e))?,
                buf: Vec::with_capacity(PARQUET_BATCH),
            }
        } else {
            let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
            w.write_record(TRUTH_COLUMNS).map_err(|e| io_err(path, e))?;
            TruthInner::Csv { w }
        };
        Ok(Self {
            path: path.to_path_buf(),
            tmp: Some(tmp),
            inner,
        })
    }

    pub fn write(&mut self, row: TruthRow, catalog: &Catalog) -> Result<(), GenerateError> {
        let path = self.path.clone();
        match &mut self.inner {
            TruthInner::Parquet { writer, buf } => {
                buf.push(row);
                if buf.len() >= PARQUET_BATCH {
                    flush_truth(writer, buf, catalog).map_err(|e| io_err(&path, e))?;
                }
            }
            TruthInner::Csv { w } => {
                let t = &catalog.titles()[row.title_index];
                let company = row.company_id.to_string();
                w.write_record([
                    row.posting_ref.as_str(),
                    &t.id,
                    &t.name,
                    &t.family,
                    t.level.as_str(),
                    t.level.tier().as_str(),
                    row.seniority,
                    &row.dup_group,
                    row.dup_kind,
                    row.malformed_kind.unwrap_or(""),
                    if row.ambiguous_title { "true" } else { "false" },
                    &company,
                    row.country,
                    &row.date_posted,
                    &row.month,
                ])
                .map_err(|e| io_err(&path, e))?;
            }
        }
        Ok(())
    }

    pub fn finish(mut self, catalog: &Catalog) -> Result<PathBuf, GenerateError> {
        let path = self.path.clone();
        match self.inner {
            TruthInner::Parquet {
                mut writer,
                mut buf,
            } => {
                if !buf.is_empty() {
                    flush_truth(&mut writer, &mut buf, catalog).map_err(|e| io_err(&path, e))?;
                }
                writer.close().map_err(|e| io_err(&path, e))?;
            }
            TruthInner::Csv { mut w } => w.flush().map_err(|e| io_err(&path, e))?,
        }
        let tmp = self.tmp.take().expect("temp file present until finish");
        persist(tmp, &path)?;
        Ok(path)
    }
}

fn flush_truth(
    writer: &mut ArrowWriter<File>,
    buf: &mut Vec<TruthRow>,
    catalog: &Catalog,
) -> Result<(), parquet::errors::ParquetError> {
    let mut s: Vec<StringBuilder> = (0..12).map(|_| StringBuilder::new()).collect();
    let mut amb = BooleanBuilder::new();
    let mut comp = UInt32Builder::new();
    for r in buf.iter() {
        let t = &catalog.titles()[r.title_index];
        s[0].append_value(&r.posting_ref);
        s[1].append_value(&t.id);
        s[2].append_value(&t.name);
        s[3].append_value(&t.family);
        s[4].append_value(t.level.as_str());
        s[5].append_value(t.level.tier().as_str());
        s[6].append_value(r.seniority);
        s[7].append_value(&r.dup_group);
        s[8].append_value(r.dup_kind);
        match r.malformed_kind {
            Some(k) => s[9].append_value(k),
            None => s[9].append_null(),
        }
        s[10].append_value(r.country);
        s[11].append_value(&r.date_posted);
        amb.append_value(r.ambiguous_title);
        comp.append_value(r.company_id);
    }
    // month column
    let mut month = StringBuilder::new();
    for r in buf.iter() {
        month.append_value(&r.month);
    }
    let mut it = s.into_iter().map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(15);
    for _ in 0..10 {
        cols.push(it.next().expect("10 leading string columns"));
    }
    cols.push(Arc::new(amb.finish()));
    cols.push(Arc::new(comp.finish()));
    cols.push(it.next().expect("country"));
    cols.push(it.next().expect("date"));
    cols.push(Arc::new(month.finish()));
    let batch = RecordBatch::try_new(truth_schema(), cols)
        .map_err(|e| parquet::errors::ParquetError::General(e.to_string()))?;
    writer.write(&batch)?;
    buf.clear();
    Ok(())
}
