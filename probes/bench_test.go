package probes

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/runfile"
)

// TestMain is in doors_test.go: it lets vsyscall probe children exit.

// shortConfig measures briefly: these tests check what comes back, never
// how long anything took.
func shortConfig() BenchConfig {
	cfg := DefaultBenchConfig()
	cfg.Count = 2
	cfg.Benchtime = 200 * time.Microsecond
	cfg.LatencyCalls = 200
	cfg.LatencyTime = time.Millisecond
	return cfg
}

func TestBenchEveryCell(t *testing.T) {
	cfg := shortConfig()
	cfg.Doors = Discover()
	var calls, lastDone, lastTotal int
	b, err := Bench(context.Background(), cfg, func(done, total int) { calls++; lastDone, lastTotal = done, total })
	if err != nil {
		t.Fatal(err)
	}
	// Every (function, clock, path) that can exist has a cell: the
	// registry says which.
	want := 0
	for _, fl := range Floors {
		want++
		checkCell(t, b, runfile.FuncFloor, fl.Op, "")
	}
	for _, call := range Calls {
		clocks := []runfile.Clock{""}
		if call.Clocked() {
			clocks = runfile.DefaultClocks() // the auxiliary clocks only when named
		}
		for _, c := range clocks {
			for _, p := range runfile.Paths {
				if call.Has(p) {
					want++
					checkCell(t, b, call.Func, c, p)
				} else if _, ok := b.Find(call.Func, c, p); ok {
					t.Errorf("cell %s/%s/%s, which no kernel has", call.Func, c, p)
				}
			}
		}
	}
	if len(b.Cells) != want {
		t.Errorf("got %d cells, want %d", len(b.Cells), want)
	}
	if calls == 0 || lastDone != lastTotal || lastTotal != want {
		t.Errorf("progress: %d calls, last %d/%d, want .../%d", calls, lastDone, lastTotal, want)
	}
	if b.Count != cfg.Count || b.Benchtime != cfg.Benchtime {
		t.Errorf("bench header %d/%v, want %d/%v", b.Count, b.Benchtime, cfg.Count, cfg.Benchtime)
	}
	// This CPU's answers to the doors decide the rest.
	d := cfg.Doors
	for _, fl := range Floors { // rdtscp only where the CPU has it
		if c, _ := b.Find("floor", fl.Op, ""); c == nil || c.Unavailable != floorUnavailable(fl.kind, d) {
			t.Errorf("%s floor: %+v, want unavailable %q", fl.Op, c, floorUnavailable(fl.kind, d))
		}
	}
	if c, _ := b.Find("time", "", "vsyscall"); d.VsyscallCallable != (c.Unavailable == "") {
		t.Errorf("vsyscall time: unavailable %q, but callable = %v", c.Unavailable, d.VsyscallCallable)
	}
	if c, _ := b.Find("clock_gettime", "MONOTONIC", "vdso"); (d.VDSO != nil) != (c.Unavailable == "") {
		t.Errorf("vdso clock_gettime: unavailable %q, but vDSO = %v", c.Unavailable, d.VDSO != nil)
	}
	// The CPUTIME clocks always fall back inside the vDSO (lib/vdso has no
	// code for them), so their vDSO cells must say so when measured: from
	// the count of syscalls where there is one, else from lib/vdso.
	if c, _ := b.Find("clock_gettime", "PROCESS_CPUTIME_ID", "vdso"); c.Unavailable == "" {
		if sc, _ := b.Counter(runfile.CounterSyscalls); sc.Source != "" {
			if !hasNote(c, FellBack) || c.PerCall == nil || c.PerCall.Syscalls == nil || *c.PerCall.Syscalls < 1 {
				t.Errorf("vdso PROCESS_CPUTIME_ID: notes %q, per call %+v: want %q from >= 1 syscall per call", c.Notes, c.PerCall, FellBack)
			}
		} else if !hasNote(c, FallsBackUncounted) {
			t.Errorf("vdso PROCESS_CPUTIME_ID: notes %q lack %q (syscalls not counted: %s)", c.Notes, FallsBackUncounted, sc.Unavailable)
		}
	}
	if b.Order != runfile.OrderInterleaved || b.Interrupted {
		t.Errorf("order %q, interrupted %v", b.Order, b.Interrupted)
	}
	for _, name := range []string{runfile.CounterPageFaults, runfile.CounterSyscalls, runfile.CounterCycles, runfile.CounterSteal, runfile.CounterPreemptions} {
		if c, ok := b.Counter(name); !ok || (c.Source == "") == (c.Unavailable == "") {
			t.Errorf("counter %s: %+v, %v: want a source or a reason", name, c, ok)
		}
	}
}

