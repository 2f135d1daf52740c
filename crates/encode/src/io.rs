//! Reading texts and writing vectors, for `jobshift embed` and anyone exchanging embeddings.
//!
//! Input: one text per line, or JSONL with a string field `text` (chosen by extension
//! `.jsonl`/`.ndjson`/`.json`, or explicitly). Every record yields one output row, in input
//! order: an empty line is an (empty) text, never skipped; a malformed JSONL record is an error
//! naming its line.
//!
//! Output by extension: `.jsonl` (one JSON array of floats per line), `.npy` (little-endian f32,
//! shape (n, dim)), `.parquet` (columns `row` u64 and `embedding` fixed-size list of f32).
//! Outputs are streamed chunk by chunk into a temporary file beside the destination and renamed
//! into place at the end, so memory stays bounded and a failed run leaves no partial file.

use crate::error::EncodeError;
use crate::{Embeddings, Encoder};
use arrow::array::{ArrayRef, FixedSizeListArray, Float32Array, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How input lines are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// Each line is a text.
    Lines,
    /// Each line is a JSON object with a string field `text`.
    Jsonl,
}

impl InputFormat {
    pub fn from_path(path: &Path) -> InputFormat {
        match ext(path).as_str() {
            "jsonl" | "ndjson" | "json" => InputFormat::Jsonl,
            _ => InputFormat::Lines,
        }
    }
}

/// Output file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl,
    Npy,
    Parquet,
}

impl OutputFormat {
    pub fn from_path(path: &Path) -> Result<OutputFormat, EncodeError> {
        match ext(path).as_str() {
            "jsonl" | "ndjson" => Ok(OutputFormat::Jsonl),
            "npy" => Ok(OutputFormat::Npy),
            "parquet" => Ok(OutputFormat::Parquet),
            other => Err(EncodeError::Other(format!(
                "{}: unknown output extension {other:?}; use .jsonl, .npy or .parquet",
                path.display()
            ))),
        }
    }
}

fn ext(path: &Path) -> String {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Streams texts from a file in chunks.
pub(crate) struct TextReader {
    path: PathBuf,
    format: InputFormat,
    lines: std::io::Lines<BufReader<File>>,
    line_no: usize,
}

#[derive(serde::Deserialize)]
struct TextRecord {
    text: String,
}

impl TextReader {
    pub fn open(path: &Path, format: InputFormat) -> Result<TextReader, EncodeError> {
        let f = File::open(path).map_err(|e| EncodeError::io(path, e))?;
        Ok(TextReader {
            path: path.to_path_buf(),
            format,
            lines: BufReader::with_capacity(1 << 20, f).lines(),
            line_no: 0,
        })
    }

    /// Up to `max` next texts (empty when the file is exhausted).
    pub fn next_chunk(&mut self, max: usize) -> Result<Vec<String>, EncodeError> {
        let mut out = Vec::with_capacity(max.min(1 << 16));
        while out.len() < max {
            let Some(line) = self.lines.next() else { break };
            self.line_no += 1;
            let mut line = line.map_err(|e| EncodeError::Input {
                path: self.path.clone(),
                line: self.line_no,
                detail: format!("cannot read line ({e}); input must be UTF-8"),
            })?;
            if line.ends_with('\r') {
                line.pop();
            }
            match self.format {
                InputFormat::Lines => out.push(line),
                InputFormat::Jsonl => {
                    let rec: TextRecord =
                        serde_json::from_str(&line).map_err(|e| EncodeError::Input {
                            path: self.path.clone(),
                            line: self.line_no,
                            detail: format!(
                                "expected a JSON object with a string field \"text\" ({e})"
                            ),
                        })?;
                    out.push(rec.text);
                }
            }
        }
        Ok(out)
    }
}

/// Number of records (lines) in a file.
pub(crate) fn count_records(path: &Path) -> Result<u64, EncodeError> {
    let f = File::open(path).map_err(|e| EncodeError::io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let (mut n, mut last) = (0u64, b'\n');
    loop {
        let buf = r.fill_buf().map_err(|e| EncodeError::io(path, e))?;
        if buf.is_empty() {
            break;
        }
        n += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[buf.len() - 1];
        let len = buf.len();
        r.consume(len);
    }
    if last != b'\n' {
        n += 1;
    }
    Ok(n)
}

/// Writes embeddings in input order; `finish` publishes the file atomically.
pub(crate) struct EmbeddingWriter {
    path: PathBuf,
    dim: usize,
    rows: u64,
    tmp: tempfile::NamedTempFile,
    sink: Sink,
}

enum Sink {
    Jsonl(BufWriter<File>),
    Npy(BufWriter<File>),
    Parquet(Box<parquet::arrow::ArrowWriter<File>>, SchemaRef),
}

/// NPY header length we reserve (v1.0, padded), large enough for any (n, dim) shape.
const NPY_HEADER_LEN: usize = 128;

fn npy_header(rows: u64, dim: usize) -> Vec<u8> {
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
    let mut h = Vec::with_capacity(NPY_HEADER_LEN);
    h.extend_from_slice(b"\x93NUMPY\x01\x00");
    h.extend_from_slice(&((NPY_HEADER_LEN - 10) as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    while h.len() < NPY_HEADER_LEN - 1 {
        h.push(b' ');
    }
    h.push(b'\n');
    h
}

fn parquet_schema(dim: usize) -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("row", DataType::UInt64, false),
        Field::new(
            "embedding",
            DataType::FixedSizeList(
                Arc::new(Field::new("item", DataType::Float32, false)),
                dim as i32,
            ),
            false,
        ),
    ]))
}

