package probes

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

// Cells in every context: each context is entered (or unavailable with a
// reason, once), its cells carry their context, are only those its
// definition applies to, and were measured by the same loops (samples,
// calls counted: a syscall cell enters the kernel once per call in every
// context, a vDSO MONOTONIC cell never).
func TestBenchInContexts(t *testing.T) {
	cfg := DefaultBenchConfig()
	cfg.Functions = []runfile.Function{runfile.FuncClockGettime, runfile.FuncGetcpu}
	cfg.Clocks = []runfile.Clock{runfile.ClockMonotonic, runfile.ClockTAI}
	cfg.Paths = []runfile.Path{runfile.PathSyscall, runfile.PathVDSO, runfile.PathRseq}
	cfg.Count, cfg.Benchtime, cfg.Latency = 2, time.Millisecond, false
	cfg.Contexts = []runfile.Context{runfile.ContextTimens, runfile.ContextSeccompAllowlist, runfile.ContextSeccompArgcheck}
	cfg.Doors = doors(t)
	b, err := Bench(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Contexts) != 3 {
		t.Fatalf("%d context entries, want 3: %+v", len(b.Contexts), b.Contexts)
	}
	for _, ci := range b.Contexts {
		n := 0
		for _, c := range b.Cells {
			if c.Context != ci.Name {
				continue
			}
			n++
			if c.Path == runfile.PathRseq || c.Function == runfile.FuncFloor {
				t.Errorf("%s has a %s/%s cell: contexts do not apply there", ci.Name, c.Function, c.Path)
			}
			if ci.Name == runfile.ContextTimens && (c.Function == runfile.FuncGetcpu || c.Clock == runfile.ClockTAI) {
				t.Errorf("timens measured %s %s, which it does not change", c.Function, c.Clock)
			}
			if c.Unavailable != "" {
				continue
			}
			if len(c.Samples) != cfg.Count {
				t.Errorf("%s %s: %d samples", ci.Name, c.Name(), len(c.Samples))
			}
			if c.PerCall != nil && c.PerCall.Syscalls != nil {
				want := 0.0
				if c.Path == runfile.PathSyscall {
					want = 1
				}
				if got := *c.PerCall.Syscalls; got < want-0.05 || got > want+0.05 {
					t.Errorf("%s %s: %.2f syscalls per call, want %g", ci.Name, c.Name(), got, want)
				}
			}
		}
		switch {
		case ci.Unavailable != "":
			t.Logf("%s unavailable here: %s", ci.Name, ci.Unavailable)
			if n != 0 {
				t.Errorf("%s is unavailable yet has %d cells", ci.Name, n)
			}
		case n == 0:
			t.Errorf("%s entered but measured nothing", ci.Name)
		case ci.Seccomp == nil && strings.HasPrefix(string(ci.Name), "seccomp"):
			t.Errorf("%s: no filter described", ci.Name)
		case ci.Seccomp != nil && !strings.Contains(ci.Seccomp.Status, "Seccomp: 2"):
			t.Errorf("%s: the child's status says %q, want filter mode 2", ci.Name, ci.Seccomp.Status)
		}
	}
}

// A context that applies to none of the cells selected is bad input.
func TestContextMustApply(t *testing.T) {
	cfg := DefaultBenchConfig()
	cfg.Functions = []runfile.Function{runfile.FuncGetrandom}
	cfg.Contexts = []runfile.Context{runfile.ContextTimens}
	if _, err := cfg.NormalizeNames(); err == nil || !strings.Contains(err.Error(), "applies to none") {
		t.Errorf("timens on getrandom alone: %v", err)
	}
	cfg.Functions, cfg.Paths = nil, []runfile.Path{runfile.PathRseq}
	cfg.Contexts = []runfile.Context{runfile.ContextSeccompAllowlist}
	if _, err := cfg.NormalizeNames(); err == nil {
		t.Error("seccomp on the rseq path alone was accepted")
	}
	cfg.Contexts = []runfile.Context{"chroot"}
	if _, err := cfg.NormalizeNames(); err == nil || !strings.Contains(err.Error(), "unknown context") {
		t.Errorf("an unknown context: %v", err)
	}
}
