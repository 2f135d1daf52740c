//! Record readers: each input format becomes a stream of [`ReadItem`]s — a record with its
//! 1-based record number, starting line and named fields, or a record already known to be bad
//! (ragged row, invalid JSON, over the size limit) with the reason and the raw text.
//!
//! Readers stream with bounded memory: CSV/TSV one record at a time with a cap on a record's
//! bytes (see [`crate::csv_records`]),
//! JSON Lines one line at a time (a line over the record limit is skipped without being held),
//! JSON arrays one element at a time (see [`JsonArrayReader`]), Parquet one batch at a time.
//! Only an I/O failure (unreadable file, corrupt compression) is an error; bad content never is.

use crate::csv_records::{BoundedCsv, CsvRecord};
use crate::formats::{self, Compression, Format};
use serde_json::Value;
use std::fmt;
use std::io::{self, BufRead};
use std::path::Path;

/// Why a record was rejected. `key()` is the bucket in `rejected_by_reason`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reject {
    WrongFieldCount {
        expected: usize,
        got: usize,
    },
    UnterminatedQuote,
    InvalidJson(String),
    NotAnObject(&'static str),
    FieldTooLarge {
        field: String,
        bytes: usize,
        limit: usize,
    },
    RecordTooLarge {
        bytes: usize,
        limit: usize,
    },
    TrailingData,
    MissingTitle,
    MissingDate,
    UnparseableDate {
        column: String,
        value: String,
    },
    DateOutOfRange {
        column: String,
        value: String,
    },
    BinaryData {
        field: String,
    },
    /// The file could not be read past this point (truncated or corrupt); what came before it
    /// is kept.
    TruncatedInput {
        message: String,
    },
}

impl Reject {
    pub fn key(&self) -> &'static str {
        match self {
            Reject::WrongFieldCount { .. } => "wrong_field_count",
            Reject::UnterminatedQuote => "unterminated_quote",
            Reject::InvalidJson(_) => "invalid_json",
            Reject::NotAnObject(_) => "not_a_json_object",
            Reject::FieldTooLarge { .. } => "field_over_size_limit",
            Reject::RecordTooLarge { .. } => "record_over_size_limit",
            Reject::TrailingData => "trailing_data_after_json_array",
            Reject::MissingTitle => "missing_title",
            Reject::MissingDate => "missing_date",
            Reject::UnparseableDate { .. } => "unparseable_date",
            Reject::DateOutOfRange { .. } => "date_out_of_range",
            Reject::BinaryData { .. } => "binary_data",
            Reject::TruncatedInput { .. } => "truncated_input",
        }
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reject::WrongFieldCount { expected, got } => {
                write!(f, "row has {got} fields, the header has {expected}")
            }
            Reject::UnterminatedQuote => write!(
                f,
                "unterminated quote: the last record's quoted field runs to the end of the file (file truncated?)"
            ),
            Reject::InvalidJson(e) => write!(f, "invalid JSON: {e}"),
            Reject::NotAnObject(kind) => write!(f, "JSON record is {kind}, not an object"),
            Reject::FieldTooLarge { field, bytes, limit } => {
                write!(f, "field `{field}` is {bytes} bytes, over the limit of {limit}")
            }
            Reject::RecordTooLarge { bytes, limit } => {
                write!(f, "record is at least {bytes} bytes, over the limit of {limit}")
            }
            Reject::TrailingData => write!(f, "data after the end of the JSON array"),
            Reject::MissingTitle => write!(f, "missing title (no non-empty title column; use --map title=COLUMN)"),
            Reject::MissingDate => write!(f, "missing date (no non-empty date column; use --map date=COLUMN)"),
            Reject::UnparseableDate { column, value } => {
                write!(f, "unparseable date {value:?} in column `{column}`")
            }
            Reject::DateOutOfRange { column, value } => {
                write!(f, "date {value:?} in column `{column}` is outside 1970..2100")
            }
            Reject::BinaryData { field } => write!(f, "field `{field}` holds binary data, not text"),
            Reject::TruncatedInput { message } => write!(
                f,
                "the file cannot be read past this point ({message}); the records before it are \
                 kept, the rest of the file is lost: fix or re-download the file and ingest it again"
            ),
        }
    }
}

