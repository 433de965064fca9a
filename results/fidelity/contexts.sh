#!/bin/bash
# Fidelity in the contexts of --contexts: the C loop of probes/fidelity/loop.c
# and `vbench bench --contexts CTX --cell-by-cell`, same CPU, same sample
# length (10 samples of 20 ms), alternating cell by cell, ROUNDS rounds (default 20), as
# run.sh does for the plain context. The C loop enters each context the way
# vbench's child does: a time namespace with MONOTONIC and BOOTTIME ten days
# ahead (util-linux unshare), or the very seccomp filter the child installs
# (written by probes/fidelity/filter, loaded by loop.c -f). Run as root (or
# where unshare --time is allowed) from the repository root:
#   gcc -O2 -falign-loops=32 -o /tmp/fidelity probes/fidelity/loop.c -ldl
#   CGO_ENABLED=0 go build -o /tmp/vb ./cmd/vbench
#   for f in seccomp-allowlist seccomp-argcheck; do go run ./probes/fidelity/filter $f > /tmp/$f.bpf; done
#   (cd results/fidelity && ./contexts.sh && python3 table.py c-contexts.txt vbench-contexts.txt > table-contexts.txt)
set -euo pipefail
timens=(unshare --time --fork --monotonic 864000 --boottime 864000)
# The C loop must really be in the namespace: its uptime is ten days more.
up=$("${timens[@]}" cat /proc/uptime | cut -d. -f1)
[ "$up" -ge 864000 ] || { echo "unshare --time did not offset BOOTTIME (uptime $up s)" >&2; exit 1; }
cells_timens="ClockGettime/clock=MONOTONIC/path=vdso:clock_gettime:MONOTONIC:vdso
ClockGettime/clock=MONOTONIC_COARSE/path=vdso:clock_gettime:MONOTONIC_COARSE:vdso
ClockGettime/clock=BOOTTIME/path=vdso:clock_gettime:BOOTTIME:vdso
ClockGettime/clock=REALTIME/path=vdso:clock_gettime:REALTIME:vdso
ClockGettime/clock=MONOTONIC/path=syscall:clock_gettime:MONOTONIC:syscall
ClockGettime/clock=BOOTTIME/path=syscall:clock_gettime:BOOTTIME:syscall"
cells_seccomp="Time/path=syscall:time::syscall
Time/path=vsyscall:time::vsyscall
ClockGettime/clock=MONOTONIC/path=syscall:clock_gettime:MONOTONIC:syscall
ClockGettime/clock=MONOTONIC/path=vdso:clock_gettime:MONOTONIC:vdso
ClockGettime/clock=PROCESS_CPUTIME_ID/path=syscall:clock_gettime:PROCESS_CPUTIME_ID:syscall
ClockGettime/clock=PROCESS_CPUTIME_ID/path=vdso:clock_gettime:PROCESS_CPUTIME_ID:vdso
Getcpu/path=syscall:getcpu::syscall"
: > c-contexts.txt; : > vbench-contexts.txt
for r in $(seq "${ROUNDS:-20}"); do
  for ctx in timens seccomp-allowlist seccomp-argcheck; do
    case $ctx in
      timens) cells=$cells_timens; c=("${timens[@]}" /tmp/fidelity) ;;
      *) cells=$cells_seccomp; c=(/tmp/fidelity -f "/tmp/$ctx.bpf") ;;
    esac
    for spec in $cells; do
      IFS=: read -r name fn clock path <<<"$spec"
      "${c[@]}" 1 10 20 "$name" | sed "s#^\([^ ]*\)#round$r \1/context=$ctx#" >> c-contexts.txt
      /tmp/vb bench --cpu 1 --latency=false --quiet --cell-by-cell --count 10 --benchtime 20ms \
        --contexts "$ctx" --functions "$fn" ${clock:+--clocks "$clock"} --paths "$path" --benchfmt - 2>/dev/null \
        | grep "^Benchmark${name}/context=$ctx " | sed "s/^/round$r /" >> vbench-contexts.txt || true
    done
  done
done
