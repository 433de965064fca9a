// Timed loops for `vbench bench` on arm64: each calls one target N times
// with no Go code between the calls, as loop_amd64.s does on x86-64. Go
// declarations and documentation are in loop.go.
//
// Calls into C-ABI code (the vDSO) follow AAPCS64: arguments in R0 to R4,
// the result in R0, the loop state in R19 to R26, which the callee must
// preserve (x19 to x28 are callee-saved; R27 is the Go assembler's scratch
// register and R28 holds g, so neither is used here), and RSP aligned to 16
// inside a large frame of our own, because the callee runs on this
// goroutine's stack: a hardened vDSO may probe a whole page below SP (Go
// issue 20427; the runtime's nanotime1 in runtime/sys_linux_arm64.s
// switches to the g0 stack for the same reason). The frame is 16 KiB,
// which the function prologue guarantees by growing the goroutine stack
// before the loop starts. The prologue also saves LR and the frame pointer
// (R29) and the epilogue restores them, as for any Go function with a
// frame; BL overwrites LR on every call and the callee preserves R29.
// Arguments are read through FP before RSP moves and results written
// after it is restored: the assembler turns FP offsets into RSP offsets.
//
// A signal that arrives while the PC is in the vDSO would make the Go
// runtime look for g at the bottom of the signal stack, where only its own
// vDSO calls put it; the Go callers therefore block signals around these
// loops (guardSignals in signals_arm64.go).
//
// Every loop head is aligned to 32 bytes with PCALIGN, as on x86-64, so
// that where a short loop body falls relative to fetch lines is the same
// from build to build.
//
// The system call is svc #0 with the number in R8 and the arguments in R0
// to R5; the kernel returns the result in R0 and preserves every other
// register (arch/arm64/kernel/entry.S, el0_svc).
//
// None of these functions is preemptible: callers keep N small enough that
// a chunk lasts about a millisecond (see loop.go).

#include "textflag.h"
#include "funcdata.h"

// callFrame is the frame of functions that call C code. The callee gets
// about callFrame-64 bytes of it as stack.
#define callFrame 16384 // also written out in the TEXT lines below

// func loopEmpty(n int64)
TEXT ·loopEmpty(SB), NOSPLIT, $0-8
	MOVD	n+0(FP), R19
	CMP	$0, R19
	BLE	emptydone
	PCALIGN	$32
emptyloop:
	SUBS	$1, R19
	BNE	emptyloop
emptydone:
	RET

// func loopCounter(n int64) (last uint64)
// isb; mrs cntvct_el0, n times: the "cntvct" floor, the ordered read the
// vDSO makes (arch/arm64/include/asm/vdso/gettimeofday.h).
TEXT ·loopCounter(SB), NOSPLIT, $0-16
	MOVD	n+0(FP), R19
	MOVD	$0, R0
	CMP	$0, R19
	BLE	cntdone
	PCALIGN	$32
cntloop:
	ISB	$15
	MRS	CNTVCT_EL0, R0
	SUBS	$1, R19
	BNE	cntloop
cntdone:
	MOVD	R0, last+8(FP)
	RET

// func loopCounter2(n int64) (last uint64)
// mrs cntvct_el0 alone, n times: the "cntvct_noisb" floor.
TEXT ·loopCounter2(SB), NOSPLIT, $0-16
	MOVD	n+0(FP), R19
	MOVD	$0, R0
	CMP	$0, R19
	BLE	cnt2done
	PCALIGN	$32
cnt2loop:
	MRS	CNTVCT_EL0, R0
	SUBS	$1, R19
	BNE	cnt2loop
cnt2done:
	MOVD	R0, last+8(FP)
	RET

// func counterNow() uint64
// One ordered counter read: isb; mrs cntvct_el0.
TEXT ·counterNow(SB), NOSPLIT, $0-8
	ISB	$15
	MRS	CNTVCT_EL0, R0
	MOVD	R0, ret+0(FP)
	RET

// func counterFreq() uint64
// CNTFRQ_EL0: the counter's rate in Hz, as firmware set it.
TEXT ·counterFreq(SB), NOSPLIT, $0-8
	MRS	CNTFRQ_EL0, R0
	MOVD	R0, ret+0(FP)
	RET

// func loopSyscall(trap uintptr, n int64, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)
// Issues svc #0 n times with R8=trap and the arguments in R0 to R4, and
// returns R0 of the last one (a negative errno on failure). R0 carries the
// result back, so the first argument is reloaded before each call; the
// others survive, as a C loop with inline asm would assume.
TEXT ·loopSyscall(SB), NOSPLIT, $0-64
	MOVD	trap+0(FP), R8
	MOVD	n+8(FP), R19
	MOVD	a1+16(FP), R20
	MOVD	a2+24(FP), R1
	MOVD	a3+32(FP), R2
	MOVD	a4+40(FP), R3
	MOVD	a5+48(FP), R4
	MOVD	$0, R5
	MOVD	$0, R0
	CMP	$0, R19
	BLE	sysdone
	PCALIGN	$32
sysloop:
	MOVD	R20, R0
	SVC
	SUBS	$1, R19
	BNE	sysloop
sysdone:
	MOVD	R0, r1+56(FP)
	RET

// func loopLoad(addr uintptr, n int64) (last uint32)
// Loads the 32-bit word at addr n times (the rseq path: cpu_id of the
// thread's struct rseq, as glibc's sched_getcpu reads it) and returns the
// last value.
TEXT ·loopLoad(SB), NOSPLIT, $0-20
	MOVD	addr+0(FP), R20
	MOVD	n+8(FP), R19
	MOVD	$0, R0
	CMP	$0, R19
	BLE	loaddone
	PCALIGN	$32
