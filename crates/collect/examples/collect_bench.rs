//! Benchmark (not a timed test): `jobshift collect` against a loopback server with N companies ×
//! M postings (Greenhouse-shaped boards, ~2 KB descriptions).
//!
//! ```sh
//! cargo run --release -p jobshift-collect --example collect_bench -- --companies 1000 --postings 50
//! cargo run --release -p jobshift-collect --example collect_bench -- --companies 100 --postings 50
//! ```
//!
//! The server runs in a child process (this program, `serve PORT-FILE M`), so the CPU time and
//! peak RSS printed are the collector's alone (`/proc/self/stat`, `/proc/self/status` VmHWM):
//! fetch, snapshot, parse, history, and the ingest of every posting into a fresh dataset. It also
//! prints the wall time the default politeness settings (1 request/s per host) would take for
//! the same boards on one ATS host.

use std::io::Write;
use std::time::{Duration, Instant};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const WORDS: [&str; 24] = [
    "customers",
    "team",
    "build",
    "support",
    "manage",
    "develop",
    "quality",
    "service",
    "systems",
    "patients",
    "reports",
    "design",
    "data",
    "safety",
    "operations",
    "training",
    "projects",
    "clients",
    "process",
    "growth",
    "schedule",
    "inventory",
    "analysis",
    "products",
];
const TITLES: [&str; 10] = [
    "Software Engineer",
    "Registered Nurse",
    "Staff Accountant",
    "Truck Driver",
    "Data Scientist",
    "Sales Manager",
    "Pharmacist",
    "Electrician",
    "Warehouse Associate",
    "Customer Service Representative",
];

fn board(company: usize, postings: usize) -> String {
    let mut jobs = Vec::with_capacity(postings);
    for j in 0..postings {
        let seed = company * 7919 + j * 104729;
        let mut desc = String::with_capacity(2200);
        desc.push_str("&lt;p&gt;");
        for w in 0..300 {
            desc.push_str(WORDS[(seed / (w + 1) + w * 13) % WORDS.len()]);
            desc.push(' ');
        }
        desc.push_str(&format!("company {company} posting {j}&lt;/p&gt;"));
        jobs.push(serde_json::json!({
            "id": company * 100_000 + j, "title": TITLES[seed % TITLES.len()],
            "updated_at": "2026-11-20T10:00:00-05:00", "first_published": "2026-11-02T09:00:00-05:00",
            "location": {"name": "Austin, TX"}, "absolute_url": format!("https://boards.greenhouse.io/c{company}/jobs/{j}"),
            "content": desc, "departments": [{"name": "Operations"}], "offices": [{"name": "HQ"}]
        }));
    }
    serde_json::json!({"jobs": jobs, "meta": {"total": postings}}).to_string()
}

fn serve(port_file: &str, postings: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let app = axum::Router::new().route(
            "/gh/{company}/jobs",
            axum::routing::get(
                move |axum::extract::Path(c): axum::extract::Path<usize>| async move {
                    ([("content-type", "application/json")], board(c, postings))
                },
            ),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        std::fs::write(port_file, l.local_addr().unwrap().port().to_string()).unwrap();
        axum::serve(l, app).await.unwrap();
    });
}

/// (user + system CPU seconds, peak RSS bytes) of this process.
fn usage() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = 100.0; // USER_HZ on Linux
    let cpu = fields
        .get(11)
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / ticks
        + fields
            .get(12)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / ticks;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024;
    (cpu, hwm)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        serve(&args[2], args[3].parse().unwrap());
        return;
    }
    let companies = arg("--companies", 1000);
    let postings = arg("--postings", 50);
    let work = tempfile::tempdir().unwrap();
    let port_file = work.path().join("port");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["serve", port_file.to_str().unwrap(), &postings.to_string()])
        .spawn()
        .unwrap();
    let port = loop {
        if let Ok(p) = std::fs::read_to_string(&port_file) {
            if !p.is_empty() {
                break p;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let csv = work.path().join("companies.csv");
    let mut f = std::fs::File::create(&csv).unwrap();
    writeln!(f, "name,ats,board,url").unwrap();
    for c in 0..companies {
        writeln!(
            f,
            "Company {c},greenhouse,c{c},http://127.0.0.1:{port}/gh/{c}/jobs"
        )
        .unwrap();
    }
    drop(f);
    let file = jobshift_collect::read_companies(&csv).unwrap();
    let opts = jobshift_collect::CollectOptions {
        fetch: jobshift_collect::FetchOptions {
            allow_private_network: true,
            per_host_rate: 100_000.0,
            concurrency: 16,
            ..Default::default()
        },
        only: vec![],
        progress: false,
    };
    let (cpu0, _) = usage();
    let t0 = Instant::now();
    let ds = work.path().join("dataset");
    let r = jobshift_collect::collect(&file, &ds, &opts).unwrap();
    let wall = t0.elapsed().as_secs_f64();
    let (cpu1, peak) = usage();
    let _ = child.kill();
    let _ = child.wait();
    let cpu = cpu1 - cpu0;
    let ing = r.ingest.clone().unwrap_or_default();
    let default_rate = jobshift_collect::FetchOptions::default().per_host_rate;
    println!(
        "companies {companies} × postings {postings}: fetched {} (ok {}, failed {}), ingest accepted {} duplicates {} rejected {}",
        r.postings.fetched, r.ok, r.failed, ing.accepted, ing.duplicates, ing.rejected
    );
    println!(
        "wall {wall:.1} s, CPU {cpu:.1} s: {:.0} postings per CPU-second; peak RSS {:.0} MB; {} requests",
        r.postings.fetched as f64 / cpu.max(1e-9),
        peak as f64 / 1e6,
        r.requests
    );
    println!(
        "politeness: at the default {default_rate} request/s per host, {} boards on one ATS host take at least {:.0} s ({:.1} min) of wall time",
        companies,
        r.requests as f64 / default_rate,
        r.requests as f64 / default_rate / 60.0
    );
}
