package aslr

import (
	"debug/elf"
	"encoding/binary"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/proc"
)

// The x86-64 machine code of vbench's programs (target.go builds the ELF
// around it). Constants (syscall numbers, auxv types, record slots) are
// patched in from golang.org/x/sys/unix, package proc and selfreport.go;
// every instruction has a fixed length whatever its constant, so the
// branch offsets below hold. The listing was assembled with GNU as (Intel
// syntax) and checked with objdump; byte offsets are in the comments.

const (
	targetMachine = elf.EM_X86_64
	targetArch    = "x86-64"
)

// exitCode is exit_group(0).
func exitCode() []byte {
	return cat(
		b(0xb8), le32(unix.SYS_EXIT_GROUP), // mov eax, SYS_exit_group
		b(0x31, 0xff), // xor edi, edi
		b(0x0f, 0x05), // syscall
	)
}

// reportCode is the reporting target. At the entry point the kernel has
// left (System V x86-64 ABI, fs/binfmt_elf.c:create_elf_tables) rsp
// pointing at argc, then argv[], NULL, envp[], NULL, and the auxv pairs up
// to AT_NULL. The record (recordWords 8-byte words, selfreport.go) is
// built on the stack below the initial rsp, written to fd 1 and the
// program exits 0 if the whole record was written, 1 otherwise.
func reportCode() []byte {
	slot := func(i int) byte { return byte(8 * i) }
	return cat(
		// The record: 8 zero words below the initial sp, at rsp.
		b(0x48, 0x89, 0xe6), // 00 mov rsi, rsp
		b(0x31, 0xc0),       // 03 xor eax, eax
		b(0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50), // 05 push rax, 8 times
		b(0xc7, 0x04, 0x24), le32(reportMagic), // 0d mov dword [rsp], reportMagic
		b(0x48, 0x89, 0x74, 0x24, slot(slotSP)), // 14 mov [rsp+SP], rsi
		// Skip argc, argv[] and its NULL, then envp[] and its NULL.
		b(0x48, 0x8b, 0x06),             // 19 mov rax, [rsi]
		b(0x48, 0x8d, 0x74, 0xc6, 0x10), // 1c lea rsi, [rsi+rax*8+16]
		b(0x48, 0xad),                   // 21 env: lodsq
		b(0x48, 0x85, 0xc0),             // 23 test rax, rax
		b(0x75, 0xf9),                   // 26 jnz env
		// Each auxv pair: rdx = type, rax = value, until AT_NULL.
		b(0x48, 0xad),       // 28 aux: lodsq
		b(0x48, 0x89, 0xc2), // 2a mov rdx, rax
		b(0x48, 0xad),       // 2d lodsq
		b(0x48, 0x85, 0xd2), // 2f test rdx, rdx
		b(0x74, 0x39),       // 32 jz done
		b(0x48, 0x83, 0xfa, proc.AT_SYSINFO_EHDR), // 34 cmp rdx, AT_SYSINFO_EHDR
		b(0x75, 0x05), // 38 jne 3f
		b(0x48, 0x89, 0x44, 0x24, slot(slotSysinfoEhdr)), // 3a mov [rsp+SYSINFO_EHDR], rax
		b(0x48, 0x83, 0xfa, proc.AT_PHDR),                // 3f cmp rdx, AT_PHDR
		b(0x75, 0x05),                                    // 43 jne 4a
		b(0x48, 0x89, 0x44, 0x24, slot(slotPhdr)),        // 45 mov [rsp+PHDR], rax
		b(0x48, 0x83, 0xfa, proc.AT_BASE),                // 4a cmp rdx, AT_BASE
		b(0x75, 0x05),                                    // 4e jne 55
		b(0x48, 0x89, 0x44, 0x24, slot(slotBase)),        // 50 mov [rsp+BASE], rax
		b(0x48, 0x83, 0xfa, proc.AT_EXECFN),              // 55 cmp rdx, AT_EXECFN
		b(0x75, 0x05),                                    // 59 jne 60
		b(0x48, 0x89, 0x44, 0x24, slot(slotExecfn)),      // 5b mov [rsp+EXECFN], rax
		b(0x48, 0x83, 0xfa, proc.AT_RANDOM),              // 60 cmp rdx, AT_RANDOM
		b(0x75, 0xc2),                                    // 64 jne aux
		b(0x48, 0x89, 0x44, 0x24, slot(slotRandom)),      // 66 mov [rsp+RANDOM], rax
		b(0xeb, 0xbb),                                    // 6b jmp aux
		// The program break, then the record to fd 1.
		b(0xb8), le32(unix.SYS_BRK), // 6d done: mov eax, SYS_brk
		b(0x31, 0xff),                            // 72 xor edi, edi
		b(0x0f, 0x05),                            // 74 syscall
		b(0x48, 0x89, 0x44, 0x24, slot(slotBrk)), // 76 mov [rsp+BRK], rax
		b(0xb8), le32(unix.SYS_WRITE),            // 7b mov eax, SYS_write
		b(0xbf), le32(1), // 80 mov edi, 1
		b(0x48, 0x89, 0xe6),       // 85 mov rsi, rsp
		b(0xba), le32(recordSize), // 88 mov edx, recordSize
		b(0x0f, 0x05), // 8d syscall
		// exit_group(rax != recordSize).
		b(0x31, 0xff),                      // 8f xor edi, edi
		b(0x48, 0x83, 0xf8, recordSize),    // 91 cmp rax, recordSize
		b(0x40, 0x0f, 0x95, 0xc7),          // 95 setne dil
		b(0xb8), le32(unix.SYS_EXIT_GROUP), // 99 mov eax, SYS_exit_group
		b(0x0f, 0x05), // 9e syscall
	)
}

func b(x ...byte) []byte { return x }

func le32(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
