#include "textflag.h"

// func callEntry(fn, a1, a2 uintptr) uintptr
// Calls a vsyscall page entry (C ABI: DI, SI in, AX out). The emulated call
// only pops the return address, so the goroutine stack with a small frame
// and SP aligned to 16 is enough.
TEXT ·callEntry(SB), NOSPLIT, $32-32
	MOVQ fn+0(FP), AX
	MOVQ a1+8(FP), DI
	MOVQ a2+16(FP), SI
	MOVQ SP, BX // BX is preserved by C callees
	ANDQ $~15, SP
	CALL AX
	MOVQ BX, SP
	MOVQ AX, ret+24(FP)
	RET