func hasNote(c *runfile.Cell, n string) bool {
	for _, x := range c.Notes {
		if x == n {
			return true
		}
	}
	return false
}

func checkCell(t *testing.T, b *runfile.Bench, f runfile.Function, clock runfile.Clock, path runfile.Path) {
	t.Helper()
	c, ok := b.Find(f, clock, path)
	if !ok {
		t.Errorf("no cell %s/%s/%s", f, clock, path)
		return
	}
	if c.Unavailable != "" {
		if c.Samples != nil || c.Summary != nil {
			t.Errorf("%s: unavailable (%s) but has samples", c.Name(), c.Unavailable)
		}
		return
	}
	if len(c.Samples) != b.Count || c.Iters <= 0 || c.Summary == nil {
		t.Errorf("%s: %d samples, %d iters, summary %v", c.Name(), len(c.Samples), c.Iters, c.Summary)
		return
	}
	if len(c.SampleCounts) != len(c.Samples) || c.Noise == nil || c.PerCall == nil {
		t.Errorf("%s: %d sample counts for %d samples, noise %v, per call %v", c.Name(), len(c.SampleCounts), len(c.Samples), c.Noise, c.PerCall)
	}
	for _, s := range c.Samples {
		if !(s > 0) || math.IsInf(s, 0) {
			t.Errorf("%s: sample %v", c.Name(), s)
		}
	}
	s := c.Summary
	if !(s.Min <= s.Lo && s.Lo <= s.Median && s.Median <= s.Hi && s.Hi <= s.Max) {
		t.Errorf("%s: summary out of order: %+v", c.Name(), *s)
	}
	if f == "floor" {
		if c.Latency != nil {
			t.Errorf("%s: floors have no latency mode", c.Name())
		}
		return
	}
	l := c.Latency
	if l == nil {
		t.Errorf("%s: no latency", c.Name())
		return
	}
	if l.N < 100 || !(0 <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.P999 && l.P999 <= l.Max) ||
		len(l.Quantiles) == 0 || len(l.Quantiles) > 200 || !(l.Overhead > 0) {
		t.Errorf("%s: latency %+v", c.Name(), *l)
	}
}