/// One input record with named fields.
#[derive(Debug, Clone)]
pub struct RawRecord {
    /// 1-based record number within the file (data rows / lines / array elements).
    pub number: u64,
    /// 1-based line where the record starts (text formats), else the record number.
    pub line: u64,
    pub fields: Vec<(String, Value)>,
    /// The record's raw text when the format has one (JSON); CSV rows are re-joined on demand.
    pub raw: Option<String>,
    /// Bytes that were not UTF-8 were read as Latin-1.
    pub lossy_utf8: bool,
}

/// A record the reader already knows is bad.
#[derive(Debug, Clone)]
pub struct BadRecord {
    pub number: u64,
    pub line: u64,
    pub reason: Reject,
    pub raw: String,
    pub lossy_utf8: bool,
}

#[derive(Debug, Clone)]
pub enum ReadItem {
    Record(RawRecord),
    Bad(BadRecord),
}

/// A stream of records from one file.
pub trait RecordReader: Send {
    /// The next record, `Ok(None)` at the end, `Err` only when the file itself cannot be read.
    fn next_item(&mut self) -> io::Result<Option<ReadItem>>;
    /// Notes about the file found while reading (renamed duplicate headers, empty file...).
    fn notes(&self) -> Vec<String>;
    /// Bytes of the (possibly compressed) file consumed so far.
    fn bytes_read(&self) -> u64;
}

/// Limits every reader enforces.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_field_bytes: usize,
    pub max_record_bytes: usize,
}

/// Cap a raw text kept for the rejects file.
pub fn cap_raw(s: &str, limit: usize) -> String {
    if s.len() <= limit {
        return s.to_string();
    }
    let mut end = limit;
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[truncated, {} bytes in total]", &s[..end], s.len())
}

/// Open the right reader for `path`.
pub fn open(path: &Path, format: Format, limits: Limits) -> io::Result<Box<dyn RecordReader>> {
    let (_, compression) = formats::detect(path);
    match format {
        Format::Csv => Ok(Box::new(CsvReader::new(
            path,
            compression,
            b',',
            true,
            limits,
        )?)),
        Format::Tsv => Ok(Box::new(CsvReader::new(
            path,
            compression,
            b'\t',
            true,
            limits,
        )?)),
        Format::Jsonl => Ok(Box::new(JsonLinesReader::new(path, compression, limits)?)),
        Format::Json => Ok(Box::new(JsonArrayReader::new(path, compression, limits)?)),
        Format::Parquet => {
            if compression != Compression::None {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "Parquet files compress internally; decompress the outer .gz/.zst first",
                ));
            }
            Ok(Box::new(ParquetReader::new(path)?))
        }
    }
}

/// Text of a field: UTF-8 as is; bytes that are not UTF-8 are read as Latin-1 (ISO-8859-1, one
/// byte one character), the encoding of most non-UTF-8 postings exports, so "Caf\xe9" reads
/// "Café" instead of "Caf\u{fffd}" (which short fields then failed as binary). Binary data stays
/// binary: its control bytes are still caught by the binary check. Returns (text, repaired).
fn lossy(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), false),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + bytes.len() / 4);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                out.extend(chunk.invalid().iter().map(|&b| char::from(b)));
            }
            (out, true)
        }
    }
}

/// Header names as given, BOM stripped, blanks named `column_N`, repeats renamed `name_2`, ...
pub fn clean_headers(raw: Vec<String>, notes: &mut Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, h) in raw.into_iter().enumerate() {
        let mut h = h.trim_start_matches('\u{feff}').trim().to_string();
        if h.is_empty() {
            h = format!("column_{}", i + 1);
        }
        if out.iter().any(|o| o == &h) {
            let mut k = 2;
            while out.iter().any(|o| *o == format!("{h}_{k}")) {
                k += 1;
            }
            let renamed = format!("{h}_{k}");
            notes.push(format!(
                "duplicate column name `{h}` (column {}) renamed to `{renamed}`; the first `{h}` is used",
                i + 1
            ));
            h = renamed;
        }
        out.push(h);
    }
    out
}

