// Timed loops for `vbench bench`: each calls one target N times with no Go
// code between the calls, so what a sample measures is the call itself, as a
// tight C loop would. Go declarations and documentation are in loop.go.
//
// Calls into C-ABI code (the vDSO, the vsyscall page) follow the System V
// AMD64 ABI: the loop state lives in registers the callee must preserve
// (BX, R12 to R15) or in slots of our frame above the callee's stack, and
// SP is aligned to 16 inside a large frame of our own, because the callee
// runs on this goroutine's stack. A hardened vDSO may probe a whole page below SP
// (Go issue 20427; the runtime's nanotime1 in runtime/sys_linux_amd64.s
// switches to the g0 stack for the same reason). The frame below is 16 KiB,
// which the function prologue guarantees by growing the goroutine stack
// before the loop starts.
//
// R14 and R15 are scratch in ABI0 assembly: the ABI wrapper restores R14 (g)
// and X15 on the way back to Go code (cmd/compile/abi-internal.md).
//
// Every loop head is aligned to 32 bytes with PCALIGN: where a 2 to 8 ns
// loop body falls relative to the CPU's 32-byte fetch and uop-cache lines
// changes its cost by up to a tenth (measured on this project's VM: time via
// the vDSO 3.27 ns unaligned, 2.93 ns aligned, in the same minute). A C
// compiler aligns loop heads the same way (GCC's -falign-loops).
//
// None of these functions is preemptible: callers keep N small enough that a
// chunk lasts about a millisecond (see loop.go).

#include "textflag.h"
#include "funcdata.h"

// callFrame is the frame of functions that call C code. The callee gets
// callFrame-64 bytes of it as stack.
#define callFrame 16384 // also written out in the TEXT lines below

// func loopEmpty(n int64)
TEXT ·loopEmpty(SB), NOSPLIT, $0-8
	MOVQ	n+0(FP), BX
	TESTQ	BX, BX
	JLE	emptydone
	PCALIGN	$32
emptyloop:
	DECQ	BX
	JNZ	emptyloop
emptydone:
	RET

// func loopCounter(n int64) (last uint64)
// rdtsc n times: the TSC floor ("rdtsc").
TEXT ·loopCounter(SB), NOSPLIT, $0-16
	MOVQ	n+0(FP), BX
	XORL	AX, AX
	XORL	DX, DX
	TESTQ	BX, BX
	JLE	rdtscdone
	PCALIGN	$32
rdtscloop:
	RDTSC
	DECQ	BX
	JNZ	rdtscloop
rdtscdone:
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, last+8(FP)
	RET

// func loopCounter2(n int64) (last uint64)
// rdtscp n times: the "rdtscp" floor. Only call this when the CPU has rdtscp (CPUID 0x80000001 EDX bit 27):
// otherwise the instruction raises #UD and the process dies of SIGILL.
TEXT ·loopCounter2(SB), NOSPLIT, $0-16
	MOVQ	n+0(FP), BX
	XORL	AX, AX
	XORL	DX, DX
	TESTQ	BX, BX
	JLE	rdtscpdone
	PCALIGN	$32
rdtscploop:
	RDTSCP
	DECQ	BX
	JNZ	rdtscploop
rdtscpdone:
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, last+8(FP)
	RET

// func counterNow() uint64
// One fenced TSC read: lfence; rdtsc (the lfence keeps earlier instructions
// from drifting past the read).
TEXT ·counterNow(SB), NOSPLIT, $0-8
	LFENCE
	RDTSC
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, ret+0(FP)
	RET

// func loopSyscall(trap uintptr, n int64, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)
// Issues the syscall instruction n times with AX=trap and the arguments in
// DI, SI, DX, R10, R8 (the kernel's order: arch/x86/entry/entry_64.S), and
// returns AX of the last one (a negative errno on failure). The kernel
// preserves every register but AX, CX and R11 across the instruction, so
// the arguments are loaded once, as a C loop with inline asm would.
TEXT ·loopSyscall(SB), NOSPLIT, $0-64
	MOVQ	trap+0(FP), R12
	MOVQ	n+8(FP), BX
	MOVQ	a1+16(FP), DI
	MOVQ	a2+24(FP), SI
	MOVQ	a3+32(FP), DX
	MOVQ	a4+40(FP), R10
	MOVQ	a5+48(FP), R8
	XORL	AX, AX
	TESTQ	BX, BX
	JLE	sysdone
	PCALIGN	$32
sysloop:
	MOVQ	R12, AX
	SYSCALL
	DECQ	BX
	JNZ	sysloop
sysdone:
	MOVQ	AX, r1+56(FP)
	RET

// func loopLoad(addr uintptr, n int64) (last uint32)
// Loads the 32-bit word at addr n times (the rseq path: cpu_id of the
// thread's struct rseq, which the kernel rewrites on return to user space
// after a migration; a plain load, as glibc's sched_getcpu reads it) and
// returns the last value.
TEXT ·loopLoad(SB), NOSPLIT, $0-20
	MOVQ	addr+0(FP), R12
	MOVQ	n+8(FP), BX
	XORL	AX, AX
	TESTQ	BX, BX
	JLE	loaddone
	PCALIGN	$32
loadloop:
	MOVL	(R12), AX
	DECQ	BX
	JNZ	loadloop
loaddone:
	MOVL	AX, last+16(FP)
	RET

