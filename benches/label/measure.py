#!/usr/bin/env python3
"""Scoring for the end-to-end labelling run (benches/label/run.sh). Python standard library only.

Sub-commands (each prints a short table and writes JSON beside its inputs):

  prep        join the dataset export with the generator's truth.csv -> posting_truth.csv,
              and draw the gold (known-answer) postings -> gold.jsonl
  tasks       the true title of every task of a tasks directory -> task_truth.json
  labels      aggregated labels (Dawid-Skene and majority vote) vs the truth, per-worker estimated
              vs true accuracy, Fleiss' kappa and Krippendorff's alpha
  classifier  accuracy against the truth of classified exports on the held-out postings (every
              posting of the dataset except the labelled sample and the gold postings)
"""
import argparse
import csv
import hashlib
import json
import math
import os
import sys
from collections import Counter, defaultdict

csv.field_size_limit(sys.maxsize)


def key(seed, s):
    return hashlib.blake2b(f"{seed}:{s}".encode(), digest_size=8).hexdigest()


def read_export(path):
    """posting_id -> row of a `jobshift sql ... --csv` export (columns posting_id, extra, ...)."""
    with open(path, newline="", encoding="utf-8") as f:
        return {r["posting_id"]: r for r in csv.DictReader(f)}


def read_posting_truth(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {r["posting_id"]: r["true_title_id"] for r in csv.DictReader(f)}


def cmd_prep(a):
    truth = {}
    with open(a.truth, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            truth[r["posting_ref"]] = r["title_id"]
    rows = read_export(a.export)
    out = []
    missing = 0
    for pid, r in rows.items():
        ref = json.loads(r["extra"] or "{}").get("posting_ref")
        if ref in truth:
            out.append((pid, ref, truth[ref]))
        else:
            missing += 1
    with open(a.out_truth, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["posting_id", "posting_ref", "true_title_id"])
        w.writerows(sorted(out))
    # gold: a seeded uniform draw of postings with a description
    cand = sorted(
        (key(a.seed, pid), pid) for pid, _, _ in out if (rows[pid].get("description") or "").strip()
    )
    tt = {pid: t for pid, _, t in out}
    with open(a.out_gold, "w", encoding="utf-8") as f:
        for _, pid in cand[: a.gold]:
            r = rows[pid]
            f.write(json.dumps({
                "title": r["title"], "description": r["description"], "title_id": tt[pid],
                "source": "expert", "confidence": 1.0, "posting_id": pid,
            }) + "\n")
    print(f"prep: {len(out)} postings with truth ({missing} without), {min(a.gold, len(cand))} gold -> {a.out_gold}")


def cmd_tasks(a):
    tt = read_posting_truth(a.posting_truth)
    out, missing = {}, 0
    with open(os.path.join(a.tasks_dir, "tasks.jsonl"), encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            if t["posting_id"] in tt:
                out[t["task_id"]] = tt[t["posting_id"]]
            else:
                missing += 1
    if missing:
        sys.exit(f"tasks: {missing} tasks have no truth")
    json.dump(out, open(a.out, "w"), indent=0, sort_keys=True)
    print(f"tasks: truth of {len(out)} tasks -> {a.out}")


def latest_answers(answers_path):
    """(task, annotator) -> answer, the latest record of each pair (as `label import` does)."""
    latest = {}
    with open(answers_path, encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            k = (r["task_id"], r["annotator"])
            if k not in latest or latest[k]["seq"] < r["seq"]:
                latest[k] = r
    return {k: v["answer"] for k, v in latest.items()}


def fleiss_kappa(items):
    """items: list of answer lists, each of the same length n >= 2."""
    if not items:
        return None
    n = len(items[0])
    cats = Counter()
    p_i = []
    for ans in items:
        c = Counter(ans)
        cats.update(c)
        p_i.append((sum(v * v for v in c.values()) - n) / (n * (n - 1)))
    total = n * len(items)
    p_bar = sum(p_i) / len(p_i)
    p_e = sum((v / total) ** 2 for v in cats.values())
    return (p_bar - p_e) / (1 - p_e) if p_e < 1 else None


def cmd_labels(a):
    truth = json.load(open(a.task_truth))
    manifest = json.load(open(os.path.join(a.tasks_dir, "manifest.json")))
    gold_tasks = {g["task_id"] for g in manifest["gold"]}
    tasks = [json.loads(l) for l in open(os.path.join(a.tasks_dir, "tasks.jsonl"), encoding="utf-8")]
    task_of_posting = {t["posting_id"]: t["task_id"] for t in tasks}
    answers = latest_answers(os.path.join(a.tasks_dir, "answers.jsonl"))
    by_task = defaultdict(list)
    per_worker = defaultdict(lambda: [0, 0, 0, 0])  # answers, correct, gold answers, gold correct
    for (task, who), ans in sorted(answers.items()):
        by_task[task].append(ans)
        ok = ans == truth[task]
        pw = per_worker[who]
        pw[0] += 1
        pw[1] += ok
        if task in gold_tasks:
            pw[2] += 1
            pw[3] += ok
    report = json.load(open(a.report))
    est = {w["worker"]: w for w in report["workers"]}
    res = {"methods": {}, "workers": [], "tasks": len(tasks), "gold_tasks": len(gold_tasks)}
    non_gold = [t["task_id"] for t in tasks if t["task_id"] not in gold_tasks]
    for name, path in (("dawid_skene", a.ds), ("majority", a.mv)):
        labels = {}
        for line in open(path, encoding="utf-8"):
            ex = json.loads(line)
            labels[task_of_posting[ex["posting_id"]]] = ex
        right = sum(1 for t in non_gold if t in labels and labels[t]["title_id"] == truth[t])
        hi = [t for t in non_gold if t in labels and labels[t]["confidence"] >= 0.9]
        res["methods"][name] = {
            "labels": len(labels),
            "postings": len(non_gold),
            "correct": right,
            # postings without a label (aggregate "none fits") count as wrong
            "accuracy": right / len(non_gold),
            "labels_with_confidence_0_9": len(hi),
            "accuracy_at_confidence_0_9": (sum(labels[t]["title_id"] == truth[t] for t in hi) / len(hi)) if hi else None,
        }
    # the same comparison on gold postings (truth known to the import only through the clamp:
    # the report's gold_evaluation runs Dawid-Skene without it)
    res["gold_evaluation"] = report.get("gold_evaluation")
    for who, (n, ok, gn, gok) in sorted(per_worker.items()):
        e = est.get(f"page:{who}", {})
        res["workers"].append({
            "worker": who, "answers": n, "true_accuracy": ok / n if n else None,
            "gold_answers": gn, "gold_accuracy": gok / gn if gn else None,
            "estimated_accuracy": e.get("estimated_accuracy"), "flagged": e.get("flagged"),
        })
    three = [v for t, v in by_task.items() if t not in gold_tasks and len(v) == 3]
    res["fleiss_kappa_items_with_3_answers"] = len(three)
    res["fleiss_kappa"] = fleiss_kappa(three)
    res["krippendorff_alpha"] = report.get("krippendorff_alpha")
    json.dump(res, open(a.out, "w"), indent=1)
    print(f"labels vs truth on {len(non_gold)} labelled (non-gold) postings:")
    for m, r in res["methods"].items():
        print(f"  {m:<12} accuracy {r['accuracy']:.3f} ({r['correct']}/{r['postings']}), "
              f"{r['labels_with_confidence_0_9']} labels with confidence >= 0.9: accuracy "
              f"{(r['accuracy_at_confidence_0_9'] or 0):.3f}")
    print(f"  {'worker':<16} {'answers':>7} {'true acc':>8} {'gold acc':>8} {'DS est.':>8} flagged")
    for w in res["workers"]:
        ga = "-" if w["gold_accuracy"] is None else f"{w['gold_accuracy']:.2f}"
        ea = "-" if w["estimated_accuracy"] is None else f"{w['estimated_accuracy']:.2f}"
        print(f"  {w['worker']:<16} {w['answers']:>7} {w['true_accuracy']:>8.2f} {ga:>8} {ea:>8} {w['flagged']}")
    fk = res["fleiss_kappa"]
    print(f"  Fleiss' kappa {fk:.3f} over {len(three)} postings with 3 answers; "
          f"Krippendorff's alpha {res['krippendorff_alpha']:.3f} (from the import report)")


def by_ref(rows):
    return {json.loads(r["extra"] or "{}").get("posting_ref"): r for r in rows.values()}


def cmd_classifier(a):
    # keyed by the generator's posting_ref (re-ingested subsets get new posting ids)
    with open(a.posting_truth, newline="", encoding="utf-8") as f:
        prow = list(csv.DictReader(f))
    tt = {r["posting_ref"]: r["true_title_id"] for r in prow}
    ref_of = {r["posting_id"]: r["posting_ref"] for r in prow}
    excluded = set()
    with open(os.path.join(a.tasks_dir, "tasks.jsonl"), encoding="utf-8") as f:
        for line in f:
            excluded.add(ref_of.get(json.loads(line)["posting_id"]))
    runs = []
    for spec in a.run:
        name, path = spec.split("=", 1)
        runs.append((name, by_ref(read_export(path))))
    first = runs[0][1]
    # A later run may cover only the postings the first run did NOT decide by exact alias
    # (the alias step is the taxonomy's, the same in every classifier): the rest keep the first
    # run's answer.
    reused = {}
    for name, rows in runs[1:]:
        reused[name] = sum(1 for p in first if p not in rows)
        for p, r in first.items():
            if p not in rows:
                if r["method"] != "alias":
                    sys.exit(f"{name}: posting {p} missing and not alias-decided")
                rows[p] = r
    held = sorted(p for p in tt if p not in excluded and p in first)
    sample = sorted(p for p in tt if p in excluded and p in first)
    # groups by how the FIRST run decided (alias matches cannot change with new labels)
    groups = defaultdict(list)
    for p in held:
        groups[first[p]["method"]].append(p)
    res = {"held_out_postings": len(held), "labelled_sample_postings": len(sample), "runs": {},
           "alias_decided_reused_from_first_run": reused}
    print(f"held-out postings: {len(held)} (dataset minus {len(excluded)} labelled sample + gold postings)")
    header = f"  {'classifier':<14} {'held-out':>9} " + " ".join(f"{g:>16}" for g in sorted(groups)) + f" {'labelled sample':>16}"
    print(header)
    for name, rows in runs:
        def acc(ps):
            return sum(rows[p]["title_id"] == tt[p] for p in ps) / len(ps) if ps else float("nan")
        r = {"held_out_accuracy": acc(held), "labelled_sample_accuracy": acc(sample),
             "by_first_run_method": {g: {"n": len(ps), "accuracy": acc(ps)} for g, ps in groups.items()},
             "changed_vs_first_run": sum(rows[p]["title_id"] != first[p]["title_id"] for p in held)}
        res["runs"][name] = r
        print(f"  {name:<14} {r['held_out_accuracy']:>9.4f} " + " ".join(
            f"{acc(groups[g]):>9.4f} n={len(groups[g]):<5}" for g in sorted(groups)) + f" {r['labelled_sample_accuracy']:>16.4f}")
    # paired: postings one run got right and the other wrong (held out)
    base = runs[0]
    for name, rows in runs[1:]:
        fixed = sum(rows[p]["title_id"] == tt[p] and base[1][p]["title_id"] != tt[p] for p in held)
        broke = sum(rows[p]["title_id"] != tt[p] and base[1][p]["title_id"] == tt[p] for p in held)
        n = fixed + broke
        # exact two-sided sign test (McNemar) on the discordant pairs
        k = min(fixed, broke)
        pval = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0
        res["runs"][name]["vs_" + base[0]] = {"fixed": fixed, "broke": broke, "mcnemar_p": pval}
        print(f"  {name} vs {base[0]}: {fixed} held-out postings fixed, {broke} broken (exact McNemar p = {pval:.2g})")
    json.dump(res, open(a.out, "w"), indent=1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s = p.add_subparsers(dest="cmd", required=True)
    # each subcommand's required path flags, then its extra flags
    required = {
        "prep": ["--truth", "--export", "--out-truth", "--out-gold"],
        "tasks": ["--tasks-dir", "--posting-truth", "--out"],
        "labels": ["--tasks-dir", "--task-truth", "--report", "--ds", "--mv", "--out"],
        "classifier": ["--posting-truth", "--tasks-dir", "--out"],
    }
    sub = {}
    for cmd, flags in required.items():
        sub[cmd] = s.add_parser(cmd)
        for flag in flags:
            sub[cmd].add_argument(flag, required=True)
    sub["prep"].add_argument("--gold", type=int, default=60)
    sub["prep"].add_argument("--seed", default="7")
    sub["classifier"].add_argument(
        "--run", action="append", required=True, help="NAME=export.csv (the first is the reference)"
    )
    a = p.parse_args()
    {"prep": cmd_prep, "tasks": cmd_tasks, "labels": cmd_labels, "classifier": cmd_classifier}[a.cmd](a)


if __name__ == "__main__":
    main()
