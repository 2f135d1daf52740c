#!/usr/bin/env python3
"""Trends benchmark: `jobshift report` (DataFusion) against DuckDB running the *same SQL* on the
*same Parquet*, in the same run, on the same threads.

1. (optional) generate a classified dataset with gen_classified.py;
2. time `jobshift report DATASET --out OUT` end to end (scan, aggregation, intervals, all files);
3. read OUT/queries.sql — the exact statements jobshift's engine ran — and time DuckDB running
   them over DATASET/classified (months, cell as a table, baseline/titles/tiers/families);
4. check both engines agree on the baseline counts, print and save the ratio.

    python3 benches/trends/run.py --dataset /tmp/bench100m --jobshift target/debug/jobshift
    python3 benches/trends/run.py --generate 10000000 --dataset /tmp/bench10m --jobshift ...
    # DuckDB only, on a report jobshift already wrote (how `jobshift-bench` runs the peer):
    python3 benches/trends/run.py --duckdb-only --dataset DS --out DS_REPORT_DIR --json-out d.json

Note: a dev build compiles jobshift's own crates at opt-level 0 but DataFusion/arrow at 3, so the
engine work runs at release speed; a --release build changes little here. Say which you ran.
"""
import argparse, json, os, re, subprocess, sys, time, platform
import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_queries(path):
    text = open(path).read()
    out = []
    for m in re.finditer(r"^-- (\w[^\n]*)\n(.*?);\n", text, re.S | re.M):
        out.append((m.group(1).strip(), m.group(2)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--jobshift", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "jobshift"))
    ap.add_argument("--out", default=None, help="report directory (default: DATASET/bench-report)")
    ap.add_argument("--generate", type=int, default=0, help="generate this many rows first (if DATASET has no classified/)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--extra", default="", help="extra arguments for jobshift report, e.g. '--assume-unique'")
    ap.add_argument("--results", default=os.path.join(HERE, "results.jsonl"))
    ap.add_argument("--duckdb-only", action="store_true",
                    help="do not run jobshift: time DuckDB on OUT/queries.sql of a report already written in --out")
    ap.add_argument("--json-out", default=None, help="also write this run's result as JSON here")
    a = ap.parse_args()
    cls = os.path.join(a.dataset, "classified")
    if a.generate and not os.path.exists(cls):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_classified.py"), "--rows", str(a.generate), "--out", a.dataset], check=True)
    out = a.out or os.path.join(a.dataset, "bench-report")

    t_js = None
    if not a.duckdb_only:
        cmd = [a.jobshift, "report", a.dataset, "--out", out] + a.extra.split()
        t0 = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        t_js = time.time() - t0
        if r.returncode != 0:
            sys.exit(f"jobshift failed:\n{r.stderr}")
        print(r.stdout.strip())

    queries = parse_queries(os.path.join(out, "queries.sql"))
    con = duckdb.connect()
    con.execute(f"SET threads={a.threads}")
    t0 = time.time()
    con.execute(f"CREATE VIEW postings AS SELECT * FROM read_parquet('{cls}/**/*.parquet', hive_partitioning=false)")
    con.execute(f"CREATE TABLE title_map AS SELECT * FROM read_csv('{out}/title_map.csv', header=true, all_varchar=true)")
    results = {}
    for name, q in queries:
        if name.startswith("cell ("):
            continue  # panel variant; run without --panel for the comparison
        if name == "cell":
            con.execute(f"CREATE TABLE cell AS {q}")
        else:
            results[name] = con.execute(q).fetchall()
    t_duck = time.time() - t0

    rep = json.load(open(os.path.join(out, "report.json")))
    base = results.get("baseline")
    if base:
        cols = [d[0] for d in con.execute([q for n, q in queries if n == "baseline"][0] + " LIMIT 0").description]
        row = dict(zip(cols, base[0]))
        for y in rep["years"]:
            js, dk = rep["baseline"]["counts"][str(y)], row[f"y_{y}"]
            assert int(js) == int(dk), f"baseline {y}: jobshift {js} vs duckdb {dk}"
    rows = sum(rep["baseline"]["counts"].values())
    res = {
        "dataset": a.dataset, "postings_in_windows": rows, "threads": a.threads,
        "jobshift_seconds": round(t_js, 2) if t_js is not None else None,
        "duckdb_seconds": round(t_duck, 2),
        "ratio_jobshift_over_duckdb": round(t_js / t_duck, 2) if t_js is not None else None,
        "baseline_agrees": bool(base),
        "duckdb_version": duckdb.__version__, "jobshift": a.jobshift, "extra": a.extra,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus", "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(json.dumps(res, indent=1))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(res, f, indent=1)
    if not a.duckdb_only:
        with open(a.results, "a") as f:
            f.write(json.dumps(res) + "\n")


if __name__ == "__main__":
    main()
