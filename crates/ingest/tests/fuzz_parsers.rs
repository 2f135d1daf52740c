//! Fuzzing in CI time: 10,000 generated cases each for the CSV, TSV, JSON Lines and JSON
//! readers (bytes biased toward the characters that matter to each format), the date parser
//! (any text, and number/separator soup) and title normalization; zero panics, and what the
//! parsers accept stays inside their contracts (records numbered 1, 2, 3...; raw text capped;
//! accepted dates within 1970..=2100).

use jobshift_core::normalize::normalize_title;
use jobshift_ingest::dates::parse_date;
use jobshift_ingest::readers::{self, Limits, ReadItem};
use jobshift_ingest::Format;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const CASES: u32 = 10_000;

fn run<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    runner.run(&strategy, test).unwrap();
}

fn bytes_for(format: Format) -> impl Strategy<Value = Vec<u8>> {
    let structural: &'static [u8] = match format {
        Format::Json | Format::Jsonl => b"{}[]:,\"\\\n 0tfn",
        _ => b",\t\"\n\r ",
    };
    let byte = prop_oneof![
        4 => proptest::sample::select(structural),
        3 => b'a'..=b'z',
        1 => Just(0xC3u8),
        1 => Just(0xA9u8),
        1 => any::<u8>(),
    ];
    proptest::collection::vec(byte, 0..400)
}

fn fuzz_reader(name: &str, format: Format) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let limits = Limits {
        max_field_bytes: 128,
        max_record_bytes: 256,
    };
    run(bytes_for(format), |bytes| {
        std::fs::write(&path, &bytes).unwrap();
        let Ok(mut r) = readers::open(&path, format, limits) else {
            return Ok(());
        };
        let mut expect = 1u64;
        for _ in 0..10_000 {
            match r.next_item() {
                Ok(Some(ReadItem::Record(x))) => {
                    prop_assert_eq!(x.number, expect);
                    expect += 1;
                }
                Ok(Some(ReadItem::Bad(x))) => {
                    prop_assert_eq!(x.number, expect);
                    prop_assert!(x.raw.len() <= 256 + 64, "raw not capped: {}", x.raw.len());
                    expect += 1;
                }
                Ok(None) | Err(_) => return Ok(()),
            }
        }
        Err(TestCaseError::fail("the reader did not terminate"))
    });
}

#[test]
fn csv_reader_10k_cases() {
    fuzz_reader("x.csv", Format::Csv);
}

#[test]
fn tsv_reader_10k_cases() {
    fuzz_reader("x.tsv", Format::Tsv);
}

#[test]
fn jsonl_reader_10k_cases() {
    fuzz_reader("x.jsonl", Format::Jsonl);
}

#[test]
fn json_reader_10k_cases() {
    fuzz_reader("x.json", Format::Json);
}

fn check_date(s: &str) -> Result<(), TestCaseError> {
    use chrono::Datelike;
    if let Ok((d, _)) = parse_date(s) {
        prop_assert!((1970..=2100).contains(&d.year()), "{s:?} -> {d}");
    }
    Ok(())
}

#[test]
fn date_parser_10k_any_text() {
    run("\\PC{0,40}", |s| check_date(&s));
}

#[test]
fn date_parser_10k_number_soup() {
    run("[0-9]{0,14}([-/. T:Z+][0-9]{0,6}){0,5}", |s| check_date(&s));
}

#[test]
fn title_normalization_10k() {
    run("\\PC{0,80}|[A-Za-z/&()\\-,. ]{0,60}", |s| {
        let n = normalize_title(&s);
        prop_assert!(n.len() <= s.len() * 4 + 16, "{s:?} grew to {n:?}");
        Ok(())
    });
}
