package probes

import "golang.org/x/sys/unix"

// What differs per architecture about system calls (see syscalls_amd64.go).

// sysTime is noTrap: arm64 uses the generic syscall table
// (include/uapi/asm-generic/unistd.h), which has no time(2) for 64-bit
// ports, and golang.org/x/sys/unix defines no SYS_TIME there.
const sysTime = noTrap

// syscallRegs reads a syscall-entry stop from the NT_PRSTATUS register set
// (unix.PtraceGetRegs uses PTRACE_GETREGSET on arm64): the number is in
// x8, the arguments in x0 and x1 (x0 still holds the first argument at the
// entry stop; the kernel keeps it as orig_x0), and pc points after the
// svc. The kernel overwrites x7 at syscall stops to say entry or exit
// (arch/arm64/kernel/ptrace.c, report_syscall), so nothing here reads x7.
func syscallRegs(r *unix.PtraceRegs) (nr, a0, a1, pc uint64) {
	return r.Regs[8], r.Regs[0], r.Regs[1], r.Pc
}
