// Package probes times reading the clock through each path the kernel offers
// on x86-64 — the syscall instruction, the legacy vsyscall page and the
// vDSO — against the floor of an empty loop and rdtsc.
//
// The timed loops are Go assembly that call the target N times between two
// timestamps, with no Go call per iteration; see the *_amd64.s files.
// Subpackage vdso finds the vDSO's functions; subpackage vsyscall knows the
// fixed page and its boot modes; subpackage verify checks that the paths
// agree.
package probes
