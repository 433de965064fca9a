package lifecycle

import (
	"debug/elf"

	"golang.org/x/sys/unix"
)

const elfMachine = elf.EM_AARCH64

// hasMapVDSO: arm64 has no ARCH_MAP_VDSO (arch_prctl is x86-only); only the
// mremap check applies there.
const hasMapVDSO = false

// Unused on arm64 (hasMapVDSO is false); defined so the shared code builds.
const (
	archMapVDSO64 = 0
	sysArchPrctl  = 0
)

// childCode is the child's machine code (GNU as for aarch64, checked with
// objdump, byte offsets on the left):
//
//	chain:                          // x19: table, x20: entries left
//	 00  b4000154  cbz  x20, done
//	 04  a9400268  ldp  x8, x0, [x19]        // nr, arg 0
//	 08  a9410a61  ldp  x1, x2, [x19, #16]
//	 0c  a9421263  ldp  x3, x4, [x19, #32]
//	 10  f9401a65  ldr  x5, [x19, #48]
//	 14  d4000001  svc  #0
//	 18  f9001e60  str  x0, [x19, #56]       // result
//	 1c  91010273  add  x19, x19, #64
//	 20  d1000694  sub  x20, x20, #1
//	 24  17fffff7  b    chain
//	done:
//	 28  d4200000  brk  #0
//	 2c  17ffffff  b    done
//	callstub:                       // x16: function, x0, x1: arguments
//	 30  d63f0200  blr  x16
//	 34  d4200000  brk  #0
//	 38  17fffffe  b    callstub
var childCode = words(
	0xb4000154, 0xa9400268, 0xa9410a61, 0xa9421263, 0xf9401a65, 0xd4000001,
	0xf9001e60, 0x91010273, 0xd1000694, 0x17fffff7,
	0xd4200000, 0x17ffffff,
	0xd63f0200, 0xd4200000, 0x17fffffe,
)

func words(ws ...uint32) []byte {
	b := make([]byte, 0, 4*len(ws))
	for _, w := range ws {
		b = append(b, byte(w), byte(w>>8), byte(w>>16), byte(w>>24))
	}
	return b
}

const (
	chainOffset = 0x00
	callOffset  = 0x30
)

func pc(r *unix.PtraceRegs) uint64     { return r.Pc }
func sp(r *unix.PtraceRegs) uint64     { return r.Sp }
func retval(r *unix.PtraceRegs) uint64 { return r.Regs[0] }

func setChain(r *unix.PtraceRegs, code, table, n, stack uint64) {
	r.Pc = code + chainOffset
	r.Regs[19], r.Regs[20] = table, n
	r.Regs[0] = 0
	r.Sp = stack
}

func setCall(r *unix.PtraceRegs, code, fn, a0, a1, stack uint64) {
	r.Pc = code + callOffset
	r.Regs[16], r.Regs[0], r.Regs[1] = fn, a0, a1
	r.Sp = stack &^ 15
}
