//! Every format and compression, column recognition and `--map`, the canonical output, and the
//! run-level guarantees: same file twice adds nothing, incremental runs de-duplicate against the
//! dataset, an unreadable input leaves the dataset untouched.

mod common;
use common::*;
use jobshift_ingest::{ColumnMap, Format, IngestOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

fn good() -> Vec<PathBuf> {
    [
        "postings.csv",
        "postings.tsv",
        "postings.jsonl",
        "postings.json",
    ]
    .iter()
    .map(|f| fixture(&format!("good/{f}")))
    .collect()
}

fn gz(src: &Path, dst: &Path) {
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(dst).unwrap(),
        flate2::Compression::default(),
    );
    e.write_all(&std::fs::read(src).unwrap()).unwrap();
    e.finish().unwrap();
}

fn zst(src: &Path, dst: &Path) {
    let bytes = zstd::encode_all(std::fs::read(src).unwrap().as_slice(), 3).unwrap();
    std::fs::write(dst, bytes).unwrap();
}

#[test]
fn all_text_formats_canonicalize() {
    let dir = tempfile::tempdir().unwrap();
    let r = ingest_ok(&good(), dir.path(), &quiet());
    assert_eq!(
        (r.read, r.accepted, r.rejected, r.duplicates),
        (10, 10, 0, 0),
        "{r:#?}"
    );
    let rows = rows(dir.path());
    let by_title = |t: &str| {
        rows.iter()
            .find(|x| x.title == t)
            .unwrap_or_else(|| panic!("{t} missing"))
            .clone()
    };
    let de = by_title("Data Engineer");
    assert!(
        de.description
            .as_deref()
            .unwrap()
            .starts_with("Build data pipelines in Python & SQL"),
        "{:?}",
        de.description
    );
    assert_eq!(de.country.as_deref(), Some("DE"));
    assert_eq!(de.source, "postings");
    assert_eq!(de.posting_id.len(), 32);
    assert_eq!(
        (de.first_seen, de.last_seen, de.duplicates),
        (de.posted_date, de.posted_date, 0)
    );
    let extra: serde_json::Value = serde_json::from_str(de.extra.as_deref().unwrap()).unwrap();
    assert_eq!(extra["salary"], "€70k");
    assert_eq!(by_title("Registered Nurse").country.as_deref(), Some("US"));
    let mle = by_title("Machine Learning Engineer");
    assert_eq!(
        (mle.date_precision.as_str(), mle.country.as_deref()),
        ("month", Some("US"))
    );
    assert_eq!(by_title("Graphic Designer").country.as_deref(), Some("GB"));
    assert!(by_title("Graphic Designer")
        .description
        .as_deref()
        .unwrap()
        .contains("\"social\""));
    assert_eq!(
        jobshift_ingest::dates::from_days(by_title("Photographer").posted_date).to_string(),
        "2024-05-06"
    );
    assert_eq!(by_title("Medical Scribe").country.as_deref(), Some("CA"));
    let be = by_title("Backend Engineer");
    let extra: serde_json::Value = serde_json::from_str(be.extra.as_deref().unwrap()).unwrap();
    assert_eq!(extra["tags"], serde_json::json!(["go", "rust"]));
    assert_eq!(extra["remote"], false);
    assert_eq!(by_title("Writer").date_precision, "month");
    assert_eq!(
        by_title("Chief Compliance Officer").country.as_deref(),
        Some("US")
    );
    assert_eq!(
        by_title("Sustainability Manager").country.as_deref(),
        Some("NL")
    );
    // partitions by posting month
    let months: Vec<String> = std::fs::read_dir(dir.path().join("postings"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(months.contains(&"month=2024-03".to_string()), "{months:?}");
    assert!(dir.path().join("index/month=2024-03.parquet").exists());
    assert_eq!(
        r.inputs[0].columns.get("title").map(String::as_str),
        Some("job_title")
    );
}

#[test]
fn compressed_inputs_read_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    for (i, f) in good().iter().enumerate() {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let out = if i % 2 == 0 {
            dir.path().join(format!("{name}.gz"))
        } else {
            dir.path().join(format!("{name}.zst"))
        };
        if i % 2 == 0 {
            gz(f, &out)
        } else {
            zst(f, &out)
        }
        inputs.push(out);
    }
    let ds = dir.path().join("ds");
    let r = ingest_ok(&inputs, &ds, &quiet());
    assert_eq!((r.read, r.accepted), (10, 10));
    assert_eq!(r.inputs[0].source, "postings");
}

#[test]
fn parquet_input_round_trips_a_dataset() {
    // A dataset's own postings file is a valid Parquet input (its columns are recognized).
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    ingest_ok(&good(), &a, &quiet());
    let part = jobshift_core::dataset::DatasetDir::parquet_files(&a.join("postings")).unwrap();
    let b = dir.path().join("b");
    let opts = IngestOptions {
        column_map: ColumnMap::parse(&["date=posted_date".into()]).unwrap(),
        ..quiet()
    };
    let r = ingest_ok(&part, &b, &opts);
    assert_eq!(
        (r.accepted, r.rejected),
        (10, 0),
        "{:#?}",
        r.rejected_by_reason
    );
    let mut ta: Vec<_> = rows(&a)
        .into_iter()
        .map(|x| (x.title, x.company, x.posted_date, x.country))
        .collect();
    let mut tb: Vec<_> = rows(&b)
        .into_iter()
        .map(|x| (x.title, x.company, x.posted_date, x.country))
        .collect();
    ta.sort();
    tb.sort();
    assert_eq!(ta, tb);
}

#[test]
fn map_and_format_override() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("weird.txt");
    std::fs::write(&f, "name;firm;when\nwelder;Acme;2024-01-01\n").unwrap();
    // unknown extension without --format is an error naming the file
    let err = jobshift_ingest::ingest(std::slice::from_ref(&f), &dir.path().join("x"), &quiet())
        .unwrap_err();
    assert!(
        err.to_string().contains("weird.txt") && err.to_string().contains("--format"),
        "{err}"
    );
    std::fs::write(&f, "name\tfirm\twhen\nwelder\tAcme\t2024-01-01\n").unwrap();
    let opts = IngestOptions {
        format: Some(Format::Tsv),
        column_map: ColumnMap::parse(&[
            "title=name".into(),
            "company=firm".into(),
            "date=when".into(),
        ])
        .unwrap(),
        source: Some("vendor-x".into()),
        ..quiet()
    };
    let ds = dir.path().join("ds");
    let r = ingest_ok(&[f], &ds, &opts);
    assert_eq!(r.accepted, 1);
    let row = &rows(&ds)[0];
    assert_eq!(
        (
            row.title.as_str(),
            row.company.as_deref(),
            row.source.as_str()
        ),
        ("welder", Some("Acme"), "vendor-x")
    );
    assert!(ColumnMap::parse(&["salary=x".into()]).is_err());
}

