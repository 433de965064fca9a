#!/bin/bash
# The fidelity comparison of the README: the C loop of probes/fidelity/loop.c
# and `vbench bench --cell-by-cell`, same CPU, same cells, same sample length,
# six rounds one after the other. Run from the repository root:
#   gcc -O2 -falign-loops=32 -o /tmp/fidelity probes/fidelity/loop.c -ldl
#   CGO_ENABLED=0 go build -o /tmp/vb ./cmd/vbench
#   (cd results/fidelity && ./run.sh && python3 table.py > table.txt)
set -euo pipefail
for r in 1 2 3 4 5 6; do
  /tmp/fidelity 1 10 20 > c-round$r.txt 2>&1
  /tmp/vb bench --cpu 1 --latency=false --quiet --cell-by-cell --count 10 --benchtime 20ms \
    --functions time,clock_gettime,getcpu,getrandom,floor --clocks MONOTONIC,MONOTONIC_COARSE \
    --paths syscall,vdso,vsyscall --benchfmt vbench-round$r.txt > /dev/null 2>&1
done
