//! A real cluster on loopback: one `jobshift cluster scheduler` and two `jobshift cluster
//! executor` processes spawned from the built binary (free ports, bounded waits), then
//! `jobshift sql` and `jobshift report` with `--cluster`, compared byte for byte with local runs;
//! and an executor killed during a query: the query completes with the same output or fails
//! with a clear error, and no output is half-written either way.

use jobshift_core::test_support::file_tree;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_jobshift");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Nodes of the test cluster; killed when the test ends, however it ends.
struct Cluster {
    url: String,
    scheduler: Child,
    executors: Vec<Child>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self
            .executors
            .iter_mut()
            .chain(std::iter::once(&mut self.scheduler))
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn spawn(args: &[&str], log: &Path) -> Child {
    let log = std::fs::File::create(log).expect("node log file");
    Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting a cluster node")
}

fn jobshift(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("running jobshift")
}

fn ok(args: &[&str]) -> Output {
    let out = jobshift(args);
    assert!(
        out.status.success(),
        "jobshift {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn start_cluster(dir: &Path, executors: usize) -> Cluster {
    let sched = format!("127.0.0.1:{}", free_port());
    let scheduler = spawn(
        &["cluster", "scheduler", "--bind", &sched],
        &dir.join("scheduler.log"),
    );
    let mut cluster = Cluster {
        url: format!("df://{sched}"),
        scheduler,
        executors: Vec::new(),
    };
    for i in 0..executors {
        let bind = format!("127.0.0.1:{}", free_port());
        let work = dir.join(format!("executor-{i}"));
        cluster.executors.push(spawn(
            &[
                "cluster",
                "executor",
                "--scheduler",
                &sched,
                "--bind",
                &bind,
                "--concurrent-tasks",
                "1",
                "--work-dir",
                work.to_str().unwrap(),
            ],
            &dir.join(format!("executor-{i}.log")),
        ));
    }
    cluster
}

/// Wait (bounded) until a trivial query runs on the cluster.
fn wait_ready(cluster: &Cluster, data: &Path) {
    let started = Instant::now();
    loop {
        let out = jobshift(&[
            "sql",
            data.to_str().unwrap(),
            "SELECT COUNT(*) FROM postings",
            "--cluster",
            &cluster.url,
            "--cluster-timeout",
            "20",
        ]);
        if out.status.success() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the loopback cluster did not run a query within 60 s:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn generate(dir: &Path, postings: u64) -> PathBuf {
    let data = dir.join("data");
    ok(&[
        "generate",
        "--classified-only",
        "--postings",
        &postings.to_string(),
        "--rows-per-file",
        "5000",
        "--out",
        data.to_str().unwrap(),
    ]);
    data
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn sql_and_report_on_a_loopback_cluster_equal_local_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = generate(tmp.path(), 60_000);
    let cluster = start_cluster(tmp.path(), 2);
    wait_ready(&cluster, &data);
    let d = data.to_str().unwrap();

    let q = "SELECT title_id, COUNT(*) AS n, COUNT(DISTINCT company) AS companies \
             FROM postings GROUP BY title_id ORDER BY n DESC, title_id";
    let (local, remote) = (tmp.path().join("local.csv"), tmp.path().join("remote.csv"));
    ok(&["sql", d, q, "--csv", local.to_str().unwrap()]);
    ok(&[
        "sql",
        d,
        q,
        "--csv",
        remote.to_str().unwrap(),
        "--cluster",
        &cluster.url,
    ]);
    assert_eq!(
        read(&local),
        read(&remote),
        "sql: cluster and local CSVs differ"
    );

    let (local, remote) = (
        tmp.path().join("report-local"),
        tmp.path().join("report-remote"),
    );
    ok(&["report", d, "--out", local.to_str().unwrap()]);
    ok(&[
        "report",
        d,
        "--out",
        remote.to_str().unwrap(),
        "--cluster",
        &cluster.url,
    ]);
    let mut compared = 0;
    for entry in std::fs::read_dir(&local).unwrap() {
        let name = entry.unwrap().file_name();
        let n = name.to_string_lossy();
        if n.ends_with(".json") || n.ends_with(".csv") || n.ends_with(".md") {
            assert_eq!(
                read(&local.join(&name)),
                read(&remote.join(&name)),
                "report: {n} differs between the cluster and the local run"
            );
            compared += 1;
        }
    }
    assert!(compared >= 3, "compared only {compared} report files");
}

#[test]
fn a_killed_executor_completes_the_query_or_fails_clearly_without_half_written_output() {
    let tmp = tempfile::tempdir().unwrap();
    // large enough that the report's queries are still running when the executor dies
    let data = generate(tmp.path(), 200_000);
    let mut cluster = start_cluster(tmp.path(), 2);
    wait_ready(&cluster, &data);
    let d = data.to_str().unwrap();
    let local = tmp.path().join("report-local");
    ok(&["report", d, "--out", local.to_str().unwrap()]);

    let remote = tmp.path().join("report-remote");
    let client = Command::new(BIN)
        .args([
            "report",
            d,
            "--out",
            remote.to_str().unwrap(),
            "--cluster",
            &cluster.url,
            "--cluster-timeout",
            "240",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let mut victim = cluster.executors.remove(1);
    victim.kill().unwrap();
    victim.wait().unwrap();
    let out = client.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        assert_eq!(
            read(&local.join("report.json")),
            read(&remote.join("report.json")),
            "the rescheduled report differs from the local one"
        );
    } else {
        assert!(
            err.contains("executor") || err.contains("cluster") || err.contains("scheduler"),
            "the failure does not say what failed:\n{err}"
        );
        assert!(
            !remote.join("report.json").exists(),
            "a failed run left a report behind"
        );
    }
    // no temporary files left behind in the output directory either way
    if remote.is_dir() {
        for e in std::fs::read_dir(&remote).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !n.starts_with('.') && !n.contains("tmp"),
                "left behind: {n}"
            );
        }
    }
}

#[test]
fn cluster_help_lists_both_nodes() {
    let out = ok(&["cluster", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("scheduler") && text.contains("executor"),
        "{text}"
    );
}

#[test]
fn classify_on_a_loopback_cluster_writes_what_a_local_run_writes() {
    if jobshift_encode::resolve_model("minilm").is_err() {
        jobshift_core::test_support::skip_missing("the minilm model (jobshift model fetch minilm)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // raw postings with descriptions (and some malformed and duplicate rows), ingested: a
    // postings file per month
    let raw = tmp.path().join("raw");
    ok(&[
        "generate",
        "--postings",
        "2500",
        "--rows-per-file",
        "1000",
        "--out",
        raw.to_str().unwrap(),
    ]);
    let local = tmp.path().join("local");
    let inputs: Vec<String> = file_tree(&raw.join("postings"))
        .into_keys()
        .map(|rel| raw.join("postings").join(rel).display().to_string())
        .collect();
    let mut ingest = vec!["ingest"];
    ingest.extend(inputs.iter().map(String::as_str));
    ingest.extend(["--out", local.to_str().unwrap(), "-q"]);
    ok(&ingest);
    let remote = tmp.path().join("remote");
    std::fs::create_dir_all(&remote).unwrap();
    for (rel, bytes) in file_tree(&local) {
        let p = remote.join(&rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    // a small classifier (taxonomy names and aliases, kNN, the description step on)
    let cls = tmp.path().join("classifier");
    ok(&[
        "train",
        "--no-onet-alternates",
        "--no-eval",
        "--min-confidence",
        "0.3",
        "--ambiguity-margin",
        "0.05",
        "--out",
        cls.to_str().unwrap(),
    ]);
    let classify = |data: &Path, extra: &[&str]| {
        let mut args = vec![
            "classify",
            data.to_str().unwrap(),
            "--classifier",
            cls.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        String::from_utf8_lossy(&ok(&args).stdout).into_owned()
    };
    let local_out = classify(&local, &[]);
    let cluster = start_cluster(tmp.path(), 2);
    wait_ready(&cluster, &generate(tmp.path(), 1000));
    let remote_out = classify(&remote, &["--cluster", &cluster.url]);
    assert!(
        remote_out.contains("classified on the cluster"),
        "{remote_out}"
    );
    let (a, b) = (
        file_tree(&local.join("classified")),
        file_tree(&remote.join("classified")),
    );
    assert!(
        a.keys().filter(|k| k.ends_with(".parquet")).count() >= 3,
        "too few files to spread: {:?}",
        a.keys()
    );
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the cluster wrote other files"
    );
    for (rel, bytes) in &a {
        assert!(
            bytes == &b[rel],
            "classified/{rel} differs between the cluster and the local run"
        );
    }
    // the same per-method counts in both summaries ("  METHOD  N" lines)
    let methods = |s: &str| {
        s.lines()
            .filter(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                l.starts_with("  ") && w.len() == 2 && w[1].parse::<u64>().is_ok()
            })
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(!methods(&local_out).is_empty(), "{local_out}");
    assert_eq!(methods(&local_out), methods(&remote_out));
    // a second run finds everything done, on the cluster as locally
    let again = classify(&remote, &["--cluster", &cluster.url]);
    assert!(again.contains("0 file(s)"), "{again}");

    // an executor that cannot load the classifier: a clear error naming it and the fix, and
    // nothing committed
    let bad = tmp.path().join("no-classifier");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::copy(cls.join("classifier.json"), bad.join("classifier.json")).unwrap();
    let out = jobshift(&[
        "classify",
        remote.to_str().unwrap(),
        "--classifier",
        bad.to_str().unwrap(),
        "--cluster",
        &cluster.url,
        "--cluster-timeout",
        "120",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "classified with a broken classifier");
    assert!(
        err.contains("executor") && err.contains("fix"),
        "the error does not name the executor and the fix:\n{err}"
    );
    assert_eq!(
        file_tree(&remote.join("classified")),
        b,
        "a failed run changed classified/"
    );
}
