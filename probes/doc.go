// Package probes times reading the clock through each path the kernel offers
// — the system call instruction, the legacy vsyscall page (x86-64 only) and
// the vDSO — against the floor of an empty loop and a read of the CPU's
// counter (rdtsc on x86-64, isb; mrs cntvct_el0 on arm64).
//
// The timed loops are Go assembly that call the target N times between two
// timestamps, with no Go call per iteration; see the *_amd64.s and *_arm64.s
// files. What differs per architecture lives in per-architecture files, one
// of each kind per architecture: loop_GOARCH.s and call_GOARCH.s (the native
// code), vdso_GOARCH.go (the vDSO's names and version, and the functions it
// never has), syscalls_GOARCH.go (numbers missing from the generic table,
// the ptrace registers of a syscall stop), counter_GOARCH.go (the counter
// floors and rate) and signals_GOARCH.go (what a vDSO call must guard
// against). A call an architecture lacks (time and the vDSO's getcpu on
// arm64, the vsyscall page everywhere but x86-64) keeps its bench cells,
// unavailable with the reason. The
// bench engine (bench.go) calibrates every cell, then samples them
// round-robin so that the machine's drift falls on all alike; around each
// sample it reads the kernel's counters (counters.go: perf software and,
// where a PMU exists, hardware events, steal time, preemptions), counts the
// syscalls each call enters (the raw_syscalls tracepoint, or a traced child:
// syscount.go), notes vDSO fallbacks from that count (fallback.go) and
// flags noisy cells (noise.go).
//
// Subpackage vdso finds the vDSO's functions; subpackage vsyscall knows the
// fixed page and its boot modes; subpackage verify checks that the paths
// agree.
//
// It assumes Linux on x86-64 or arm64 and perf_event_open(2) for the
// counters; what
// cannot be opened (no PMU in a VM, tracefs not mounted, ptrace forbidden)
// is reported as unavailable, once, and the timings are taken regardless.
// A process that imports it and is started with VBENCH_SYSCALL_COUNT set
// becomes the syscall-counting child in this package's init.
package probes
