package lifecycle

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/proc"
)

func readMaps(t *testing.T, name string) proc.Maps {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := proc.ParseMaps(f)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// The three regions of a 6.18 child, in order, and the layout check: the
// same regions moved keep their offsets; a missing or resized one is named.
func TestLayoutFromMaps(t *testing.T) {
	layout := vdsoRegions(readMaps(t, "maps-child-6.18.txt"))
	var names []string
	for _, m := range layout {
		names = append(names, m.Path)
	}
	if got := strings.Join(names, " "); got != "[vvar] [vvar_vclock] [vdso]" {
		t.Fatalf("regions %q", got)
	}
	if s := span(layout); s != 0x8000 {
		t.Errorf("span %#x, want 0x8000 (4 + 2 + 2 pages)", s)
	}
	r := &runner{layout: layout}
	moved := make([]proc.Mapping, len(layout))
	const base = 0x7f0000000000
	for i, m := range layout {
		moved[i] = m
		moved[i].Start = base + m.Start - layout[0].Start
		moved[i].End = moved[i].Start + m.Size()
	}
	if err := r.atLayout(moved, base); err != nil {
		t.Errorf("moved layout rejected: %v", err)
	}
	if err := r.atLayout(moved[1:], base); err == nil || !strings.Contains(err.Error(), "2 vDSO mappings") {
		t.Errorf("missing [vvar] not named: %v", err)
	}
	moved[0].End -= 0x2000 // half of [vvar] left: the short munmap
	if err := r.atLayout(moved, base); err == nil || !strings.Contains(err.Error(), "[vvar]") {
		t.Errorf("resized [vvar] not named: %v", err)
	}
}

// onChild runs f on a traced child, on the tracer thread. f reports with
// t.Error only (t.Skip and t.Fatal must not be called off the test's
// goroutine); it returns a reason to skip, or "".
func onChild(t *testing.T, f func(*tracee) string) {
	t.Helper()
	skip := ""
	onThread(func() {
		p, err := newProgram()
		if err != nil {
			t.Error(err)
			return
		}
		defer p.close()
		tr, err := spawn(p)
		if err != nil {
			skip = fmt.Sprintf("no traced child here: %v", err)
			return
		}
		defer tr.kill()
		skip = f(tr)
	})
	if skip != "" {
		t.Skip(skip)
	}
}

// The child's syscall chain runs each entry and stores its result: getpid
// gives the child's pid (what the tracer knows it as), an unknown syscall
// ENOSYS, and the entries run in order (the second sees the first's work).
func TestChain(t *testing.T) {
	onChild(t, func(tr *tracee) string {
		res, err := tr.chain(call(unix.SYS_GETPID), call(99999),
			call(unix.SYS_MMAP, 0, 4096, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0))
		if err != nil {
			t.Error(err)
			return ""
		}
		if res[0] != int64(tr.pid) {
			t.Errorf("getpid in the child gave %d, the child is %d", res[0], tr.pid)
		}
		if errnoOf(res[1]) != unix.ENOSYS {
			t.Errorf("syscall 99999 gave %d, want -ENOSYS", res[1])
		}
		res2, err := tr.chain(call(unix.SYS_MUNMAP, uint64(res[2]), 4096), call(unix.SYS_MUNMAP, uint64(res[2]), 4096))
		if err != nil || res2[0] != 0 || res2[1] != 0 {
			t.Errorf("munmap of the mmap'd page: %v %v", res2, err)
		}
		return ""
	})
}

// A vDSO call through the call stub, where exec put the vDSO, agrees with
// the syscall.
func TestCallInPlace(t *testing.T) {
	onChild(t, func(tr *tracee) string {
		ms, err := tr.maps()
		if err != nil {
			t.Error(err)
			return ""
		}
		tr.vdso = vdsoRegions(ms)
		vd, ok := find(tr.vdso, "[vdso]")
		if !ok {
			return "no [vdso] in the child"
		}
		r := &runner{layout: tr.vdso}
		if err := r.lookup(); err != nil {
			return err.Error()
		}
		d, err := r.agree(tr, vd.Start)
		if err != nil {
			t.Error(err)
		}
		t.Log(d)
		return ""
	})
}

// On any machine: no check fails where the kernel is sound, every skip
// says why, and a check named is reported once.
func TestRun(t *testing.T) {
	l := Run(Config{})
	seen := map[string]bool{}
	for _, c := range l.Checks {
		t.Logf("%-26s %-4s %s", c.Name, c.Status, c.Detail)
		if seen[c.Name] {
			t.Errorf("%s reported twice", c.Name)
		}
		seen[c.Name] = true
		switch c.Status {
		case statusPass:
		case statusSkip:
			if c.Detail == "" {
				t.Errorf("%s skipped without a reason", c.Name)
			}
		case statusFail:
			if c.Name != CheckFaults { // the unfixed kernel's leak is a finding
				t.Errorf("%s failed: %s", c.Name, c.Detail)
			}
		default:
			t.Errorf("%s: status %q", c.Name, c.Status)
		}
	}
	for _, n := range []string{CheckMremap, CheckMap, CheckFaults} {
		if !seen[n] {
			t.Errorf("no %q check", n)
		}
	}
	if _, err := os.Stat("/proc/thread-self/fail-nth"); err != nil {
		for _, c := range l.Checks {
			if c.Name == CheckFaults && (c.Status != statusSkip || !strings.Contains(c.Detail, "CONFIG_FAULT_INJECTION")) {
				t.Errorf("without fail-nth the fault check is %s: %s", c.Status, c.Detail)
			}
		}
	}
}