impl EmbeddingWriter {
    pub fn create(path: &Path, dim: usize) -> Result<EmbeddingWriter, EncodeError> {
        let format = OutputFormat::from_path(path)?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| EncodeError::io(&dir, e))?;
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&dir)
            .map_err(|e| EncodeError::io(&dir, e))?;
        let file = tmp.reopen().map_err(|e| EncodeError::io(tmp.path(), e))?;
        let sink = match format {
            OutputFormat::Jsonl => Sink::Jsonl(BufWriter::with_capacity(1 << 20, file)),
            OutputFormat::Npy => {
                let mut w = BufWriter::with_capacity(1 << 20, file);
                w.write_all(&npy_header(0, dim))
                    .map_err(|e| EncodeError::io(path, e))?;
                Sink::Npy(w)
            }
            OutputFormat::Parquet => {
                let schema = parquet_schema(dim);
                // Row groups of ~64 MiB of vectors: the writer buffers a whole row group in
                // memory, and the default (1M rows) would hold 1.5 GB of 384-d vectors.
                let rows_per_group = ((64usize << 20) / (dim.max(1) * 4)).max(1024);
                let props = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
                    .set_max_row_group_row_count(Some(rows_per_group))
                    .build();
                let w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props))
                    .map_err(|e| EncodeError::Other(format!("{}: {e}", path.display())))?;
                Sink::Parquet(Box::new(w), schema)
            }
        };
        Ok(EmbeddingWriter {
            path: path.to_path_buf(),
            dim,
            rows: 0,
            tmp,
            sink,
        })
    }

    pub fn write(&mut self, e: &Embeddings) -> Result<(), EncodeError> {
        if e.dim != self.dim {
            return Err(EncodeError::Other(format!(
                "{}: writing {}-d vectors into a {}-d output",
                self.path.display(),
                e.dim,
                self.dim
            )));
        }
        let path = self.path.clone();
        let io_err = |err: std::io::Error| EncodeError::io(&path, err);
        match &mut self.sink {
            Sink::Jsonl(w) => {
                for row in e.rows() {
                    serde_json::to_writer(&mut *w, row)
                        .map_err(|err| EncodeError::Other(format!("{}: {err}", path.display())))?;
                    w.write_all(b"\n").map_err(io_err)?;
                }
            }
            Sink::Npy(w) => {
                for x in &e.data {
                    w.write_all(&x.to_le_bytes()).map_err(io_err)?;
                }
            }
            Sink::Parquet(w, schema) => {
                let rows: UInt64Array = (self.rows..self.rows + e.len() as u64).collect();
                let values = Float32Array::from(e.data.clone());
                let item = Arc::new(Field::new("item", DataType::Float32, false));
                let list =
                    FixedSizeListArray::try_new(item, self.dim as i32, Arc::new(values), None)
                        .map_err(|err| EncodeError::Other(err.to_string()))?;
                let batch = RecordBatch::try_new(
                    schema.clone(),
                    vec![Arc::new(rows) as ArrayRef, Arc::new(list) as ArrayRef],
                )
                .map_err(|err| EncodeError::Other(err.to_string()))?;
                w.write(&batch)
                    .map_err(|err| EncodeError::Other(format!("{}: {err}", path.display())))?;
            }
        }
        self.rows += e.len() as u64;
        Ok(())
    }

    /// Flush, fix up headers, fsync and rename into place.
    pub fn finish(self) -> Result<u64, EncodeError> {
        let path = self.path.clone();
        let io_err = |err: std::io::Error| EncodeError::io(&path, err);
        match self.sink {
            Sink::Jsonl(mut w) => {
                w.flush().map_err(io_err)?;
            }
            Sink::Npy(mut w) => {
                w.flush().map_err(io_err)?;
                let f = w.get_mut();
                f.seek(SeekFrom::Start(0)).map_err(io_err)?;
                f.write_all(&npy_header(self.rows, self.dim))
                    .map_err(io_err)?;
                f.flush().map_err(io_err)?;
            }
            Sink::Parquet(w, _) => {
                w.close()
                    .map_err(|err| EncodeError::Other(format!("{}: {err}", path.display())))?;
            }
        }
        self.tmp.as_file().sync_all().map_err(io_err)?;
        self.tmp
            .persist(&self.path)
            .map_err(|e| EncodeError::io(&self.path, e.error))?;
        Ok(self.rows)
    }
}