#[test]
fn same_file_twice_adds_nothing_and_history_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let r1 = ingest_ok(&good(), dir.path(), &quiet());
    let before = rows(dir.path());
    let r2 = ingest_ok(&good(), dir.path(), &quiet());
    assert_eq!(
        (r2.read, r2.accepted, r2.duplicates, r2.rejected),
        (r1.read, 0, r1.read, 0)
    );
    assert!(r2.inputs.iter().all(|i| i.already_ingested));
    assert!(r2.months_written.is_empty());
    let after = rows(dir.path());
    assert_eq!(before.len(), after.len());
    assert!(after.iter().all(|x| x.duplicates == 0));
    let runs = std::fs::read_dir(dir.path().join("runs")).unwrap().count();
    assert_eq!(runs, 3); // two run reports + ingested-inputs.json
    let st = jobshift_ingest::dataset_stats(dir.path()).unwrap();
    assert_eq!(st.postings, 10);
    assert_eq!(st.runs, 2);
    assert_eq!(st.by_month.values().sum::<u64>(), 10);
    assert_eq!(st.by_source.get("postings"), Some(&10));
}

#[test]
fn incremental_batches_dedup_against_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    let desc = "Design and run backend services in Go and Rust, on-call rotation, strong testing culture and code review across teams.";
    let b1 = dir.path().join("b1.csv");
    std::fs::write(
        &b1,
        format!("title,company,date,description\nBackend Engineer,Hooli,2024-06-01,\"{desc}\"\n"),
    )
    .unwrap();
    let r1 = ingest_ok(&[b1], &ds, &quiet());
    assert_eq!(r1.accepted, 1);
    // batch 2: an exact copy 20 days later, a near copy 40 days later, a re-post after 90 days,
    // and an exact copy dated before the original (extends first_seen backwards).
    let b2 = dir.path().join("b2.csv");
    std::fs::write(
        &b2,
        format!(
            "title,company,date,description\n\
             Backend Engineer,Hooli,2024-06-21,\"{desc}\"\n\
             Senior Backend Engineer,HOOLI,2024-07-11,\"{desc} Apply today!\"\n\
             Backend Engineer,Hooli,2024-09-01,\"{desc}\"\n\
             Backend Engineer,Hooli,2024-05-25,\"{desc}\"\n"
        ),
    )
    .unwrap();
    let r2 = ingest_ok(&[b2], &ds, &quiet());
    assert_eq!((r2.read, r2.accepted, r2.duplicates), (4, 1, 3), "{r2:#?}");
    assert_eq!((r2.exact_duplicates, r2.near_duplicates), (2, 1));
    assert_eq!(r2.existing_postings_extended, 1);
    let rows = rows(&ds);
    assert_eq!(rows.len(), 2);
    let orig = rows
        .iter()
        .find(|x| x.input_file.ends_with("b1.csv"))
        .unwrap();
    assert_eq!(orig.duplicates, 3);
    let d = |s: &str| {
        jobshift_ingest::dates::to_days(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
    };
    assert_eq!(
        (orig.first_seen, orig.last_seen),
        (d("2024-05-25"), d("2024-07-11"))
    );
    let dups = duplicates(&ds, &r2);
    assert!(dups
        .iter()
        .all(|x| x["duplicate_of"] == orig.posting_id.as_str()));
    assert!(dups.iter().any(|x| x["kind"] == "near"));
}

