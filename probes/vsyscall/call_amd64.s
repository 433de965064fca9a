#include "textflag.h"

// func callEntry(fn, a1, a2 uintptr) uintptr
// Calls a vsyscall page entry (C ABI: DI, SI in, AX out). The emulated call
// only pops the return address (arch/x86/entry/vsyscall/vsyscall_64.c,
// emulate_vsyscall), so a small frame is enough; BX, which a C callee
// preserves, keeps the Go SP.
//
// The call's SP is taken from the top of this function's own 32-byte frame
// and rounded down to 16, as callC in probes/call_amd64.s does: it lands
// between 8(SP) and 24(SP), so the return address CALL pushes (at 0(SP) to
// 16(SP)) stays inside the frame. Rounding SP itself down instead, as this
// function once did, could move it 8 bytes below the frame, and CALL then
// wrote below the frame Go had reserved, into what a NOSPLIT function may
// not assume is stack it owns.
TEXT ·callEntry(SB), NOSPLIT, $32-32
	MOVQ fn+0(FP), AX
	MOVQ a1+8(FP), DI
	MOVQ a2+16(FP), SI
	MOVQ SP, BX
	LEAQ 24(SP), CX
	ANDQ $~15, CX
	MOVQ CX, SP
	CALL AX
	MOVQ BX, SP
	MOVQ AX, ret+24(FP)
	RET
