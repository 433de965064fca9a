package lifecycle

import (
	"debug/elf"

	"golang.org/x/sys/unix"
)

const elfMachine = elf.EM_X86_64

// archMapVDSO64 is ARCH_MAP_VDSO_64, arch/x86/include/uapi/asm/prctl.h
// (golang.org/x/sys/unix does not name the ARCH_* codes): with
// CONFIG_CHECKPOINT_RESTORE, arch_prctl(ARCH_MAP_VDSO_64, addr) maps the
// 64-bit vDSO at addr (arch/x86/kernel/process_64.c, prctl_map_vdso) and
// returns the image's size.
const archMapVDSO64 = 0x2003

// hasMapVDSO: x86-64 has arch_prctl(ARCH_MAP_VDSO_64).
const hasMapVDSO = true

// sysArchPrctl is the arch_prctl syscall.
const sysArchPrctl = unix.SYS_ARCH_PRCTL

// childCode is the child's machine code (GNU as, Intel syntax; checked with
// objdump, byte offsets on the left):
//
//	chain:                          ; rbx: table, r12: entries left
//	 00  4d 85 e4     test r12, r12
//	 03  74 2a        jz   done
//	 05  48 8b 03     mov  rax, [rbx]       ; nr
//	 08  48 8b 7b 08  mov  rdi, [rbx+8]
//	 0c  48 8b 73 10  mov  rsi, [rbx+16]
//	 10  48 8b 53 18  mov  rdx, [rbx+24]
//	 14  4c 8b 53 20  mov  r10, [rbx+32]
//	 18  4c 8b 43 28  mov  r8,  [rbx+40]
//	 1c  4c 8b 4b 30  mov  r9,  [rbx+48]
//	 20  0f 05        syscall
//	 22  48 89 43 38  mov  [rbx+56], rax    ; result
//	 26  48 83 c3 40  add  rbx, 64
//	 2a  49 ff cc     dec  r12
//	 2d  eb d1        jmp  chain
//	done:
//	 2f  cc           int3
//	 30  eb fd        jmp  done
//	callstub:                       ; r11: function, rdi, rsi: arguments
//	 32  41 ff d3     call r11
//	 35  cc           int3
//	 36  eb fa        jmp  callstub
var childCode = []byte{
	0x4d, 0x85, 0xe4,
	0x74, 0x2a,
	0x48, 0x8b, 0x03,
	0x48, 0x8b, 0x7b, 0x08,
	0x48, 0x8b, 0x73, 0x10,
	0x48, 0x8b, 0x53, 0x18,
	0x4c, 0x8b, 0x53, 0x20,
	0x4c, 0x8b, 0x43, 0x28,
	0x4c, 0x8b, 0x4b, 0x30,
	0x0f, 0x05,
	0x48, 0x89, 0x43, 0x38,
	0x48, 0x83, 0xc3, 0x40,
	0x49, 0xff, 0xcc,
	0xeb, 0xd1,
	0xcc,
	0xeb, 0xfd,
	0x41, 0xff, 0xd3,
	0xcc,
	0xeb, 0xfa,
}

const (
	chainOffset = 0x00
	callOffset  = 0x32
)

func pc(r *unix.PtraceRegs) uint64     { return r.Rip }
func sp(r *unix.PtraceRegs) uint64     { return r.Rsp }
func retval(r *unix.PtraceRegs) uint64 { return r.Rax }

// noRestart: orig_rax -1 tells the kernel the child is not in a syscall,
// so resuming it restarts nothing (arch/x86/kernel/signal.c).
func noRestart(r *unix.PtraceRegs) { r.Orig_rax = ^uint64(0) }

func setChain(r *unix.PtraceRegs, code, table, n, stack uint64) {
	noRestart(r)
	r.Rip = code + chainOffset
	r.Rbx, r.R12 = table, n
	r.Rsp = stack
}

// setCall: the stack pointer is 16-byte aligned before the call, as the
// ABI requires (the callee sees it 8 below, after the return address).
func setCall(r *unix.PtraceRegs, code, fn, a0, a1, stack uint64) {
	noRestart(r)
	r.Rip = code + callOffset
	r.R11, r.Rdi, r.Rsi = fn, a0, a1
	r.Rax = 0
	r.Rsp = stack &^ 15
}
