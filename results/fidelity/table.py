# Median ratio vbench/C per cell, the two measured back to back cell by cell (run.sh).
import collections, statistics
c = collections.defaultdict(dict)
for l in open('c.txt'):
    r, name, v = l.split()
    c[name][r] = float(v)
v = collections.defaultdict(lambda: collections.defaultdict(list))
for l in open('vbench.txt'):
    p = l.split()
    v[p[1][len('Benchmark'):]][p[0]].append(float(p[3]))
print(f"{'cell':42s} {'C ns':>8s} {'vbench':>8s}  vbench/C per round                      median")
for name in c:
    rounds = sorted(c[name])
    ratios = [statistics.median(v[name][r]) / c[name][r] for r in rounds if v[name][r]]
    cm = statistics.median(c[name].values())
    vm = statistics.median(statistics.median(v[name][r]) for r in rounds if v[name][r])
    print(f"{name:42s} {cm:8.3f} {vm:8.3f}  " + " ".join(f"{x:.3f}" for x in ratios) + f"   {statistics.median(ratios):.3f}")
