# Median ratio of the medians, vbench over the C loop, per cell and per round (see run.sh).
import re,statistics,collections
rows=collections.OrderedDict()
for r in range(1,7):
    c={}
    for l in open(f'c-round{r}.txt'):
        p=l.split()
        if len(p)==2: c[p[0]]=float(p[1])
    v=collections.defaultdict(list)
    for l in open(f'vbench-round{r}.txt'):
        if l.startswith('Benchmark'):
            p=l.split(); name=re.sub(r'-\d+$','',p[0][len('Benchmark'):]); v[name].append(float(p[2]))
    for k in c:
        if k in v:
            rows.setdefault(k,[]).append((c[k], statistics.median(v[k])))
print(f"{'cell':48s} {'C ns':>9s} {'vbench ns':>10s}  ratio per round (vbench/C)   median ratio")
for k,rs in rows.items():
    ratios=[b/a for a,b in rs]
    print(f"{k:48s} {statistics.median([a for a,b in rs]):9.3f} {statistics.median([b for a,b in rs]):10.3f}  "+" ".join(f"{x:.3f}" for x in ratios)+f"   {statistics.median(ratios):.3f}")
