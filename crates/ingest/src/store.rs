//! On-disk side of ingest: Parquet output of month partitions, the persisted dedup index, and
//! the staging directory that makes a run all-or-nothing.
//!
//! ```text
//! DATASET_DIR/postings/month=YYYY-MM/part-00000.parquet   postings (zstd), one file per month
//! DATASET_DIR/index/month=YYYY-MM.parquet                dedup index of that month's postings
//!                                                        (ids, keys, dates, MinHash signatures)
//! DATASET_DIR/rejects/<run>.jsonl                         rejected records of a run
//! DATASET_DIR/duplicates/<run>.jsonl                      duplicate decisions of a run
//! DATASET_DIR/runs/<run>.json                             every run's report
//! DATASET_DIR/runs/ingested-inputs.json                   blake3 of every input file ingested
//! DATASET_DIR/ingest-report.json                          the latest run's report
//! ```
//!
//! A run holds the dataset's writer lock, writes everything under `DATASET_DIR/.staging-<run>/`
//! (each file through `jobshift_core::atomic`) and commits it with `jobshift_core::commit`
//! (a `COMMIT` marker, then each staged month directory and file renamed into place). The
//! commit is idempotent: one interrupted during the renames is finished by the next writer or
//! reader; a staging directory without `COMMIT` is an aborted run and is deleted by the next
//! writer. Readers hold the shared commit lock, so no commit moves files under them.

use crate::dedup::{self, KeptState, MonthIndex, MonthKey};
use crate::fields::Posting;
use crate::minhash;
use crate::IngestError;
use arrow::array::{
    Array, ArrayRef, BinaryArray, BinaryBuilder, Date32Array, Date32Builder, StringArray,
    StringBuilder, UInt32Array, UInt32Builder, UInt64Array, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use jobshift_core::atomic;
use jobshift_core::dataset::DatasetDir;
use jobshift_core::normalize::{content_hash, normalize_text, normalize_title};
use jobshift_core::schema::{self as cols, postings_schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const PART_FILE: &str = "part-00000.parquet";

pub fn index_dir(root: &Path) -> PathBuf {
    root.join("index")
}

pub fn index_file(root: &Path, k: MonthKey) -> PathBuf {
    index_dir(root).join(format!("month={}.parquet", dedup::month_label(k)))
}

pub fn month_dir(root: &Path, k: MonthKey) -> PathBuf {
    DatasetDir::new(root)
        .postings()
        .join(format!("month={}", dedup::month_label(k)))
}

/// Rows per Parquet row group: 16,384 postings of ~2 KB are ~32 MB before compression, which is
/// what the writer buffers (compressed) per open file; readers still get large sequential chunks.
pub const ROW_GROUP_ROWS: usize = 16_384;

fn writer_props() -> WriterProperties {
    use parquet::schema::types::ColumnPath;
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(Default::default()))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    // Columns that are (nearly) unique per row: a dictionary only costs time before the writer
    // falls back to plain encoding.
    for c in [
        cols::POSTING_ID,
        cols::DESCRIPTION,
        cols::URL,
        cols::EXTRA,
        "exact_key",
        "signature",
    ] {
        b = b.set_column_dictionary_enabled(ColumnPath::from(c), false);
    }
    b.build()
}

/// Existing postings month partitions, by month.
pub fn existing_months(root: &Path) -> Result<Vec<MonthKey>, IngestError> {
    let dir = DatasetDir::new(root).postings();
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for e in fs::read_dir(&dir).map_err(|e| IngestError::io(&dir, e))? {
        let e = e.map_err(|e| IngestError::io(&dir, e))?;
        let name = e.file_name().to_string_lossy().to_string();
        if let Some(label) = name.strip_prefix("month=") {
            if let Some(k) = dedup::parse_month_label(label) {
                out.push(k);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Builds postings record batches row by row.
pub struct PostingsBatchBuilder {
    schema: SchemaRef,
    id: StringBuilder,
    source: StringBuilder,
    company: StringBuilder,
    title: StringBuilder,
    description: StringBuilder,
    location: StringBuilder,
    country: StringBuilder,
    posted: Date32Builder,
    precision: StringBuilder,
    first: Date32Builder,
    last: Date32Builder,
    url: StringBuilder,
    extra: StringBuilder,
    dups: UInt32Builder,
    file: StringBuilder,
    record: UInt64Builder,
    rows: usize,
}

impl Default for PostingsBatchBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl PostingsBatchBuilder {
    pub fn new() -> Self {
        Self {
            schema: postings_schema(),
            id: StringBuilder::new(),
            source: StringBuilder::new(),
            company: StringBuilder::new(),
            title: StringBuilder::new(),
            description: StringBuilder::new(),
            location: StringBuilder::new(),
            country: StringBuilder::new(),
            posted: Date32Builder::new(),
            precision: StringBuilder::new(),
            first: Date32Builder::new(),
            last: Date32Builder::new(),
            url: StringBuilder::new(),
            extra: StringBuilder::new(),
            dups: UInt32Builder::new(),
            file: StringBuilder::new(),
            record: UInt64Builder::new(),
            rows: 0,
        }
    }
    pub fn len(&self) -> usize {
        self.rows
    }
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
    /// Append a posting with its (first_seen, last_seen, duplicates).
    pub fn push(&mut self, p: &Posting, seen: (i32, i32, u32)) {
        self.id.append_value(&p.posting_id);
        self.source.append_value(&p.source);
        self.company.append_option(p.company.as_deref());
        self.title.append_value(&p.title);
        self.description.append_option(p.description.as_deref());
        self.location.append_option(p.location.as_deref());
        self.country.append_option(p.country.as_deref());
        self.posted.append_value(p.posted_date);
        self.precision.append_value(&p.date_precision);
        self.first.append_value(seen.0);
        self.last.append_value(seen.1);
        self.url.append_option(p.url.as_deref());
        self.extra.append_option(p.extra.as_deref());
        self.dups.append_value(seen.2);
        self.file.append_value(&p.input_file);
        self.record.append_value(p.input_record);
        self.rows += 1;
    }
    pub fn finish(&mut self) -> Result<RecordBatch, arrow::error::ArrowError> {
        self.rows = 0;
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.source.finish()),
            Arc::new(self.company.finish()),
            Arc::new(self.title.finish()),
            Arc::new(self.description.finish()),
            Arc::new(self.location.finish()),
            Arc::new(self.country.finish()),
            Arc::new(self.posted.finish()),
            Arc::new(self.precision.finish()),
            Arc::new(self.first.finish()),
            Arc::new(self.last.finish()),
            Arc::new(self.url.finish()),
            Arc::new(self.extra.finish()),
            Arc::new(self.dups.finish()),
            Arc::new(self.file.finish()),
            Arc::new(self.record.finish()),
        ];
        RecordBatch::try_new(self.schema.clone(), columns)
    }
}

/// Column `name` of `batch` as the array type `T`, or an error naming the column and `path`.
pub(crate) fn col<'a, T: 'static>(
    batch: &'a RecordBatch,
    name: &str,
    path: &Path,
) -> Result<&'a T, IngestError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| IngestError::Dataset {
            dir: path.to_path_buf(),
            message: format!("column `{name}` missing or of the wrong type; was this written by jobshift ingest?"),
        })
}