/// Read a 2-D little-endian `<f4` or `<f2` `.npy` file as f32: ((rows, cols), data).
pub fn read_npy(path: &Path) -> Result<((usize, usize), Vec<f32>), EncodeError> {
    let bytes = std::fs::read(path).map_err(|e| EncodeError::io(path, e))?;
    let bad = |d: &str| EncodeError::bad_file(path, d);
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not an .npy file"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad("truncated header"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => return Err(bad(&format!("unsupported .npy version {v}"))),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + header_len)
            .ok_or_else(|| bad("truncated header"))?,
    )
    .map_err(|_| bad("header is not UTF-8"))?;
    if header.contains("'fortran_order': True") {
        return Err(bad("fortran_order arrays are not supported"));
    }
    let descr = if header.contains("'<f4'") {
        4
    } else if header.contains("'<f2'") {
        2
    } else {
        return Err(bad(
            "dtype must be little-endian float32 ('<f4') or float16 ('<f2')",
        ));
    };
    let shape_start = header.find("'shape': (").ok_or_else(|| bad("no shape"))? + 10;
    let shape_end = header[shape_start..]
        .find(')')
        .ok_or_else(|| bad("bad shape"))?
        + shape_start;
    let dims: Vec<usize> = header[shape_start..shape_end]
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad("bad shape")))
        .collect::<Result<_, _>>()?;
    let (rows, cols) = match dims.as_slice() {
        [r, c] => (*r, *c),
        [r] => (*r, 1),
        _ => return Err(bad("expected a 1-D or 2-D array")),
    };
    let data = &bytes[start + header_len..];
    if data.len() != rows * cols * descr {
        return Err(bad("data size does not match the shape"));
    }
    let out = if descr == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect()
    };
    Ok(((rows, cols), out))
}