loadloop:
	MOVWU	(R20), R0
	SUBS	$1, R19
	BNE	loadloop
loaddone:
	MOVW	R0, last+16(FP)
	RET

// func loopCall(fn uintptr, n int64, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)
// Calls the C function at fn n times as fn(a1, a2, a3, a4, a5) and returns
// R0 of the last call. fn, n and the arguments stay in callee-saved R19 to
// R25 and are copied to R0 to R4 before each call (the callee may clobber
// R0 to R18); R26 keeps the Go RSP.
TEXT ·loopCall(SB), 0, $16384-64
	NO_LOCAL_POINTERS
	MOVD	fn+0(FP), R19
	MOVD	n+8(FP), R20
	MOVD	a1+16(FP), R21
	MOVD	a2+24(FP), R22
	MOVD	a3+32(FP), R23
	MOVD	a4+40(FP), R24
	MOVD	a5+48(FP), R25
	MOVD	$0, R0
	CMP	$0, R20
	BLE	calldone
	MOVD	RSP, R26		// saved RSP; callee-saved in C
	MOVD	RSP, R10
	ADD	$(callFrame-64), R10	// the callee's stack is our frame
	BIC	$15, R10		// the ABI wants 16-byte alignment
	MOVD	R10, RSP
	PCALIGN	$32
callloop:
	MOVD	R21, R0
	MOVD	R22, R1
	MOVD	R23, R2
	MOVD	R24, R3
	MOVD	R25, R4
	BL	(R19)
	SUBS	$1, R20
	BNE	callloop
	MOVD	R26, RSP
calldone:
	MOVD	R0, r1+56(FP)
	RET

// func loopCall3(fn uintptr, n int64, a1, a2 uintptr) (r1 uintptr)
// Calls the C function at fn n times as fn(a1, a2, 0) and returns X0 of
// the last call: loopCall's loop with two registers fewer to move.
TEXT ·loopCall3(SB), 0, $16384-40
	NO_LOCAL_POINTERS
	MOVD	fn+0(FP), R19
	MOVD	n+8(FP), R20
	MOVD	a1+16(FP), R21
	MOVD	a2+24(FP), R22
	MOVD	$0, R0
	CMP	$0, R20
	BLE	call3done
	MOVD	RSP, R26		// saved RSP; callee-saved in C
	MOVD	RSP, R10
	ADD	$(callFrame-64), R10	// the callee's stack is our frame
	BIC	$15, R10		// the ABI wants 16-byte alignment
	MOVD	R10, RSP
	PCALIGN	$32
call3loop:
	MOVD	R21, R0
	MOVD	R22, R1
	MOVD	ZR, R2
	BL	(R19)
	SUBS	$1, R20
	BNE	call3loop
	MOVD	R26, RSP
call3done:
	MOVD	R0, r1+32(FP)
	RET

// func loopLatency(kind int64, target uintptr, n int64, a1, a2, a3, a4, a5 uintptr, out *uint64, second bool)
// Times each of n operations on its own, storing counter ticks in
// out[0:n]. kind 0 times nothing (the timer's own overhead), 1 a call of
// the C function at target as target(a1, ..., a5), 2 svc #0 with R8=target
// and the arguments in R0 to R4, 3 a 32-bit load from target (rseq's
// cpu_id). The start is isb; mrs cntvct_el0; isb (the
// second isb keeps the operation from starting before the read), the end
// isb; mrs cntvct_el0 (the isb waits for the operation to complete).
// second is ignored: arm64 has one way to read the counter in order.
// State: R19 target, R20 n, R21 to R25 the arguments, R26 the Go RSP; in
// slots above the callee's stack, out of its reach: 0(RSP) the out cursor,
// 8(RSP) the start count, 16(RSP) kind.
TEXT ·loopLatency(SB), 0, $16384-73
	NO_LOCAL_POINTERS
	MOVD	kind+0(FP), R11
	MOVD	target+8(FP), R19
	MOVD	n+16(FP), R20
	MOVD	a1+24(FP), R21
	MOVD	a2+32(FP), R22
	MOVD	a3+40(FP), R23
	MOVD	a4+48(FP), R24
	MOVD	a5+56(FP), R25
	MOVD	out+64(FP), R12
	CMP	$0, R20
	BLE	latdone
	MOVD	RSP, R26
	MOVD	RSP, R10
	ADD	$(callFrame-64), R10
	BIC	$15, R10
	MOVD	R10, RSP
	MOVD	R12, 0(RSP)
	MOVD	R11, 16(RSP)
	PCALIGN	$32
latloop:
	ISB	$15
	MRS	CNTVCT_EL0, R9
	ISB	$15
	MOVD	R9, 8(RSP)
	MOVD	16(RSP), R9
	CMP	$1, R9
	BEQ	latcall
	CMP	$2, R9
	BEQ	latsys
	CMP	$3, R9
	BEQ	latload
	B	latend
latload:
	MOVWU	(R19), R0
	B	latend
latcall:
	MOVD	R21, R0
	MOVD	R22, R1
	MOVD	R23, R2
	MOVD	R24, R3
	MOVD	R25, R4
	BL	(R19)
	B	latend
latsys:
	MOVD	R19, R8
	MOVD	R21, R0
	MOVD	R22, R1
	MOVD	R23, R2
	MOVD	R24, R3
	MOVD	R25, R4
	SVC
latend:
	ISB	$15
	MRS	CNTVCT_EL0, R9
	MOVD	8(RSP), R10
	SUB	R10, R9, R9
	MOVD	0(RSP), R10
	MOVD	R9, (R10)
	ADD	$8, R10
	MOVD	R10, 0(RSP)
	SUBS	$1, R20
	BNE	latloop
	MOVD	R26, RSP
latdone:
	RET
