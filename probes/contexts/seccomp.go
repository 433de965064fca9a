package contexts

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/runfile"
)

// The seccomp contexts' filters, assembled with golang.org/x/net/bpf (no
// cgo, no libseccomp). Both check the architecture, refuse x32 numbers on
// x86-64, then compare the syscall number with each allowed one in turn
// ("if nr != N skip; return ALLOW"), as a linear libseccomp filter does;
// anything else gets EPERM, as a container runtime's default action.
//
// The kernel caches, per syscall number, whether the whole filter allows
// it without looking at its arguments (kernel/seccomp.c,
// seccomp_cache_prepare and seccomp_is_const_allow, Linux 5.11+): it
// emulates the program for each number, and an emulation that reaches
// RET ALLOW having loaded only nr and arch marks the syscall allowed in a
// bitmap, so such calls skip the filter. The allowlist is of that kind.
// argcheck adds, for each timed syscall, a load of its first argument (a
// refusal of one value, 0xdeadbeef, which no timed call passes: clock ids
// are small and pointers aligned), so the emulation meets a non-constant
// load and the kernel runs the program on every such call.

// seccompData offsets (include/uapi/linux/seccomp.h, struct seccomp_data):
// nr, arch, instruction_pointer, args[6]; args[0]'s low word is at 16 on a
// little-endian machine (x86-64, arm64).
const (
	offNr      = 0
	offArch    = 4
	offArg0Low = 16
)

// x32SyscallBit marks x32 system calls on x86-64 (__X32_SYSCALL_BIT).
const x32SyscallBit = 0x40000000

// argcheckRefused is the argument value argcheck refuses.
const argcheckRefused = 0xdeadbeef

// retDeny is the action for what the filter does not allow: EPERM.
const retDeny = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)

type syscallName struct {
	name string
	nr   uintptr
}

// Filter assembles the allowlist (checked nil) or the argcheck filter (the
// allowlist, with checked's first argument tested) for this architecture.
func Filter(checked []Syscall) ([]bpf.RawInstruction, error) {
	prog := []bpf.Instruction{
		bpf.LoadAbsolute{Off: offArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: auditArch, SkipTrue: 1},
		bpf.RetConstant{Val: retDeny},
		bpf.LoadAbsolute{Off: offNr, Size: 4},
	}
	if auditArch == unix.AUDIT_ARCH_X86_64 {
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: x32SyscallBit, SkipFalse: 1},
			bpf.RetConstant{Val: retDeny})
	}
	nrs := map[uintptr]bool{}
	for _, c := range checked {
		nrs[c.Nr] = true
	}
	for _, s := range allowlist {
		if !nrs[s.nr] {
			prog = append(prog,
				bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(s.nr), SkipTrue: 1},
				bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW})
			continue
		}
		prog = append(prog,
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: uint32(s.nr), SkipTrue: 4},
			bpf.LoadAbsolute{Off: offArg0Low, Size: 4},
			bpf.JumpIf{Cond: bpf.JumpEqual, Val: argcheckRefused, SkipFalse: 1},
			bpf.RetConstant{Val: retDeny},
			bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW})
	}
	prog = append(prog, bpf.RetConstant{Val: retDeny})
	return bpf.Assemble(prog)
}

// Allowed is how many system calls the allowlist lets through here.
func Allowed() int { return len(allowlist) }

// SeccompFilter assembles the filter of a seccomp context for timed, the
// system calls being measured: the allowlist, or for argcheck the
// allowlist with timed's first argument tested. It also returns the names
// of the calls whose argument is tested (none for the allowlist). It is
// the program a context child installs, and what loop.c's -f loads
// (probes/fidelity/filter writes it out).
func SeccompFilter(ctx runfile.Context, timed []Syscall) ([]bpf.RawInstruction, []string, error) {
	var checked []Syscall
	switch ctx {
	case runfile.ContextSeccompAllowlist:
	case runfile.ContextSeccompArgcheck:
		checked = timed
	default:
		return nil, nil, fmt.Errorf("%q is not a seccomp context", ctx)
	}
	var names []string
	for _, c := range checked {
		if !slices.ContainsFunc(allowlist, func(s syscallName) bool { return s.nr == c.Nr }) {
			return nil, nil, fmt.Errorf("argcheck: %s is not in the allowlist", c.Name)
		}
		names = append(names, c.Name)
	}
	raw, err := Filter(checked)
	if err != nil {
		return nil, nil, fmt.Errorf("assembling the filter: %v", err)
	}
	return raw, names, nil
}

// enterSeccomp installs the filter of the seccomp context ctx on every
// thread of the process (SECCOMP_FILTER_FLAG_TSYNC), after
// PR_SET_NO_NEW_PRIVS, which an unprivileged filter needs.
func enterSeccomp(info *runfile.ContextInfo, ctx runfile.Context, timed []Syscall) error {
	raw, names, err := SeccompFilter(ctx, timed)
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %v", err)
	}
	sf := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		sf[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(sf)), Filter: &sf[0]}
	r, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	if e != 0 {
		switch {
		case e == unix.EPERM || e == unix.EACCES:
			return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %s: a filter already in place forbids another", unix.ErrnoName(e))
		case e == unix.EINVAL:
			return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): EINVAL: the kernel lacks seccomp filters (CONFIG_SECCOMP_FILTER) or TSYNC")
		}
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER): %s", unix.ErrnoName(e))
	}
	if r != 0 {
		// TSYNC returns the id of a thread that could not be synchronized.
		return fmt.Errorf("seccomp: thread %d could not take the filter (TSYNC)", r)
	}
	info.Seccomp = &runfile.SeccompInfo{
		Instructions: len(sf),
		Allowed:      len(allowlist),
		ArgChecked:   names,
		Status:       statusLines("Seccomp", "Seccomp_filters"),
		Cache:        cacheReport(timed),
	}
	return nil
}

// cacheReport says what /proc/self/seccomp_cache (CONFIG_SECCOMP_CACHE_DEBUG)
// shows for the timed system calls, or why it cannot be read.
func cacheReport(timed []Syscall) string {
	b, err := os.ReadFile("/proc/self/seccomp_cache")
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "no /proc/self/seccomp_cache (CONFIG_SECCOMP_CACHE_DEBUG off): the cost of the syscall path is the evidence"
	case err != nil:
		return "/proc/self/seccomp_cache: " + err.Error()
	}
	want := map[string]string{}
	for _, s := range timed {
		want[fmt.Sprint(s.Nr)] = s.Name
	}
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line) // ARCH NR ALLOW|FILTER
		if len(f) == 3 && f[0] == cacheArch {
			if name, ok := want[f[1]]; ok {
				parts = append(parts, name+" "+f[2])
			}
		}
	}
	return "seccomp_cache: " + strings.Join(parts, ", ")
}
