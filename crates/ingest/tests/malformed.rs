//! The malformed-input corpus: every file ingests without a panic, the accounting identity
//! holds, and each bad record is rejected with a specific reason (or repaired).

mod common;
use common::*;
use std::collections::BTreeMap;
use std::io::Write;

fn one(name: &str) -> (tempfile::TempDir, jobshift_ingest::IngestReport) {
    let dir = tempfile::tempdir().unwrap();
    let r = ingest_ok(
        &[fixture(&format!("malformed/{name}"))],
        dir.path(),
        &quiet(),
    );
    (dir, r)
}

fn reasons(r: &jobshift_ingest::IngestReport) -> BTreeMap<String, u64> {
    r.rejected_by_reason.clone()
}

#[test]
fn truncated_quote_is_one_ragged_record() {
    let (_d, r) = one("truncated_quote.csv");
    assert_eq!(r.read, 1);
    assert_eq!(r.rejected, 1);
    assert_eq!(reasons(&r).get("unterminated_quote"), Some(&1));
}

#[test]
fn ragged_rows() {
    let (d, r) = one("ragged.csv");
    assert_eq!((r.read, r.accepted, r.rejected), (5, 2, 3));
    assert_eq!(reasons(&r).get("wrong_field_count"), Some(&2));
    assert_eq!(reasons(&r).get("missing_title"), Some(&1));
    let rej = rejects(d.path(), &r);
    assert_eq!(rej[0]["line"], 3);
    assert_eq!(rej[0]["record"], 2);
    assert!(rej[0]["raw"].as_str().unwrap().contains("Too,Many"));
    assert!(rej[0]["reason"].as_str().unwrap().contains("6 fields"));
}

#[test]
fn empty_files() {
    for f in ["empty.csv", "empty.jsonl", "empty.json", "header_only.csv"] {
        let (d, r) = one(f);
        assert_eq!(r.read, 0, "{f}");
        assert!(!r.inputs[0].notes.is_empty(), "{f}: no note");
        assert!(rows(d.path()).is_empty());
    }
}

#[test]
fn bad_dates() {
    let (d, r) = one("bad_dates.csv");
    assert_eq!(r.read, 7);
    assert_eq!(r.accepted, 2, "{:?}", reasons(&r)); // 2024-02-29 and "March 2024"
    assert_eq!(reasons(&r).get("unparseable_date"), Some(&3)); // 31/02, yesterday, 13/13
    assert_eq!(reasons(&r).get("missing_date"), Some(&1));
    assert_eq!(reasons(&r).get("date_out_of_range"), Some(&1));
    let rej = rejects(d.path(), &r);
    assert!(rej
        .iter()
        .any(|x| x["reason"].as_str().unwrap().contains("\"31/02/2024\"")));
    assert!(rej
        .iter()
        .any(|x| x["reason"].as_str().unwrap().contains("\"yesterday\"")));
    let month = rows(d.path())
        .into_iter()
        .find(|x| x.date_precision == "month")
        .unwrap();
    assert_eq!(
        jobshift_ingest::dates::from_days(month.posted_date).to_string(),
        "2024-03-01"
    );
}

#[test]
fn duplicate_headers_renamed_and_kept() {
    let (d, r) = one("duplicate_headers.csv");
    assert_eq!(r.accepted, 1);
    assert!(r.inputs[0].notes.iter().any(|n| n.contains("title_2")));
    let row = &rows(d.path())[0];
    assert_eq!(row.title, "Data Scientist");
    assert_eq!(row.company.as_deref(), Some("Acme"));
    let extra: serde_json::Value = serde_json::from_str(row.extra.as_deref().unwrap()).unwrap();
    assert_eq!(extra["title_2"], "IGNORED second title");
    assert_eq!(extra["company_2"], "Other Co");
}

#[test]
fn bom_is_stripped() {
    let (d, r) = one("bom.csv");
    assert_eq!(r.accepted, 1);
    assert_eq!(rows(d.path())[0].title, "Videographer");
}

#[test]
fn bad_json_lines() {
    let (d, r) = one("bad.jsonl");
    assert_eq!(r.read, 7);
    assert_eq!(r.accepted, 2, "{:?}", reasons(&r));
    assert_eq!(reasons(&r).get("invalid_json"), Some(&1));
    assert_eq!(reasons(&r).get("not_a_json_object"), Some(&2));
    assert_eq!(reasons(&r).get("unparseable_date"), Some(&1));
    assert_eq!(reasons(&r).get("missing_title"), Some(&1));
    let rej = rejects(d.path(), &r);
    assert_eq!(rej[0]["line"], 2);
}

