//! CSV/TSV records with a cap on the memory one record may take.
//!
//! The `csv` crate's `Reader` grows its record buffer until the record ends, so one 200 MB line
//! (a broken export, a file that is not CSV at all) held the whole line several times over: the
//! ingest peaked at 806 MB on it. This reader drives the same parser (`csv_core`, the state
//! machine underneath `csv`, with the same defaults: `"` quoting, doubled quotes, CR/LF/CRLF
//! terminators, blank lines skipped) but stops keeping a record's bytes once it reaches the cap:
//! the rest of that record is parsed and thrown away, so memory stays at the cap whatever the
//! input, and the record comes back marked oversized (with its full size) to be rejected with a
//! reason like any other bad row. `csv::Reader` has no such limit and no hook for one, which is
//! why this small loop exists instead of the crate's reader.

use std::io::{self, BufRead};

/// One record: its fields as byte ranges of `data`, the line it starts on, and — when it went
/// over the cap — its size in bytes (its fields are then incomplete and must not be used).
#[derive(Debug, Default, Clone)]
pub struct CsvRecord {
    data: Vec<u8>,
    ends: Vec<usize>,
    /// 1-based line the record starts on (as `csv::Position::line`).
    pub line: u64,
    /// `Some(total bytes)` when the record exceeded the cap.
    pub oversized: Option<usize>,
}

impl CsvRecord {
    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let field = &self.data[start..end];
            start = end;
            field
        })
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True for a record with no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Streams [`CsvRecord`]s from a reader, holding at most `cap` bytes of field data (plus the
/// field offsets, capped likewise) per record.
pub struct BoundedCsv<R> {
    input: R,
    core: csv_core::Reader,
    cap: usize,
    done: bool,
}

impl<R: BufRead> BoundedCsv<R> {
    pub fn new(input: R, delimiter: u8, quoting: bool, cap: usize) -> Self {
        let core = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .quoting(quoting)
            .build();
        BoundedCsv {
            input,
            core,
            cap: cap.max(1),
            done: false,
        }
    }

    /// Read the next record into `rec`; `Ok(false)` at the end of the input.
    pub fn read(&mut self, rec: &mut CsvRecord) -> io::Result<bool> {
        use csv_core::ReadRecordResult::*;
        rec.oversized = None;
        rec.line = self.core.line();
        if self.done {
            rec.data.clear();
            rec.ends.clear();
            return Ok(false);
        }
        if rec.data.is_empty() {
            rec.data.resize(1024.min(self.cap), 0);
        }
        if rec.ends.is_empty() {
            rec.ends.resize(16, 0);
        }
        // offsets take 8 bytes each: a record of a million empty fields is capped too
        let max_ends = (self.cap / 8).max(16);
        let (mut outlen, mut endlen, mut total) = (0usize, 0usize, 0usize);
        let mut discarding = false;
        loop {
            let (res, nin, nout, nend) = {
                let input = self.input.fill_buf()?;
                self.core
                    .read_record(input, &mut rec.data[outlen..], &mut rec.ends[endlen..])
            };
            self.input.consume(nin);
            outlen += nout;
            endlen += nend;
            total += nout;
            match res {
                InputEmpty => continue,
                OutputFull => {
                    if rec.data.len() < self.cap {
                        let grown = (rec.data.len() * 2).clamp(1024, self.cap);
                        rec.data.resize(grown, 0);
                    } else {
                        // over the cap: keep parsing to find the record's end, keep nothing
                        discarding = true;
                        outlen = 0;
                    }
                }
                OutputEndsFull => {
                    if rec.ends.len() < max_ends {
                        let grown = (rec.ends.len() * 2).min(max_ends);
                        rec.ends.resize(grown, 0);
                    } else {
                        discarding = true;
                        endlen = 0;
                    }
                }
                Record => {
                    if discarding {
                        rec.oversized = Some(total.max(self.cap + 1));
                        rec.ends.truncate(0);
                        rec.data.truncate(0);
                        // keep a small buffer for the next record, give the rest back
                        rec.data.shrink_to(1024);
                        rec.ends.shrink_to(16);
                    } else {
                        rec.ends.truncate(endlen);
                        // field data past outlen is stale; the ends never point past it
                    }
                    return Ok(true);
                }
                End => {
                    self.done = true;
                    rec.data.clear();
                    rec.ends.clear();
                    return Ok(false);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &str, cap: usize) -> Vec<(u64, Option<usize>, Vec<String>)> {
        let mut r = BoundedCsv::new(input.as_bytes(), b',', true, cap);
        let mut rec = CsvRecord::default();
        let mut out = Vec::new();
        while r.read(&mut rec).unwrap() {
            let fields = rec
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            out.push((rec.line, rec.oversized, fields));
        }
        out
    }

    #[test]
    fn reads_what_the_csv_crate_reads() {
        let text = "a,b,c\n1,\"two, quoted\",3\r\n\n\"multi\nline\",\"say \"\"hi\"\"\",x\nlast,,";
        let got = records(text, 1 << 20);
        let mut want = Vec::new();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        for r in rdr.byte_records() {
            let r = r.unwrap();
            let line = r.position().unwrap().line();
            let fields: Vec<String> = r
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            want.push((line, None, fields));
        }
        assert_eq!(got, want);
        assert_eq!(got.len(), 4);
        assert_eq!(got[2].2, vec!["multi\nline", "say \"hi\"", "x"]);
    }

    #[test]
    fn a_record_over_the_cap_is_marked_and_the_next_one_reads_whole() {
        let big = "x".repeat(10_000);
        let text = format!("a,b\n1,{big}\n2,small\n");
        let got = records(&text, 4096);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].2, vec!["a", "b"]);
        assert_eq!(
            got[1].1,
            Some(10_001),
            "the oversized record reports its size"
        );
        assert!(got[1].2.is_empty(), "its fields are not kept");
        assert_eq!(
            got[2],
            (3, None, vec!["2".to_string(), "small".to_string()])
        );
    }

    #[test]
    fn an_unterminated_quote_over_the_cap_does_not_grow_memory() {
        let text = format!("a,b\n1,\"{}", "y\n".repeat(50_000));
        let mut r = BoundedCsv::new(text.as_bytes(), b',', true, 4096);
        let mut rec = CsvRecord::default();
        assert!(r.read(&mut rec).unwrap());
        assert!(r.read(&mut rec).unwrap());
        assert_eq!(rec.oversized, Some(100_001));
        assert!(rec.data.capacity() <= 4096, "{}", rec.data.capacity());
        assert!(!r.read(&mut rec).unwrap());
    }

    #[test]
    fn many_empty_fields_are_capped_too() {
        let text = format!("a\n{}\nb\n", ",".repeat(100_000));
        let got = records(&text, 4096);
        assert_eq!(got.len(), 3);
        assert!(got[1].1.is_some());
        assert_eq!(got[2].2, vec!["b"]);
    }
}
