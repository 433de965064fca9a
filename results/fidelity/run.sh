#!/bin/bash
# The fidelity comparison of the README: the tight C loop of
# probes/fidelity/loop.c and `vbench bench --cell-by-cell`, same CPU, same
# sample length (10 samples of 20 ms), alternating cell by cell so that the
# VM's drift falls on both alike, ROUNDS rounds (default 20). Run from the repository root:
#   gcc -O2 -falign-loops=32 -o /tmp/fidelity probes/fidelity/loop.c -ldl
#   CGO_ENABLED=0 go build -o /tmp/vb ./cmd/vbench
#   (cd results/fidelity && ./run.sh && python3 table.py > table.txt)
set -euo pipefail
cells="Floor/op=empty:floor:: Floor/op=call:floor:: Floor/op=rdtsc:floor:: Time/path=vdso:time::vdso ClockGettime/clock=MONOTONIC/path=vdso:clock_gettime:MONOTONIC:vdso ClockGettime/clock=MONOTONIC_COARSE/path=vdso:clock_gettime:MONOTONIC_COARSE:vdso Getcpu/path=vdso:getcpu::vdso Getrandom/path=vdso:getrandom::vdso Time/path=syscall:time::syscall ClockGettime/clock=MONOTONIC/path=syscall:clock_gettime:MONOTONIC:syscall Getcpu/path=syscall:getcpu::syscall Time/path=vsyscall:time::vsyscall"
: > c.txt; : > vbench.txt
for r in $(seq "${ROUNDS:-20}"); do
  for spec in $cells; do
    IFS=: read -r name fn clock path <<<"$spec"
    /tmp/fidelity 1 10 20 "$name" | sed "s/^/round$r /" >> c.txt
    args=(--functions "$fn")
    [ -n "$clock" ] && args+=(--clocks "$clock")
    [ -n "$path" ] && args+=(--paths "$path")
    /tmp/vb bench --cpu 1 --latency=false --quiet --cell-by-cell --count 10 --benchtime 20ms "${args[@]}" --benchfmt - 2>/dev/null \
      | grep "^Benchmark${name} " | sed "s/^/round$r /" >> vbench.txt || true
  done
done
