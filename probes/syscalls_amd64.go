package probes

import "golang.org/x/sys/unix"

// What differs per architecture about system calls: the numbers the
// registry cannot take from golang.org/x/sys/unix on every port, and how a
// tracer reads a syscall-entry stop (syscount.go).

// sysTime is time(2)'s number: x86-64 has it
// (arch/x86/entry/syscalls/syscall_64.tbl).
const sysTime = unix.SYS_TIME

// syscallRegs reads a syscall-entry stop: the number (orig_rax: rax
// already holds -ENOSYS there, arch/x86/entry/common.c), the first two
// arguments (rdi, rsi) and the address of the instruction after the
// syscall.
func syscallRegs(r *unix.PtraceRegs) (nr, a0, a1, pc uint64) {
	return r.Orig_rax, r.Rdi, r.Rsi, r.Rip
}
