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
// bytes below the initial sp, written to fd 1, and the program exits 0 if
// the whole record was written, 1 otherwise.
func reportCode() []byte {
	return cat(
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
		// Skip argc, argv[] and its NULL, then envp[] and its NULL.
		a64(0xf9400022), // 28 ldr x2, [x1]
		a64(0x8b020c21), // 2c add x1, x1, x2, lsl #3
		a64(0x91004021), // 30 add x1, x1, #16
		a64(0xf8408422), // 34 env: ldr x2, [x1], #8
		a64(0xb5ffffe2), // 38 cbnz x2, env
		// Each auxv pair: x2 = type, x3 = value, until AT_NULL.
		a64(0xa8c10c22),             // 3c aux: ldp x2, x3, [x1], #16
		a64(0xb4000222),             // 40 cbz x2, done
		cmpX2(proc.AT_SYSINFO_EHDR), // 44 cmp x2, #AT_SYSINFO_EHDR
		a64(0x54000041),             // 48 b.ne 50
		strSP(3, slotSysinfoEhdr),   // 4c str x3, [sp, #SYSINFO_EHDR]
		cmpX2(proc.AT_PHDR),         // 50 cmp x2, #AT_PHDR
		a64(0x54000041),             // 54 b.ne 5c
		strSP(3, slotPhdr),          // 58 str x3, [sp, #PHDR]
		cmpX2(proc.AT_BASE),         // 5c cmp x2, #AT_BASE
		a64(0x54000041),             // 60 b.ne 68
		strSP(3, slotBase),          // 64 str x3, [sp, #BASE]
		cmpX2(proc.AT_EXECFN),       // 68 cmp x2, #AT_EXECFN
		a64(0x54000041),             // 6c b.ne 74
		strSP(3, slotExecfn),        // 70 str x3, [sp, #EXECFN]
		cmpX2(proc.AT_RANDOM),       // 74 cmp x2, #AT_RANDOM
		a64(0x54000041),             // 78 b.ne 80
		strSP(3, slotRandom),        // 7c str x3, [sp, #RANDOM]
		a64(0x17ffffef),             // 80 b aux
		// The program break, then the record to fd 1.
		movz(8, unix.SYS_BRK),   // 84 done: mov x8, #SYS_brk
		movz(0, 0),              // 88 mov x0, #0
		a64(0xd4000001),         // 8c svc #0
		strSP(0, slotBrk),       // 90 str x0, [sp, #BRK]
		movz(8, unix.SYS_WRITE), // 94 mov x8, #SYS_write
		movz(0, 1),              // 98 mov x0, #1
		a64(0x910003e1),         // 9c mov x1, sp
		movz(2, recordSize),     // a0 mov x2, #recordSize
		a64(0xd4000001),         // a4 svc #0
		// exit_group(x0 != recordSize).
		cmpX0(recordSize),            // a8 cmp x0, #recordSize
		a64(0x1a9f07e0),              // ac cset w0, ne
		movz(8, unix.SYS_EXIT_GROUP), // b0 mov x8, #SYS_exit_group
		a64(0xd4000001),              // b4 svc #0
	)
}

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
