package probes

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

// TestBenchCountsPerCall checks what the counters say each call does in
// the kernel: the syscall path enters it at least once per call, the
// vDSO's REALTIME read does not (where the clocksource has a vDSO clock
// mode), and a vsyscall call is at least one page fault. Counts, never
// times.
func TestBenchCountsPerCall(t *testing.T) {
	cfg := shortConfig()
	cfg.Latency = false
	cfg.Functions = []runfile.Function{runfile.FuncTime, runfile.FuncClockGettime, runfile.FuncGetcpu}
	cfg.Clocks = []runfile.Clock{"REALTIME", "PROCESS_CPUTIME_ID"}
	cfg.Doors = doors(t)
	b, err := Bench(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys, _ := b.Counter(runfile.CounterSyscalls)
	pf, _ := b.Counter(runfile.CounterPageFaults)
	for _, c := range b.Cells {
		if c.Unavailable != "" {
			continue
		}
		p := c.PerCall
		if p == nil {
			t.Errorf("%s: no per-call counts", c.Name())
			continue
		}
		if sys.Source != "" {
			if p.Syscalls == nil {
				t.Errorf("%s: syscalls counted (%s) but none for this cell", c.Name(), sys.Source)
			} else if c.Path == runfile.PathSyscall && *p.Syscalls < 1 {
				t.Errorf("%s: %v syscalls per call through the syscall path", c.Name(), *p.Syscalls)
			}
		}
		if pf.Source != "" && c.Path == runfile.PathVsyscall && (p.PageFaults == nil || *p.PageFaults < 1) {
			t.Errorf("%s: page faults per call %v, want >= 1 (each call is a fault the kernel emulates)", c.Name(), p.PageFaults)
		}
	}
	if sys.Source == "" {
		t.Logf("syscalls not counted here: %s", sys.Unavailable)
		return
	}
	cs, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
	if src := strings.TrimSpace(string(cs)); err == nil && (src == "tsc" || src == "kvm-clock") {
		if c, ok := b.Find("clock_gettime", "REALTIME", "vdso"); ok && c.Unavailable == "" {
			if n := *c.PerCall.Syscalls; n >= fellBackAt {
				t.Errorf("vDSO REALTIME with clocksource %s: %v syscalls per call, notes %q", src, n, c.Notes)
			}
			if hasNote(c, FellBack) {
				t.Errorf("vDSO REALTIME noted as fallen back: %q", c.Notes)
			}
		}
	}
}

func TestPlanOf(t *testing.T) {
	for _, c := range []struct {
		fn    runfile.Function
		clock runfile.Clock
		want  vdsoPlan
	}{
		{runfile.FuncTime, "", planUserSpace},
		{runfile.FuncGetcpu, "", planUserSpace},
		{runfile.FuncGettimeofday, "", planClocksource},
		{runfile.FuncClockGettime, "MONOTONIC", planClocksource},
		{runfile.FuncClockGettime, "MONOTONIC_RAW", planClocksource},
		{runfile.FuncClockGettime, "REALTIME_COARSE", planUserSpace},
		{runfile.FuncClockGettime, "PROCESS_CPUTIME_ID", planSyscall},
		{runfile.FuncClockGettime, "BOOTTIME_ALARM", planSyscall},
		{runfile.FuncClockGetres, "TAI", planUserSpace},
		{runfile.FuncClockGetres, "THREAD_CPUTIME_ID", planSyscall},
		{runfile.FuncGetrandom, "", planUnknown},
	} {
		if got := planOf(c.fn, c.clock); got != c.want {
			t.Errorf("%s %s: plan %d, want %d", c.fn, c.clock, got, c.want)
		}
	}
	// Every clock is sorted into one of lib/vdso's classes or falls back.
	for _, c := range Clocks {
		if planOf(runfile.FuncClockGettime, c.Name) == planUnknown {
			t.Errorf("clock %s has no plan", c.Name)
		}
	}
}

func TestNoteFallbacks(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	b := &runfile.Bench{Cells: []runfile.Cell{
		{Function: "clock_gettime", Clock: "PROCESS_CPUTIME_ID", Path: "vdso", PerCall: &runfile.PerCall{Syscalls: f(1)}},
		{Function: "clock_gettime", Clock: "MONOTONIC", Path: "vdso", PerCall: &runfile.PerCall{Syscalls: f(0)}},
		{Function: "clock_gettime", Clock: "MONOTONIC", Path: "syscall", PerCall: &runfile.PerCall{Syscalls: f(1)}},
		{Function: "clock_gettime", Clock: "REALTIME_COARSE", Path: "vdso", PerCall: &runfile.PerCall{Syscalls: f(1)}},
		{Function: "clock_gettime", Clock: "THREAD_CPUTIME_ID", Path: "vdso", PerCall: &runfile.PerCall{Syscalls: f(0)}},
		{Function: "clock_gettime", Clock: "REALTIME", Path: "vdso", PerCall: &runfile.PerCall{Syscalls: f(1)}},
		{Function: "clock_gettime", Clock: "BOOTTIME_ALARM", Path: "vdso", PerCall: &runfile.PerCall{}},
		{Function: "time", Path: "vdso", PerCall: &runfile.PerCall{}},
	}}
	noteFallbacks(b)
	want := [][]string{
		{FellBack},
		nil,
		nil,
		{FellBack, "unexpected: lib/vdso answers this in user space, yet 1 syscalls per call were counted"},
		{"unexpected: lib/vdso hands this clock to the kernel, yet 0 syscalls per call were counted"},
		{FellBack, "the clocksource has no vDSO clock mode"},
		{FallsBackUncounted},
		nil,
	}
	for i, c := range b.Cells {
		if strings.Join(c.Notes, "|") != strings.Join(want[i], "|") {
			t.Errorf("%s: notes %q, want %q", c.Name(), c.Notes, want[i])
		}
	}
}

func TestJudge(t *testing.T) {
	quiet := []float64{100, 100.5, 99.8, 100.2, 100.1, 99.9, 100.3, 100, 99.7, 100.4}
	c := &runfile.Cell{Samples: quiet, Iters: 1000, SampleCounts: make([]runfile.SampleCounts, len(quiet))}
	c.Summary = summarize(c.Samples)
	if n := judge(c, 0); n.Noisy || len(n.Reasons) != 0 {
		t.Errorf("quiet samples judged noisy: %+v", n)
	}

	// Two speeds: half the samples at 100, half at 150.
	two := []float64{100, 150, 100.2, 150.3, 99.9, 149.8, 100.1, 150.1, 100, 150}
	c = &runfile.Cell{Samples: two, Iters: 1000, SampleCounts: make([]runfile.SampleCounts, len(two))}
	c.Summary = summarize(c.Samples)
	n := judge(c, 0)
	if !n.Noisy || !n.Bimodal || !retryable(n) {
		t.Errorf("two speeds: %+v", n)
	}

	// Steady drift is wide but not bimodal.
	drift := []float64{100, 102, 104, 106, 108, 110, 112, 114, 116, 118}
	c = &runfile.Cell{Samples: drift, Iters: 1000, SampleCounts: make([]runfile.SampleCounts, len(drift))}
	c.Summary = summarize(c.Samples)
	if n := judge(c, 0); n.Bimodal || !n.Noisy || !strings.HasPrefix(n.Reasons[0], "±") {
		t.Errorf("drift: %+v", n)
	}

	// Steal and preemption flag a cell whose numbers look quiet, and more
	// samples cannot clear them.
	c = &runfile.Cell{Samples: quiet, Iters: 1_000_000, SampleCounts: make([]runfile.SampleCounts, len(quiet))}
	c.Summary = summarize(c.Samples)
	c.SampleCounts[3].StealNs = 30_000_000 // 30 ms of 1 s
	c.SampleCounts[5].Preemptions = 2
	n = judge(c, 0)
	if !n.Noisy || n.Preemptions != 2 || n.StealPct < 2 || n.StealPct > 4 || retryable(n) {
		t.Errorf("steal and preemption: %+v", n)
	}
	cell := runfile.Cell{Noise: n}
	if got := cell.NoiseNote(); got != "noisy: steal 3%, 2 preemptions" {
		t.Errorf("note %q", got)
	}
}

// TestRetryNoisy: the retry budget goes to cells whose samples are
// bimodal or whose interval is wide, never to quiet ones.
func TestRetryNoisy(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ctrs := openCounters(0)
	defer ctrs.close()
	op := loopOp{kind: opEmpty}
	noisy := &benchCell{op: op, iters: 1000, chunk: 1000}
	noisy.cell.Samples = []float64{1, 1, 1, 1, 1, 9, 9, 9, 9, 9}
	quiet := &benchCell{op: op, iters: 1000, chunk: 1000}
	quiet.cell.Samples = []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}
	if !retryNoisy(context.Background(), []*benchCell{noisy, quiet}, ctrs, time.Second) {
		t.Fatal("retry reported an interruption")
	}
	if noisy.retried == 0 || len(noisy.cell.Samples) != 10+noisy.retried || len(noisy.cell.SampleCounts) != noisy.retried {
		t.Errorf("bimodal cell: %d retried, %d samples, %d counts", noisy.retried, len(noisy.cell.Samples), len(noisy.cell.SampleCounts))
	}
	if quiet.retried != 0 || len(quiet.cell.Samples) != 10 {
		t.Errorf("quiet cell resampled: %d retried", quiet.retried)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	again := &benchCell{op: op, iters: 1000, chunk: 1000}
	again.cell.Samples = []float64{1, 1, 1, 1, 1, 9, 9, 9, 9, 9}
	if retryNoisy(ctx, []*benchCell{again}, ctrs, time.Second) || again.retried != 0 {
		t.Error("a cancelled retry reported completion")
	}
}

// TestInCallEventsClosedWhileTiming checks that the events which fire
// inside the call (page faults, the syscall tracepoint) are never open
// while a sample is timed, since their bookkeeping would be part of the
// time (counters.go), and that they are still counted, in their own pass:
// a syscall is one syscall per call, a vsyscall call one page fault.
func TestInCallEventsClosedWhileTiming(t *testing.T) {
	cfg := shortConfig()
	cfg.Latency = false
	cfg.Functions = []runfile.Function{runfile.FuncTime, runfile.FuncGetcpu}
	cfg.Paths = []runfile.Path{runfile.PathSyscall, runfile.PathVsyscall}
	cfg.Doors = doors(t)
	samples := 0
	sampleHook = func(bc *benchCell, ctrs *counters) {
		samples++
		for ev, fd := range ctrs.fd {
			if inCall[ev] && fd >= 0 {
				t.Errorf("%s: event %d open (fd %d) while a sample is timed", bc.cell.Name(), ev, fd)
			}
		}
	}
	defer func() { sampleHook = nil }()
	b, err := Bench(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if samples == 0 {
		t.Fatal("no sample was taken")
	}
	sys, _ := b.Counter(runfile.CounterSyscalls)
	pf, _ := b.Counter(runfile.CounterPageFaults)
	for _, c := range b.Cells {
		if c.Unavailable != "" || c.PerCall == nil {
			continue
		}
		if c.Path == runfile.PathSyscall && sys.Source != "" {
			if n := c.PerCall.Syscalls; n == nil || *n < 0.99 || *n > 1.01 {
				t.Errorf("%s: %v syscalls per call counted (%s), want 1", c.Name(), n, sys.Source)
			}
		}
		if c.Path == runfile.PathVsyscall && pf.Source != "" {
			if n := c.PerCall.PageFaults; n == nil || *n < 0.99 || *n > 1.01 {
				t.Errorf("%s: %v page faults per call counted, want 1 (the fault the kernel emulates)", c.Name(), n)
			}
		}
	}
}