/// Join fields back into one delimited line (for the rejects file).
pub fn join_delimited(fields: &[String], delimiter: u8) -> String {
    let d = delimiter as char;
    let mut s = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            s.push(d);
        }
        if f.contains(d) || f.contains('"') || f.contains('\n') || f.contains('\r') {
            s.push('"');
            s.push_str(&f.replace('"', "\"\""));
            s.push('"');
        } else {
            s.push_str(f);
        }
    }
    s
}

/// CSV and TSV, both with RFC 4180 quoting (a field *starting* with `"` is quoted, as pandas and
/// spreadsheet exports write TSV; a `"` inside an unquoted field is an ordinary character).
/// Records are read through [`BoundedCsv`], so one record never holds more than
/// `max_record_bytes` in memory: a longer one is rejected as `record_over_size_limit`.
pub struct CsvReader {
    rdr: BoundedCsv<io::BufReader<QuoteCounter>>,
    headers: Vec<String>,
    record: CsvRecord,
    lookahead: Option<CsvRecord>,
    quoting: bool,
    quotes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    number: u64,
    delimiter: u8,
    limits: Limits,
    notes: Vec<String>,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl CsvReader {
    pub fn new(
        path: &Path,
        compression: Compression,
        delimiter: u8,
        quoting: bool,
        limits: Limits,
    ) -> io::Result<Self> {
        let (inner, count) = formats::open_text(path, compression)?;
        let quotes = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut rdr = BoundedCsv::new(
            io::BufReader::with_capacity(
                64 << 10,
                QuoteCounter {
                    inner,
                    quotes: quotes.clone(),
                },
            ),
            delimiter,
            quoting,
            limits.max_record_bytes,
        );
        let mut notes = Vec::new();
        let mut first = CsvRecord::default();
        let headers = if rdr.read(&mut first)? {
            if let Some(bytes) = first.oversized {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the header row is {bytes} bytes, over the {}-byte record limit: \
                         this is not a delimited text file, or its first line is broken",
                        limits.max_record_bytes
                    ),
                ));
            }
            let mut lossy_any = false;
            let raw: Vec<String> = first
                .iter()
                .map(|b| {
                    let (s, l) = lossy(b);
                    lossy_any |= l;
                    s
                })
                .collect();
            if lossy_any {
                notes.push("header row had invalid UTF-8 (replaced)".to_string());
            }
            clean_headers(raw, &mut notes)
        } else {
            notes.push("empty file: no header, no records".to_string());
            Vec::new()
        };
        Ok(Self {
            rdr,
            headers,
            record: CsvRecord::default(),
            lookahead: None,
            quoting,
            quotes,
            number: 0,
            delimiter,
            limits,
            notes,
            count,
        })
    }
}

