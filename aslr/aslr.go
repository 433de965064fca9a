// Package aslr samples the base addresses of a process's regions across many
// spawns and estimates their randomization entropy: how well address-space
// layout randomization hides the vDSO, and whether it adds anything beyond
// the regions it moves with.
//
// Sampling: Config.Workers threads (DefaultWorkers: 3 on a 2-CPU machine)
// each spawn the target. vbench's own target, a tiny static-PIE ELF it
// writes to a memfd (target.go, target_GOARCH.go), reports itself
// (selfreport.go): it writes its stack pointer, auxv entries and brk(0)
// down a pipe and exits, so a sample is one vfork+exec+wait4, and the
// region bases are derived from what it wrote. Some of its samples (the
// first of each thread, the first 8, then 1 in 100) are also taken the
// other way, and must agree. The other way (sample.go), used for every
// sample of a --target: the child is spawned traced (PTRACE_TRACEME via
// SysProcAttr.Ptrace), so the kernel stops it right after execve, with its
// layout built and not one instruction run; /proc/PID/auxv, stat and maps
// and its registers are read, and it is killed and reaped. Children die
// with vbench's sampling thread (PR_SET_PDEATHSIG), are killed or reaped on
// every error path, and sampling stops between two spawns when the context
// is cancelled, returning what was gathered. Before sampling, the same
// threads may measure the spawn ceiling (ceiling.go), the rate of a program
// that only exits, and the sampling rate is given as a fraction of it.
//
// Estimation is package analysis (aslr/analysis): the sampler hands it
// every sample in columns (analysis.Columns, compact: 18 bytes a sample
// for vbench's target on 6.18), and it fills the regions, pairs and words
// of the result; the kernel maxima and the samples CSV are there too.
//
// It assumes Linux with /proc mounted and permission to ptrace one's own
// children (kernel.yama.ptrace_scope <= 2), even for the self-reporting
// target, whose checked samples use ptrace. The built-in target exists for
// x86-64 and arm64 (target_amd64.go, target_arm64.go); elsewhere the
// package builds and a run needs a --target.
package aslr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/proc"
	"github.com/vbench-dev/vbench/runfile"
)

// Config controls a sampling run.
type Config struct {
	// Samples is the number of samples; 0 samples until every region's
	// effective figure is an estimate with a 95% interval no wider than
	// NarrowBits, or until Budget runs out (Narrow).
	Samples     int
	Target      string    // "": vbench's own tiny target
	NoRandomize bool      // personality ADDR_NO_RANDOMIZE, the control run
	CSV         io.Writer // if not nil, raw samples are streamed here
	// Workers is the number of spawning threads; 0 means DefaultWorkers.
	Workers int
	// Method is MethodChain, MethodSelfReport or MethodPtrace; "" picks
	// the chain for vbench's own target where this architecture has one,
	// and ptrace for a Target.
	Method string
	// Ptrace is Method = MethodPtrace (kept for callers from before Method).
	Ptrace bool
	// Ceiling, if positive, is how long to measure the spawn ceilings,
	// half before sampling and half after (ceiling.go; DefaultCeiling).
	// Not measured for a Target.
	Ceiling time.Duration
	// Budget bounds sampling until narrow (Samples 0); 0 means
	// DefaultBudget.
	Budget time.Duration
	// MaxSamples caps sampling until narrow (0: DefaultMaxSamples), for
	// the memory it takes (BytesPerSample).
	MaxSamples int
	// keep, if set, receives the sample columns (CompareMethods).
	keep **analysis.Columns
}

// DefaultBudget is how long sampling until narrow may take by default.
const DefaultBudget = 20 * time.Second

// DefaultMaxSamples caps sampling until narrow by default.
const DefaultMaxSamples = 4_000_000

// NarrowBits is the widest 95% interval that counts as measured.
const NarrowBits = 0.2

// DefaultWorkers is the number of spawning threads used when
// Config.Workers is 0: one more than the CPUs, at most 4. Each spawn is
// mostly kernel work (clone, exec, exit) done alternately in the child and
// in the sampling thread, which waits in between; an extra thread fills
// those waits. Measured on the project's 2-vCPU VM: 2 threads about 1.25x
// the rate of one, 3 threads about 1.07x the rate of 2. An exec chain
// keeps its CPU busy by itself: DefaultChainWorkers.
func DefaultWorkers() int {
	return min(runtime.NumCPU()+1, 4)
}

