package vsyscall

// Exists is true where the kernel can map the page: x86-64.
const Exists = true

// callEntry calls a vsyscall entry point with the C calling convention
// (arguments in DI and SI, result in AX). The kernel emulates the call on
// the page fault (arch/x86/entry/vsyscall/vsyscall_64.c,
// emulate_vsyscall) and needs no stack beyond the return address.
//
//go:noescape
func callEntry(fn, a1, a2 uintptr) uintptr
