package aslr

import "golang.org/x/sys/unix"

// stackPointer is the stack pointer in a stopped child's registers: sp of
// arm64's NT_PRSTATUS set (struct user_pt_regs), which unix.PtraceGetRegs
// reads with PTRACE_GETREGSET.
func stackPointer(r *unix.PtraceRegs) uint64 { return r.Sp }