// DefaultChainWorkers is the number of exec chains when Config.Workers is
// 0: one per CPU, at most 4. A chain never waits for vbench (its pipe
// holds 16,384 records), so a chain per CPU keeps every CPU busy.
func DefaultChainWorkers() int {
	return min(runtime.NumCPU(), 4)
}

// ErrConfig is wrapped by errors about the Config itself (bad sample count;
// bad targets wrap ErrTarget).
var ErrConfig = errors.New("bad aslr configuration")

// method is the method a Config samples with; its errors are about
// Method (Validate wraps them).
func (cfg Config) method() (string, error) {
	m := cfg.Method
	if cfg.Ptrace {
		if m != "" && m != MethodPtrace {
			return "", fmt.Errorf("Ptrace and Method %q", m)
		}
		m = MethodPtrace
	}
	switch {
	case m == "" && cfg.Target != "":
		return MethodPtrace, nil
	case m == "" && reportCode(true) != nil:
		return MethodChain, nil
	case m == "":
		return MethodSelfReport, nil
	case m != MethodChain && m != MethodSelfReport && m != MethodPtrace:
		return "", fmt.Errorf("want %s, %s or %s", MethodChain, MethodSelfReport, MethodPtrace)
	case m != MethodPtrace && cfg.Target != "":
		return "", fmt.Errorf("a --target is sampled through ptrace only (method %s): it does not report itself", MethodPtrace)
	case m == MethodChain && reportCode(true) == nil:
		return "", fmt.Errorf("no exec-chain target for %s", targetArch)
	}
	return m, nil
}

