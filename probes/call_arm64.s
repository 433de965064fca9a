#include "textflag.h"
#include "funcdata.h"

// Single calls, one at a time, for verify and for deciding what works. The
// timed loops live in loop_arm64.s; see its header for the calling
// convention (AAPCS64) and why the frame is 16 KiB.

// func callC(fn, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)
// Calls a C-ABI function (AAPCS64: R0 to R4 in, R0 out) with RSP moved to
// the top of this frame and aligned to 16, as the ABI requires at a call
// (and the hardware checks, SCTLR_EL1.SA0). R19, which the callee
// preserves, keeps the Go RSP; R28 (g) and R29 (the frame pointer) are
// callee-saved too, and LR, which BL overwrites, was saved by this
// function's prologue and is restored by its epilogue. Arguments and the
// result are addressed through FP, which the assembler turns into offsets
// from RSP: they are read before RSP moves and written after it is back.
// The caller blocks signals first (guardSignals, signals_arm64.go).
TEXT ·callC(SB), 0, $16384-56
	NO_LOCAL_POINTERS
	MOVD	fn+0(FP), R9
	MOVD	a1+8(FP), R0
	MOVD	a2+16(FP), R1
	MOVD	a3+24(FP), R2
	MOVD	a4+32(FP), R3
	MOVD	a5+40(FP), R4
	MOVD	RSP, R19
	MOVD	RSP, R10
	ADD	$(16384-64), R10
	BIC	$15, R10
	MOVD	R10, RSP
	BL	(R9)
	MOVD	R19, RSP
	MOVD	R0, r1+48(FP)
	RET

// emptyC is a C-ABI function that only returns: the floor of any call
// through a function pointer (bench's "call" floor). It is ABI0 assembly,
// so the address emptyCAddr takes is the function itself, not an ABI
// wrapper.
TEXT ·emptyC(SB), NOSPLIT|NOFRAME, $0-0
	RET

// func emptyCAddr() uintptr
TEXT ·emptyCAddr(SB), NOSPLIT, $0-8
	MOVD	$·emptyC(SB), R0
	MOVD	R0, ret+0(FP)
	RET
