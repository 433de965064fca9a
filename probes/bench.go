package probes

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/runfile"
)

// BenchConfig selects what Bench measures and how long.
type BenchConfig struct {
	// Functions, Paths and Clocks select cells by name, in any case (clocks
	// with or without CLOCK_); nil selects all (BenchFunctions, Paths,
	// Clocks). NormalizeNames makes them canonical.
	Functions []runfile.Function
	Paths     []runfile.Path
	Clocks    []runfile.Clock
	CPU       int // -1: the CPU the caller starts on
	Count     int
	Benchtime time.Duration
	Latency   bool // also run the per-call (counter: TSC, CNTVCT_EL0) latency mode

	// LatencyCalls is the most single calls the latency mode times per
	// cell, and LatencyTime the most time it spends on one cell (whichever
	// comes first; at least 100 calls are timed).
	LatencyCalls int
	LatencyTime  time.Duration

	// CellByCell takes all samples of one cell before the next, as vbench
	// did before; by default samples are taken round-robin across the
	// cells (A1 B1 C1 A2 B2 ...), every cell calibrated first, so that slow
	// drift of the machine falls on every cell alike.
	CellByCell bool
	// RetryNoisy, if positive, is a time budget for more samples of cells
	// whose interval is wider than ±5% or whose samples are bimodal,
	// taken round-robin after the others until they are quiet or the
	// budget is spent.
	RetryNoisy time.Duration

	// Contexts are the contexts to measure the cells in besides plain,
	// which is always measured (the others are shown against it): each in
	// a child process placed in that context (remote.go), on the cells
	// its definition applies to (contexts.Defs), samples interleaved with
	// the plain context's. nil or plain alone: plain only.
	Contexts []runfile.Context
	// ContextHeadlinesOnly limits the other contexts to the cells of
	// runfile.ContextHeadlines (a guest under TCG, short of time).
	ContextHeadlinesOnly bool

	// Doors, if not nil, is used instead of calling Discover.
	Doors *Doors
}

// DefaultBenchConfig is what `vbench bench` does without flags.
func DefaultBenchConfig() BenchConfig {
	return BenchConfig{CPU: -1, Count: 10, Benchtime: 20 * time.Millisecond, Latency: true,
		LatencyCalls: 20000, LatencyTime: 50 * time.Millisecond}
}

// ErrUnknownName is wrapped by the errors for a bad function, path or clock
// name.
var ErrUnknownName = errors.New("unknown name")

