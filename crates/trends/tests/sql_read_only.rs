//! `jobshift sql` is read-only: DML (INSERT, COPY), DDL (CREATE EXTERNAL TABLE, CREATE TABLE,
//! DROP) and statements (SET) are refused with a message saying so, and leave the dataset and
//! the file system untouched; queries run, including the standard string functions.

mod common;

use common::Fixture;
use jobshift_core::dataset::DatasetDir;
use jobshift_trends::run_sql;
use std::path::Path;

fn fixture(dir: &Path) {
    let mut f = Fixture::default();
    f.add("software_engineer", 2024, 40, Some("acme-"), 3);
    f.add("writer", 2025, 20, Some("acme-"), 3);
    f.write(dir);
}

fn files_of(dir: &Path) -> Vec<std::path::PathBuf> {
    DatasetDir::parquet_files(&dir.join("classified")).unwrap()
}

#[test]
fn writes_ddl_and_statements_are_refused_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    fixture(&ds);
    let before = files_of(&ds);
    let outside = tmp.path().join("outside.csv");
    let outside_s = outside.display().to_string();
    let refused = [
        "INSERT INTO postings SELECT * FROM postings".to_string(),
        format!("COPY (SELECT 1 AS x) TO '{outside_s}' STORED AS CSV"),
        format!("COPY postings TO '{outside_s}' STORED AS CSV"),
        "CREATE EXTERNAL TABLE pw (line VARCHAR) STORED AS CSV LOCATION '/etc/passwd'".to_string(),
        "CREATE TABLE t AS SELECT 1 AS x".to_string(),
        "CREATE VIEW v AS SELECT 1 AS x".to_string(),
        "DROP TABLE postings".to_string(),
        "SET datafusion.execution.batch_size = 1".to_string(),
        "DELETE FROM postings".to_string(),
        "UPDATE postings SET title_id = 'x'".to_string(),
    ];
    for sql in &refused {
        let err = match run_sql(&ds, sql, None) {
            Ok(out) => panic!("{sql:?} was accepted ({} rows)", out.rows()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("read-only"),
            "{sql:?}: the message should say sql is read-only: {err}"
        );
        assert!(!outside.exists(), "{sql:?} wrote {}", outside.display());
        assert_eq!(files_of(&ds), before, "{sql:?} changed the dataset");
    }
    // the dataset still answers
    let out = run_sql(&ds, "SELECT COUNT(*) AS n FROM postings", None).unwrap();
    assert!(out.to_table().unwrap().contains("60"));
}

#[test]
fn queries_run() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    fixture(&ds);
    let out = run_sql(
        &ds,
        "WITH c AS (SELECT title_id FROM postings WHERE title_id LIKE 'w%') \
         SELECT COUNT(*) AS n FROM c",
        None,
    )
    .unwrap();
    assert!(out.to_table().unwrap().contains("20"));
    // EXPLAIN and DESCRIBE read nothing but the plan / schema
    run_sql(&ds, "EXPLAIN SELECT * FROM postings", None).unwrap();
    run_sql(&ds, "DESCRIBE postings", None).unwrap();
}

#[test]
fn standard_string_functions_work() {
    // issue #18: `substr` failed ("enable the `unicode_expressions` DataFusion feature")
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    fixture(&ds);
    let out = run_sql(
        &ds,
        "SELECT substr(title_id, 1, 3) AS p, length(title_id) AS l, upper(left(title_id, 2)) AS u, \
         strpos(title_id, '_') AS i, reverse('ab') AS r, lpad('7', 3, '0') AS z \
         FROM postings WHERE title_id LIKE 'w%' LIMIT 1",
        None,
    )
    .unwrap();
    let table = out.to_table().unwrap();
    assert!(table.contains("| ba ") && table.contains("007"), "{table}");
}
