"""Ambiguity-margin sweep reconstructed from two runs per set: title only (gives each item's
top-2 margin) and description always (margin 10, gives the described prediction). An item is
described iff it did not hit an alias and its title margin < m — exactly the cascade's rule."""
import json, sys
def load(f): return [json.loads(l) for l in open(f)]
grid = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 1.01]
print(f"{'set':<14} {'margin':>6} {'exact':>6} {'desc%':>6}")
head = sys.argv[1]
for key in sys.argv[2:]:
    gold = [x['gold'] for x in load(f'gen_{key}.jsonl')] if key != 'hn' else None
    t = load(f'out_{head}_gen_{key}_title.jsonl'); d = load(f'out_{head}_gen_{key}_m10.jsonl')
    for m in grid:
        ok = desc = 0
        for g, a, b in zip(gold, t, d):
            sc = [x['score'] for x in a['alternatives']] + [0, 0]
            use = a['method'] == 'title_embedding' and (sc[0] - sc[1]) < m
            p = b if use else a
            desc += use; ok += p['title_id'] == g
        print(f"{head} gen_{key:<10} {m:>6} {ok/len(gold):>6.3f} {100*desc/len(gold):>5.0f}%")