func TestBenchSubsetAndUnavailable(t *testing.T) {
	cfg := shortConfig()
	cfg.Latency = false
	cfg.Functions = []runfile.Function{"time", "Clock_Gettime"}
	cfg.Clocks = []runfile.Clock{"CLOCK_MONOTONIC", "monotonic", "REALTIME_COARSE"}
	cfg.Paths = []runfile.Path{"vdso", "vsyscall"}
	// Doors with nothing open: every call cell must be unavailable, with a
	// reason, and nothing may be called.
	cfg.Doors = &Doors{}
	cfg.Doors.Vsyscall.Mode = vsyscall.None
	b, err := Bench(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range b.Cells {
		names = append(names, c.Name())
		if c.Unavailable == "" {
			t.Errorf("%s measured through closed doors", c.Name())
		}
	}
	want := []string{"Time/path=vdso", "Time/path=vsyscall",
		"ClockGettime/clock=MONOTONIC/path=vdso", "ClockGettime/clock=REALTIME_COARSE/path=vdso"}
	if len(names) != len(want) {
		t.Fatalf("cells %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Errorf("cell %d is %s, want %s", i, names[i], want[i])
		}
	}
	if c, _ := b.Find("time", "", "vsyscall"); c.Unavailable != "unavailable (vsyscall=none)" {
		t.Errorf("vsyscall=none reason %q", c.Unavailable)
	}
}

func TestBenchBadNames(t *testing.T) {
	for _, cfg := range []BenchConfig{
		{Functions: []runfile.Function{"gettimeofday", "nanosleep"}},
		{Paths: []runfile.Path{"vdso", "int80"}},
		{Clocks: []runfile.Clock{"MONOTONIC", "SGI_CYCLE"}},
	} {
		_, err := Bench(context.Background(), cfg, nil)
		if !errors.Is(err, ErrUnknownName) {
			t.Errorf("%+v: error %v, want ErrUnknownName", cfg, err)
		}
	}
	cfg := shortConfig()
	cfg.CPU = 4096
	if _, err := Bench(context.Background(), cfg, nil); !errors.Is(err, ErrBadCPU) {
		t.Errorf("--cpu 4096: error %v, want ErrBadCPU", err)
	}
}

func TestBenchCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cfg := shortConfig()
	cfg.Doors = &Doors{}
	b, err := Bench(ctx, cfg, nil)
	if !errors.Is(err, context.Canceled) || b == nil || !b.Interrupted {
		t.Fatalf("cancelled context: %v, %+v", err, b)
	}
	for _, c := range b.Cells {
		if c.Summary != nil {
			t.Errorf("%s measured after cancellation", c.Name())
		}
	}
}

