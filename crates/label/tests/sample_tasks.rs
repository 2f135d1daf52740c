//! `label sample` on a small classified dataset written here: strategies, gold mixing,
//! determinism, the Mechanical Turk files, and clear refusals.

mod common;
use arrow::array::{
    ArrayRef, Date32Array, Float32Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use arrow::datatypes::DataType;
use jobshift_core::schema::{classified_schema, postings_schema};
use jobshift_label::sample::{sample, SampleOptions, Strategy};
use jobshift_label::tasks::{read_manifest, read_tasks, TasksDir};
use std::path::Path;
use std::sync::Arc;

const FAMILIES: [(&str, &str); 3] = [
    ("data_ai", "data_engineer"),
    ("software_engineering", "software_engineer"),
    ("healthcare_clinical", "registered_nurse"),
];

/// 60 postings: family i%3 gets (i%3+1) * ... rows; confidence = i/100.
fn write_dataset(root: &Path, classified: bool, rows: usize) {
    let schema = if classified {
        classified_schema()
    } else {
        postings_schema()
    };
    let fam_of = |i: usize| {
        if i < rows * 2 / 3 {
            0
        } else if i < rows * 5 / 6 {
            1
        } else {
            2
        }
    };
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| -> ArrayRef {
            let name = f.name().as_str();
            match f.data_type() {
                DataType::Utf8 => Arc::new(StringArray::from(
                    (0..rows)
                        .map(|i| match name {
                            "posting_id" => format!("p{i:03}"),
                            "title" => format!("Job title {i}"),
                            "description" => format!("Description of job {i}"),
                            "date_precision" => "day".into(),
                            "title_id" => FAMILIES[fam_of(i)].1.into(),
                            "family" => FAMILIES[fam_of(i)].0.into(),
                            "method" => "description".into(),
                            other => format!("{other}-{i}"),
                        })
                        .collect::<Vec<_>>(),
                )),
                DataType::Date32 => Arc::new(Date32Array::from(vec![20000; rows])),
                DataType::UInt32 => Arc::new(UInt32Array::from(vec![0u32; rows])),
                DataType::UInt64 => {
                    Arc::new(UInt64Array::from((0..rows as u64).collect::<Vec<_>>()))
                }
                DataType::Float32 => Arc::new(Float32Array::from(
                    (0..rows)
                        .map(|i| ((i * 37) % rows) as f32 / rows as f32)
                        .collect::<Vec<_>>(),
                )),
                DataType::List(_) => {
                    jobshift_core::schema::roles_array(std::iter::repeat_n(&[] as &[&str], rows))
                }
                other => panic!("unexpected type {other:?}"),
            }
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let dir = root
        .join(if classified { "classified" } else { "postings" })
        .join("month=2025-03");
    std::fs::create_dir_all(&dir).unwrap();
    let f = std::fs::File::create(dir.join("part-0.parquet")).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn opts(dataset: &Path, out: &Path, n: usize, strategy: Strategy, seed: u64) -> SampleOptions {
    SampleOptions {
        dataset: dataset.to_path_buf(),
        n,
        strategy,
        seed,
        gold: None,
        gold_rate: 0.0,
        out: out.to_path_buf(),
        mturk_description_max_chars: 10,
    }
}

#[test]
fn stratified_with_gold_writes_all_files() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    write_dataset(&ds, true, 60);
    let gold = dir.path().join("gold.jsonl");
    std::fs::write(
        &gold,
        [
            r#"{"title":"Gold A","description":"ga","title_id":"data_engineer","source":"expert","posting_id":"g1"}"#,
            r#"{"title":"Gold B","title_id":"registered_nurse","source":"expert","posting_id":"g2"}"#,
            r#"{"title":"Gold C","title_id":"software_engineer","source":"expert"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let out = dir.path().join("round");
    let mut o = opts(&ds, &out, 12, Strategy::Stratified, 7);
    o.gold = Some(gold);
    o.gold_rate = 0.25;
    let outcome = sample(&o, &common::catalog()).unwrap();
    let m = &outcome.manifest;
    assert_eq!((m.n_tasks, m.n_gold, m.n_postings), (12, 3, 9));
    assert_eq!(m.read_from, "classified");
    for (fam, _) in FAMILIES {
        assert_eq!(m.strata[fam].drawn, 3, "{fam}: equal allocation");
    }
    assert_eq!(m.strata["data_ai"].available, 40);
    let td = TasksDir::new(&out);
    let tasks = read_tasks(&td.tasks()).unwrap();
    assert_eq!(tasks.len(), 12);
    assert_eq!(read_manifest(&td.manifest()).unwrap(), *m);
    assert!(m
        .gold
        .iter()
        .all(|g| tasks.iter().any(|t| t.task_id == g.task_id)));
    assert!(tasks
        .iter()
        .any(|t| t.predicted_title_id.is_some() && t.predicted_confidence.is_some()));
    // MTurk input: header + 12 rows, descriptions cut to 10 chars
    let mut rdr = csv::Reader::from_path(td.mturk_input()).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        headers,
        jobshift_label::mturk::INPUT_COLUMNS
            .map(String::from)
            .to_vec()
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 12);
    assert!(rows.iter().all(|r| r[8].chars().count() <= 12));
    assert!(m.mturk.descriptions_truncated > 0);
    let html = std::fs::read_to_string(td.mturk_question()).unwrap();
    assert!(html.contains("${title}") && html.contains("${description}"));
    // the taxonomy picker's catalog is embedded compressed (zlib + base 85)
    let catalog = jobshift_label::mturk::decode_embedded_catalog(&html).unwrap();
    assert!(catalog.contains("ETL Developer"));
    assert!(td.catalog().exists());
}

#[test]
fn deterministic_given_seed_and_uncertain_takes_lowest_confidence() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    write_dataset(&ds, true, 60);
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let c = dir.path().join("c");
    sample(&opts(&ds, &a, 10, Strategy::Random, 1), &common::catalog()).unwrap();
    sample(&opts(&ds, &b, 10, Strategy::Random, 1), &common::catalog()).unwrap();
    sample(&opts(&ds, &c, 10, Strategy::Random, 2), &common::catalog()).unwrap();
    let read = |p: &Path| std::fs::read(p.join("tasks.jsonl")).unwrap();
    assert_eq!(read(&a), read(&b));
    assert_ne!(read(&a), read(&c));

    let u = dir.path().join("u");
    sample(
        &opts(&ds, &u, 5, Strategy::Uncertain, 1),
        &common::catalog(),
    )
    .unwrap();
    let mut conf: Vec<f32> = read_tasks(&u.join("tasks.jsonl"))
        .unwrap()
        .iter()
        .map(|t| t.predicted_confidence.unwrap())
        .collect();
    conf.sort_by(f32::total_cmp);
    let expected: Vec<f32> = (0..5).map(|i| i as f32 / 60.0).collect();
    assert_eq!(conf, expected);
}

#[test]
fn refusals_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    write_dataset(&ds, false, 20);
    let out = dir.path().join("out");
    let e = sample(
        &opts(&ds, &out, 5, Strategy::Stratified, 0),
        &common::catalog(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("jobshift classify"), "{e}");
    // random works from postings/
    let m = sample(&opts(&ds, &out, 5, Strategy::Random, 0), &common::catalog())
        .unwrap()
        .manifest;
    assert_eq!((m.read_from.as_str(), m.n_tasks), ("postings", 5));
    // asking for more than exists draws all, with a warning
    let out2 = dir.path().join("out2");
    let o = sample(
        &opts(&ds, &out2, 50, Strategy::Random, 0),
        &common::catalog(),
    )
    .unwrap();
    assert_eq!(o.manifest.n_tasks, 20);
    assert!(!o.warnings.is_empty());
    // a directory that already holds answers is refused
    std::fs::write(out.join("answers.jsonl"), "").unwrap();
    let e = sample(&opts(&ds, &out, 5, Strategy::Random, 0), &common::catalog())
        .unwrap_err()
        .to_string();
    assert!(e.contains("new --out"), "{e}");
    let e = sample(
        &opts(
            &dir.path().join("nothing"),
            &dir.path().join("o3"),
            5,
            Strategy::Random,
            0,
        ),
        &common::catalog(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("jobshift ingest"), "{e}");
}
