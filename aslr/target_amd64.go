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
// branch offsets below hold. The listings were assembled with GNU as
// (Intel syntax) and checked with objdump; byte offsets are in the
// comments. Syscalls clobber rcx and r11 only (the x86-64 syscall ABI), so
// r12-r14 carry values across them; the kernel starts a new program with
// the general registers cleared (ELF_PLAT_INIT), but the code does not
// rely on it.

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
// built on the stack below the initial rsp. Then:
//
//   - read(0, buf, 1): a byte there (the control pipe, selfreport.go) asks
//     for a checked sample, and sets recordStops in the record;
//   - write(1, record, recordSize), exit_group(1) if short;
//   - if asked: kill(getpid(), SIGSTOP), stopped with the layout as the
//     record describes it, for vbench to read /proc/PID/maps (no ptrace);
//   - chain: execve(chainPath, argv, envp) with its own argv and envp, so
//     the next image gets the same strings and the same stack layout
//     (exit_group(2) if the execve fails); otherwise exit_group(0).
func reportCode(chain bool) []byte {
	slot := func(i int) byte { return byte(8 * i) }
	var tail []byte
	if chain {
		tail = cat(
			b(0xb8), le32(unix.SYS_EXECVE), // da next: mov eax, SYS_execve
			b(0x48, 0x8d, 0x3d, 0x1b, 0, 0, 0), // df lea rdi, [rip+path]
			b(0x4c, 0x89, 0xe6),                // e6 mov rsi, r12
			b(0x4c, 0x89, 0xea),                // e9 mov rdx, r13
			b(0x0f, 0x05),                      // ec syscall
			b(0xbf), le32(2),                   // ee mov edi, 2
			b(0xeb, 0x05), // f3 jmp exit
		)
	} else {
		tail = cat(
			b(0x31, 0xff), // da next: xor edi, edi
			b(0xeb, 0x05), // dc jmp exit
		)
	}
	failRel := byte(0xda + len(tail) - 0xc0)
	code := cat(
		// The record: 8 zero words below the initial sp, at rsp.
		b(0x48, 0x89, 0xe6), // 00 mov rsi, rsp
		b(0x31, 0xc0),       // 03 xor eax, eax
		b(0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50, 0x50), // 05 push rax, 8 times
		b(0xc7, 0x04, 0x24), le32(reportMagic), // 0d mov dword [rsp], reportMagic
		b(0x48, 0x89, 0x74, 0x24, slot(slotSP)), // 14 mov [rsp+SP], rsi
		// r12 = argv, r13 = envp, kept for the execve; skip argc, argv[]
		// and its NULL, then envp[] and its NULL. r14: asked to stop.
		b(0x48, 0x8b, 0x06),             // 19 mov rax, [rsi]
		b(0x4c, 0x8d, 0x66, 0x08),       // 1c lea r12, [rsi+8]
		b(0x48, 0x8d, 0x74, 0xc6, 0x10), // 20 lea rsi, [rsi+rax*8+16]
		b(0x49, 0x89, 0xf5),             // 25 mov r13, rsi
		b(0x45, 0x31, 0xf6),             // 28 xor r14d, r14d
		b(0x48, 0xad),                   // 2b env: lodsq
		b(0x48, 0x85, 0xc0),             // 2d test rax, rax
		b(0x75, 0xf9),                   // 30 jnz env
		// Each auxv pair: rdx = type, rax = value, until AT_NULL.
		b(0x48, 0xad),       // 32 aux: lodsq
		b(0x48, 0x89, 0xc2), // 34 mov rdx, rax
		b(0x48, 0xad),       // 37 lodsq
		b(0x48, 0x85, 0xd2), // 39 test rdx, rdx
		b(0x74, 0x39),       // 3c jz done
		b(0x48, 0x83, 0xfa, proc.AT_SYSINFO_EHDR), // 3e cmp rdx, AT_SYSINFO_EHDR
		b(0x75, 0x05), // 42 jne 49
		b(0x48, 0x89, 0x44, 0x24, slot(slotSysinfoEhdr)), // 44 mov [rsp+SYSINFO_EHDR], rax
		b(0x48, 0x83, 0xfa, proc.AT_PHDR),                // 49 cmp rdx, AT_PHDR
		b(0x75, 0x05),                                    // 4d jne 54
		b(0x48, 0x89, 0x44, 0x24, slot(slotPhdr)),        // 4f mov [rsp+PHDR], rax
		b(0x48, 0x83, 0xfa, proc.AT_BASE),                // 54 cmp rdx, AT_BASE
		b(0x75, 0x05),                                    // 58 jne 5f
		b(0x48, 0x89, 0x44, 0x24, slot(slotBase)),        // 5a mov [rsp+BASE], rax
		b(0x48, 0x83, 0xfa, proc.AT_EXECFN),              // 5f cmp rdx, AT_EXECFN
		b(0x75, 0x05),                                    // 63 jne 6a
		b(0x48, 0x89, 0x44, 0x24, slot(slotExecfn)),      // 65 mov [rsp+EXECFN], rax
		b(0x48, 0x83, 0xfa, proc.AT_RANDOM),              // 6a cmp rdx, AT_RANDOM
		b(0x75, 0xc2),                                    // 6e jne aux
		b(0x48, 0x89, 0x44, 0x24, slot(slotRandom)),      // 70 mov [rsp+RANDOM], rax
		b(0xeb, 0xbb),                                    // 75 jmp aux
		// The program break.
		b(0xb8), le32(unix.SYS_BRK), // 77 done: mov eax, SYS_brk
		b(0x31, 0xff),                            // 7c xor edi, edi
		b(0x0f, 0x05),                            // 7e syscall
		b(0x48, 0x89, 0x44, 0x24, slot(slotBrk)), // 80 mov [rsp+BRK], rax
		// A byte on fd 0 asks for a checked sample.
		b(0xb8), le32(unix.SYS_READ), // 85 mov eax, SYS_read
		b(0x31, 0xff),                   // 8a xor edi, edi
		b(0x48, 0x8d, 0x74, 0x24, 0xf8), // 8c lea rsi, [rsp-8]
		b(0xba), le32(1),                // 91 mov edx, 1
		b(0x0f, 0x05),             // 96 syscall
		b(0x48, 0x83, 0xf8, 0x01), // 98 cmp rax, 1
		b(0x75, 0x08),             // 9c jne write
		b(0xc6, 0x44, 0x24, recordFlagsByte, recordStops), // 9e mov byte [rsp+4], recordStops
		b(0x41, 0xff, 0xc6), // a3 inc r14d
		// The record to fd 1.
		b(0xb8), le32(unix.SYS_WRITE), // a6 write: mov eax, SYS_write
		b(0xbf), le32(1), // ab mov edi, 1
		b(0x48, 0x89, 0xe6),       // b0 mov rsi, rsp
		b(0xba), le32(recordSize), // b3 mov edx, recordSize
		b(0x0f, 0x05),                   // b8 syscall
		b(0x48, 0x83, 0xf8, recordSize), // ba cmp rax, recordSize
		b(0x75, failRel),                // be jne fail
		// Asked: stop here until vbench has read /proc and sent SIGCONT.
		b(0x45, 0x85, 0xf6),            // c0 test r14d, r14d
		b(0x74, 0x15),                  // c3 jz next
		b(0xb8), le32(unix.SYS_GETPID), // c5 mov eax, SYS_getpid
		b(0x0f, 0x05),                // ca syscall
		b(0x89, 0xc7),                // cc mov edi, eax
		b(0xb8), le32(unix.SYS_KILL), // ce mov eax, SYS_kill
		b(0xbe), le32(int(unix.SIGSTOP)), // d3 mov esi, SIGSTOP
		b(0x0f, 0x05),    // d8 syscall
		tail,             // da next: exec or exit 0
		b(0xbf), le32(1), // fail: mov edi, 1
		b(0xb8), le32(unix.SYS_EXIT_GROUP), // exit: mov eax, SYS_exit_group
		b(0x0f, 0x05), // syscall
	)
	if chain {
		code = append(code, chainPath...)
		code = append(code, 0)
	}
	return code
}

