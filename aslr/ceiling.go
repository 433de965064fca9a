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
)

// DefaultCeiling is how long `vbench aslr` measures the spawn ceiling,
// half before sampling and half after (Config.Ceiling): a few hundred to a
// few thousand spawns on the project's 2-vCPU VM, whose spawn rate moved
// between 1,000/s and 14,000/s from one day to another.
const DefaultCeiling = 300 * time.Millisecond

// ceiling measures the rate at which workers threads, with the run's
// personality, can vfork+exec vbench's exiting program (target.go:
// exit_group(0) and nothing else) and reap it with wait4, for about d: the
// most any sampler could do here, now. Sampling is then reported as a
// fraction of it. It is measured in the same run, with the same threads,
// right before and right after sampling (Study), because the rate of a
// shared VM drifts by tens of percent from one minute to the next: a
// ceiling taken elsewhere would not be comparable, and the two halves show
// how far it drifted during the run. A --ceiling option measured apart
// would save the 0.3 s but lose that. ctx cancellation ends it early with
// what it has.
func ceiling(ctx context.Context, workers int, noRandomize bool, d time.Duration) (rate float64, spawns int, err error) {
	t, err := builtinTarget(exitELF(), "exit_group(0) static-PIE", false)
	if err != nil {
		return 0, 0, err
	}
	defer t.cleanup()
	closed := ^uintptr(0)
	attr := &syscall.ProcAttr{
		Env:   []string{},
		Files: []uintptr{closed, closed, closed},
		// As the sampled spawns have them (sample.go, selfreport.go).
		Sys: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true},
	}
	argv := []string{targetName}
	var (
		n    atomic.Int64
		wg   sync.WaitGroup
		errs = make([]error, workers)
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = lockedThread(noRandomize, func() error {
				// Each child is reaped after the next is spawned, as the
				// samplers do (selfreport.go, sample.go).
				pending := 0
				reap := func() error {
					if pending == 0 {
						return nil
					}
					var ws unix.WaitStatus
					_, err := unix.Wait4(pending, &ws, 0, nil)
					for err == unix.EINTR {
						_, err = unix.Wait4(pending, &ws, 0, nil)
					}
					pending = 0
					switch {
					case err != nil:
						return fmt.Errorf("measuring the spawn ceiling: wait4: %w", err)
					case !ws.Exited() || ws.ExitStatus() != 0:
						return fmt.Errorf("measuring the spawn ceiling: the exiting program ended with status %#x", uint32(ws))
					}
					n.Add(1)
					return nil
				}
				for ctx.Err() == nil && time.Now().Before(deadline) {
					pid, err := syscall.ForkExec(t.path, argv, attr)
					if err != nil {
						return errors.Join(fmt.Errorf("measuring the spawn ceiling: %w", err), reap())
					}
					if err := reap(); err != nil {
						pending = pid
						reap()
						return err
					}
					pending = pid
				}
				return reap()
			})
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, e := range errs {
		if e != nil {
			return 0, 0, e
		}
	}
	spawns = int(n.Load())
	if spawns == 0 {
		return 0, 0, nil
	}
	return float64(spawns) / elapsed.Seconds(), spawns, nil
}
