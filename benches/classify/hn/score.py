#!/usr/bin/env python3
"""Score `jobshift classify-titles` output on the Hacker News inputs of prep.py.

    python3 benches/classify/hn/score.py OUT.jsonl [--taxonomy taxonomy] [--top N]

Prints: postings, unclassified share, by method and reason; for rows with an `llm_role` (HN 2026,
an LLM's coarse role: a silver label, measurement only) that maps to taxonomy titles (MAP below:
the coarse role -> the title ids it may mean), the share classified and, among those, title and
family agreement; the title agreement over all mapped rows (an abstention counted as a
disagreement) and its mean over the silver roles with at least 5 rows (macro recall: a
classifier that answers the labeller's commonest role everywhere scores low on it); and the most
frequent titles left unclassified.
"""
import collections, csv, glob, json, os, sys

args = sys.argv[1:]
path = args[0]
tax = args[args.index("--taxonomy") + 1] if "--taxonomy" in args else "taxonomy"
top = int(args[args.index("--top") + 1]) if "--top" in args else 15
family = {}
for f in glob.glob(os.path.join(tax, "titles", "*.csv")):
    fam = os.path.basename(f)[:-4]
    with open(f, encoding="utf-8") as fh:
        for r in csv.DictReader(row for row in fh if not row.startswith("#")):
            family[r["id"]] = fam
MAP = {
    "Software Engineer": {"software_engineer"},
    "Senior Software Engineer": {"software_engineer"},
    "Full Stack Engineer": {"full_stack_engineer"},
    "Backend Engineer": {"backend_engineer"},
    "Frontend Engineer": {"frontend_engineer"},
    "Senior Backend Engineer": {"backend_engineer"},
    "DevOps / SRE": {"devops_engineer", "site_reliability_engineer"},
    "AI Engineer": {"machine_learning_engineer"},
    "ML Engineer": {"machine_learning_engineer"},
    "Engineering Manager": {"engineering_manager"},
    "Product Manager": {"product_manager"},
    "Mobile Engineer": {"mobile_engineer"},
    "Data Scientist": {"data_scientist"},
    "Data Engineer": {"data_engineer"},
    "Product Engineer": {"software_engineer"},
}
MAP = {k: {i for i in v if i in family} for k, v in MAP.items()}
MAP = {k: v for k, v in MAP.items() if v}
n = unc = 0
methods, reasons, left = collections.Counter(), collections.Counter(), collections.Counter()
silver = silver_cls = title_ok = fam_ok = 0
per_role = collections.defaultdict(lambda: [0, 0])  # silver role's title set -> [agreeing, rows]
for line in open(path, encoding="utf-8"):
    o = json.loads(line)
    inp = o.get("input") if isinstance(o.get("input"), dict) else {}
    n += 1
    methods[o["method"]] += 1
    is_unc = o["title_id"] == "unclassified"
    if is_unc:
        unc += 1
        reasons[o.get("reason") or "-"] += 1
        left[(inp.get("title") or "")[:60]] += 1
    role = inp.get("llm_role")
    gold = MAP.get(role)
    if gold:
        silver += 1
        role_key = tuple(sorted(gold))
        per_role[role_key][1] += 1
        per_role[role_key][0] += o["title_id"] in gold
        if not is_unc:
            silver_cls += 1
            title_ok += o["title_id"] in gold
            fam_ok += family.get(o["title_id"]) in {family[g] for g in gold}
print(f"{path}: {n} postings, unclassified {unc} ({unc / max(n, 1):.1%})")
print("  by method:", dict(methods.most_common()))
print("  unclassified by reason:", dict(reasons.most_common()))
if silver:
    print(f"  llm_role mapped to a taxonomy title: {silver}; classified {silver_cls} ({silver_cls / silver:.1%}); "
          f"title agreement {title_ok / max(silver_cls, 1):.3f}, family agreement {fam_ok / max(silver_cls, 1):.3f}")
    recalls = [a / n_ for a, n_ in per_role.values() if n_ >= 5]
    print(f"  over all mapped (abstention = disagreement): title agreement {title_ok / silver:.3f}; "
          f"macro recall over {len(recalls)} roles with >= 5 rows {sum(recalls) / max(len(recalls), 1):.3f}")
print("  most frequent unclassified titles:", left.most_common(top))
