#!/usr/bin/env python3
"""Generate a synthetic *classified* jobshift dataset at benchmark scale with DuckDB.

Writes DATASET_DIR/classified/month=YYYY-MM/*.parquet with the columns of
jobshift_core::schema::classified_schema (types matched: DATE, UINTEGER, UBIGINT, FLOAT), for
postings Jan 2023 .. Oct 2025, 60 study titles + unclassified, companies with a skewed size
distribution, and per-title yearly factors (so titles really move). Deterministic: every value is
a hash of the row number. This only feeds the trends benchmark; the realistic corpus with ground
truth is `jobshift generate`.

    python3 benches/trends/gen_classified.py --rows 100000000 --out /tmp/bench100m
"""
import argparse, os, time
import duckdb

TITLES = """computer_graphic_artist photographer writer journalist videographer graphic_designer
product_designer creative_director creative_manager creative_producer public_relations_specialist
corporate_compliance_specialist chief_compliance_officer trade_compliance_specialist
sustainability_specialist sustainability_program_manager sustainability_manager
sustainability_director environmental_technician medical_scribe medical_coder medical_assistant
registered_nurse machine_learning_engineer robotics_engineer research_scientist
data_center_engineer director_of_data_engineering director_of_real_estate legal_director
director_of_software_engineering vp_of_engineering engineering_manager
influencer_marketing_specialist marketing_manager marketing_specialist software_engineer
frontend_engineer backend_engineer mobile_engineer devops_engineer qa_engineer security_engineer
data_analyst data_steward data_engineer data_scientist customer_service_representative
account_executive account_manager sales_manager sales_director director_of_revenue
sales_operations_specialist gtm_engineer bioinformatics_scientist biostatistician
geotechnical_engineer chemical_operator""".split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows before per-title thinning")
    ap.add_argument("--companies", type=int, default=50_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    out = os.path.join(a.out, "classified")
    if os.path.exists(out):
        raise SystemExit(f"{out} exists; remove it or choose another --out")
    os.makedirs(a.out, exist_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads={a.threads}")
    # per title: weight and yearly keep-probabilities (2023, 2024, 2025)
    rows = []
    for k, t in enumerate(TITLES + ["unclassified"]):
        w = 1 + (k * 37) % 19
        g1 = ((k * 13) % 41 - 20) / 100.0  # -20%..+20%
        g2 = ((k * 29) % 61 - 35) / 100.0  # -35%..+25%
        f23, f24 = 0.55, 0.55 * (1 + g1)
        f25 = f24 * (1 + g2)
        m = max(f23, f24, f25)
        level = "director" if t.startswith(("director", "vp_", "chief", "sales_director", "legal_director", "creative_director", "sustainability_director")) else ("manager" if t.endswith("manager") else "individual_contributor")
        tier = {"director": "senior_leadership", "manager": "middle_management"}.get(level, "individual_contributors")
        rows.append((k, t, w, f23 / m, f24 / m, f25 / m, level, tier))
    con.execute("CREATE TABLE t(k INT, title_id VARCHAR, w INT, f23 DOUBLE, f24 DOUBLE, f25 DOUBLE, level VARCHAR, tier VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?)", rows)
    con.execute("""CREATE TABLE tw AS SELECT *, SUM(w) OVER (ORDER BY k) - w AS lo, SUM(w) OVER (ORDER BY k) AS hi, SUM(w) OVER () AS tot FROM t""")
    tot = con.execute("SELECT MAX(tot) FROM tw").fetchone()[0]
    started = time.time()
    con.execute(f"""
    COPY (
      WITH r AS (
        SELECT i,
               hash(i) AS h1, hash(i * 31 + 7) AS h2, hash(i * 17 + 3) AS h3
        FROM range({a.rows}) g(i)
      ), d AS (
        SELECT i, h1, h2, h3,
               2023 + (h1 % 3)::INT AS y,
               (h2 % 1000)::DOUBLE / 1000.0 AS u,
               (h3 % {tot})::INT AS tpick
        FROM r
      ), e AS (
        SELECT d.*, CASE WHEN d.y = 2025 THEN 1 + ((d.h2 // 1000) % 10)::INT ELSE 1 + ((d.h2 // 1000) % 12)::INT END AS m,
               1 + ((d.h3 // 1000) % 28)::INT AS dd,
               tw.title_id, tw.level, tw.tier, tw.f23, tw.f24, tw.f25
        FROM d JOIN tw ON d.tpick >= tw.lo AND d.tpick < tw.hi
      )
      SELECT md5(i::VARCHAR) AS posting_id, 'bench' AS source,
             'company ' || (floor(pow(((h1 // 7) % 1000003)::DOUBLE / 1000003.0, 3) * {a.companies}))::BIGINT AS company,
             replace(title_id, '_', ' ') AS title, NULL::VARCHAR AS description, NULL::VARCHAR AS location, NULL::VARCHAR AS country,
             make_date(y, m, dd) AS posted_date, 'day' AS date_precision,
             make_date(y, m, dd) AS first_seen, make_date(y, m, dd) AS last_seen, NULL::VARCHAR AS url, NULL::VARCHAR AS extra,
             0::UINTEGER AS duplicates, 'bench.parquet' AS input_file, (i + 1)::UBIGINT AS input_record,
             title_id, CASE WHEN title_id = 'unclassified' THEN NULL ELSE replace(title_id, '_', ' ') END AS title_name,
             NULL::VARCHAR AS family, CASE WHEN title_id = 'unclassified' THEN NULL ELSE level END AS level,
             CASE WHEN title_id = 'unclassified' THEN NULL ELSE tier END AS tier,
             'mid' AS seniority, NULL::VARCHAR AS soc, 0.9::FLOAT AS confidence,
             CASE WHEN title_id = 'unclassified' THEN 'unclassified' ELSE 'description' END AS method,
             strftime(make_date(y, m, 1), '%Y-%m') AS month
      FROM e
      WHERE u < CASE y WHEN 2023 THEN f23 WHEN 2024 THEN f24 ELSE f25 END
    ) TO '{out}' (FORMAT parquet, PARTITION_BY (month), COMPRESSION zstd)
    """)
    n = con.execute(f"SELECT COUNT(*) FROM read_parquet('{out}/**/*.parquet')").fetchone()[0]
    print(f"wrote {n:,} classified postings to {out} in {time.time() - started:.1f}s")


if __name__ == "__main__":
    main()