/// Read every batch of the Parquet files of a month partition.
pub fn for_each_batch(
    files: &[PathBuf],
    mut f: impl FnMut(&Path, RecordBatch) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    for path in files {
        let file = fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| IngestError::parquet(path, e))?
            .with_batch_size(8192)
            .build()
            .map_err(|e| IngestError::parquet(path, e))?;
        for b in reader {
            let b = b.map_err(|e| IngestError::parquet(path, e))?;
            f(path, b)?;
        }
    }
    Ok(())
}

/// Replace first_seen/last_seen/duplicates of existing postings by their (possibly extended)
/// state.
pub fn update_existing_batch(
    batch: &RecordBatch,
    states: &HashMap<u128, (i32, i32, u32)>,
    path: &Path,
) -> Result<RecordBatch, IngestError> {
    let ids: &StringArray = col(batch, cols::POSTING_ID, path)?;
    let first: &Date32Array = col(batch, cols::FIRST_SEEN, path)?;
    let last: &Date32Array = col(batch, cols::LAST_SEEN, path)?;
    let dups: &UInt32Array = col(batch, cols::DUPLICATES, path)?;
    let mut f = Date32Builder::with_capacity(batch.num_rows());
    let mut l = Date32Builder::with_capacity(batch.num_rows());
    let mut d = UInt32Builder::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        match states.get(&dedup::parse_id(ids.value(i))) {
            Some(&(first_seen, last_seen, duplicates)) => {
                f.append_value(first_seen);
                l.append_value(last_seen);
                d.append_value(duplicates);
            }
            None => {
                f.append_value(first.value(i));
                l.append_value(last.value(i));
                d.append_value(dups.value(i));
            }
        }
    }
    let schema = postings_schema();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let c: ArrayRef = match field.name().as_str() {
            cols::FIRST_SEEN => Arc::new(f.finish()),
            cols::LAST_SEEN => Arc::new(l.finish()),
            cols::DUPLICATES => Arc::new(d.finish()),
            name => batch
                .column_by_name(name)
                .cloned()
                .ok_or_else(|| IngestError::Dataset {
                    dir: path.to_path_buf(),
                    message: format!("column `{name}` missing"),
                })?,
        };
        columns.push(c);
    }
    RecordBatch::try_new(schema, columns).map_err(|e| IngestError::parquet(path, e))
}