// NormalizeNames checks the selections of cfg against the known names and
// returns cfg with canonical names (clocks upper-case without CLOCK_, one
// entry per name). A bad name gives one *field.Error, wrapping
// ErrUnknownName, that lists the valid names.
func (cfg BenchConfig) NormalizeNames() (BenchConfig, error) {
	var err error
	if cfg.Functions, err = pick("Functions", cfg.Functions, runfile.BenchFunctions(), func(s string) (runfile.Function, error) {
		return runfile.ParseFunction(s, true)
	}); err != nil {
		return cfg, err
	}
	if cfg.Paths, err = pick("Paths", cfg.Paths, runfile.Paths, runfile.ParsePath); err != nil {
		return cfg, err
	}
	if len(cfg.Clocks) == 0 {
		cfg.Clocks = runfile.DefaultClocks()
	} else if cfg.Clocks, err = pick("Clocks", cfg.Clocks, runfile.Clocks, runfile.ParseClock); err != nil {
		return cfg, err
	}
	if err := cfg.normalizeContexts(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// pick returns names parsed by parse, once each and in the order of valid,
// or all of valid when names is empty; a bad one is an error for the field
// name.
func pick[T ~string](name string, names, valid []T, parse func(string) (T, error)) ([]T, error) {
	if len(names) == 0 {
		return slices.Clone(valid), nil
	}
	var out []T
	for _, n := range names {
		c, err := parse(string(n))
		if err != nil {
			return nil, field.Errorf(ErrUnknownName, name, nil, "%v", err)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	// Keep table order, whatever order the names came in.
	slices.SortStableFunc(out, func(a, b T) int { return slices.Index(valid, a) - slices.Index(valid, b) })
	return out, nil
}

// benchCell is a cell with what it takes to measure it.
type benchCell struct {
	cell runfile.Cell
	op   loopOp

	iters, chunk int64 // calls per sample and per native loop; 0 until calibrated
	retried      int   // samples added by RetryNoisy

	// Samples thrown away and taken again (hostile.go).
	retakenThrottled, retakenSuspended int

	// remote, if not nil, is the context child that measures the cell, as
	// its cell ri; failed says why it stopped answering.
	remote *contextChild
	ri     int
	failed string

	// inCall is what the inCall events counted over inCallCalls calls,
	// in the pass after calibration (counters.countInCall).
	inCall      runfile.SampleCounts
	inCallCalls int64
}

// plan lists the cells of cfg (names already normalized), in table order,
// and decides for each whether it can be called and how. Everything about
// a call comes from its row in Calls.
func plan(cfg BenchConfig, d *Doors) []benchCell {
	var cells []benchCell
	for _, f := range cfg.Functions {
		if f == runfile.FuncFloor {
			for _, fl := range Floors {
				bc := benchCell{cell: runfile.Cell{Function: runfile.FuncFloor, Clock: fl.Op}, op: loopOp{kind: fl.kind}}
				bc.cell.Unavailable = floorUnavailable(fl.kind, d)
				cells = append(cells, bc)
			}
			continue
		}
		call, _ := CallOf(f)
		clocks := call.cellClocks(cfg.Clocks)
		for _, c := range clocks {
			for _, p := range cfg.Paths {
				if !call.Has(p) {
					continue // no kernel has it: no cell
				}
				bc := benchCell{cell: runfile.Cell{Function: f, Clock: c.Name, Path: p}}
				bc.op, bc.cell.Unavailable = opFor(call, c, p, d)
				cells = append(cells, bc)
			}
		}
	}
	return cells
}

// hasRDTSCP is true only when the doors say rdtscp and CPUID agrees, so
// that rdtscp is never executed on a CPU that would raise SIGILL, even with
// doors made up by a test. It is always false off x86-64.
func hasRDTSCP(d *Doors) bool { return d.RDTSCP && cpuHasRDTSCP() }

// opFor returns the loop operation for a call through a path, or why it is
// unavailable: the syscall instruction with the row's number, or a call of
// the address Target gives, with the row's arguments made over loopBuf.
func opFor(call Call, c Clock, p runfile.Path, d *Doors) (loopOp, string) {
	target, err := d.Target(call.Func, p)
	if err != nil {
		return loopOp{}, "unavailable (" + reasonOf(err) + ")"
	}
	op := loopOp{kind: opCall, addr: target, args: call.args(c.ID, &loopBuf)}
	switch p {
	case runfile.PathSyscall:
		op.kind, op.addr = opSyscall, call.Trap
	case runfile.PathRseq:
		op = loopOp{kind: opLoad, addr: target}
	}
	return op, ""
}

// Bench measures every selected cell. progress, if not nil, is called with
// the work done and the total, both counted in cells: with interleaved
// samples every cell advances together.
//
// Cells come in table order: functions as in BenchFunctions, then clocks as
// in Clocks, then paths as in Paths. A (function, clock, path) that no
// kernel has (the vsyscall page has only three entries) gets no cell; one that this process cannot call (vsyscall=none, no vDSO or
// no such vDSO symbol, rdtscp on a CPU without it) gets a cell with
// Unavailable set and is never called. A call that fails still costs what it
// costs and is measured, with a note such as "returns EINVAL" (the ALARM
// clocks without an RTC).
//
// Each sample calls the target Iters times in native loops (loop_amd64.s)
// of about a millisecond each, timed from Go between loops; Iters is set by
// a warm-up so that a sample lasts about cfg.Benchtime. Every cell is
// calibrated first; then samples are taken round-robin, one of each cell per
// round (cfg.CellByCell: all of one cell, then the next). Around each
// sample the kernel's counters are read (counters.go): page faults, context
// switches, migrations, steal, preemptions, syscalls where the tracepoint
// is readable, cycles and instructions where there is a PMU. Each cell is
// then judged for noise (noise.go), its events per call are set, and its
// vDSO fallback is noted from the count of syscalls (fallback.go; counted
// in a traced child when the tracepoint is not readable). With cfg.Latency,
// single calls are then timed with the counter (see latency.go); floors have no
// latency mode.
//
// The calling goroutine's thread is locked and pinned to cfg.CPU for the
// duration; its affinity is restored afterwards.
//
// When ctx is done, Bench stops after the sample it is taking and returns
// what it has measured, marked Interrupted (cells never reached are
// Unavailable "not measured: interrupted"), with an error wrapping
// ctx.Err().
func Bench(ctx context.Context, cfg BenchConfig, progress func(done, total int)) (*runfile.Bench, error) {
	benchMu.Lock() // one Bench at a time: the loops share loopBuf and its getrandom state
	defer benchMu.Unlock()
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg, err := cfg.NormalizeNames()
	if err != nil {
		return nil, err
	}
	d := cfg.Doors
	if d == nil {
		d = Discover()
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu, restore, err := Pin(cfg.CPU)
	if err != nil {
		return nil, err
	}
	defer restore()
	d, release := withRseq(d, cfg.Paths)
	defer release()

	cells := plan(cfg, d)
	var children []*contextChild
	defer func() {
		for _, ch := range children {
			ch.Close()
		}
	}()
	var infos []runfile.ContextInfo
	for _, ctx := range cfg.Contexts[1:] {
		more, ch, info := planRemote(cfg, ctx, cpu, d)
		infos = append(infos, info)
		if ch != nil {
			children = append(children, ch)
			cells = append(cells, more...)
		}
	}
	out := &runfile.Bench{Contexts: infos, CPU: cpu, Count: cfg.Count, Benchtime: cfg.Benchtime, Order: runfile.OrderInterleaved, RetryNoisy: cfg.RetryNoisy}
	if cfg.CellByCell {
		out.Order = runfile.OrderCellByCell
	}
	ctrs := openCounters(cpu)
	defer ctrs.close()
	watching = newSampleWatch()
	defer func() { watching.close(); watching = nil }()
	out.Counters = ctrs.info
	rdtscp := hasRDTSCP(d)
	if cfg.Latency {
		out.TSCHz, out.Timer = counterHz(), CounterName
		if out.TSCHz > 0 {
			out.TSCStepNs = float64(counterStep()) / out.TSCHz * 1e9
		}
	}

	var live []*benchCell // cells to call
	for i := range cells {
		if cells[i].cell.Unavailable == "" {
			live = append(live, &cells[i])
		}
	}
	latencyCells := 0
	if cfg.Latency {
		for _, bc := range live {
			if bc.cell.Function != runfile.FuncFloor {
				latencyCells++
			}
		}
	}
	// Work in units: a calibration, a sample, a latency pass, an
	// unavailable cell; reported in cells.
	units, total := 0, len(cells)-len(live)+len(live)*(1+cfg.Count)+latencyCells
	step := func(n int) {
		units += n
		if progress != nil {
			progress(len(cells)*units/max(total, 1), len(cells))
		}
	}
	step(len(cells) - len(live))

	interrupted := func() (*runfile.Bench, error) {
		if !ctrs.has(evSyscalls) {
			out.Counters = append(out.Counters, runfile.Counter{Name: runfile.CounterSyscalls, Unavailable: "not counted: interrupted before the counting child ran"})
		}
		finish(out, cells, ctrs, nil, true)
		return out, fmt.Errorf("bench interrupted after %d of %d steps: %w", units, total, ctx.Err())
	}

	if cfg.CellByCell {
		for _, bc := range live {
			if ctx.Err() != nil {
				return interrupted()
			}
			bc.calibrate(cfg.Benchtime, ctrs)
			step(1)
			for range cfg.Count {
				if ctx.Err() != nil {
					return interrupted()
				}
				bc.sample(ctrs)
				step(1)
			}
		}
	} else {
		for _, bc := range live {
			if ctx.Err() != nil {
				return interrupted()
			}
			bc.calibrate(cfg.Benchtime, ctrs)
			step(1)
		}
		for range cfg.Count {
			for _, bc := range live {
				if ctx.Err() != nil {
					return interrupted()
				}
				bc.sample(ctrs)
				step(1)
			}
		}
	}
	if cfg.RetryNoisy > 0 {
		if !retryNoisy(ctx, live, ctrs, cfg.RetryNoisy) {
			return interrupted()
		}
	}
	if cfg.Latency {
		for _, bc := range live {
			if bc.cell.Function == runfile.FuncFloor {
				continue
			}
			if ctx.Err() != nil {
				return interrupted()
			}
			bc.latency(cfg, out.TSCHz, rdtscp)
			step(1)
		}
	}
	var counted map[*benchCell]float64
	if !ctrs.has(evSyscalls) {
		counted = countInChild(out, live)
	}
	counted = countRemote(children, live, counted)
	for i := range out.Contexts {
		for _, ch := range children {
			if ch.ctx == out.Contexts[i].Name {
				out.Contexts[i] = ch.info
			}
		}
	}
	finish(out, cells, ctrs, counted, false)
	return out, nil
}

// finish summarizes every cell into out: the median and its interval, the
// events per call, the noise verdict; then the vDSO fallbacks. counted
// holds syscalls per call counted in a child, when the tracepoint was not
// readable.
func finish(out *runfile.Bench, cells []benchCell, ctrs *counters, counted map[*benchCell]float64, interrupted bool) {
	out.Interrupted = interrupted
	out.Cells = out.Cells[:0]
	for i := range cells {
		bc := &cells[i]
		c := &bc.cell
		if c.Unavailable == "" && len(c.Samples) == 0 {
			c.Unavailable = "not measured: interrupted"
			if bc.failed != "" {
				c.Unavailable = "not measured: " + bc.failed
			}
			c.Iters, c.Notes = 0, nil
		}
		if c.Unavailable == "" {
			c.Summary = summarize(c.Samples)
			c.PerCall = perCall(bc, ctrs, counted)
			c.Noise = judge(c, bc.retried)
			hostileNoise(c, c.Noise, watching.quotaWords())
			c.Notes = append(c.Notes, retakeNotes(bc)...)
		}
		out.Cells = append(out.Cells, *c)
	}
	noteFallbacks(out)
}

// perCall is each counted event per call: the inCall events over the pass
// after calibration, the others over the cell's samples.
func perCall(bc *benchCell, ctrs *counters, counted map[*benchCell]float64) *runfile.PerCall {
	calls := float64(bc.iters) * float64(len(bc.cell.SampleCounts))
	if calls <= 0 {
		return nil
	}
	var sum runfile.SampleCounts
	for _, s := range bc.cell.SampleCounts {
		sum.ContextSwitches += s.ContextSwitches
		sum.Cycles += s.Cycles
		sum.Instructions += s.Instructions
	}
	has := ctrs.has
	if bc.remote != nil {
		has = func(ev int) bool { return bc.remote.has[ev] }
	}
	per := func(ev int, v int64, calls float64) *float64 {
		if !has(ev) || calls <= 0 {
			return nil
		}
		x := float64(v) / calls
		return &x
	}
	n := float64(bc.inCallCalls)
	p := &runfile.PerCall{
		PageFaults:      per(evPageFaults, bc.inCall.PageFaults, n),
		MinorFaults:     per(evMinorFaults, bc.inCall.MinorFaults, n),
		ContextSwitches: per(evContextSwitches, sum.ContextSwitches, calls),
		Syscalls:        per(evSyscalls, bc.inCall.Syscalls, n),
		Cycles:          per(evCycles, sum.Cycles, calls),
		Instructions:    per(evInstructions, sum.Instructions, calls),
	}
	if v, ok := counted[bc]; ok {
		p.Syscalls = &v
	}
	return p
}

// countInChild counts the syscalls per call of every measured call cell in
// a traced child (syscount.go) and records in out where the count came
// from, or why there is none.
func countInChild(out *runfile.Bench, live []*benchCell) map[*benchCell]float64 {
	fd, tpErr := openSyscallTracepoint() // the reason it was not used
	if fd >= 0 {
		unix.Close(fd)
	}
	var which []*benchCell
	var cells []countCell
	for _, bc := range live {
		if bc.cell.Function == runfile.FuncFloor || len(bc.cell.Samples) == 0 || bc.remote != nil {
			continue
		}
		var c Clock
		if bc.cell.Clock != "" {
			c, _ = ClockOf(bc.cell.Clock)
		}
		which = append(which, bc)
		cells = append(cells, countCell{bc.cell.Function, c, bc.cell.Path})
	}
	info := runfile.Counter{Name: runfile.CounterSyscalls}
	var counted map[*benchCell]float64
	if len(cells) > 0 {
		per, err := countSyscalls(cells)
		if err != nil {
			info.Unavailable = fmt.Sprintf("tracepoint: %v; ptrace: %v", tpErr, err)
		} else {
			info.Source = fmt.Sprintf("ptrace child (PTRACE_SYSCALL, %d calls per cell; tracepoint: %v)", syscountCalls, tpErr)
			counted = map[*benchCell]float64{}
			for i, bc := range which {
				counted[bc] = per[i]
			}
		}
	} else {
		info.Unavailable = fmt.Sprintf("tracepoint: %v; no call cells to count in a child", tpErr)
	}
	out.Counters = append(out.Counters, info)
	return counted
}

// retryNoisy takes more samples, round-robin, of the cells whose interval
// is wide or whose samples are bimodal, until none is or budget is spent.
// It returns false when ctx ended it.
func retryNoisy(ctx context.Context, live []*benchCell, ctrs *counters, budget time.Duration) bool {
	deadline := time.Now().Add(budget)
	for time.Now().Before(deadline) {
		if ctx.Err() != nil {
			return false
		}
		var noisy []*benchCell
		for _, bc := range live {
			c := &bc.cell
			if len(c.Samples) == 0 || len(c.Samples) >= MaxCount {
				continue
			}
			c.Summary = summarize(c.Samples)
			if retryable(judge(c, 0)) {
				noisy = append(noisy, bc)
			}
		}
		if len(noisy) == 0 {
			return true
		}
		for _, bc := range noisy {
			if ctx.Err() != nil {
				return false
			}
			if !time.Now().Before(deadline) {
				break
			}
			bc.sample(ctrs)
			bc.retried++
		}
	}
	return true
}

// benchMu serializes Bench calls.
var benchMu sync.Mutex

// Calibration of a sample's iteration count.
const (
	chunkTime = time.Millisecond // a chunk holds the GC off for about this long
	maxChunk  = 1 << 20
	warmTime  = 2 * time.Millisecond // the warm-up runs until one run lasts this long
)

// calibrate checks whether one call fails (noting the errno) and warms the
// cell up, setting how many calls a sample of about benchtime makes.
func (bc *benchCell) calibrate(benchtime time.Duration, ctrs *counters) {
	if bc.remote != nil {
		bc.calibrateRemote(benchtime)
		return
	}
	op := bc.op
	// One call first: does it fail? (ALARM clocks without an RTC give
	// EINVAL; the call still goes into the kernel and costs what it costs.)
	restore := op.guard()
	r := op.run(1)
	restore()
	if op.kind == opSyscall || op.kind == opCall {
		var e unix.Errno
		if errors.As(ret(r), &e) {
			bc.cell.Notes = append(bc.cell.Notes, "returns "+unix.ErrnoName(e))
		}
	}
	// Warm-up, which also estimates the cost per call: grow n until one run
	// lasts warmTime.
	n, chunk := int64(1), int64(1)
	var est float64 // ns per call
	for {
		d := op.timed(n, chunk)
		est = max(float64(d)/float64(n), 0.01)
		chunk = chunkFor(est)
		if d >= warmTime || n >= 1<<30 {
			break
		}
		n *= 4
	}
	bc.iters = int64(max(float64(benchtime)/est, 1))
	bc.chunk = chunk
	bc.cell.Iters = bc.iters
	// The events that fire inside the call, counted apart: a twentieth
	// of a sample, at least inCallMin calls (so that the pass's own reads
	// weigh nothing), at most a sample.
	bc.inCallCalls = min(max(bc.iters/20, inCallMin), bc.iters)
	bc.inCall = ctrs.countInCall(op, bc.inCallCalls, chunk)
}

// inCallMin is the fewest calls the inCall pass makes.
const inCallMin = 1000

// sampleHook, if set (tests), is called before each sample with the
// counters it is taken with.
var sampleHook func(*benchCell, *counters)

// sample takes one sample of a calibrated cell, with the counters read
// around it: the slow reads (/proc/stat, getrusage) outermost, then the
// perf counters, and the syscall tracepoint innermost, so that none of
// these reads is counted as the call's own.
func (bc *benchCell) sample(ctrs *counters) {
	if sampleHook != nil {
		sampleHook(bc, ctrs)
	}
	if bc.remote != nil {
		bc.sampleRemote()
		return
	}
	for attempt := 0; ; attempt++ {
		var a, b snapshot
		var m watchMark
		if watching != nil {
			m = watching.begin()
		}
		start := time.Now()
		ctrs.take(&a, true)
		a.perf[evSyscalls] = ctrs.read(evSyscalls)
		d := bc.op.timed(bc.iters, bc.chunk)
		b.perf[evSyscalls] = ctrs.read(evSyscalls)
		ctrs.take(&b, false)
		sc := diff(&a, &b)
		if watching != nil {
			sc.Throttled, sc.Suspended = watching.end(m, sc.Preemptions, sc.StealNs)
			if (sc.Throttled > 0 || sc.Suspended) && watching.retake(attempt, sc.Throttled, time.Since(start)) {
				if sc.Throttled > 0 {
					bc.retakenThrottled++
				} else {
					bc.retakenSuspended++
				}
				continue
			}
		}
		bc.cell.Samples = append(bc.cell.Samples, float64(d)/float64(bc.iters))
		bc.cell.SampleCounts = append(bc.cell.SampleCounts, sc)
		return
	}
}

// chunkFor is how many calls of est ns each last about chunkTime.
func chunkFor(est float64) int64 {
	return int64(min(max(float64(chunkTime)/est, 1), maxChunk))
}