// func loopCall(fn uintptr, n int64, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)
// Calls the C function at fn n times as fn(a1, a2, a3, a4, a5) and returns
// RAX of the last call. a1 and a2 stay in callee-saved registers; a3 to a5
// in slots above the callee's stack, reloaded each time since the callee
// may clobber DX, CX and R8.
TEXT ·loopCall(SB), 0, $16384-64
	NO_LOCAL_POINTERS
	MOVQ	fn+0(FP), R12
	MOVQ	n+8(FP), BX
	MOVQ	a1+16(FP), R14
	MOVQ	a2+24(FP), R15
	MOVQ	a3+32(FP), DX
	MOVQ	a4+40(FP), CX
	MOVQ	a5+48(FP), R8
	XORL	AX, AX
	TESTQ	BX, BX
	JLE	calldone
	MOVQ	SP, R13			// saved SP; callee-saved in C
	LEAQ	(callFrame-64)(SP), SP	// the callee's stack is our frame
	ANDQ	$~15, SP		// the ABI wants 16-byte alignment at the call
	// Slots above the new SP, out of the callee's reach.
	MOVQ	DX, 0(SP)
	MOVQ	CX, 8(SP)
	MOVQ	R8, 16(SP)
	PCALIGN	$32
callloop:
	MOVQ	R14, DI
	MOVQ	R15, SI
	MOVQ	0(SP), DX
	MOVQ	8(SP), CX
	MOVQ	16(SP), R8
	CALL	R12
	DECQ	BX
	JNZ	callloop
	MOVQ	R13, SP
calldone:
	MOVQ	AX, r1+56(FP)
	RET

// func loopCall3(fn uintptr, n int64, a1, a2 uintptr) (r1 uintptr)
// Calls the C function at fn n times as fn(a1, a2, 0) and returns RAX of
// the last call: the loop of loopCall with every argument in a register.
TEXT ·loopCall3(SB), 0, $16384-40
	NO_LOCAL_POINTERS
	MOVQ	fn+0(FP), R12
	MOVQ	n+8(FP), BX
	MOVQ	a1+16(FP), R14
	MOVQ	a2+24(FP), R15
	XORL	AX, AX
	TESTQ	BX, BX
	JLE	call3done
	MOVQ	SP, R13			// saved SP; callee-saved in C
	LEAQ	(callFrame-64)(SP), SP	// the callee's stack is our frame
	ANDQ	$~15, SP		// the ABI wants 16-byte alignment at the call
	PCALIGN	$32
call3loop:
	MOVQ	R14, DI
	MOVQ	R15, SI
	XORL	DX, DX
	CALL	R12
	DECQ	BX
	JNZ	call3loop
	MOVQ	R13, SP
call3done:
	MOVQ	AX, r1+32(FP)
	RET

// func loopLatency(kind int64, target uintptr, n int64, a1, a2, a3, a4, a5 uintptr, out *uint64, second bool)
// Times each of n operations on its own, storing TSC ticks in out[0:n].
// kind 0 times nothing (the timer's own overhead), 1 a call of the C
// function at target as target(a1, ..., a5), 2 the syscall instruction with
// AX=target and the arguments in DI, SI, DX, R10, R8, 3 a 32-bit load from
// target (rseq's cpu_id).
// The start is lfence; rdtsc; lfence. The end is rdtscp; lfence when second
// is true, else lfence; rdtsc; lfence (for CPUs without rdtscp).
TEXT ·loopLatency(SB), 0, $16384-73
	NO_LOCAL_POINTERS
	MOVQ	kind+0(FP), AX
	MOVQ	target+8(FP), R12
	MOVQ	n+16(FP), BX
	MOVQ	a1+24(FP), R14
	MOVQ	a2+32(FP), R15
	MOVQ	a3+40(FP), R8
	MOVQ	a4+48(FP), R9
	MOVQ	a5+56(FP), R10
	MOVQ	out+64(FP), CX
	MOVBQZX	second+72(FP), DX
	TESTQ	BX, BX
	JLE	latdone
	MOVQ	SP, R13
	LEAQ	(callFrame-64)(SP), SP
	ANDQ	$~15, SP
	// Slots above the new SP, out of the callee's reach:
	// 0(SP) out cursor, 8(SP) start ticks, 16(SP) rdtscp flag, 24(SP) kind,
	// 32(SP) a3, 40(SP) a4, 48(SP) a5.
	MOVQ	CX, 0(SP)
	MOVQ	DX, 16(SP)
	MOVQ	AX, 24(SP)
	MOVQ	R8, 32(SP)
	MOVQ	R9, 40(SP)
	MOVQ	R10, 48(SP)
	PCALIGN	$32
latloop:
	LFENCE
	RDTSC
	LFENCE
	SHLQ	$32, DX
	ORQ	DX, AX
	MOVQ	AX, 8(SP)
	MOVQ	24(SP), AX
	CMPQ	AX, $1
	JEQ	latcall
	CMPQ	AX, $2
	JEQ	latsys
	CMPQ	AX, $3
	JEQ	latload
	JMP	latend
latload:
	MOVL	(R12), AX
	JMP	latend
latcall:
	MOVQ	R14, DI
	MOVQ	R15, SI
	MOVQ	32(SP), DX
	MOVQ	40(SP), CX
	MOVQ	48(SP), R8
	CALL	R12
	JMP	latend
latsys:
	MOVQ	R12, AX
	MOVQ	R14, DI
	MOVQ	R15, SI
	MOVQ	32(SP), DX
	MOVQ	40(SP), R10
	MOVQ	48(SP), R8
	SYSCALL
latend:
	CMPQ	16(SP), $0
	JEQ	latfence
	RDTSCP
	LFENCE
	JMP	latgot
latfence:
	LFENCE
	RDTSC
	LFENCE
latgot:
	SHLQ	$32, DX
	ORQ	DX, AX
	SUBQ	8(SP), AX
	MOVQ	0(SP), CX
	MOVQ	AX, (CX)
	ADDQ	$8, CX
	MOVQ	CX, 0(SP)
	DECQ	BX
	JNZ	latloop
	MOVQ	R13, SP
latdone:
	RET