/// Counts `"` bytes flowing into the CSV parser: an odd count at the end of the file means the
/// last quoted field was never closed (the parser silently runs such a field to EOF).
pub struct QuoteCounter {
    inner: Box<dyn BufRead + Send>,
    quotes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl io::Read for QuoteCounter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let q = buf[..n].iter().filter(|b| **b == b'"').count() as u64;
        self.quotes
            .fetch_add(q, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

impl CsvReader {
    /// The next record that is not a blank line.
    fn fetch(&mut self) -> io::Result<Option<CsvRecord>> {
        loop {
            if !self.rdr.read(&mut self.record)? {
                return Ok(None);
            }
            let rec = &self.record;
            // A line holding nothing at all (e.g. trailing blank lines) is not a record.
            if rec.oversized.is_none()
                && rec.len() == 1
                && rec
                    .iter()
                    .all(|f| f.iter().all(|b| b.is_ascii_whitespace()))
                && self.headers.len() > 1
            {
                continue;
            }
            return Ok(Some(self.record.clone()));
        }
    }
}

impl RecordReader for CsvReader {
    fn next_item(&mut self) -> io::Result<Option<ReadItem>> {
        {
            if self.headers.is_empty() {
                return Ok(None);
            }
            let rec = match self.lookahead.take() {
                Some(r) => r,
                None => match self.fetch()? {
                    Some(r) => r,
                    None => return Ok(None),
                },
            };
            self.lookahead = self.fetch()?;
            let unterminated = self.lookahead.is_none()
                && self.quoting
                && self.quotes.load(std::sync::atomic::Ordering::Relaxed) % 2 == 1
                && rec.iter().any(|f| f.contains(&b'\n'));
            let rec = &rec;
            self.number += 1;
            let line = rec.line;
            if let Some(bytes) = rec.oversized {
                return Ok(Some(ReadItem::Bad(BadRecord {
                    number: self.number,
                    line,
                    reason: Reject::RecordTooLarge {
                        bytes,
                        limit: self.limits.max_record_bytes,
                    },
                    raw: format!(
                        "[not kept: {bytes} bytes, over the {}-byte record limit]",
                        self.limits.max_record_bytes
                    ),
                    lossy_utf8: false,
                })));
            }
            let mut lossy_any = false;
            let mut values = Vec::with_capacity(rec.len());
            let mut too_large: Option<(usize, usize)> = None;
            for (i, b) in rec.iter().enumerate() {
                if b.len() > self.limits.max_field_bytes && too_large.is_none() {
                    too_large = Some((i, b.len()));
                }
                let (s, l) = if b.len() > self.limits.max_field_bytes {
                    lossy(&b[..self.limits.max_field_bytes.min(b.len())])
                } else {
                    lossy(b)
                };
                lossy_any |= l;
                values.push(s);
            }
            let raw_line = || {
                cap_raw(
                    &join_delimited(&values, self.delimiter),
                    self.limits.max_field_bytes,
                )
            };
            if unterminated {
                return Ok(Some(ReadItem::Bad(BadRecord {
                    number: self.number,
                    line,
                    reason: Reject::UnterminatedQuote,
                    raw: raw_line(),
                    lossy_utf8: lossy_any,
                })));
            }
            if let Some((i, bytes)) = too_large {
                let field = self
                    .headers
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("column_{}", i + 1));
                return Ok(Some(ReadItem::Bad(BadRecord {
                    number: self.number,
                    line,
                    reason: Reject::FieldTooLarge {
                        field,
                        bytes,
                        limit: self.limits.max_field_bytes,
                    },
                    raw: raw_line(),
                    lossy_utf8: lossy_any,
                })));
            }
            if values.len() != self.headers.len() {
                return Ok(Some(ReadItem::Bad(BadRecord {
                    number: self.number,
                    line,
                    reason: Reject::WrongFieldCount {
                        expected: self.headers.len(),
                        got: values.len(),
                    },
                    raw: raw_line(),
                    lossy_utf8: lossy_any,
                })));
            }
            let fields = self
                .headers
                .iter()
                .cloned()
                .zip(values.into_iter().map(Value::String))
                .collect();
            Ok(Some(ReadItem::Record(RawRecord {
                number: self.number,
                line,
                fields,
                raw: None,
                lossy_utf8: lossy_any,
            })))
        }
    }
    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
    fn bytes_read(&self) -> u64 {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Turn one parsed JSON value into a record or a bad record.
fn json_item(number: u64, line: u64, text: &str, lossy_utf8: bool, limits: Limits) -> ReadItem {
    let bad = |reason| {
        ReadItem::Bad(BadRecord {
            number,
            line,
            reason,
            raw: cap_raw(text, limits.max_field_bytes),
            lossy_utf8,
        })
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => {
            for (k, v) in &map {
                let len = match v {
                    Value::String(s) => s.len(),
                    Value::Array(_) | Value::Object(_) => v.to_string().len(),
                    _ => 0,
                };
                if len > limits.max_field_bytes {
                    return bad(Reject::FieldTooLarge {
                        field: k.clone(),
                        bytes: len,
                        limit: limits.max_field_bytes,
                    });
                }
            }
            ReadItem::Record(RawRecord {
                number,
                line,
                fields: map.into_iter().collect(),
                raw: Some(cap_raw(text, limits.max_field_bytes)),
                lossy_utf8,
            })
        }
        Ok(other) => bad(Reject::NotAnObject(match other {
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
            Value::Object(_) => "an object",
        })),
        Err(e) => bad(Reject::InvalidJson(e.to_string())),
    }
}

/// JSON Lines: one object per line; blank lines are skipped; a line over the record limit is
/// consumed without being held in memory and rejected.
pub struct JsonLinesReader {
    inner: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    number: u64,
    line: u64,
    limits: Limits,
    notes: Vec<String>,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl JsonLinesReader {
    pub fn new(path: &Path, compression: Compression, limits: Limits) -> io::Result<Self> {
        let (inner, count) = formats::open_text(path, compression)?;
        Ok(Self {
            inner,
            buf: Vec::new(),
            number: 0,
            line: 0,
            limits,
            notes: Vec::new(),
            count,
        })
    }

    /// Read one line into `self.buf` (without the newline), holding at most the record limit.
    /// Returns (found a line, total length of the line).
    fn read_line_bounded(&mut self) -> io::Result<(bool, usize)> {
        self.buf.clear();
        let mut total = 0usize;
        let mut any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Ok((any, total));
            }
            any = true;
            let (chunk, done) = match memchr_newline(available) {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            total += chunk.len();
            if self.buf.len() + chunk.len() <= self.limits.max_record_bytes {
                self.buf.extend_from_slice(chunk);
            }
            let consumed = done.unwrap_or(chunk.len());
            self.inner.consume(consumed);
            if done.is_some() {
                return Ok((true, total));
            }
        }
    }
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

impl RecordReader for JsonLinesReader {
    fn next_item(&mut self) -> io::Result<Option<ReadItem>> {
        loop {
            let (found, total) = self.read_line_bounded()?;
            if !found {
                if self.line == 0 {
                    self.notes.push("empty file: no records".to_string());
                }
                return Ok(None);
            }
            self.line += 1;
            let mut bytes: &[u8] = &self.buf;
            if self.line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            if total > self.limits.max_record_bytes {
                self.number += 1;
                let (text, l) =
                    lossy(&bytes[..bytes.len().min(4096).min(self.limits.max_field_bytes)]);
                return Ok(Some(ReadItem::Bad(BadRecord {
                    number: self.number,
                    line: self.line,
                    reason: Reject::RecordTooLarge {
                        bytes: total,
                        limit: self.limits.max_record_bytes,
                    },
                    raw: format!("{text}…[truncated, {total} bytes in total]"),
                    lossy_utf8: l,
                })));
            }
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            self.number += 1;
            let (text, l) = lossy(bytes);
            let text = text.trim_end_matches('\r');
            let item = json_item(self.number, self.line, text, l, self.limits);
            return Ok(Some(item));
        }
    }
    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
    fn bytes_read(&self) -> u64 {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A JSON array of objects, read one element at a time.
///
/// Hand-written instead of `serde_json::StreamDeserializer` (which does not descend into an
/// array) or a streaming `SeqAccess` visitor (which stops at the first syntax error): this small
/// scanner splits the top-level array into element texts by tracking strings, escapes and
/// nesting depth, so every element is parsed on its own — a broken element is rejected with its
/// raw text and reading resumes at the next one — and an element over the record limit is
/// skipped without being held in memory. A file that is not an array (concatenated objects) is
/// read as a sequence of top-level values.
pub struct JsonArrayReader {
    inner: Box<dyn BufRead + Send>,
    started: bool,
    in_array: bool,
    finished: bool,
    number: u64,
    line: u64,
    limits: Limits,
    notes: Vec<String>,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl JsonArrayReader {
    pub fn new(path: &Path, compression: Compression, limits: Limits) -> io::Result<Self> {
        let (inner, count) = formats::open_text(path, compression)?;
        Ok(Self {
            inner,
            started: false,
            in_array: false,
            finished: false,
            number: 0,
            line: 1,
            limits,
            notes: Vec::new(),
            count,
        })
    }

    fn peek_byte(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.inner.fill_buf() {
                Ok(b) => return Ok(b.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn bump(&mut self) {
        self.inner.consume(1);
    }

    /// Skip whitespace, a BOM and (between elements) commas.
    fn skip_separators(&mut self, commas: bool) -> io::Result<()> {
        while let Some(b) = self.peek_byte()? {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.bump();
                }
                b' ' | b'\t' | b'\r' | 0xEF | 0xBB | 0xBF => self.bump(),
                b',' if commas => self.bump(),
                _ => break,
            }
        }
        Ok(())
    }

    /// At the first call: skips a BOM and whitespace and opens the array (`[`), or notes that
    /// the file is empty or not an array. False when there is nothing to read.
    fn start(&mut self) -> io::Result<bool> {
        if !self.started {
            self.started = true;
            self.skip_separators(false)?;
            match self.peek_byte()? {
                None => {
                    self.notes.push("empty file: no records".to_string());
                    self.finished = true;
                    return Ok(false);
                }
                Some(b'[') => {
                    self.bump();
                    self.in_array = true;
                }
                Some(_) => self.notes.push(
                    "not a JSON array: read as a sequence of top-level JSON values".to_string(),
                ),
            }
        }
        Ok(true)
    }

    /// After the closing `]`: anything but whitespace is trailing data, one rejected record.
    fn after_array(&mut self, start_line: u64) -> io::Result<Option<ReadItem>> {
        self.skip_separators(false)?;
        if self.peek_byte()?.is_some() {
            let mut rest = Vec::new();
            let mut total = 0usize;
            loop {
                let chunk = self.inner.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                let n = chunk.len();
                let cap = 4096.min(self.limits.max_field_bytes);
                if rest.len() < cap {
                    rest.extend_from_slice(&chunk[..n.min(cap - rest.len())]);
                }
                total += n;
                self.inner.consume(n);
            }
            self.finished = true;
            self.number += 1;
            let (text, l) = lossy(&rest);
            return Ok(Some(ReadItem::Bad(BadRecord {
                number: self.number,
                line: start_line,
                reason: Reject::TrailingData,
                raw: if total > rest.len() {
                    format!("{text}…[truncated, {total} bytes]")
                } else {
                    text
                },
                lossy_utf8: l,
            })));
        }
        self.finished = true;
        Ok(None)
    }

    /// Scans one element: until a ',' or ']' at depth 0 outside strings, or EOF. Returns its
    /// bytes (kept only up to the record limit), its full length, and whether EOF ended it.
    fn scan_element(&mut self) -> io::Result<(Vec<u8>, usize, bool)> {
        let mut buf: Vec<u8> = Vec::new();
        let mut total = 0usize;
        let mut depth: i64 = 0;
        let mut in_string = false;
        let mut escape = false;
        let mut ended_at_eof = false;
        'scan: loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                ended_at_eof = true;
                break;
            }
            let mut used = 0usize;
            let mut stop = false;
            for &c in chunk {
                if !in_string && depth <= 0 && (c == b',' || (c == b']' && self.in_array)) {
                    stop = true;
                    break;
                }
                // Outside an array, top-level values end after their closing bracket.
                used += 1;
                if c == b'\n' {
                    self.line += 1;
                }
                if in_string {
                    if escape {
                        escape = false;
                    } else if c == b'\\' {
                        escape = true;
                    } else if c == b'"' {
                        in_string = false;
                    }
                } else {
                    match c {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                }
                if !self.in_array && depth == 0 && !in_string && (c == b'}' || c == b']') {
                    // end of a top-level value in a non-array file
                    if buf.len() + used <= self.limits.max_record_bytes {
                        buf.extend_from_slice(&chunk[..used]);
                    }
                    total += used;
                    self.inner.consume(used);
                    break 'scan;
                }
            }
            if buf.len() + used <= self.limits.max_record_bytes {
                buf.extend_from_slice(&chunk[..used]);
            }
            total += used;
            self.inner.consume(used);
            if stop {
                break;
            }
        }
        Ok((buf, total, ended_at_eof))
    }
}

impl RecordReader for JsonArrayReader {
    fn next_item(&mut self) -> io::Result<Option<ReadItem>> {
        if self.finished || !self.start()? {
            return Ok(None);
        }
        self.skip_separators(true)?;
        let start_line = self.line;
        let first = match self.peek_byte()? {
            None => {
                self.finished = true;
                if self.in_array {
                    // The array was never closed: the file is truncated. Nothing more to read.
                    self.notes
                        .push("JSON array not closed with `]` (file truncated?)".to_string());
                }
                return Ok(None);
            }
            Some(b) => b,
        };
        if self.in_array && first == b']' {
            self.bump();
            self.in_array = false;
            return self.after_array(start_line);
        }
        let (buf, total, ended_at_eof) = self.scan_element()?;
        self.number += 1;
        if total > self.limits.max_record_bytes {
            let (text, l) = lossy(&buf[..buf.len().min(4096).min(self.limits.max_field_bytes)]);
            return Ok(Some(ReadItem::Bad(BadRecord {
                number: self.number,
                line: start_line,
                reason: Reject::RecordTooLarge {
                    bytes: total,
                    limit: self.limits.max_record_bytes,
                },
                raw: format!("{text}…[truncated, {total} bytes in total]"),
                lossy_utf8: l,
            })));
        }
        let (text, l) = lossy(&buf);
        let text = text.trim();
        if ended_at_eof && self.in_array {
            self.finished = true;
            self.notes
                .push("JSON array not closed with `]` (file truncated?)".to_string());
            if text.is_empty() {
                self.number -= 1;
                return Ok(None);
            }
        }
        let item = json_item(self.number, start_line, text, l, self.limits);
        Ok(Some(item))
    }
    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
    fn bytes_read(&self) -> u64 {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Parquet, one record batch at a time; every column is rendered as text (nested values as
/// JSON-like text), nulls become JSON null.
pub struct ParquetReader {
    reader: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    batch: Option<arrow::record_batch::RecordBatch>,
    row: usize,
    number: u64,
    bytes: u64,
    read_fraction_rows: u64,
    total_rows: u64,
}

impl ParquetReader {
    pub fn new(path: &Path) -> io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let bytes = file.metadata()?.len();
        let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        let total_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let reader = builder
            .with_batch_size(4096)
            .build()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(Self {
            reader,
            batch: None,
            row: 0,
            number: 0,
            bytes,
            read_fraction_rows: 0,
            total_rows,
        })
    }
}

impl RecordReader for ParquetReader {
    fn next_item(&mut self) -> io::Result<Option<ReadItem>> {
        use arrow::util::display::{ArrayFormatter, FormatOptions};
        loop {
            if let Some(b) = &self.batch {
                if self.row < b.num_rows() {
                    let i = self.row;
                    self.row += 1;
                    self.number += 1;
                    self.read_fraction_rows += 1;
                    let opts = FormatOptions::default();
                    let mut fields = Vec::with_capacity(b.num_columns());
                    for (f, col) in b.schema().fields().iter().zip(b.columns()) {
                        let v = if col.is_null(i) {
                            Value::Null
                        } else {
                            let fmt =
                                ArrayFormatter::try_new(col.as_ref(), &opts).map_err(|e| {
                                    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
                                })?;
                            Value::String(fmt.value(i).to_string())
                        };
                        fields.push((f.name().clone(), v));
                    }
                    return Ok(Some(ReadItem::Record(RawRecord {
                        number: self.number,
                        line: self.number,
                        fields,
                        raw: None,
                        lossy_utf8: false,
                    })));
                }
            }
            match self.reader.next() {
                None => return Ok(None),
                Some(Ok(b)) => {
                    self.batch = Some(b);
                    self.row = 0;
                }
                Some(Err(e)) => {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
                }
            }
        }
    }
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
    fn bytes_read(&self) -> u64 {
        if self.total_rows == 0 {
            return self.bytes;
        }
        self.bytes * self.read_fraction_rows / self.total_rows
    }
}