#[test]
fn unreadable_input_leaves_the_dataset_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    ingest_ok(&good()[..1], &ds, &quiet());
    let report_before = std::fs::read(ds.join("ingest-report.json")).unwrap();
    let rows_before = rows(&ds).len();
    // a corrupt gzip: the file cannot be read at all
    let bad = dir.path().join("broken.csv.gz");
    std::fs::write(&bad, b"\x1f\x8b\x08\x00garbage that is not deflate").unwrap();
    let err =
        jobshift_ingest::ingest(&[good()[1].clone(), bad.clone()], &ds, &quiet()).unwrap_err();
    assert!(err.to_string().contains("broken.csv.gz"), "{err}");
    let missing = dir.path().join("nope.csv");
    let err = jobshift_ingest::ingest(&[missing], &ds, &quiet()).unwrap_err();
    assert!(err.to_string().contains("nope.csv"), "{err}");
    assert_eq!(
        std::fs::read(ds.join("ingest-report.json")).unwrap(),
        report_before
    );
    assert_eq!(rows(&ds).len(), rows_before);
    assert!(!std::fs::read_dir(&ds).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with(".staging")));
}

#[test]
fn interrupted_commit_is_finished_and_aborted_staging_removed() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    ingest_ok(&good()[..1], &ds, &quiet());
    std::fs::create_dir_all(ds.join(".staging-aborted/postings")).unwrap();
    let st = jobshift_ingest::dataset_stats(&ds).unwrap();
    assert_eq!(st.postings, 3);
    assert!(!ds.join(".staging-aborted").exists());
}

#[test]
fn hn_header_line_becomes_title_and_company() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hn.csv");
    std::fs::write(
        &f,
        "thread_month,header_line,text\n\
         2017-03,\"Acme Robotics | Senior Robotics Engineer | Boston, MA | ONSITE\",\"Acme Robotics | Senior Robotics Engineer | Boston, MA | ONSITE\n\nWe build robots.\"\n\
         2014-05,Stormpulse – Austin – Full-time,\"Stormpulse – Austin – Full-time\n\nWe map storms.\"\n",
    )
    .unwrap();
    let ds = dir.path().join("ds");
    let r = ingest_ok(&[f], &ds, &quiet());
    assert_eq!(r.accepted, 2);
    let rows = rows(&ds);
    let a = rows
        .iter()
        .find(|x| x.company.as_deref() == Some("Acme Robotics"))
        .unwrap();
    assert_eq!(a.title, "Senior Robotics Engineer");
    assert_eq!(a.country.as_deref(), Some("US"));
    let s = rows
        .iter()
        .find(|x| x.company.as_deref() == Some("Stormpulse"))
        .unwrap();
    assert_eq!(s.title, "Stormpulse – Austin – Full-time");
    assert_eq!(s.date_precision, "month");
}