// noopChainCode re-executes itself and does nothing else but write one
// word (its argc) to fd 1 before each execve, for vbench to count: the
// exec chain's own ceiling (ceiling.go).
func noopChainCode() []byte {
	return cat(
		b(0xb8), le32(unix.SYS_WRITE), // 00 mov eax, SYS_write
		b(0xbf), le32(1), // 05 mov edi, 1
		b(0x48, 0x89, 0xe6), // 0a mov rsi, rsp
		b(0xba), le32(8),    // 0d mov edx, 8
		b(0x0f, 0x05),                   // 12 syscall
		b(0x48, 0x83, 0xf8, 0x08),       // 14 cmp rax, 8
		b(0x75, 0x23),                   // 18 jne fail
		b(0x48, 0x8b, 0x04, 0x24),       // 1a mov rax, [rsp]
		b(0x48, 0x8d, 0x74, 0x24, 0x08), // 1e lea rsi, [rsp+8]
		b(0x48, 0x8d, 0x54, 0xc4, 0x10), // 23 lea rdx, [rsp+rax*8+16]
		b(0xb8), le32(unix.SYS_EXECVE),  // 28 mov eax, SYS_execve
		b(0x48, 0x8d, 0x3d, 0x15, 0, 0, 0), // 2d lea rdi, [rip+path]
		b(0x0f, 0x05),                      // 34 syscall
		b(0xbf), le32(2),                   // 36 mov edi, 2
		b(0xeb, 0x05),    // 3b jmp exit
		b(0xbf), le32(1), // 3d fail: mov edi, 1
		b(0xb8), le32(unix.SYS_EXIT_GROUP), // 42 exit: mov eax, SYS_exit_group
		b(0x0f, 0x05),           // 47 syscall
		[]byte(chainPath), b(0), // 49 path
	)
}

