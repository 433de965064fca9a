// Package lifecycle exercises the kernel code that maps, moves and unmaps
// the vDSO (arch/x86/entry/vdso/vma.c): it moves [vvar], [vvar_vclock] and
// [vdso] with mremap and calls the moved vDSO, unmaps all three and asks
// for a new vDSO with arch_prctl(ARCH_MAP_VDSO_64, addr) (what CRIU does on
// restore; map_vdso_once(), then map_vdso()), checks the EEXIST refusal
// while any of the three is still mapped, and, where the kernel has fault
// injection, fails each allocation of that call in turn through
// /proc/thread-self/fail-nth and failslab and reports what each failure
// left mapped. That last check reproduces the map_vdso() error-path leak
// fixed upstream: when installing [vvar_vclock] failed, [vvar] was unmapped
// with the vDSO image's size (2 pages) instead of VDSO_NR_PAGES * PAGE_SIZE
// (4 pages), and since a special mapping cannot be split
// (special_mapping_split() returns -EINVAL) the whole 16 KiB [vvar] stayed.
//
// How: a Go process cannot do this to itself (the runtime calls the vDSO
// from every thread), so each check runs in a child that vbench controls
// through ptrace. The child is a static-PIE ELF of about 250 bytes built
// in memory (as package aslr builds its target) and written to a memfd; it
// is single-threaded and never runs on its own. Its code is two stubs:
//
//   - a syscall chain: it reads a table of {nr, 6 arguments, result} from
//     its stack (written there by PTRACE_POKEDATA), issues each syscall in
//     turn, stores each result in the table and stops with a breakpoint.
//     Syscalls that must follow each other with nothing in between (the
//     write to fail-nth, the arch_prctl, the read of fail-nth, its reset)
//     are one chain: no signal, no stop, no allocation between them (a
//     SIGTRAP would queue a sigqueue from a slab and consume the fault);
//   - a call stub: "call r11; int3" (x86-64), with the vDSO function in r11
//     and its arguments in rdi and rsi, so vbench calls the moved or
//     re-mapped vDSO inside the child and reads the timespec back with
//     PTRACE_PEEKDATA.
//
// The child's maps are read from /proc/PID/maps by vbench while it is
// stopped. A vDSO symbol's offset is taken from vbench's own vDSO (the
// same image: one vdso_image_64 per kernel). Every check gets a fresh
// child, so no check inherits another's damage; a child is killed before
// the next one starts.
//
// A check that cannot run is a skip with the reason, never a pass: a
// kernel without CONFIG_CHECKPOINT_RESTORE (ARCH_MAP_VDSO_64 is EINVAL), a
// kernel sealing its system mappings (CONFIG_MSEAL_SYSTEM_MAPPINGS: munmap
// and mremap give EPERM), no /proc/thread-self/fail-nth
// (CONFIG_FAULT_INJECTION), no failslab in debugfs (CONFIG_FAILSLAB,
// CONFIG_FAULT_INJECTION_DEBUG_FS), ptrace refused, or an architecture
// without the call (arm64 has no ARCH_MAP_VDSO; there only what applies
// runs, and only where this package has machine code for the child).
//
// Fault injection changes the failslab knobs in debugfs for the time of
// the check (ignore-gfp-wait to N so that GFP_KERNEL allocations count,
// verbose to 0) and puts back what it found. failslab's probability stays
// as it is (0 by default), so only the child's fail-nth fails anything.
package lifecycle
