#!/usr/bin/env python3
"""How much of a classified corpus' recovery error is misclassification *bias* (what a confusion
correction can remove) and how much is *noise* of which postings get misclassified (what no
correction can remove), title by title (issue 7, "lower corrected").

Input: the report of a classified generated corpus, and the counts of (year, true title, predicted
title) over the report's matched windows, from the corpus itself (the generator keeps each
posting's true title in `extra`):

  jobshift sql DATASET "SELECT date_part('year', posted_date) AS y, split_part(extra, '\"', 4) AS t,
      COALESCE(title_id, '') AS p, COUNT(*) AS n FROM postings
      WHERE date_part('month', posted_date) <= 10 GROUP BY 1, 2, 3" --csv ytp.csv
  python3 benches/trends/misclassification_noise.py REPORT_DIR/report.json ytp.csv

For every ranked title: the raw error (predicted counts' change minus the true counts' change);
the bias (the corpus' own pooled confusion rates applied to each year's true counts: what an
exact, oracle correction removes); and the binomial standard deviation of the predicted counts'
log-ratio given those rates (each posting of true title s lands in t with probability q[s][t]).
If |error - bias| / sd has median 0.674 and 5 % above 1.96, the error left is binomial noise.
"""
import collections, csv, json, math, statistics as st, sys

report, ytp = sys.argv[1:3]
rep = json.load(open(report))
year = max(rep["years"])
prev = year - 1
ranked = {t["id"] for t in rep["titles"] if t.get("ranked")}

true_n = collections.defaultdict(int)  # (year, true title)
pred_n = collections.defaultdict(int)  # (year, predicted title)
pair = collections.defaultdict(int)  # (true, predicted), all years
for r in csv.DictReader(open(ytp)):
    y, t, p, c = int(r["y"]), r["t"], r["p"], int(r["n"])
    true_n[(y, t)] += c
    pred_n[(y, p)] += c
    pair[(t, p)] += c
true_total = collections.defaultdict(int)
for (y, t), c in true_n.items():
    true_total[t] += c
rate = {(t, p): c / true_total[t] for (t, p), c in pair.items()}
sources = collections.defaultdict(list)  # predicted title -> [(true title, rate)] of other titles
for (t, p), r in rate.items():
    if t != p:
        sources[p].append((t, r))


def expected(y, t):
    """Mean and binomial variance of title t's predicted count in year y, given the rates."""
    keep = rate.get((t, t), 0.0)
    mean = true_n[(y, t)] * keep
    var = mean * (1 - keep)
    for s, r in sources[t]:
        m = true_n[(y, s)] * r
        mean += m
        var += m * (1 - r)
    return mean, var


rows = []
for t in sorted(ranked):
    k0, k1, n0, n1 = pred_n[(prev, t)], pred_n[(year, t)], true_n[(prev, t)], true_n[(year, t)]
    if min(k0, k1, n0, n1) == 0:
        continue
    m1, v1 = expected(year, t)
    m0, v0 = expected(prev, t)
    err = math.log(k1 / k0) - math.log(n1 / n0)
    bias = math.log(m1 / m0) - math.log(n1 / n0)
    sd = math.sqrt(v1 / m1**2 + v0 / m0**2)
    # in points of change: a log-ratio difference d moves the change by about (n1 / n0) * d
    ratio = n1 / n0
    rows.append(dict(title=t, error_pt=abs(k1 / k0 - ratio) * 100,
                     bias_pt=abs(math.expm1(bias)) * ratio * 100, sd_pt=sd * ratio * 100,
                     z=abs(err - bias) / sd if sd > 0 else float("nan")))

z = [r["z"] for r in rows if not math.isnan(r["z"])]
out = dict(
    titles=len(rows),
    raw_error_median_pt=round(st.median(r["error_pt"] for r in rows), 3),
    bias_median_pt=round(st.median(r["bias_pt"] for r in rows), 3),
    binomial_sd_median_pt=round(st.median(r["sd_pt"] for r in rows), 3),
    expected_noise_median_pt=round(0.6745 * st.median(r["sd_pt"] for r in rows), 3),
    z_median=round(st.median(z), 3),
    z_median_if_binomial=0.674,
    share_z_above_1_96=round(sum(1 for x in z if x > 1.96) / len(z), 3),
)
print(json.dumps(out))