// vforkCode is the spawn ceiling's stub (ceiling.go), what an independent
// C program would do: vfork, execve(chainPath, argv, envp) of the program
// at fd 3 in the child with the stub's own argv and envp, wait4 in the
// parent, and one byte to fd 1 every vforkBatch spawns; forever, or until
// something fails (exit_group(1); the child exits 127 if execve fails,
// which the parent sees). The child touches no memory between vfork and
// execve: the path and pointers are in registers already.
func vforkCode() []byte {
	return cat(
		b(0x48, 0x8b, 0x04, 0x24),          // 00 mov rax, [rsp]
		b(0x4c, 0x8d, 0x64, 0x24, 0x08),    // 04 lea r12, [rsp+8]
		b(0x4c, 0x8d, 0x6c, 0xc4, 0x10),    // 09 lea r13, [rsp+rax*8+16]
		b(0x45, 0x31, 0xf6),                // 0e xor r14d, r14d
		b(0x48, 0x83, 0xec, 0x10),          // 11 sub rsp, 16: wait4's status at [rsp]
		b(0x48, 0x8d, 0x3d, 0x76, 0, 0, 0), // 15 loop: lea rdi, [rip+path]
		b(0x4c, 0x89, 0xe6),                // 1c mov rsi, r12
		b(0x4c, 0x89, 0xea),                // 1f mov rdx, r13
		b(0xb8), le32(unix.SYS_VFORK),      // 22 mov eax, SYS_vfork
		b(0x0f, 0x05),                 // 27 syscall
		b(0x85, 0xc0),                 // 29 test eax, eax
		b(0x74, 0x46),                 // 2b jz child
		b(0x78, 0x57),                 // 2d js fail
		b(0x89, 0xc7),                 // 2f mov edi, eax
		b(0x48, 0x89, 0xe6),           // 31 mov rsi, rsp
		b(0x31, 0xd2),                 // 34 xor edx, edx
		b(0x45, 0x31, 0xd2),           // 36 xor r10d, r10d
		b(0xb8), le32(unix.SYS_WAIT4), // 39 mov eax, SYS_wait4
		b(0x0f, 0x05),                           // 3e syscall
		b(0x48, 0x85, 0xc0),                     // 40 test rax, rax
		b(0x7e, 0x41),                           // 43 jle fail
		b(0x83, 0x3c, 0x24, 0x00),               // 45 cmp dword [rsp], 0: exited 0
		b(0x75, 0x3b),                           // 49 jne fail
		b(0x41, 0xff, 0xc6),                     // 4b inc r14d
		b(0x41, 0xf7, 0xc6), le32(vforkBatch-1), // 4e test r14d, vforkBatch-1
		b(0x75, 0xbe),                 // 55 jnz loop
		b(0xb8), le32(unix.SYS_WRITE), // 57 mov eax, SYS_write
		b(0xbf), le32(1), // 5c mov edi, 1
		b(0x48, 0x89, 0xe6), // 61 mov rsi, rsp
		b(0xba), le32(1),    // 64 mov edx, 1
		b(0x0f, 0x05),                  // 69 syscall
		b(0x48, 0x83, 0xf8, 0x01),      // 6b cmp rax, 1
		b(0x75, 0x15),                  // 6f jne fail
		b(0xeb, 0xa2),                  // 71 jmp loop
		b(0xb8), le32(unix.SYS_EXECVE), // 73 child: mov eax, SYS_execve
		b(0x0f, 0x05),      // 78 syscall
		b(0xbf), le32(127), // 7a mov edi, 127
		b(0xb8), le32(unix.SYS_EXIT), // 7f mov eax, SYS_exit
		b(0x0f, 0x05),    // 84 syscall
		b(0xbf), le32(1), // 86 fail: mov edi, 1
		b(0xb8), le32(unix.SYS_EXIT_GROUP), // 8b mov eax, SYS_exit_group
		b(0x0f, 0x05),           // 90 syscall
		[]byte(chainPath), b(0), // 92 path
	)
}

func b(x ...byte) []byte { return x }

func le32(v int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
