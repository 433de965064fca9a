package aslr

import (
	"debug/elf"
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/proc"
)

// The AArch64 machine code of vbench's programs (target.go builds the ELF
// around it). Every instruction is one 32-bit little-endian word; those
// that carry a constant (syscall numbers from golang.org/x/sys/unix, auxv
// types from package proc, record slots and the magic from selfreport.go)
// are encoded by the helpers below, the others are literal words. Branch
// offsets are fixed since no instruction changes length. The listing was
// assembled with GNU as (binutils-aarch64-linux-gnu) and the bytes checked
// against objdump -D -b binary -m aarch64; testdata/target_arm64.objdump is
// that disassembly, and target_arm64_test.go compares every word with it.
//
// Linux arm64 system calls (arch/arm64/kernel/syscall.c, el0_svc): svc #0,
// number in x8, arguments in x0..x5, result in x0.

const (
	targetMachine = elf.EM_AARCH64
	targetArch    = "arm64"
)

// exitCode is exit_group(0).
func exitCode() []byte {
	return cat(
		movz(0, 0),                   // 00 mov x0, #0
		movz(8, unix.SYS_EXIT_GROUP), // 04 mov x8, #SYS_exit_group
		a64(0xd4000001),              // 08 svc #0
	)
}

// reportCode is the reporting target. At the entry point the kernel has
// left (fs/binfmt_elf.c:create_elf_tables, arch/arm64's start_thread) sp
// pointing at argc, then argv[], NULL, envp[], NULL, and the auxv pairs up
// to AT_NULL; sp is 16-byte aligned, as the AArch64 SP alignment check
// (SCTLR_EL1.SA0, set by Linux) requires of every sp-based access. The
// record (recordWords 8-byte words, selfreport.go) is built in the 64
// bytes below the initial sp. Then, as on x86-64 (target_amd64.go): a byte
// read from fd 0 sets recordStops; the record goes to fd 1 (exit_group(1)
// if short); if asked, kill(getpid(), SIGSTOP); then the chain variant
// executes chainPath again with its own argv (x19) and envp (x20), and the
// other exits 0. x19-x21 are callee-saved and untouched by svc.
func reportCode(chain bool) []byte {
	failOff := 0x118 // b.ne fail at 0xe0
	if !chain {
		failOff = 0x104
	}
	code := cat(
		// The record: 8 zero words below the initial sp, at sp.
		a64(0x910003e1),              // 00 mov x1, sp
		a64(0xd10103ff),              // 04 sub sp, sp, #64
		a64(0xa9007fff),              // 08 stp xzr, xzr, [sp]
		a64(0xa9017fff),              // 0c stp xzr, xzr, [sp, #16]
		a64(0xa9027fff),              // 10 stp xzr, xzr, [sp, #32]
		a64(0xa9037fff),              // 14 stp xzr, xzr, [sp, #48]
		movzW(2, reportMagic&0xffff), // 18 mov w2, #(reportMagic & 0xffff)
		movkW16(2, reportMagic>>16),  // 1c movk w2, #(reportMagic >> 16), lsl #16
		strSP(2, slotMagic),          // 20 str x2, [sp, #MAGIC]
		strSP(1, slotSP),             // 24 str x1, [sp, #SP]
		// x19 = argv, x20 = envp, kept for the execve; skip argc, argv[]
		// and its NULL, then envp[] and its NULL. x21: asked to stop.
		a64(0xf9400022), // 28 ldr x2, [x1]
		a64(0x91002033), // 2c add x19, x1, #8
		a64(0x8b020c21), // 30 add x1, x1, x2, lsl #3
		a64(0x91004021), // 34 add x1, x1, #16
		a64(0xaa0103f4), // 38 mov x20, x1
		a64(0xd2800015), // 3c mov x21, #0
		a64(0xf8408422), // 40 env: ldr x2, [x1], #8
		a64(0xb5ffffe2), // 44 cbnz x2, env
		// Each auxv pair: x2 = type, x3 = value, until AT_NULL.
		a64(0xa8c10c22),             // 48 aux: ldp x2, x3, [x1], #16
		a64(0xb4000222),             // 4c cbz x2, done
		cmpX2(proc.AT_SYSINFO_EHDR), // 50 cmp x2, #AT_SYSINFO_EHDR
		a64(0x54000041),             // 54 b.ne 5c
		strSP(3, slotSysinfoEhdr),   // 58 str x3, [sp, #SYSINFO_EHDR]
		cmpX2(proc.AT_PHDR),         // 5c cmp x2, #AT_PHDR
		a64(0x54000041),             // 60 b.ne 68
		strSP(3, slotPhdr),          // 64 str x3, [sp, #PHDR]
		cmpX2(proc.AT_BASE),         // 68 cmp x2, #AT_BASE
		a64(0x54000041),             // 6c b.ne 74
		strSP(3, slotBase),          // 70 str x3, [sp, #BASE]
		cmpX2(proc.AT_EXECFN),       // 74 cmp x2, #AT_EXECFN
		a64(0x54000041),             // 78 b.ne 80
		strSP(3, slotExecfn),        // 7c str x3, [sp, #EXECFN]
		cmpX2(proc.AT_RANDOM),       // 80 cmp x2, #AT_RANDOM
		a64(0x54000041),             // 84 b.ne 8c
		strSP(3, slotRandom),        // 88 str x3, [sp, #RANDOM]
		a64(0x17ffffef),             // 8c b aux
		// The program break.
		movz(8, unix.SYS_BRK), // 90 done: mov x8, #SYS_brk
		movz(0, 0),            // 94 mov x0, #0
		a64(0xd4000001),       // 98 svc #0
		strSP(0, slotBrk),     // 9c str x0, [sp, #BRK]
		// A byte on fd 0 asks for a checked sample.
		movz(8, unix.SYS_READ),              // a0 mov x8, #SYS_read
		movz(0, 0),                          // a4 mov x0, #0
		a64(0xd10043e1),                     // a8 sub x1, sp, #16
		movz(2, 1),                          // ac mov x2, #1
		a64(0xd4000001),                     // b0 svc #0
		cmpX0(1),                            // b4 cmp x0, #1
		a64(0x54000081),                     // b8 b.ne write
		movzW(2, recordStops),               // bc mov w2, #recordStops
		a64(0x390003e2|recordFlagsByte<<10), // c0 strb w2, [sp, #recordFlagsByte]
		movz(21, 1),                         // c4 mov x21, #1
		// The record to fd 1.
		movz(8, unix.SYS_WRITE), // c8 write: mov x8, #SYS_write
		movz(0, 1),              // cc mov x0, #1
		a64(0x910003e1),         // d0 mov x1, sp
		movz(2, recordSize),     // d4 mov x2, #recordSize
		a64(0xd4000001),         // d8 svc #0
		cmpX0(recordSize),       // dc cmp x0, #recordSize
		bne((failOff-0xe0)/4),   // e0 b.ne fail
		// Asked: stop here until vbench has read /proc and sent SIGCONT.
		a64(0xb40000d5),               // e4 cbz x21, next
		movz(8, unix.SYS_GETPID),      // e8 mov x8, #SYS_getpid
		a64(0xd4000001),               // ec svc #0
		movz(1, uint16(unix.SIGSTOP)), // f0 mov x1, #SIGSTOP
		movz(8, unix.SYS_KILL),        // f4 mov x8, #SYS_kill
		a64(0xd4000001),               // f8 svc #0
	)
	if chain {
		code = cat(code,
			movz(8, unix.SYS_EXECVE), // fc next: mov x8, #SYS_execve
			a64(0x10000120),          // 100 adr x0, path
			a64(0xaa1303e1),          // 104 mov x1, x19
			a64(0xaa1403e2),          // 108 mov x2, x20
			a64(0xd4000001),          // 10c svc #0
			movz(0, 2),               // 110 mov x0, #2
			a64(0x14000002),          // 114 b exit
		)
	} else {
		code = cat(code,
			movz(0, 0),      // fc next: mov x0, #0
			a64(0x14000002), // 100 b exit
		)
	}
	code = cat(code,
		movz(0, 1),                   // fail: mov x0, #1
		movz(8, unix.SYS_EXIT_GROUP), // exit: mov x8, #SYS_exit_group
		a64(0xd4000001),              // svc #0
	)
	if chain {
		code = cat(code, []byte(chainPath), b(0)) // 124 path
	}
	return code
}

