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
// every sample in columns (analysis.Columns, 66 bytes a sample), and it
// fills the regions, pairs and words of the result; the kernel maxima and
// the samples CSV are there too.
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
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// Config controls a sampling run.
type Config struct {
	Samples     int
	Target      string    // "": vbench's own tiny target
	NoRandomize bool      // personality ADDR_NO_RANDOMIZE, the control run
	CSV         io.Writer // if not nil, raw samples are streamed here
	// Workers is the number of spawning threads; 0 means DefaultWorkers.
	Workers int
	// Ptrace reads every sample of vbench's own target through ptrace and
	// /proc, as for a --target, instead of letting it report itself.
	Ptrace bool
	// Ceiling, if positive, is how long to measure the spawn ceiling, half
	// before sampling and half after (ceiling.go; DefaultCeiling). Not
	// measured for a Target.
	Ceiling time.Duration
}

// DefaultWorkers is the number of spawning threads used when
// Config.Workers is 0: one more than the CPUs, at most 4. Each spawn is
// mostly kernel work (clone, exec, exit) done alternately in the child and
// in the sampling thread, which waits in between; an extra thread fills
// those waits. Measured on the project's 2-vCPU VM: 2 threads about 1.25x
// the rate of one, 3 threads about 1.07x the rate of 2.
func DefaultWorkers() int {
	return min(runtime.NumCPU()+1, 4)
}

// ErrConfig is wrapped by errors about the Config itself (bad sample count;
// bad targets wrap ErrTarget).
var ErrConfig = errors.New("bad aslr configuration")

// Study samples and estimates. progress, if not nil, is called with samples
// done and the total. On ctx cancellation it returns what was gathered,
// with Interrupted set.
//
// --no-randomize: Go's SysProcAttr has no personality field, so each
// sampling goroutine, locked to its own OS thread, sets ADDR_NO_RANDOMIZE
// on that thread with personality(2) before spawning; personality is a
// per-task attribute that fork copies (kernel/fork.c copies task_struct),
// and the exec of the child then sees it (fs/binfmt_elf.c clears
// PF_RANDOMIZE). The thread's personality is restored afterwards, or the
// thread is discarded if that fails.
func Study(ctx context.Context, cfg Config, progress func(done, total int)) (*runfile.ASLR, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := openTarget(cfg.Target)
	if err != nil {
		return nil, err
	}
	defer t.cleanup()

	var (
		agg     = analysis.NewColumns(min(cfg.Samples, maxPrealloc), analysis.AllRegions)
		csv     = analysis.NewCSV(cfg.CSV)
		done    int
		checked int
		stopped bool
	)
	workers := cfg.Workers
	if workers <= 0 {
		workers = DefaultWorkers()
	}
	workers = min(workers, cfg.Samples)
	selfReport := t.reports && !cfg.Ptrace
	res := &runfile.ASLR{
		Target:               t.label,
		Requested:            cfg.Samples,
		NoRandomize:          cfg.NoRandomize,
		Workers:              workers,
		Method:               runfile.MethodPtrace,
		InheritedNoRandomize: inheritedNoRandomize(),
	}
	if selfReport {
		res.Method = runfile.MethodSelfReport
	}
	measureCeiling := func(into *float64) error {
		if cfg.Ceiling <= 0 || cfg.Target != "" {
			return nil
		}
		start := time.Now()
		rate, _, err := ceiling(ctx, workers, cfg.NoRandomize, cfg.Ceiling/2)
		res.CeilingDuration += time.Since(start)
		*into = rate
		return err
	}
	if err := measureCeiling(&res.CeilingBefore); err != nil {
		return nil, err
	}

	// Workers spawn and inspect; this goroutine aggregates, so the
	// accumulators need no locks. A worker error cancels the others; every
	// worker reaps its children before it returns.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		claimed atomic.Int64
		wg      sync.WaitGroup
		ch      = make(chan sample, 64)
		werrs   = make([]error, workers)
	)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			werrs[w] = lockedThread(cfg.NoRandomize, func() (err error) {
				var take func(s *sample, i int64) error
				if selfReport {
					r := newReporter(t)
					defer func() { err = errors.Join(err, r.close()) }()
					take = func(s *sample, i int64) error {
						err := r.one(s, i < checkFirst || i%checkEvery == 0)
						if errors.Is(err, ErrCheck) || errors.Is(err, errReport) {
							return fmt.Errorf("sample %d: %w (Config.Ptrace, --ptrace, reads every sample through /proc instead)", i, err)
						}
						if err != nil {
							return fmt.Errorf("sample %d: %w", i, err)
						}
						return nil
					}
				} else {
					sp := newSpawner(t)
					defer sp.reap()
					take = func(s *sample, _ int64) error { return sp.one(s) }
				}
				var s sample
				for wctx.Err() == nil {
					i := claimed.Add(1) - 1
					if i >= int64(cfg.Samples) {
						break
					}
					if err := take(&s, i); err != nil {
						cancel()
						return err
					}
					select {
					case ch <- s:
					case <-wctx.Done():
						// The aggregator may be gone (a panic that
						// Study's caller recovers): never block on it.
						return nil
					}
				}
				return nil
			})
			if werrs[w] != nil {
				cancel()
			}
		}()
	}
	go func() { wg.Wait(); close(ch) }()
	for s := range ch {
		if err != nil {
			continue // draining after a write error
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
		if progress != nil && (done%64 == 0 || done == cfg.Samples) {
			progress(done, cfg.Samples)
		}
	}
	stopped = ctx.Err() != nil && done < cfg.Samples
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
	res.Duration, res.Rate = elapsed, float64(done)/elapsed.Seconds()
	if err := measureCeiling(&res.CeilingAfter); err != nil {
		return nil, err
	}
	switch {
	case res.CeilingBefore > 0 && res.CeilingAfter > 0:
		res.Ceiling = (res.CeilingBefore + res.CeilingAfter) / 2
	default: // interrupted: one of them
		res.Ceiling = max(res.CeilingBefore, res.CeilingAfter)
	}
	if res.Ceiling > 0 {
		res.CeilingFraction = res.Rate / res.Ceiling
	}
	analysis.Analyze(agg, res)
	analysis.Annotate(res, currentKernel())
	return res, nil
}

