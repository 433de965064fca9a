package aslr

import "golang.org/x/sys/unix"

// stackPointer is the stack pointer in a stopped child's registers: rsp on
// x86-64.
func stackPointer(r *unix.PtraceRegs) uint64 { return r.Rsp }
