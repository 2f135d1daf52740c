//! A real cluster on loopback: one `jobshift cluster scheduler` and two `jobshift cluster
//! executor` processes spawned from the built binary (free ports, bounded waits), then
//! `jobshift sql` and `jobshift report` with `--cluster`, compared byte for byte with local runs;
//! and an executor killed during a query: the query completes with the same output or fails
//! with a clear error, and no output is half-written either way. A dataset in an S3-compatible
//! object store (a local moto server) is read by `sql` and `report`, locally and on the
//! cluster, with the same results as its directory.

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

fn spawn(args: &[&str], log: &Path, env: &[(&str, String)]) -> Child {
    let log = std::fs::File::create(log).expect("node log file");
    Command::new(BIN)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("starting a cluster node")
}

fn jobshift(args: &[&str]) -> Output {
    jobshift_env(args, &[])
}

fn ok(args: &[&str]) -> Output {
    ok_env(args, &[])
}

fn start_cluster(dir: &Path, executors: usize) -> Cluster {
    start_cluster_with_env(dir, executors, &[])
}

/// A cluster whose nodes also get `env` (an object store's endpoint and credentials).
fn start_cluster_with_env(dir: &Path, executors: usize, env: &[(&str, String)]) -> Cluster {
    let sched = format!("127.0.0.1:{}", free_port());
    let scheduler = spawn(
        &["cluster", "scheduler", "--bind", &sched],
        &dir.join("scheduler.log"),
        env,
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
            env,
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
    let compared = same_files(&local, &remote, &[".json", ".csv", ".md"], "cluster report");
    assert!(compared >= 3, "compared only {compared} report files");
}

/// Every file of `local` whose name ends with one of `endings` is byte for byte the same in
/// `other`; returns how many were compared.
fn same_files(local: &Path, other: &Path, endings: &[&str], what: &str) -> usize {
    let mut compared = 0;
    for entry in std::fs::read_dir(local).unwrap() {
        let name = entry.unwrap().file_name();
        let n = name.to_string_lossy();
        if endings.iter().any(|e| n.ends_with(e)) {
            assert_eq!(
                read(&local.join(&name)),
                read(&other.join(&name)),
                "{what}: {n} differs from the local run's"
            );
            compared += 1;
        }
    }
    compared
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
    if !have_minilm() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // raw postings with descriptions (and some malformed and duplicate rows), ingested: a
    // postings file per month
    let inputs = raw_postings(tmp.path());
    let local = tmp.path().join("local");
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
    let cls = tmp.path().join("classifier");
    train_small_classifier(&cls);
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

/// Whether the minilm model is installed (else a skip, or a failure in CI).
fn have_minilm() -> bool {
    let have = jobshift_encode::resolve_model("minilm").is_ok();
    if !have {
        jobshift_core::test_support::skip_missing("the minilm model (jobshift model fetch minilm)");
    }
    have
}

/// 2,500 generated raw postings in `dir/raw`, three files of them: their paths.
fn raw_postings(dir: &Path) -> Vec<String> {
    let raw = dir.join("raw");
    ok(&[
        "generate",
        "--postings",
        "2500",
        "--rows-per-file",
        "1000",
        "--out",
        raw.to_str().unwrap(),
    ]);
    file_tree(&raw.join("postings"))
        .into_keys()
        .map(|rel| raw.join("postings").join(rel).display().to_string())
        .collect()
}

/// A small classifier in `dir` (taxonomy names and aliases, kNN, the description step on).
fn train_small_classifier(dir: &Path) {
    ok(&[
        "train",
        "--no-onet-alternates",
        "--no-eval",
        "--min-confidence",
        "0.3",
        "--ambiguity-margin",
        "0.05",
        "--out",
        dir.to_str().unwrap(),
    ]);
}

/// A local S3-compatible server (moto's), stopped when the test ends.
struct S3Server {
    endpoint: String,
    child: Child,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl S3Server {
    /// Start one on a free port (None, after `skip_missing`, without python3 and moto).
    fn start(dir: &Path) -> Option<S3Server> {
        let have = Command::new("python3")
            .args(["-c", "import moto.server, boto3"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !have {
            jobshift_core::test_support::skip_missing(
                "python3 with moto's S3 server (pip install 'moto[server]')",
            );
            return None;
        }
        let port = free_port();
        let log = std::fs::File::create(dir.join("s3.log")).unwrap();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting moto's S3 server");
        let server = S3Server {
            endpoint: format!("http://127.0.0.1:{port}"),
            child,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto's S3 server did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(server)
    }

    /// The environment a jobshift process reads this server with.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// Create `bucket` and copy every file under `dir` to `s3://bucket/prefix/...`.
    fn upload(&self, dir: &Path, bucket: &str, prefix: &str) {
        let script = r#"
import boto3, os, sys
endpoint, bucket, root, prefix = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket=bucket)
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, bucket, prefix + "/" + os.path.relpath(p, root))
"#;
        let out = Command::new("python3")
            .args([
                "-c",
                script,
                &self.endpoint,
                bucket,
                dir.to_str().unwrap(),
                prefix,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "uploading {} to s3://{bucket}/{prefix}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl S3Server {
    /// Run a boto3 script with the client as `s3` and the extra arguments as `args`.
    fn boto(&self, body: &str, args: &[&str]) -> Vec<u8> {
        let script = format!(
            "import boto3, os, sys\nargs = sys.argv[1:]\n\
             s3 = boto3.client('s3', endpoint_url='{}', region_name='us-east-1', \
             aws_access_key_id='test', aws_secret_access_key='test')\n{body}",
            self.endpoint
        );
        let out = Command::new("python3")
            .arg("-c")
            .arg(&script)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "boto3 {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Every object under `s3://bucket/prefix/` into `dir` (by its path under the prefix).
    fn download(&self, bucket: &str, prefix: &str, dir: &Path) {
        self.boto(
            "b, p, d = args\n\
             for page in s3.get_paginator('list_objects_v2').paginate(Bucket=b, Prefix=p + '/'):\n    \
             for o in page.get('Contents', []):\n        \
             f = os.path.join(d, o['Key'][len(p) + 1:])\n        \
             os.makedirs(os.path.dirname(f), exist_ok=True)\n        \
             s3.download_file(b, o['Key'], f)\n",
            &[bucket, prefix, dir.to_str().unwrap()],
        );
    }

    /// Put `body` at `s3://bucket/key`.
    fn put(&self, bucket: &str, key: &str, body: &str) {
        self.boto(
            "s3.put_object(Bucket=args[0], Key=args[1], Body=args[2].encode())",
            &[bucket, key, body],
        );
    }

    fn delete(&self, bucket: &str, key: &str) {
        self.boto(
            "s3.delete_object(Bucket=args[0], Key=args[1])",
            &[bucket, key],
        );
    }
}

fn jobshift_env(args: &[&str], env: &[(&str, String)]) -> Output {
    Command::new(BIN)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("running jobshift")
}

fn ok_env(args: &[&str], env: &[(&str, String)]) -> Output {
    let out = jobshift_env(args, env);
    assert!(
        out.status.success(),
        "jobshift {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Every CSV byte for byte, and report.json but for the dataset location it names.
fn assert_same_report(local: &Path, other: &Path, what: &str) {
    let compared = same_files(local, other, &[".csv"], what);
    assert!(compared >= 3, "compared only {compared} CSV tables");
    let json = |dir: &Path| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&read(&dir.join("report.json"))).unwrap();
        v["inputs"]["dataset"] = serde_json::Value::Null;
        v
    };
    assert_eq!(
        json(local),
        json(other),
        "{what}: report.json differs from the local directory's"
    );
}

#[test]
fn a_dataset_in_an_s3_bucket_reads_as_its_directory_locally_and_on_a_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(s3) = S3Server::start(tmp.path()) else {
        return;
    };
    let data = generate(tmp.path(), 30_000);
    s3.upload(&data, "jobshift-test", "studies/generated");
    let env = s3.env();
    let (d, url) = (
        data.to_str().unwrap(),
        "s3://jobshift-test/studies/generated",
    );

    // sql: the same rows from the bucket as from the directory
    let q = "SELECT title_id, COUNT(*) AS n, COUNT(DISTINCT company) AS companies \
             FROM postings GROUP BY title_id ORDER BY n DESC, title_id";
    let csv = |name: &str| tmp.path().join(name);
    ok(&["sql", d, q, "--csv", csv("local.csv").to_str().unwrap()]);
    ok_env(
        &["sql", url, q, "--csv", csv("s3.csv").to_str().unwrap()],
        &env,
    );
    assert_eq!(
        read(&csv("local.csv")),
        read(&csv("s3.csv")),
        "sql over s3://"
    );

    // the report (its inputs name the classifier recorded in the bucket's manifest)
    let out = |name: &str| tmp.path().join(name);
    let report = |dataset: &str, dir: &Path, extra: &[&str]| {
        let mut args = vec!["report", dataset, "--out", dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        ok_env(&args, &env);
    };
    report(d, &out("report-local"), &[]);
    report(url, &out("report-s3"), &[]);
    assert_same_report(&out("report-local"), &out("report-s3"), "report over s3://");
    let json: serde_json::Value =
        serde_json::from_slice(&read(&out("report-s3").join("report.json"))).unwrap();
    assert_eq!(json["inputs"]["dataset"], url);
    assert!(
        json["inputs"]["classifier"].is_string(),
        "the bucket's classified/manifest.json was not read: {}",
        json["inputs"]
    );

    // a loopback cluster whose nodes read the bucket with their own environment
    let cluster = start_cluster_with_env(tmp.path(), 1, &env);
    wait_ready(&cluster, &data);
    ok_env(
        &[
            "sql",
            url,
            q,
            "--csv",
            csv("cluster.csv").to_str().unwrap(),
            "--cluster",
            &cluster.url,
        ],
        &env,
    );
    assert_eq!(
        read(&csv("local.csv")),
        read(&csv("cluster.csv")),
        "sql over s3:// on a cluster"
    );
    report(url, &out("report-cluster"), &["--cluster", &cluster.url]);
    assert_same_report(
        &out("report-local"),
        &out("report-cluster"),
        "report over s3:// on a cluster",
    );

    // a bucket that does not exist, and an endpoint that does not answer: an error naming the
    // location and what to check, within seconds
    let missing = jobshift_env(&["sql", "s3://no-such-bucket/data", "SELECT 1"], &env);
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(
        err.contains("s3://no-such-bucket/data") && err.contains("AWS_ENDPOINT"),
        "{err}"
    );
    let mut dead = env.clone();
    dead[0].1 = format!("http://127.0.0.1:{}", free_port());
    let started = Instant::now();
    let unreachable = jobshift_env(&["sql", url, "SELECT 1"], &dead);
    let err = String::from_utf8_lossy(&unreachable.stderr);
    assert!(!unreachable.status.success());
    assert!(err.contains(url) && err.contains("AWS_ENDPOINT"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "an unreachable endpoint took {:?} to report",
        started.elapsed()
    );
}

#[test]
fn ingest_and_classify_publish_a_dataset_to_an_s3_bucket_whole_and_one_writer_at_a_time() {
    if !have_minilm() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let Some(s3) = S3Server::start(tmp.path()) else {
        return;
    };
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    s3.upload(&empty, "jobshift-write", "none");
    let mut env = s3.env();
    // the working copies go into the test's own cache
    env.push((
        "JOBSHIFT_WORK_DIR",
        tmp.path().join("work").display().to_string(),
    ));
    let (bucket, prefix) = ("jobshift-write", "studies/ds");
    let url = format!("s3://{bucket}/{prefix}");
    let inputs = raw_postings(tmp.path());
    let ingest = |out: &str| {
        let mut args = vec!["ingest"];
        args.extend(inputs.iter().map(String::as_str));
        args.extend(["--out", out, "-q"]);
        jobshift_env(&args, &env)
    };
    let local = tmp.path().join("local");
    assert!(ingest(local.to_str().unwrap()).status.success());

    // another writer holds the dataset: refused, naming it, and nothing is written
    let lease = format!(
        "{{\"holder\": \"ann@elsewhere pid 7\", \"command\": \"ingest\", \
         \"acquired\": \"2026-01-01T00:00:00Z\", \"expires\": {}}}",
        i64::MAX / 2
    );
    s3.put(bucket, &format!("{prefix}/.jobshift-writer.lock"), &lease);
    let busy = ingest(&url);
    let err = String::from_utf8_lossy(&busy.stderr);
    assert!(
        !busy.status.success(),
        "ingested past another writer's lease"
    );
    assert!(
        err.contains("ann@elsewhere pid 7") && err.contains("fix"),
        "the refusal does not name the holder and the fix:\n{err}"
    );
    let seen = tmp.path().join("seen");
    s3.download(bucket, prefix, &seen);
    assert_eq!(
        file_tree(&seen).into_keys().collect::<Vec<_>>(),
        vec![".jobshift-writer.lock".to_string()],
        "a refused writer wrote objects"
    );
    s3.delete(bucket, &format!("{prefix}/.jobshift-writer.lock"));

    // ingest into the bucket: the same rows as the directory, the lease released
    let out = ingest(&url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("published to s3://"));
    let csv = |name: &str| tmp.path().join(name);
    let sql = |dataset: &str, q: &str, name: &str, extra: &[&str]| {
        let path = csv(name).display().to_string();
        let mut args = vec!["sql", dataset, q, "--csv", &path];
        args.extend_from_slice(extra);
        ok_env(&args, &env)
    };
    let q = "SELECT posting_id, title, company, posted_date, duplicates FROM postings \
             ORDER BY posting_id";
    // `q` over the directory and over the bucket, into local-NAME.csv and s3-NAME.csv: equal
    let same_in_both = |q: &str, name: &str, what: &str| {
        let (here, there) = (format!("local-{name}.csv"), format!("s3-{name}.csv"));
        sql(local.to_str().unwrap(), q, &here, &[]);
        sql(&url, q, &there, &[]);
        assert_eq!(read(&csv(&here)), read(&csv(&there)), "{what}");
    };
    same_in_both(q, "postings", "ingest into s3://");
    let bucket_files = |name: &str| {
        let dir = tmp.path().join(name);
        s3.download(bucket, prefix, &dir);
        file_tree(&dir)
    };
    let after_ingest = bucket_files("after-ingest");
    assert!(!after_ingest.contains_key(".jobshift-writer.lock"));
    let record: serde_json::Value =
        serde_json::from_slice(&after_ingest[".jobshift-commit.json"]).unwrap();
    assert_eq!(record["state"], "committed");
    let listed: Vec<String> = record["files"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let published: Vec<String> = after_ingest
        .keys()
        .filter(|k| !k.starts_with('.'))
        .cloned()
        .collect();
    assert_eq!(listed, published, "the commit record lists other files");
    assert!(listed.iter().any(|k| k.starts_with("postings/")));

    // classify, locally and on a cluster, into the bucket: what a local run writes
    let cls = tmp.path().join("classifier");
    train_small_classifier(&cls);
    let classify = |data: &str, extra: &[&str]| {
        let mut args = vec!["classify", data, "--classifier", cls.to_str().unwrap()];
        args.extend_from_slice(extra);
        String::from_utf8_lossy(&ok_env(&args, &env).stdout).into_owned()
    };
    classify(local.to_str().unwrap(), &[]);
    let classified = |tree: &std::collections::BTreeMap<String, Vec<u8>>| {
        tree.iter()
            .filter(|(k, _)| k.starts_with("classified/") && k.ends_with(".parquet"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let want = classified(&file_tree(&local));
    assert!(want.len() >= 3, "{:?}", want.keys());
    let said = classify(&url, &[]);
    assert!(said.contains("published to s3://"), "{said}");
    assert_eq!(classified(&bucket_files("after-classify")), want);

    // the same on a cluster whose executors read the bucket: a fresh working copy, --force
    let cluster = start_cluster_with_env(tmp.path(), 1, &env);
    wait_ready(&cluster, &generate(tmp.path(), 1000));
    std::fs::remove_dir_all(tmp.path().join("work")).unwrap();
    let said = classify(&url, &["--force", "--cluster", &cluster.url]);
    assert!(said.contains("classified on the cluster"), "{said}");
    assert_eq!(classified(&bucket_files("after-cluster")), want);
    let q = "SELECT posting_id, title_id, method, confidence FROM postings ORDER BY posting_id";
    same_in_both(q, "classified", "classified postings read from s3://");
    // the committed files only, as one table, on the cluster too
    sql(
        &url,
        q,
        "cluster-classified.csv",
        &["--cluster", &cluster.url],
    );
    assert_eq!(
        read(&csv("local-classified.csv")),
        read(&csv("cluster-classified.csv")),
        "classified postings read from s3:// on a cluster"
    );

    // a directory built elsewhere, published as it is
    let copy = format!("s3://{bucket}/copies/local");
    let said = ok_env(
        &["dataset", "publish", local.to_str().unwrap(), &copy],
        &env,
    );
    assert!(String::from_utf8_lossy(&said.stdout).contains("file(s) uploaded"));
    sql(&copy, q, "copy-classified.csv", &[]);
    assert_eq!(
        read(&csv("local-classified.csv")),
        read(&csv("copy-classified.csv")),
        "a published directory"
    );

    // a publish killed halfway (after one upload): readers refuse, and the next run on this
    // machine takes the dead writer's lease over at once and publishes the whole version
    let killed = Command::new(BIN)
        .args(["dataset", "publish", local.to_str().unwrap(), &url])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("JOBSHIFT_FAULT_AFTER_UPLOADS", "1")
        .output()
        .unwrap();
    assert!(
        !killed.status.success(),
        "the fault hook did not stop the publish"
    );
    let refused = jobshift_env(&["sql", &url, "SELECT COUNT(*) FROM postings"], &env);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "read a half-published dataset");
    assert!(err.contains("is being published by"), "{err}");
    ok_env(&["dataset", "publish", local.to_str().unwrap(), &url], &env);
    sql(&url, q, "republished.csv", &[]);
    assert_eq!(
        read(&csv("local-classified.csv")),
        read(&csv("republished.csv")),
        "the version published after the killed one"
    );

    // a publish under way (or interrupted): readers refuse instead of reading two versions
    let mut record: serde_json::Value =
        serde_json::from_slice(&bucket_files("record")[".jobshift-commit.json"]).unwrap();
    record["state"] = "writing".into();
    s3.put(
        bucket,
        &format!("{prefix}/.jobshift-commit.json"),
        &record.to_string(),
    );
    let refused = jobshift_env(&["sql", &url, "SELECT COUNT(*) FROM postings"], &env);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        err.contains("is being published by") && err.contains("fix"),
        "{err}"
    );
}