/// Write a postings Parquet file atomically from a stream of batches produced by `fill`.
pub fn write_postings_file(
    path: &Path,
    fill: impl FnOnce(&mut dyn FnMut(RecordBatch) -> io::Result<()>) -> io::Result<u64>,
) -> Result<u64, IngestError> {
    let mut rows = 0u64;
    atomic::with_writer(path, |w| {
        let mut writer = ArrowWriter::try_new(w, postings_schema(), Some(writer_props()))
            .map_err(io::Error::other)?;
        let mut sink = |b: RecordBatch| writer.write(&b).map_err(io::Error::other);
        rows = fill(&mut sink)?;
        writer.close().map_err(io::Error::other)?;
        Ok(())
    })
    .map_err(|e| IngestError::io(path, e))?;
    Ok(rows)
}

fn index_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("posting_id", DataType::Utf8, false),
        Field::new("exact_key", DataType::Utf8, false),
        Field::new("company_key", DataType::UInt64, false),
        Field::new("norm_title", DataType::Utf8, false),
        Field::new("anchor", DataType::Date32, false),
        Field::new("first_seen", DataType::Date32, false),
        Field::new("last_seen", DataType::Date32, false),
        Field::new("duplicates", DataType::UInt32, false),
        Field::new("signature", DataType::Binary, true),
    ]))
}

/// Persist the dedup index of one month (rows in posting-id order, written in batches).
pub fn write_index(path: &Path, month: &MonthIndex) -> Result<(), IngestError> {
    write_index_parts(path, &[], month)
}

/// Persist the dedup index of one month from the parts earlier de-duplication passes wrote
/// (with [`write_index`]), in pass order, then `last` (the last pass's share).
pub fn write_index_parts(
    path: &Path,
    parts: &[PathBuf],
    last: &MonthIndex,
) -> Result<(), IngestError> {
    let order = last.order_by_id();
    atomic::with_writer(path, |w| {
        let mut writer = ArrowWriter::try_new(w, index_schema(), Some(writer_props()))
            .map_err(io::Error::other)?;
        for_each_batch(parts, |p, b| {
            writer.write(&b).map_err(|e| IngestError::parquet(p, e))
        })
        .map_err(|e| io::Error::other(e.to_string()))?;
        for chunk in order.chunks(8192) {
            let states: Vec<KeptState> = chunk
                .iter()
                .filter_map(|i| last.state(*i as usize))
                .collect();
            let batch = index_batch(&states).map_err(io::Error::other)?;
            writer.write(&batch).map_err(io::Error::other)?;
        }
        writer.close().map_err(io::Error::other)?;
        Ok(())
    })
    .map_err(|e| IngestError::io(path, e))
}

