package study

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/runfile"
)

func TestMain(m *testing.M) {
	if code, child := probes.RunChild(); child {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// syscallOnly is a set of doors with no vDSO and no vsyscall page, so the
// study calls nothing but the syscall instruction.
func syscallOnly() *probes.Doors {
	return &probes.Doors{
		VDSOErr:  vdso.ErrNoVDSO,
		Vsyscall: vsyscall.Observed{Mode: vsyscall.None, ReadProbe: "SIGSEGV", CallProbe: "SIGSEGV", ModeSource: "maps"},
	}
}

func smallBench() probes.BenchConfig {
	b := probes.DefaultBenchConfig()
	b.Functions, b.Paths = []runfile.Function{runfile.FuncTime}, []runfile.Path{runfile.PathSyscall, runfile.PathVDSO}
	b.Count, b.Benchtime, b.Latency = 2, time.Millisecond, false
	return b
}

func TestRunSelectedParts(t *testing.T) {
	var seen []string
	r := &runfile.Run{}
	d := syscallOnly()
	got := Run(context.Background(), Config{
		Parts: []runfile.Part{runfile.PartBench, runfile.PartVerify},
		Bench: smallBench(), VerifyBrief: true,
		ASLR:  aslr.Config{Samples: 10},
		Doors: d,
		Progress: func(part runfile.Part, unit string, done, total int) {
			if done == total {
				seen = append(seen, string(part)+" "+unit)
			}
		},
	}, r)
	if got != d {
		t.Error("Run did not return the doors it was given")
	}
	if r.Bench == nil || r.Verify == nil || r.ASLR != nil {
		t.Fatalf("parts run: bench %v verify %v aslr %v, want bench and verify only", r.Bench != nil, r.Verify != nil, r.ASLR != nil)
	}
	if len(r.Errors) != 0 {
		t.Errorf("errors: %q", r.Errors)
	}
	if c, ok := r.Bench.Find("time", "", "vdso"); !ok || c.Unavailable == "" {
		t.Errorf("vdso cell with no vDSO: %+v", c)
	}
	if c, ok := r.Bench.Find("time", "", "syscall"); !ok || c.Summary == nil {
		t.Errorf("syscall cell not measured: %+v", c)
	}
	if strings.Join(seen, ",") != "bench cells" {
		t.Errorf("progress reported %q", seen)
	}
	if r.Finished.IsZero() {
		t.Error("Finished not set")
	}
}

func TestRunGoesOnAfterAFailure(t *testing.T) {
	r := &runfile.Run{}
	d := syscallOnly()
	d.VsyscallErr = errors.New("probe child: exec format error")
	bench := smallBench()
	bench.Functions = []runfile.Function{"frobnicate"}
	var failed []string
	Run(context.Background(), Config{
		Bench: bench, VerifyBrief: true,
		ASLR:   aslr.Config{Samples: 5, Target: "/nonexistent/target"},
		Doors:  d,
		Failed: func(part runfile.Part, err error) { failed = append(failed, string(part)) },
	}, r)
	if strings.Join(failed, ",") != "vsyscall,bench,aslr" {
		t.Errorf("failed parts %q, want vsyscall,bench,aslr", failed)
	}
	if len(r.Errors) != 3 || !strings.HasPrefix(r.Errors[0], "vsyscall: probe child") ||
		!strings.HasPrefix(r.Errors[1], "bench: ") || !strings.Contains(r.Errors[1], "frobnicate") || !strings.HasPrefix(r.Errors[2], "aslr: ") {
		t.Errorf("errors %q", r.Errors)
	}
	if r.Verify == nil {
		t.Error("verify did not run after bench failed")
	}
}

func TestGuardTurnsAPanicIntoAnError(t *testing.T) {
	if err := guard(func() error { panic("boom") }); err == nil || err.Error() != "panic: boom" {
		t.Errorf("guard: %v", err)
	}
}

func TestASLRBudgetIsNotAnInterruption(t *testing.T) {
	r := &runfile.Run{}
	start := time.Now()
	Run(context.Background(), Config{
		Parts: []runfile.Part{runfile.PartASLR}, Doors: syscallOnly(),
		ASLR: aslr.Config{Samples: aslr.MaxSamples}, ASLRBudget: 300 * time.Millisecond,
	}, r)
	if r.ASLR == nil {
		t.Fatalf("no aslr result: %q", r.Errors)
	}
	if r.ASLR.Interrupted || len(r.Errors) != 0 {
		t.Errorf("a sample taken for a fixed time is marked interrupted: %v %q", r.ASLR.Interrupted, r.Errors)
	}
	if r.ASLR.Samples == 0 || r.ASLR.Samples >= aslr.MaxSamples {
		t.Errorf("samples %d", r.ASLR.Samples)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("a 300ms budget took %s", d)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := &runfile.Run{}
	Run(ctx, Config{Bench: smallBench(), ASLR: aslr.Config{Samples: 10}, Doors: syscallOnly()}, r)
	if r.Bench != nil || r.Verify != nil || r.ASLR != nil {
		t.Error("parts ran after cancellation")
	}
	if len(r.Errors) != 1 || !strings.HasPrefix(r.Errors[0], "interrupted") {
		t.Errorf("errors %q", r.Errors)
	}
}
