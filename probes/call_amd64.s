#include "textflag.h"
#include "funcdata.h"

// Single calls, one at a time, for verify and for deciding what works. The
// timed loops live in loop_amd64.s.

// callC's 16 KiB frame is the stack a C callee gets: the vDSO runs on the
// goroutine stack, inside this function's frame. The Go runtime switches to
// the g0 stack for its own vDSO calls (runtime·nanotime1 in
// sys_linux_amd64.s) because a vDSO built with stack probes may touch a page
// or more below SP (Go issue 20427); a declared 16 KiB frame makes the
// function's prologue grow the goroutine stack until that much is there.

// func callC(fn, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)
// Calls a C-ABI function (System V AMD64: DI, SI, DX, CX, R8 in; AX out)
// with SP moved to the top of this frame and aligned to 16, as the ABI
// requires at a call. BX, which the callee preserves, keeps the Go SP.
// The frame holds no Go pointers (NO_LOCAL_POINTERS): without the
// annotation a stack scan that met this frame would throw "missing
// stackmap".
TEXT ·callC(SB), 0, $16384-56
	NO_LOCAL_POINTERS
	MOVQ fn+0(FP), AX
	MOVQ a1+8(FP), DI
	MOVQ a2+16(FP), SI
	MOVQ a3+24(FP), DX
	MOVQ a4+32(FP), CX
	MOVQ a5+40(FP), R8
	MOVQ SP, BX
	LEAQ (16384-64)(SP), R9
	ANDQ $~15, R9
	MOVQ R9, SP
	CALL AX
	MOVQ BX, SP
	MOVQ AX, r1+48(FP)
	RET

// emptyC is a C-ABI function that only returns: the floor of any call
// through a function pointer (bench's "call" floor). It is ABI0 assembly,
// so the address emptyCAddr takes with LEAQ is the function itself, not an
// ABI wrapper.
TEXT ·emptyC(SB), NOSPLIT|NOFRAME, $0-0
	RET

// func emptyCAddr() uintptr
TEXT ·emptyCAddr(SB), NOSPLIT, $0-8
	LEAQ ·emptyC(SB), AX
	MOVQ AX, ret+0(FP)
	RET

// func callCPUID(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·callCPUID(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET
