"""Score classify-titles outputs against the gold titles of the description sets."""
import json, glob, sys, collections
meta = json.load(open('titles_meta.json'))
gold = {'hn': [json.loads(l)['gold'] for l in open('hn_alias.jsonl')],
        'gen_generic': [json.loads(l)['gold'] for l in open('gen_generic.jsonl')],
        'gen_specific': [json.loads(l)['gold'] for l in open('gen_specific.jsonl')]}
print(f"{'variant':<30} {'n':>4} {'exact':>6} {'soc6':>6} {'soc2':>6} {'family':>6} {'level':>6} {'desc%':>6}")
for f in sorted(glob.glob('out_*.jsonl')):
    name = f[4:-6]
    key = 'hn' if '_hn_' in name else ('gen_generic' if 'gen_generic' in name else 'gen_specific')
    preds = [json.loads(l) for l in open(f)]
    g = gold[key]
    if len(preds) != len(g):
        print(name, 'incomplete', len(preds), len(g)); continue
    n = len(g); c = collections.Counter()
    for p, t in zip(preds, g):
        pid = p['title_id'] if p['title_id'] != 'unclassified' else p['alternatives'][0]['title_id']
        pm, gm = meta.get(pid, {}), meta[t]
        c['exact'] += pid == t
        c['soc6'] += pm.get('soc', '')[:7] == gm['soc'][:7] or pm.get('onet_soc','')[:7] == gm['onet_soc'][:7]
        c['soc2'] += pm.get('soc', '')[:2] == gm['soc'][:2]
        c['family'] += pm.get('family') == gm['family']
        c['level'] += pm.get('level') == gm['level']
        c['desc'] += p['method'] == 'description'
        c['desc_ok'] += p['method'] == 'description' and pid == t
        c['alias'] += p['method'] == 'alias'
        c['alias_ok'] += p['method'] == 'alias' and pid == t
    print(f"{name:<30} {n:>4} " + ' '.join(f"{c[k]/n:>6.3f}" for k in ['exact','soc6','soc2','family','level']) + f" {100*c['desc']/n:>5.0f}%" + f"  desc-exact {c['desc_ok']/max(1,c['desc']):.3f}  alias {c['alias']} (exact {c['alias_ok']/max(1,c['alias']):.3f})")