#[test]
fn truncated_json_array_recovers_per_element() {
    let (d, r) = one("truncated_array.json");
    assert_eq!(r.read, 5, "{:?}", rejects(d.path(), &r));
    assert_eq!(r.accepted, 2);
    assert_eq!(reasons(&r).get("invalid_json"), Some(&2));
    assert_eq!(reasons(&r).get("not_a_json_object"), Some(&1));
    assert!(r.inputs[0].notes.iter().any(|n| n.contains("not closed")));
}

#[test]
fn trailing_data_after_array() {
    let (_d, r) = one("trailing.json");
    assert_eq!((r.read, r.accepted, r.rejected), (2, 1, 1));
    assert_eq!(reasons(&r).get("trailing_data_after_json_array"), Some(&1));
}

#[test]
fn invalid_utf8_is_repaired_not_dropped() {
    let (d, r) = one("invalid_utf8.csv");
    assert_eq!((r.accepted, r.repaired), (1, 1));
    assert_eq!(r.repaired_by_reason.get("invalid_utf8_replaced"), Some(&1));
    assert_eq!(rows(d.path())[0].company.as_deref(), Some("Café GmbH"));
}

#[test]
fn short_latin1_text_is_repaired_not_rejected_as_binary() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("latin1.csv");
    let mut bytes = b"title,company,description,date\n".to_vec();
    bytes.extend_from_slice(b"Caf\xe9 Manager,Le Caf\xe9,Caf\xe9 Manager,2024-03-01\n");
    std::fs::write(&f, bytes).unwrap();
    let ds = dir.path().join("ds");
    let r = ingest_ok(&[f], &ds, &quiet());
    assert_eq!(
        (r.accepted, r.rejected),
        (1, 0),
        "{:?}",
        r.rejected_by_reason
    );
    assert_eq!(r.repaired_by_reason.get("invalid_utf8_replaced"), Some(&1));
    let row = &rows(&ds)[0];
    assert_eq!(row.title, "Café Manager");
    assert_eq!(row.description.as_deref(), Some("Café Manager"));
}

#[test]
fn binary_garbage_never_panics() {
    for f in [
        "binary_garbage.csv",
        "binary_garbage.jsonl",
        "binary_garbage.json",
    ] {
        let (_d, r) = one(f);
        assert_eq!(r.accepted, 0, "{f}: {r:#?}");
    }
    let (_d, r) = one("binary_rows.csv");
    assert_eq!((r.read, r.accepted), (2, 1));
    assert_eq!(reasons(&r).get("binary_data"), Some(&1));
}

#[test]
fn ten_megabyte_fields_are_rejected_not_loaded_into_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(10 << 20);
    let csv = dir.path().join("big.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    writeln!(f, "title,company,date,description").unwrap();
    writeln!(f, "Data Engineer,Acme,2024-01-01,{big}").unwrap();
    writeln!(f, "Data Analyst,Acme,2024-01-02,short").unwrap();
    drop(f);
    let jl = dir.path().join("big.jsonl");
    let mut f = std::fs::File::create(&jl).unwrap();
    writeln!(f, "{{\"title\":\"Data Engineer\",\"company\":\"Acme\",\"date\":\"2024-01-01\",\"description\":\"{big}\"}}").unwrap();
    writeln!(
        f,
        "{{\"title\":\"x\",\"date\":\"2024-01-01\",\"description\":\"{big}{big}\"}}"
    )
    .unwrap();
    writeln!(
        f,
        "{{\"title\":\"Data Analyst\",\"company\":\"Acme\",\"date\":\"2024-01-03\"}}"
    )
    .unwrap();
    drop(f);
    let out = dir.path().join("ds");
    let r = ingest_ok(&[csv, jl], &out, &quiet());
    assert_eq!((r.read, r.accepted, r.rejected), (5, 2, 3));
    assert_eq!(reasons(&r).get("field_over_size_limit"), Some(&2));
    assert_eq!(reasons(&r).get("record_over_size_limit"), Some(&1));
    // the rejects file holds a capped raw record, not 10 MB
    let size = std::fs::metadata(out.join(r.rejects_file.as_ref().unwrap()))
        .unwrap()
        .len();
    assert!(size < 4 << 20, "rejects file is {size} bytes");
}

#[test]
fn whole_corpus_in_one_run() {
    let mut inputs: Vec<_> = std::fs::read_dir(fixture("malformed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    inputs.sort();
    let dir = tempfile::tempdir().unwrap();
    let r = ingest_ok(&inputs, dir.path(), &quiet());
    assert_eq!(r.inputs.len(), inputs.len());
    assert!(r.rejected > 0 && r.accepted > 0);
}