fn index_batch(states: &[KeptState]) -> Result<RecordBatch, arrow::error::ArrowError> {
    let mut id = StringBuilder::new();
    let mut ek = StringBuilder::new();
    let mut ck = UInt64Builder::new();
    let mut nt = StringBuilder::new();
    let mut an = Date32Builder::new();
    let mut fs_ = Date32Builder::new();
    let mut ls = Date32Builder::new();
    let mut du = UInt32Builder::new();
    let mut sg = BinaryBuilder::new();
    for s in states {
        id.append_value(dedup::id_hex(s.posting_id));
        ek.append_value(dedup::id_hex(s.exact_key));
        ck.append_value(s.company_key);
        nt.append_value(&s.norm_title);
        an.append_value(s.anchor);
        fs_.append_value(s.first_seen);
        ls.append_value(s.last_seen);
        du.append_value(s.duplicates);
        match &s.signature {
            Some(sig) => sg.append_value(minhash::to_bytes(sig)),
            None => sg.append_null(),
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(ek.finish()),
        Arc::new(ck.finish()),
        Arc::new(nt.finish()),
        Arc::new(an.finish()),
        Arc::new(fs_.finish()),
        Arc::new(ls.finish()),
        Arc::new(du.finish()),
        Arc::new(sg.finish()),
    ];
    RecordBatch::try_new(index_schema(), columns)
}

/// Load the entries of a month's dedup index whose company key `keep` accepts (a
/// de-duplication pass loads only its key shards); rebuilt from the postings when the index
/// file is missing.
pub fn load_index(
    root: &Path,
    k: MonthKey,
    keep: impl Fn(u64) -> bool,
) -> Result<Vec<KeptState>, IngestError> {
    let path = index_file(root, k);
    let mut out = Vec::new();
    if path.exists() {
        for_each_batch(std::slice::from_ref(&path), |p, b| {
            let id: &StringArray = col(&b, "posting_id", p)?;
            let ek: &StringArray = col(&b, "exact_key", p)?;
            let ck: &UInt64Array = col(&b, "company_key", p)?;
            let nt: &StringArray = col(&b, "norm_title", p)?;
            let an: &Date32Array = col(&b, "anchor", p)?;
            let fs_: &Date32Array = col(&b, "first_seen", p)?;
            let ls: &Date32Array = col(&b, "last_seen", p)?;
            let du: &UInt32Array = col(&b, "duplicates", p)?;
            let sg: &BinaryArray = col(&b, "signature", p)?;
            for i in 0..b.num_rows() {
                if !keep(ck.value(i)) {
                    continue;
                }
                out.push(KeptState {
                    posting_id: dedup::parse_id(id.value(i)),
                    exact_key: dedup::parse_id(ek.value(i)),
                    company_key: ck.value(i),
                    norm_title: nt.value(i).to_string(),
                    anchor: an.value(i),
                    first_seen: fs_.value(i),
                    last_seen: ls.value(i),
                    duplicates: du.value(i),
                    signature: if sg.is_null(i) {
                        None
                    } else {
                        minhash::from_bytes(sg.value(i)).map(Box::new)
                    },
                    existing: true,
                    changed: false,
                    arrival: u32::MAX,
                });
            }
            Ok(())
        })?;
        return Ok(out);
    }
    // No index (older dataset, or deleted): rebuild it from the postings themselves.
    let files = DatasetDir::parquet_files(&month_dir(root, k))
        .map_err(|e| IngestError::io(&month_dir(root, k), e))?;
    for_each_batch(&files, |p, b| {
        let id: &StringArray = col(&b, cols::POSTING_ID, p)?;
        let company: &StringArray = col(&b, cols::COMPANY, p)?;
        let title: &StringArray = col(&b, cols::TITLE, p)?;
        let location: &StringArray = col(&b, cols::LOCATION, p)?;
        let desc: &StringArray = col(&b, cols::DESCRIPTION, p)?;
        let posted: &Date32Array = col(&b, cols::POSTED_DATE, p)?;
        let fs_: &Date32Array = col(&b, cols::FIRST_SEEN, p)?;
        let ls: &Date32Array = col(&b, cols::LAST_SEEN, p)?;
        let du: &UInt32Array = col(&b, cols::DUPLICATES, p)?;
        let opt =
            |a: &StringArray, i: usize| if a.is_null(i) { "" } else { a.value(i) }.to_string();
        for i in 0..b.num_rows() {
            let company_key = dedup::company_key(company.is_valid(i).then(|| company.value(i)));
            if !keep(company_key) {
                continue;
            }
            let (c, t, l, d) = (
                opt(company, i),
                title.value(i).to_string(),
                opt(location, i),
                opt(desc, i),
            );
            let exact = content_hash(&[
                &normalize_text(&c),
                &normalize_title(&t),
                &normalize_text(&l),
                &normalize_text(&d),
            ]);
            out.push(KeptState {
                posting_id: dedup::parse_id(id.value(i)),
                exact_key: dedup::parse_id(&exact),
                company_key,
                norm_title: normalize_title(&t),
                anchor: posted.value(i),
                first_seen: fs_.value(i),
                last_seen: ls.value(i),
                duplicates: du.value(i),
                signature: minhash::signature(&d).map(Box::new),
                existing: true,
                changed: false,
                arrival: u32::MAX,
            });
        }
        Ok(())
    })?;
    Ok(out)
}

/// Rows of a Parquet file, from its footer.
pub fn parquet_rows(path: &Path) -> Result<u64, IngestError> {
    let file = fs::File::open(path).map_err(|e| IngestError::io(path, e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| IngestError::parquet(path, e))?;
    Ok(b.metadata().file_metadata().num_rows().max(0) as u64)
}