// TestBenchCancelKeepsWhatWasMeasured stops a bench partway: the cells
// sampled so far come back with their samples, the rest marked.
func TestBenchCancelKeepsWhatWasMeasured(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := shortConfig()
	cfg.Latency = false
	cfg.Count = 4
	cfg.Functions = []runfile.Function{"gettimeofday", "getcpu"} // a syscall on every architecture
	cfg.Paths = []runfile.Path{"syscall"}
	cfg.Doors = &Doors{}
	// Cancel once half the work is done: both cells calibrated, some
	// rounds taken.
	b, err := Bench(ctx, cfg, func(done, total int) {
		if 2*done >= total && done > 0 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || b == nil || !b.Interrupted {
		t.Fatalf("cancelled partway: %v, %+v", err, b)
	}
	measured := 0
	for _, c := range b.Cells {
		switch {
		case c.Summary != nil:
			measured++
			if len(c.Samples) == 0 || len(c.Samples) >= cfg.Count {
				t.Errorf("%s: %d samples after cancelling partway", c.Name(), len(c.Samples))
			}
		case c.Unavailable != "not measured: interrupted":
			t.Errorf("%s: neither measured nor marked: %q", c.Name(), c.Unavailable)
		}
	}
	if measured == 0 {
		t.Error("cancelled partway, but no cell kept its samples")
	}
}

// TestBenchInterleaves checks the order samples are taken in: round-robin
// by default, cell by cell on request.
func TestBenchInterleaves(t *testing.T) {
	for _, byCell := range []bool{false, true} {
		var order []string
		sampleHook = func(bc *benchCell, _ *counters) { order = append(order, bc.cell.Name()) }
		cfg := shortConfig()
		cfg.Latency, cfg.Count, cfg.CellByCell = false, 3, byCell
		cfg.Functions = []runfile.Function{"gettimeofday", "getcpu"} // a syscall on every architecture
		cfg.Paths = []runfile.Path{"syscall"}
		cfg.Doors = &Doors{}
		b, err := Bench(context.Background(), cfg, nil)
		sampleHook = nil
		if err != nil {
			t.Fatal(err)
		}
		a, c := "Gettimeofday/path=syscall", "Getcpu/path=syscall"
		want := []string{a, c, a, c, a, c}
		wantOrder := runfile.OrderInterleaved
		if byCell {
			want, wantOrder = []string{a, a, a, c, c, c}, runfile.OrderCellByCell
		}
		if !slices.Equal(order, want) || b.Order != wantOrder {
			t.Errorf("cell by cell %v: samples taken %q, order %q; want %q, %q", byCell, order, b.Order, want, wantOrder)
		}
	}
}

// TestBenchValidate: each field out of bounds is an error naming that
// field, which Bench returns too, before measuring anything.
func TestBenchValidate(t *testing.T) {
	for _, c := range []struct {
		mutate func(*BenchConfig)
		field  string
		kind   error
	}{
		{func(c *BenchConfig) { c.Count = MaxCount + 1 }, "Count", ErrBadConfig},
		{func(c *BenchConfig) { c.Count = -1 }, "Count", ErrBadConfig},
		{func(c *BenchConfig) { c.Benchtime = MaxBenchtime + 1 }, "Benchtime", ErrBadConfig},
		{func(c *BenchConfig) { c.Benchtime = -1 }, "Benchtime", ErrBadConfig},
		{func(c *BenchConfig) { c.RetryNoisy = MaxRetryNoisy + 1 }, "RetryNoisy", ErrBadConfig},
		{func(c *BenchConfig) { c.RetryNoisy = -1 }, "RetryNoisy", ErrBadConfig},
		{func(c *BenchConfig) { c.LatencyCalls = -5 }, "LatencyCalls", ErrBadConfig},
		{func(c *BenchConfig) { c.CPU = -2 }, "CPU", ErrBadConfig},
		{func(c *BenchConfig) { c.CPU = 1 << 20 }, "CPU", ErrBadCPU},
		{func(c *BenchConfig) { c.Functions = []runfile.Function{"nanosleep"} }, "Functions", ErrUnknownName},
		{func(c *BenchConfig) { c.Paths = []runfile.Path{"int80"} }, "Paths", ErrUnknownName},
		{func(c *BenchConfig) { c.Clocks = []runfile.Clock{"SGI_CYCLE"} }, "Clocks", ErrUnknownName},
	} {
		cfg := DefaultBenchConfig()
		c.mutate(&cfg)
		err := cfg.Validate()
		var fe *field.Error
		if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, c.kind) {
			t.Errorf("%s: %v, want an error naming %s", c.field, err, c.field)
		}
		if _, err := Bench(context.Background(), cfg, nil); !errors.Is(err, c.kind) {
			t.Errorf("Bench with a bad %s: %v", c.field, err)
		}
	}
	cfg := DefaultBenchConfig()
	cfg.Count, cfg.Benchtime, cfg.RetryNoisy = MaxCount, MaxBenchtime, MaxRetryNoisy
	if err := cfg.Validate(); err != nil {
		t.Errorf("the limits themselves: %v", err)
	}
	if err := (BenchConfig{}).Validate(); err == nil {
		t.Error("a zero config validates: Count 0 is no count")
	}
	if err := (BenchConfig{}).WithDefaults().Validate(); err != nil {
		t.Errorf("the zero config with defaults: %v", err)
	}
}

func TestSummarize(t *testing.T) {
	taken := []float64{5, 1, 4, 2, 3, 9, 7, 8, 6, 10}
	s := summarize(taken)
	if want := []float64{5, 1, 4, 2, 3, 9, 7, 8, 6, 10}; !slices.Equal(taken, want) {
		t.Errorf("summarize reordered the samples: %v, taken as %v", taken, want)
	}
	if s.Median != 5.5 || s.Min != 1 || s.Max != 10 || s.Mean != 5.5 {
		t.Errorf("summary %+v", *s)
	}
	if !(s.Lo < s.Median && s.Median < s.Hi) {
		t.Errorf("CI [%v, %v] does not hold the median", s.Lo, s.Hi)
	}
	s = summarize([]float64{3, 1})
	if s.Lo != 1 || s.Hi != 3 {
		t.Errorf("two samples: %+v", *s)
	}
	for n := 1; n < 20; n++ {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(i + 1)
		}
		s := summarize(v)
		if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) {
			t.Errorf("%d samples: infinite CI [%v, %v] (JSON cannot hold it)", n, s.Lo, s.Hi)
		}
		if finite := s.Lo > s.Min || s.Hi < s.Max; n < runfile.MinSamplesForCI && finite {
			t.Errorf("%d samples: CI [%v, %v] narrower than the range", n, s.Lo, s.Hi)
		}
	}
}