// noopChainCode writes one word (argc) to fd 1 and executes itself again
// (ceiling.go: the chain ceiling).
func noopChainCode() []byte {
	return cat(
		movz(8, unix.SYS_WRITE),      // 00 mov x8, #SYS_write
		movz(0, 1),                   // 04 mov x0, #1
		a64(0x910003e1),              // 08 mov x1, sp
		movz(2, 8),                   // 0c mov x2, #8
		a64(0xd4000001),              // 10 svc #0
		cmpX0(8),                     // 14 cmp x0, #8
		a64(0x54000141),              // 18 b.ne fail
		a64(0xf94003e3),              // 1c ldr x3, [sp]
		a64(0x910023e1),              // 20 add x1, sp, #8
		a64(0x8b030c22),              // 24 add x2, x1, x3, lsl #3
		a64(0x91002042),              // 28 add x2, x2, #8
		a64(0x10000100),              // 2c adr x0, path
		movz(8, unix.SYS_EXECVE),     // 30 mov x8, #SYS_execve
		a64(0xd4000001),              // 34 svc #0
		movz(0, 2),                   // 38 mov x0, #2
		a64(0x14000002),              // 3c b exit
		movz(0, 1),                   // 40 fail: mov x0, #1
		movz(8, unix.SYS_EXIT_GROUP), // 44 exit: mov x8, #SYS_exit_group
		a64(0xd4000001),              // 48 svc #0
		[]byte(chainPath), b(0),      // 4c path
	)
}