/// Summary of an [`embed_file`] run.
#[derive(Debug, Clone)]
pub struct EmbedSummary {
    pub rows: u64,
    pub dim: usize,
    pub seconds: f64,
}

/// Embed every record of `input` into `output`, streaming in chunks of `chunk` texts.
pub fn embed_file(
    encoder: &dyn Encoder,
    input: &Path,
    format: InputFormat,
    output: &Path,
    chunk: usize,
    progress: bool,
) -> Result<EmbedSummary, EncodeError> {
    let started = std::time::Instant::now();
    // Fail on a bad output path before spending time on the model.
    OutputFormat::from_path(output)?;
    let total = count_records(input)?;
    let bar = if progress {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} embedding {pos}/{len} texts [{elapsed_precise}<{eta_precise}] {per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut reader = TextReader::open(input, format)?;
    let mut writer = EmbeddingWriter::create(output, encoder.dim())?;
    loop {
        let texts = reader.next_chunk(chunk.max(1))?;
        if texts.is_empty() {
            break;
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let emb = encoder.encode(&refs)?;
        writer.write(&emb)?;
        bar.inc(texts.len() as u64);
    }
    let rows = writer.finish()?;
    bar.finish_and_clear();
    Ok(EmbedSummary {
        rows,
        dim: encoder.dim(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Encoder for Fake {
        fn model_id(&self) -> &str {
            "fake"
        }
        fn dim(&self) -> usize {
            3
        }
        fn encode(&self, texts: &[&str]) -> Result<Embeddings, EncodeError> {
            Ok(Embeddings {
                dim: 3,
                data: texts
                    .iter()
                    .flat_map(|t| [t.len() as f32, 0.5, -1.0])
                    .collect(),
            })
        }
    }

    #[test]
    fn lines_to_npy_jsonl_parquet_in_order() {
        let d = tempfile::tempdir().unwrap();
        let input = d.path().join("in.txt");
        std::fs::write(&input, "a\n\nabc\r\nab").unwrap();
        assert_eq!(count_records(&input).unwrap(), 4);
        let npy = d.path().join("out.npy");
        let s = embed_file(&Fake, &input, InputFormat::Lines, &npy, 3, false).unwrap();
        assert_eq!(s.rows, 4);
        let ((r, c), data) = read_npy(&npy).unwrap();
        assert_eq!((r, c), (4, 3));
        let firsts: Vec<f32> = data.chunks(3).map(|x| x[0]).collect();
        assert_eq!(firsts, vec![1.0, 0.0, 3.0, 2.0]);

        let jl = d.path().join("out.jsonl");
        embed_file(&Fake, &input, InputFormat::Lines, &jl, 2, false).unwrap();
        let text = std::fs::read_to_string(&jl).unwrap();
        let rows: Vec<Vec<f32>> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows[2], vec![3.0, 0.5, -1.0]);

        let pq = d.path().join("out.parquet");
        embed_file(&Fake, &input, InputFormat::Lines, &pq, 3, false).unwrap();
        let f = File::open(&pq).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap();
        let n: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(n, 4);
        // no temp files left behind
        let leftovers = std::fs::read_dir(d.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".tmp")
            })
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn jsonl_errors_name_the_line() {
        let d = tempfile::tempdir().unwrap();
        let input = d.path().join("in.jsonl");
        std::fs::write(&input, "{\"text\": \"ok\"}\n{\"title\": \"x\"}\n").unwrap();
        let out = d.path().join("o.jsonl");
        let err = embed_file(
            &Fake,
            &input,
            InputFormat::from_path(&input),
            &out,
            10,
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("in.jsonl:2"), "{err}");
        assert!(!out.exists());
    }
}
