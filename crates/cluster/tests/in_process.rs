//! Ballista in process: a scheduler and an executor run as tasks of the test (jobshift's own
//! nodes, on free loopback ports), and `jobshift sql` and the report run through them on a
//! generated classified dataset; both must equal local runs exactly (the report to the last bit
//! of every interval, compared as its JSON). Classification runs through them too (the cascade
//! as the executors' scalar function) and must write the files a local run writes.

use jobshift_cluster::node::{run_executor, run_scheduler, ExecutorOptions, SchedulerOptions};
use jobshift_cluster::{client, ClusterUrl};
use jobshift_generate::{generate_classified, ClassifiedOptions, GenerateOptions};
use jobshift_trends::{TrendOptions, YearMonth};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A generated classified dataset of `postings` from `from` to `to` into each of `dirs` (the
/// same files in each), built-in taxonomy, with `classified` options.
fn generate(
    dirs: &[&Path],
    (postings, seed, rows_per_file): (u64, u64, u64),
    (from, to): (YearMonth, YearMonth),
    classified: &ClassifiedOptions,
) {
    let catalog = jobshift_generate::load_catalog_for(&jobshift_generate::TaxonomySource::Builtin)
        .expect("taxonomy");
    let opts = GenerateOptions {
        postings,
        seed,
        from,
        to,
        rows_per_file,
        ..GenerateOptions::default()
    };
    for d in dirs {
        generate_classified(&catalog, &opts, classified, d, None).expect("generating postings");
    }
}

/// Start a scheduler and one executor in this process; returns the cluster's address once a
/// query runs on it.
async fn start_cluster() -> ClusterUrl {
    let sched: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let exec: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    tokio::spawn(run_scheduler(SchedulerOptions {
        bind: sched,
        advertise_host: None,
    }));
    tokio::spawn(run_executor(ExecutorOptions {
        scheduler: sched.to_string(),
        bind: exec,
        advertise_host: None,
        concurrent_tasks: Some(2),
        work_dir: None,
        memory_pool: None,
    }));
    let url: ClusterUrl = format!("df://{sched}").parse().unwrap();
    for _ in 0..100 {
        if let Ok(ctx) = client::connect(&url).await {
            let probe = tokio::time::timeout(
                Duration::from_secs(20),
                jobshift_trends::engine::query(&ctx, "SELECT 1 AS one"),
            )
            .await;
            if matches!(probe, Ok(Ok(_))) {
                return url;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the in-process cluster at {url} did not answer within 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sql_and_report_on_an_in_process_cluster_equal_local_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let window = (YearMonth::new(2023, 1), YearMonth::new(2025, 6));
    let classified = ClassifiedOptions::default();
    generate(&[tmp.path()], (30_000, 7, 2_000), window, &classified);
    let url = start_cluster().await;
    let ctx = client::connect(&url).await.unwrap();

    // SQL, including the `titles` table (an in-memory table carried by jobshift's codec)
    let q = "SELECT p.title_id, t.family, COUNT(*) AS n, COUNT(DISTINCT company) AS companies \
             FROM postings p JOIN titles t ON t.id = p.title_id \
             GROUP BY p.title_id, t.family ORDER BY n DESC, p.title_id";
    let local = jobshift_trends::run_sql_async(tmp.path(), q, None)
        .await
        .unwrap();
    let remote = client::run_sql(&ctx, tmp.path(), q, None).await.unwrap();
    assert!(
        local.rows() > 10,
        "the query returned {} rows",
        local.rows()
    );
    assert_eq!(remote.to_table().unwrap(), local.to_table().unwrap());

    // the report: every count, change and interval, with the correction's bootstrap seeded
    let opts = TrendOptions {
        panel: false,
        seed: 42,
        ..TrendOptions::default()
    };
    let local = jobshift_trends::analyze_async(tmp.path(), &opts)
        .await
        .unwrap();
    let remote = client::analyze(ctx, tmp.path(), &opts).await.unwrap();
    let (l, r) = (
        serde_json::to_string(&local).unwrap(),
        serde_json::to_string(&remote).unwrap(),
    );
    assert!(local.titles.len() > 10);
    assert_eq!(l, r, "the cluster's report differs from the local one");

    // the company panel (a join of the cell table with itself) as well
    let opts = TrendOptions {
        panel: true,
        years: 2,
        ..opts
    };
    let local = jobshift_trends::analyze_async(tmp.path(), &opts)
        .await
        .unwrap();
    let ctx = client::connect(&url).await.unwrap();
    let remote = client::analyze(ctx, tmp.path(), &opts).await.unwrap();
    assert_eq!(
        serde_json::to_string(&local).unwrap(),
        serde_json::to_string(&remote).unwrap()
    );
}

#[tokio::test]
async fn an_unreachable_scheduler_is_named_with_the_fix() {
    let url: ClusterUrl = format!("df://127.0.0.1:{}", free_port()).parse().unwrap();
    let started = std::time::Instant::now();
    let err = match client::connect(&url).await {
        Ok(_) => panic!("connected to a scheduler that does not exist"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains(&format!("scheduler {url}")), "{err}");
    assert!(err.contains("jobshift cluster scheduler --bind"), "{err}");
    assert!(started.elapsed() < client::CONNECT_TIMEOUT + Duration::from_secs(5));
}

/// Every file under `dir/classified/`, relative path → bytes.
fn classified_files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    jobshift_core::test_support::file_tree(&dir.join("classified"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn classification_on_an_in_process_cluster_writes_what_a_local_run_writes() {
    if jobshift_encode::resolve_model("minilm").is_err() {
        jobshift_core::test_support::skip_missing("the minilm model (jobshift model fetch minilm)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // a postings table with raw titles (no descriptions), the same files in two datasets
    let copts = ClassifiedOptions {
        raw_titles: true,
        postings_table: true,
        ..ClassifiedOptions::default()
    };
    let (local, remote) = (tmp.path().join("local"), tmp.path().join("remote"));
    let window = (YearMonth::new(2025, 1), YearMonth::new(2025, 4));
    generate(&[&local, &remote], (3_000, 11, 500), window, &copts);
    // a small classifier: taxonomy names and aliases, kNN, thresholds given
    let cls = tmp.path().join("classifier");
    jobshift_classify::train(&jobshift_classify::TrainOptions {
        out: cls.clone(),
        name: "in-process-test".into(),
        no_onet_alternates: true,
        evaluate: false,
        min_confidence: Some(0.3),
        ambiguity_margin: Some(0.05),
        progress: false,
        ..jobshift_classify::TrainOptions::default()
    })
    .expect("training the test classifier");
    let classifier = jobshift_classify::Classifier::load(&cls).expect("loading it");
    let local_report = jobshift_classify::classify_dataset(
        &local,
        &classifier,
        &jobshift_classify::ClassifyOptions {
            progress: false,
            ..Default::default()
        },
    )
    .expect("local classification");

    let url = start_cluster().await;
    let ctx = client::connect(&url).await.unwrap();
    let cluster_opts = jobshift_cluster::classify::ClusterClassifyOptions {
        classifier_dir: cls.clone(),
        cascade: None,
        force: false,
        files_in_flight: 4,
        progress: false,
        read_from: None,
    };
    let remote_report = jobshift_cluster::classify::classify_dataset(&ctx, &remote, &cluster_opts)
        .await
        .expect("classification on the cluster");
    assert_eq!(remote_report.rows, local_report.rows);
    assert!(local_report.rows >= 2_900, "{} rows", local_report.rows);
    assert_eq!(remote_report.by_method, local_report.by_method);
    assert!(
        local_report.by_method.len() >= 2,
        "{:?}",
        local_report.by_method
    );
    let (l, r) = (classified_files(&local), classified_files(&remote));
    assert_eq!(
        l.keys().collect::<Vec<_>>(),
        r.keys().collect::<Vec<_>>(),
        "different files"
    );
    for (rel, bytes) in &l {
        assert!(
            r[rel] == *bytes,
            "classified/{rel} differs from the local run's"
        );
    }
    // a second run on the cluster finds everything done
    let again = jobshift_cluster::classify::classify_dataset(&ctx, &remote, &cluster_opts)
        .await
        .unwrap();
    assert_eq!(again.files_done_now, 0);
}