// vforkCode is the spawn ceiling's stub (see target_amd64.go). arm64 has
// no vfork system call: clone(CLONE_VM|CLONE_VFORK|SIGCHLD, 0, ...) is
// what its C library's vfork does, the child on the parent's stack, which
// it does not touch before execve.
func vforkCode() []byte {
	return cat(
		a64(0xf94003e3), // 00 ldr x3, [sp]
		a64(0x910023f3), // 04 add x19, sp, #8
		a64(0x8b030e74), // 08 add x20, x19, x3, lsl #3
		a64(0x91002294), // 0c add x20, x20, #8
		a64(0xd2800015), // 10 mov x21, #0
		a64(0xd10043ff), // 14 sub sp, sp, #16: wait4's status at [sp]
		movz(0, unix.CLONE_VM|unix.CLONE_VFORK|uint16(unix.SIGCHLD)), // 18 loop: mov x0, #flags
		movz(1, 0),                   // 1c mov x1, #0
		movz(2, 0),                   // 20 mov x2, #0
		movz(3, 0),                   // 24 mov x3, #0
		movz(4, 0),                   // 28 mov x4, #0
		movz(8, unix.SYS_CLONE),      // 2c mov x8, #SYS_clone
		a64(0xd4000001),              // 30 svc #0
		a64(0xb40002c0),              // 34 cbz x0, child
		a64(0xb7f803a0),              // 38 tbnz x0, #63, fail
		a64(0x910003e1),              // 3c mov x1, sp
		movz(2, 0),                   // 40 mov x2, #0
		movz(3, 0),                   // 44 mov x3, #0
		movz(8, unix.SYS_WAIT4),      // 48 mov x8, #SYS_wait4
		a64(0xd4000001),              // 4c svc #0
		cmpX0(0),                     // 50 cmp x0, #0
		a64(0x540002cd),              // 54 b.le fail
		a64(0xb94003e1),              // 58 ldr w1, [sp]
		a64(0x35000281),              // 5c cbnz w1, fail
		a64(0x910006b5),              // 60 add x21, x21, #1
		a64(0xf2400ebf),              // 64 tst x21, #15 (vforkBatch-1, a bitmask immediate)
		a64(0x54fffd81),              // 68 b.ne loop
		movz(8, unix.SYS_WRITE),      // 6c mov x8, #SYS_write
		movz(0, 1),                   // 70 mov x0, #1
		a64(0x910003e1),              // 74 mov x1, sp
		movz(2, 1),                   // 78 mov x2, #1
		a64(0xd4000001),              // 7c svc #0
		cmpX0(1),                     // 80 cmp x0, #1
		a64(0x54000141),              // 84 b.ne fail
		a64(0x17ffffe4),              // 88 b loop
		a64(0x10000160),              // 8c child: adr x0, path
		a64(0xaa1303e1),              // 90 mov x1, x19
		a64(0xaa1403e2),              // 94 mov x2, x20
		movz(8, unix.SYS_EXECVE),     // 98 mov x8, #SYS_execve
		a64(0xd4000001),              // 9c svc #0
		movz(0, 127),                 // a0 mov x0, #127
		movz(8, unix.SYS_EXIT),       // a4 mov x8, #SYS_exit
		a64(0xd4000001),              // a8 svc #0
		movz(0, 1),                   // ac fail: mov x0, #1
		movz(8, unix.SYS_EXIT_GROUP), // b0 mov x8, #SYS_exit_group
		a64(0xd4000001),              // b4 svc #0
		[]byte(chainPath), b(0),      // b8 path
	)
}

func b(x ...byte) []byte { return x }

// bne is B.NE by imm19 instructions forward (or back, negative).
func bne(imm int) []byte { return a64(0x54000001 | uint32(imm)&0x7ffff<<5) }

// a64 is one instruction word.
func a64(w uint32) []byte { return binary.LittleEndian.AppendUint32(nil, w) }

// The encodings below are from the Arm Architecture Reference Manual
// (A64 base instructions); imm must fit its field, which the constants
// used here all do (an auxv type, a syscall number < 4096, a slot < 8).

// movz is MOVZ Xd, #imm16 (sf=1, opc=10, hw=0).
func movz(rd int, imm uint16) []byte { return a64(0xd2800000 | uint32(imm)<<5 | uint32(rd)) }

// movzW is MOVZ Wd, #imm16, which also zeroes the upper half of Xd.
func movzW(rd int, imm uint16) []byte { return a64(0x52800000 | uint32(imm)<<5 | uint32(rd)) }

// movkW16 is MOVK Wd, #imm16, LSL #16 (hw=1).
func movkW16(rd int, imm uint16) []byte { return a64(0x72a00000 | uint32(imm)<<5 | uint32(rd)) }

// strSP is STR Xt, [SP, #8*slot] (unsigned offset, scaled by 8).
func strSP(rt, slot int) []byte { return a64(0xf90003e0 | uint32(slot)<<10 | uint32(rt)) }

// cmpX2 and cmpX0 are CMP Xn, #imm12, that is SUBS XZR, Xn, #imm12.
func cmpX2(imm uint16) []byte { return a64(0xf100001f | uint32(imm&0xfff)<<10 | 2<<5) }
func cmpX0(imm uint16) []byte { return a64(0xf100001f | uint32(imm&0xfff)<<10) }
