package contexts

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/runfile"
)

// seccompData is struct seccomp_data for nr with first argument arg0 as
// x/net/bpf's interpreter must see it to load what the kernel loads: the
// kernel's BPF_LD|BPF_W|BPF_ABS reads a native (little-endian) word of
// seccomp_data, the interpreter a big-endian one of a packet, so each word
// is written big-endian where the kernel finds it (args[0]'s low word at
// 16, its high word at 20).
func seccompData(nr uint32, arch uint32, arg0 uint64) []byte {
	b := make([]byte, 64)
	binary.BigEndian.PutUint32(b[0:], nr)
	binary.BigEndian.PutUint32(b[4:], arch)
	binary.BigEndian.PutUint32(b[16:], uint32(arg0))
	binary.BigEndian.PutUint32(b[20:], uint32(arg0>>32))
	return b
}

// run runs filter prog on data with x/net/bpf's interpreter, which reads
// LoadAbsolute from the data as the kernel's classic BPF does, and returns
// the action.
func run(t *testing.T, prog []bpf.RawInstruction, data []byte) uint32 {
	t.Helper()
	insts, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatal("the filter does not disassemble")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	// The VM returns the RET value as a byte count, capped at len(data):
	// with 1 MiB of data, EPERM (0x50001) comes back as it is and ALLOW
	// (0x7fff0000) as the cap.
	padded := make([]byte, 1<<20)
	copy(padded, data)
	n, err := vm.Run(padded)
	if err != nil {
		t.Fatal(err)
	}
	if n == len(padded) {
		return unix.SECCOMP_RET_ALLOW
	}
	return uint32(n)
}

var timed = []Syscall{{"clock_gettime", unix.SYS_CLOCK_GETTIME}, {"getcpu", unix.SYS_GETCPU}}

// The filters allow exactly the allowlist, refuse other numbers and other
// architectures with EPERM, and argcheck refuses its one argument value on
// the timed syscalls only.
func TestFilterSemantics(t *testing.T) {
	if Allowed() < 250 {
		t.Fatalf("allowlist of %d system calls; want a container-like one (about 300)", Allowed())
	}
	allow, err := Filter(nil)
	if err != nil {
		t.Fatal(err)
	}
	check, err := Filter(timed)
	if err != nil {
		t.Fatal(err)
	}
	const allowed = unix.SECCOMP_RET_ALLOW
	for _, prog := range [][]bpf.RawInstruction{allow, check} {
		for _, s := range allowlist {
			if got := run(t, prog, seccompData(uint32(s.nr), auditArch, 1)); got != allowed {
				t.Errorf("%s: action %#x, want ALLOW", s.name, got)
			}
		}
		if got := run(t, prog, seccompData(unix.SYS_REBOOT, auditArch, 0)); got != retDeny {
			t.Errorf("reboot: action %#x, want EPERM", got)
		}
		if got := run(t, prog, seccompData(unix.SYS_GETPID, auditArch^1, 0)); got != retDeny {
			t.Errorf("another architecture: action %#x, want EPERM", got)
		}
	}
	for _, s := range timed {
		if got := run(t, allow, seccompData(uint32(s.Nr), auditArch, argcheckRefused)); got != allowed {
			t.Errorf("allowlist, %s(0xdeadbeef): %#x, want ALLOW", s.Name, got)
		}
		if got := run(t, check, seccompData(uint32(s.Nr), auditArch, argcheckRefused)); got != retDeny {
			t.Errorf("argcheck, %s(0xdeadbeef): %#x, want EPERM", s.Name, got)
		}
	}
}

// constAllow emulates, for one syscall number, what the kernel does when a
// filter is installed (kernel/seccomp.c, seccomp_is_const_allow): follow
// the program with nr and arch known, give up at any other load, and
// report whether it reaches RET ALLOW.
func constAllow(prog []bpf.RawInstruction, nr uint32) bool {
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Op {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case offNr:
				a = nr
			case offArch:
				a = auditArch
			default:
				return false
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K == unix.SECCOMP_RET_ALLOW
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var res bool
			switch in.Op & 0xf0 {
			case unix.BPF_JEQ:
				res = a == in.K
			case unix.BPF_JGE:
				res = a >= in.K
			case unix.BPF_JGT:
				res = a > in.K
			case unix.BPF_JSET:
				res = a&in.K != 0
			}
			if res {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			return false
		}
	}
	return false
}

// The kernel can cache every allowed syscall of the allowlist; under
// argcheck, every one but the timed ones.
func TestFilterCacheable(t *testing.T) {
	allow, _ := Filter(nil)
	check, _ := Filter(timed)
	isTimed := map[uintptr]bool{}
	for _, s := range timed {
		isTimed[s.Nr] = true
	}
	for _, s := range allowlist {
		if !constAllow(allow, uint32(s.nr)) {
			t.Errorf("allowlist: %s would not be cached", s.name)
		}
		if got := constAllow(check, uint32(s.nr)); got == isTimed[s.nr] {
			t.Errorf("argcheck: %s cached %v, want %v", s.name, got, !isTimed[s.nr])
		}
	}
}

// Each context applies to what its definition says, and plain to all.
func TestApplies(t *testing.T) {
	tn := DefOf(runfile.ContextTimens)
	if !tn.Applies(true, runfile.ClockBoottime, runfile.PathVDSO) || tn.Applies(false, "", runfile.PathSyscall) ||
		tn.Applies(true, runfile.ClockTAI, runfile.PathVDSO) || tn.Applies(true, runfile.ClockMonotonic, runfile.PathRseq) {
		t.Error("timens applies to the wrong cells")
	}
	sc := DefOf(runfile.ContextSeccompArgcheck)
	if !sc.Applies(false, "", runfile.PathSyscall) || !sc.Applies(true, runfile.ClockProcessCPUTimeID, runfile.PathVDSO) ||
		sc.Applies(false, "", runfile.PathRseq) {
		t.Error("seccomp-argcheck applies to the wrong cells")
	}
	if !DefOf(runfile.ContextPlain).Applies(false, "", runfile.PathRseq) {
		t.Error("plain must apply to everything")
	}
	for _, c := range runfile.Contexts {
		if DefOf(c).Name != c {
			t.Errorf("no definition of %s", c)
		}
	}
}