// MethodWords says how the samples of res were read, for renderers; ""
// for a result with no method recorded (samples read from a CSV, run files
// from before self-reporting, which used ptrace).
func MethodWords(res *runfile.ASLR) string {
	switch res.Method {
	case runfile.MethodSelfReport:
		return fmt.Sprintf("self-report: the target wrote its own bases down a pipe, no ptrace and no /proc read per sample; %d of %d samples were also read through ptrace and /proc and found equal",
			res.Checked, res.Samples)
	case runfile.MethodPtrace:
		return "ptrace: each spawn stopped at execve, its /proc/PID/maps, auxv and stat read, then killed"
	}
	return ""
}

// maxPrealloc bounds the columns allocated before sampling starts (66 MB).
const maxPrealloc = 1 << 20

// currentKernel reads the running kernel's version and ASLR sysctls.
func currentKernel() analysis.Kernel {
	var k analysis.Kernel
	var uts unix.Utsname
	if unix.Uname(&uts) == nil {
		k.Machine = unix.ByteSliceToString(uts.Machine[:]) // the maxima are per architecture
		k.Release = unix.ByteSliceToString(uts.Release[:])
		k.Version = unix.ByteSliceToString(uts.Version[:])
	}
	read := func(path string) int {
		b, err := os.ReadFile(path)
		if err != nil {
			return -1
		}
		v, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return -1
		}
		return v
	}
	k.RandomizeVASpace = read("/proc/sys/kernel/randomize_va_space")
	k.MmapRndBits = read("/proc/sys/vm/mmap_rnd_bits")
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