// Study samples and estimates. progress, if not nil, is called with samples
// done and the total (the cap, when sampling until narrow). On ctx
// cancellation it returns what was gathered, with Interrupted set.
//
// --no-randomize: Go's SysProcAttr has no personality field, so each
// sampling goroutine, locked to its own OS thread, sets ADDR_NO_RANDOMIZE
// on that thread with personality(2) before spawning; personality is a
// per-task attribute that fork copies (kernel/fork.c copies task_struct),
// and the exec of the child then sees it (fs/binfmt_elf.c clears
// PF_RANDOMIZE); it survives the re-executions of a chain too. The
// thread's personality is restored afterwards, or the thread is discarded
// if that fails.
func Study(ctx context.Context, cfg Config, progress func(done, total int)) (*runfile.ASLR, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	method, err := cfg.method()
	if err != nil {
		return nil, err
	}
	var t *target
	if cfg.Target == "" && method == MethodChain {
		t, err = builtinTarget(targetELF(true), "builtin self-reporting static-PIE exec chain", true)
	} else {
		t, err = openTarget(cfg.Target)
	}
	if err != nil {
		return nil, err
	}
	defer t.cleanup()
	if method == MethodSelfReport && !t.reports {
		method = MethodPtrace
	}

	narrow := cfg.Samples == 0
	limit := cfg.Samples
	budget := time.Duration(0)
	if narrow {
		limit = cfg.MaxSamples
		if limit <= 0 {
			limit = DefaultMaxSamples
		}
		budget = cfg.Budget
		if budget <= 0 {
			budget = DefaultBudget
		}
	}
	var (
		agg     = analysis.NewColumns(0, analysis.AllRegions)
		csv     = analysis.NewCSV(cfg.CSV)
		done    int
		checked int
		stopped bool
	)
	workers := cfg.Workers
	if workers <= 0 {
		workers = DefaultWorkers()
		if method == MethodChain {
			workers = DefaultChainWorkers()
		}
	}
	workers = min(workers, limit)
	res := &runfile.ASLR{
		Target:               t.label,
		Requested:            cfg.Samples,
		NoRandomize:          cfg.NoRandomize,
		Workers:              workers,
		Method:               method,
		InheritedNoRandomize: inheritedNoRandomize(),
	}
	if narrow {
		res.Budget, res.NarrowBits = budget, NarrowBits
	}
	var before, after ceilings
	if cfg.Ceiling > 0 && cfg.Target == "" {
		if before, err = measureCeilings(ctx, workers, cfg.NoRandomize, cfg.Ceiling/2); err != nil {
			return nil, err
		}
	}

	// Workers spawn and inspect; this goroutine aggregates, so the
	// accumulators need no locks. A worker error cancels the others; every
	// worker reaps its children before it returns.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		claimed atomic.Int64
		wg      sync.WaitGroup
		ch      = make(chan []sample, 64)
		werrs   = make([]error, workers)
		chks    = make([]*checker, workers)
	)
	// Batches are recycled: at tens of thousands of samples a second,
	// fresh ones would be garbage that lets the heap grow to twice the
	// columns before a collection (GOGC), on top of them.
	free := make(chan []sample, cap(ch)+2*workers)
	batch := func() []sample {
		select {
		case b := <-free:
			return b[:0]
		default:
			return make([]sample, 0, 256)
		}
	}
	recycle := func(b []sample) {
		select {
		case free <- b:
		default:
		}
	}
	send := func(b []sample) bool {
		select {
		case ch <- b:
			return true
		case <-wctx.Done():
			// The aggregator may be gone (a panic that Study's caller
			// recovers): never block on it.
			return false
		}
	}
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			werrs[w] = lockedThread(cfg.NoRandomize, func() (err error) {
				switch method {
				case MethodChain:
					return sampleChain(wctx, t, &claimed, int64(limit), batch, send, &chks[w])
				case MethodSelfReport:
					r := newReporter(t)
					chks[w] = &r.chk
					defer func() { err = errors.Join(err, r.close()) }()
					return sampleEach(wctx, &claimed, int64(limit), batch, send, func(s *sample, i int64) error {
						return r.one(s, i < checkFirst || i%checkEvery == 0)
					})
				}
				sp := newSpawner(t)
				defer sp.reap()
				return sampleEach(wctx, &claimed, int64(limit), batch, send, func(s *sample, _ int64) error { return sp.one(s) })
			})
			if werrs[w] != nil {
				cancel()
			}
		}()
	}
	go func() { wg.Wait(); close(ch) }()

	var (
		deadline  time.Time
		nextCheck = narrowFirst
		checking  bool
		narrowed  = make(chan narrowResult, 1)
		stall     stallClock
	)
	if narrow {
		deadline = start.Add(budget)
	}
	conts := watchSIGCONT()
	defer conts.stop()
	stall.start(start, conts)
	for b := range ch {
		stall.arrived(time.Now())
		for i := range b {
			s := &b[i]
			if err != nil {
				break // draining after a write error
			}
			out := s.exported()
			agg.Add(&out)
			if s.checked {
				checked++
			}
			if werr := csv.Add(done, &out); werr != nil {
				err = fmt.Errorf("writing samples: %w", werr)
				cancel()
			}
			done++
		}
		recycle(b)
		if progress != nil {
			progress(done, limit)
		}
		if !narrow || err != nil {
			continue
		}
		select {
		case nr := <-narrowed:
			checking = false
			res.NarrowStatus = nr.status
			if nr.all {
				res.NarrowReached = true
				cancel()
			}
		default:
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			deadline = time.Time{}
			res.BudgetSpent = true
			cancel()
		}
		if !checking && done >= nextCheck && wctx.Err() == nil {
			checking = true
			nextCheck = 2 * done
			snap := agg.Snapshot()
			go func() { narrowed <- checkNarrow(snap) }()
		}
	}
	stopped = ctx.Err() != nil && (narrow || done < cfg.Samples)
	// One error, on one line: the aggregator's, else the first worker's
	// (the others usually failed the same way, or were cancelled).
	for _, werr := range werrs {
		if err == nil {
			err = werr
		}
	}
	elapsed := time.Since(start)
	if ferr := csv.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("writing samples: %w", ferr)
	}
	if err != nil {
		return nil, err
	}
	if done == 0 && stopped {
		return nil, fmt.Errorf("interrupted before the first sample: %w", ctx.Err())
	}

	res.Samples, res.Checked, res.Interrupted = done, checked, stopped
	res.Duration = elapsed
	res.Stalled, res.Continued = stall.stalled(time.Now()), conts.count()
	res.Rate = float64(done) / (elapsed - res.Stalled).Seconds()
	for _, c := range chks {
		if c != nil && c.skipped != "" {
			res.CheckSkipped = c.skipped
		}
		if c != nil && c.spSkipped != "" {
			res.SPCheckSkipped = c.spSkipped
		}
	}
	if cfg.Ceiling > 0 && cfg.Target == "" && ctx.Err() == nil {
		if after, err = measureCeilings(ctx, workers, cfg.NoRandomize, cfg.Ceiling/2); err != nil {
			return nil, err
		}
	}
	before.fill(res, after)
	if cfg.keep != nil {
		*cfg.keep = agg
	}
	if done > 1_000_000 {
		// What sampling left behind goes back to the system before the
		// estimation's scratch columns are made (peak RSS at ten million:
		// 537 MB without this and the recycled batches).
		debug.FreeOSMemory()
	}
	analysis.Analyze(agg, res)
	if narrow {
		res.NarrowStatus = narrowStatus(res)
		res.NarrowReached = allNarrow(res.NarrowStatus)
	}
	analysis.Annotate(res, currentKernel())
	return res, nil
}

