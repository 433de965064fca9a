package aslr

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/runfile"
)

// DefaultCeiling is how long `vbench aslr` measures the ceilings, half
// before sampling and half after (Config.Ceiling), each half split between
// the vfork ceiling and the chain ceiling.
const DefaultCeiling = 400 * time.Millisecond

// Two ceilings, measured with as many workers as the sampler uses, in the
// same run, right before and right after sampling (the rate of a shared VM
// drifts by tens of percent from one minute to the next: a ceiling taken
// elsewhere would not be comparable, and the two halves show the drift):
//
//   - the vfork ceiling: what an independent C program does to spawn a
//     program that only exits (exitCode), as fast as it can: vfork, execve,
//     wait4, in a loop. The loop is vbench's own machine code (vforkCode,
//     target_GOARCH.go), started once per worker, not Go's ForkExec, whose
//     cost (it blocks signals, forks the Go way, waits on a pipe for the
//     exec) is not the machine's; it writes a byte every vforkBatch spawns,
//     and vbench counts bytes. Any sampler that spawns a process per sample
//     is below it.
//   - the chain ceiling: the no-op exec chain (noopChainCode), a program
//     that writes one word and executes itself again: what the exec chain
//     could do if reporting and checking cost nothing.

// ceilings is one measurement of both.
type ceilings struct {
	vfork, chain float64 // per second, all workers
	took         time.Duration
}

// measureCeilings measures both ceilings for d/2 each; ctx cancellation
// ends them early with what they have.
func measureCeilings(ctx context.Context, workers int, noRandomize bool, d time.Duration) (ceilings, error) {
	var c ceilings
	start := time.Now()
	exit, err := builtinTarget(exitELF(), "exit_group(0) static-PIE", false)
	if err != nil {
		return c, err
	}
	defer exit.cleanup()
	if code := vforkCode(); code != nil {
		stub, err := builtinTarget(buildELF(code), "vfork+execve stub", false)
		if err != nil {
			return c, err
		}
		c.vfork, err = countRate(ctx, workers, noRandomize, d/2, stub, exit, 1, vforkBatch)
		stub.cleanup()
		if err != nil {
			return c, fmt.Errorf("measuring the vfork ceiling: %w", err)
		}
	}
	if code := noopChainCode(); code != nil {
		noop, err := builtinTarget(buildELF(code), "no-op exec chain", false)
		if err != nil {
			return c, err
		}
		c.chain, err = countRate(ctx, workers, noRandomize, d/2, noop, noop, 8, 1)
		noop.cleanup()
		if err != nil {
			return c, fmt.Errorf("measuring the chain ceiling: %w", err)
		}
	}
	c.took = time.Since(start)
	return c, nil
}

// fill sets res's ceiling fields from the measurements before and after
// sampling (either may be zero: not measured, or interrupted).
func (c ceilings) fill(res *runfile.ASLR, after ceilings) {
	mean := func(a, b float64) float64 {
		if a > 0 && b > 0 {
			return (a + b) / 2
		}
		return max(a, b)
	}
	res.CeilingBefore, res.CeilingAfter = c.vfork, after.vfork
	res.CeilingDuration = c.took + after.took
	res.Ceiling = mean(c.vfork, after.vfork)
	res.ChainCeiling = mean(c.chain, after.chain)
	if res.Ceiling > 0 {
		res.CeilingFraction = res.Rate / res.Ceiling
	}
	if res.ChainCeiling > 0 {
		res.ChainFraction = res.Rate / res.ChainCeiling
	}
}

// countRate starts workers copies of prog, each with run at chainFD and a
// pipe at fd 1, and counts what they write for d after each has written
// once: every unit bytes are per units. It returns units per second over
// all workers. Every copy is killed and reaped before it returns.
func countRate(ctx context.Context, workers int, noRandomize bool, d time.Duration, prog, run *target, unit, per int) (float64, error) {
	type worker struct {
		n   atomic.Int64
		err error
	}
	ws := make([]*worker, workers)
	var wg sync.WaitGroup
	ready := make(chan struct{}, workers)
	stop := make(chan struct{})
	for i := range ws {
		w := &worker{}
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.err = lockedThread(noRandomize, func() error {
				var p [2]int
				if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
					ready <- struct{}{}
					return err
				}
				files := run.files(-1, p[1], -1)
				if prog != run {
					files = append(files, uintptr(prog.fd)) // the stub at fd 4
				}
				path := prog.path
				if prog != run {
					path = "/proc/self/fd/4"
				}
				pid, err := syscall.ForkExec(path, []string{targetName}, &syscall.ProcAttr{
					Env:   []string{},
					Files: files,
					Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true},
				})
				unix.Close(p[1])
				if err != nil {
					unix.Close(p[0])
					ready <- struct{}{}
					return err
				}
				c := &child{pid: pid, alive: true}
				defer func() {
					c.reap()
					unix.Close(p[0])
				}()
				buf := make([]byte, 4096)
				once := false
				// The thread stays here, locked, while the program runs:
				// its parent-death signal follows this thread.
				go func() { <-stop; c.kill() }()
				for {
					if once {
						// As the chain's reader does (chainNap): a read per
						// millisecond, not one per word, leaves the CPUs
						// to what is measured.
						time.Sleep(chainNap)
					}
					m, err := unix.Read(p[0], buf)
					if err == unix.EINTR {
						continue
					}
					if err != nil || m == 0 {
						if !once {
							ready <- struct{}{}
						}
						select {
						case <-stop:
							return nil
						default:
						}
						if err == nil {
							err = errors.New("the program ended early")
						}
						return err
					}
					if !once {
						once = true
						ready <- struct{}{}
						continue
					}
					w.n.Add(int64(m))
				}
			})
		}()
	}
	for range ws {
		select {
		case <-ready:
		case <-ctx.Done():
		}
	}
	var n0 int64
	for _, w := range ws {
		n0 += w.n.Load()
	}
	t0 := time.Now()
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	count := func() int64 {
		var n int64
		for _, w := range ws {
			n += w.n.Load()
		}
		return n
	}
	// A slow machine (a guest under TCG: tens of spawns a second) may
	// write nothing in d: wait for a few units more, up to 20 d.
	for count()-n0 < 4*int64(unit) && time.Since(t0) < 20*d && ctx.Err() == nil {
		time.Sleep(d / 10)
	}
	n1 := count()
	el := time.Since(t0)
	close(stop)
	wg.Wait()
	for _, w := range ws {
		if w.err != nil {
			return 0, w.err
		}
	}
	if el <= 0 {
		return 0, nil
	}
	return float64((n1-n0)/int64(unit)*int64(per)) / el.Seconds(), nil
}

// child is a process that one goroutine reaps and others may kill: kill
// never signals a pid already reaped (and perhaps reused).
type child struct {
	mu     sync.Mutex
	pid    int
	alive  bool
	killed bool
}

func (c *child) kill() {
	c.mu.Lock()
	if c.alive {
		unix.Kill(c.pid, unix.SIGKILL)
		c.killed = true
	}
	c.mu.Unlock()
}

// reap kills and reaps the child.
func (c *child) reap() {
	c.kill()
	c.mu.Lock()
	if c.alive {
		waitEnd(c.pid)
		c.alive = false
	}
	c.mu.Unlock()
}
