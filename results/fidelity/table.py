# Median ratio vbench/C per cell, with its 95% interval, the two measured back to back cell by cell
# (run.sh; contexts.sh with: table.py c-contexts.txt vbench-contexts.txt).
import collections, statistics, sys
cfile, vfile = sys.argv[1:3] if len(sys.argv) > 2 else ('c.txt', 'vbench.txt')
c = collections.defaultdict(dict)
for l in open(cfile):
    r, name, v = l.split()
    c[name][r] = float(v)
v = collections.defaultdict(lambda: collections.defaultdict(list))
for l in open(vfile):
    p = l.split()
    v[p[1][len('Benchmark'):]][p[0]].append(float(p[3]))
def median_ci(xs):
    # Distribution-free 95% interval of the median: the order statistics
    # whose ranks a Binomial(n, 1/2) puts 2.5% outside on each side.
    xs, n = sorted(xs), len(xs)
    from math import comb
    k, tail = 0, 0.0
    while tail + comb(n, k) / 2**n <= 0.025:
        tail += comb(n, k) / 2**n
        k += 1
    return (xs[k-1], xs[n-k]) if k > 0 else (float('nan'), float('nan'))
print(f"{'cell':62s} {'C ns':>8s} {'vbench':>8s} rounds  median  95% interval")
for name in c:
    rounds = sorted(c[name])
    ratios = [statistics.median(v[name][r]) / c[name][r] for r in rounds if v[name][r]]
    cm = statistics.median(c[name].values())
    vm = statistics.median(statistics.median(v[name][r]) for r in rounds if v[name][r])
    lo, hi = median_ci(ratios)
    print(f"{name:62s} {cm:8.3f} {vm:8.3f} {len(ratios):6d}  {statistics.median(ratios):.3f}  [{lo:.3f}, {hi:.3f}]")