// sampleEach takes samples one spawn at a time until limit samples are
// claimed or ctx ends.
func sampleEach(ctx context.Context, claimed *atomic.Int64, limit int64, batch func() []sample, send func([]sample) bool, take func(*sample, int64) error) error {
	for ctx.Err() == nil {
		i := claimed.Add(1) - 1
		if i >= limit {
			return nil
		}
		b := append(batch(), sample{})
		if err := take(&b[0], i); err != nil {
			if errors.Is(err, ErrCheck) || errors.Is(err, errReport) {
				return fmt.Errorf("sample %d: %w (--method ptrace reads every sample through ptrace and /proc instead)", i, err)
			}
			return fmt.Errorf("sample %d: %w", i, err)
		}
		if !send(b) {
			return nil
		}
	}
	return nil
}

// sampleChain runs one exec chain until limit samples are claimed or ctx
// ends; *chk is set to its checker, for its findings.
func sampleChain(ctx context.Context, t *target, claimed *atomic.Int64, limit int64, batch func() []sample, send func([]sample) bool, chk **checker) error {
	w, err := startChain(t)
	if err != nil {
		return err
	}
	*chk = &w.r.chk
	defer w.close()
	stop := context.AfterFunc(ctx, w.kill)
	defer stop()
	for ctx.Err() == nil {
		b := batch()
		full := false
		err := w.next(func(s *sample) bool {
			if claimed.Add(1) > limit {
				full = true
				return false
			}
			b = append(b, *s)
			return true
		})
		if len(b) > 0 && !send(b) {
			return nil
		}
		switch {
		case errors.Is(err, errChainEnded) && ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrCheck) || errors.Is(err, errReport):
			return fmt.Errorf("exec chain: %w (--method ptrace reads every sample through ptrace and /proc instead)", err)
		case err != nil:
			return fmt.Errorf("exec chain: %w", err)
		case full:
			return nil
		}
	}
	return nil
}

// currentKernel reads the running kernel's version and ASLR sysctls
// (through proc.FS, as package sysenv does).
func currentKernel() analysis.Kernel {
	var k analysis.Kernel
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		k.Machine = unix.ByteSliceToString(uts.Machine[:]) // the maxima are per architecture
		k.Release = unix.ByteSliceToString(uts.Release[:])
		k.Version = unix.ByteSliceToString(uts.Version[:])
	}
	// -1 for unreadable, as sysenv records it.
	read := func(name string) int {
		v, err := proc.Live.SysctlInt(name)
		if err != nil {
			return -1
		}
		return v
	}
	k.RandomizeVASpace = read("kernel.randomize_va_space")
	k.MmapRndBits = read("vm.mmap_rnd_bits")
	return k
}

// exported is the sample as package analysis reads it (the arrays have the
// same length: regionNames is analysis.Regions).
func (s *sample) exported() analysis.Sample {
	out := analysis.Sample{Base: s.base, Vsyscall: s.vsyscall, VsyscallPerms: s.vsyscallPerms}
	for r, p := range s.present {
		if p {
			out.Present |= 1 << r
		}
	}
	return out
}
