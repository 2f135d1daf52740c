"""Build the description evaluation inputs (documented in docs/classifier.md).
(a) generated postings with a generic title (truth.csv ambiguous_title=true) and a control set;
(b) HN full-text postings whose header names exactly one taxonomy title (alias match), verified
    afterwards with `jobshift classify-titles` (method == alias)."""
import csv, json, glob, hashlib, os, re, sys, unicodedata
csv.field_size_limit(10**9)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
GEN = sys.argv[2] if len(sys.argv) > 2 else 'gen-amb'  # `jobshift generate --format jsonl` output
SHARED = os.environ.get('JOBSHIFT_SHARED_DATA', '/work/shared/data')
TAX = os.environ.get('JOBSHIFT_TAXONOMY', os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../taxonomy'))
def norm(s):
    s = unicodedata.normalize('NFKC', s).replace('&', ' and ')
    return ' '.join(re.findall(r'[\w+#]+', s.lower())).replace('_', ' ')
alias = {}
meta = {}
for f in glob.glob(os.path.join(TAX, 'titles/*.csv')):
    for r in csv.DictReader(open(f)):
        meta[r['id']] = r
        for a in [r['name']] + [x for x in r['aliases'].split(';') if x.strip()]:
            alias.setdefault(norm(a), set()).add(r['id'])
SEN = {'senior','sr','junior','jr','lead','principal','staff','head','chief','remote','fulltime','full','time','intern','ii','iii','i','iv'}
def match(seg):
    n = norm(re.sub(r'\(.*?\)', ' ', seg))
    for cand in (n, ' '.join(w for w in n.split() if w not in SEN)):
        ids = alias.get(cand)
        if ids and len(ids) == 1:
            return next(iter(ids))
    return None
rows = []
seen = set()
for path in [os.path.join(SHARED, 'hn-whoishiring-fulltext-2013-2018/hn_whoishiring_2013-08_2018-04.csv'),
             os.path.join(SHARED, 'hn-whoishiring-fulltext-2026/hn_jobs_2026-01_2026-05.csv')]:
    for r in csv.DictReader(open(path)):
        hid, header, text = r['hn_item_id'], r['header_line'].strip(), r['text']
        if not hid or not header or hid in seen: continue
        seen.add(hid)
        parts = [header]
        for sep in ['|', ' - ', ' – ', ' — ', ';']:
            parts = [q for p in parts for q in p.split(sep)]
        parts = [p.strip() for p in parts if p.strip()]
        found = {}
        for p in parts[1 if len(parts) > 1 else 0:]:
            t = match(p)
            if t: found.setdefault(t, p)
        if len(found) != 1: continue
        (tid, seg), = found.items()
        body = text.strip()
        body = body[len(header):] if body.startswith(header) else body.split('\n', 1)[-1]
        body = body.strip()
        if len(body) < 200: continue
        rows.append((hashlib.blake2b(hid.encode(), digest_size=8).hexdigest(), hid, seg, tid, body))
rows.sort()
print('hn candidates', len(rows), file=sys.stderr)
with open('hn_candidates.jsonl', 'w') as f:
    for k, hid, seg, tid, body in rows[: N * 2]:
        f.write(json.dumps({'hn_item_id': hid, 'title': seg, 'gold': tid, 'description': body}) + '\n')
# generated
truth = {r['posting_ref']: r for r in csv.DictReader(open(os.path.join(GEN, 'truth.csv')))
         if r['dup_kind'] in ('', 'original') and not r['malformed_kind']}
gen = {'generic': [], 'specific': []}
for f in sorted(glob.glob(os.path.join(GEN, 'postings/*.jsonl'))):
    for line in open(f):
        try: d = json.loads(line)
        except Exception: continue
        t = truth.get(d.get('posting_ref'))
        if not t: continue
        k = 'generic' if t['ambiguous_title'] == 'true' else 'specific'
        if len(gen[k]) < N:
            gen[k].append({'title': d['title'], 'gold': t['title_id'], 'description': d['description']})
for k, v in gen.items():
    with open(f'gen_{k}.jsonl', 'w') as f:
        for x in v: f.write(json.dumps(x) + '\n')
    print(k, len(v), file=sys.stderr)
fam = {r['id']: os.path.basename(f)[:-4] for f in glob.glob(os.path.join(TAX, 'titles/*.csv')) for r in csv.DictReader(open(f))}
json.dump({k: {'family': fam[k], 'level': v['level'], 'soc': v['soc'], 'onet_soc': v['onet_soc']} for k, v in meta.items()}, open('titles_meta.json', 'w'))
with open('hn_verify.txt', 'w') as f:
    for l in open('hn_candidates.jsonl'):
        f.write(json.loads(l)['title'].replace('\n', ' ') + '\n')
