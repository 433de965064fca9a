// Command clockstep runs a command again and again while it steps
// CLOCK_REALTIME back and forward by a second every 50 ms, and counts the
// runs that failed: the hostile condition of `vbench verify` under `date -s`
// in a loop, reproduced without a shell loop. It needs CAP_SYS_TIME (root).
//
//	go run ./scripts/clockstep --runs 300 -- vbench verify
//
// It sets the real clock of the whole machine (a time namespace does not
// virtualize CLOCK_REALTIME), so it runs for at most --max (2 minutes by
// default) and then puts the clock back where it would have been without
// the steps: it records REALTIME - MONOTONIC at the start and sets
// REALTIME to MONOTONIC plus that offset at the end (also on Ctrl-C or
// SIGTERM). The steps are made in pairs, -1 s then +1 s, so the clock is
// at most a second off at any moment.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func now(id int32) int64 {
	var ts unix.Timespec
	unix.ClockGettime(id, &ts)
	return ts.Nano()
}

func main() {
	runs := flag.Int("runs", 300, "how many times to run the command")
	every := flag.Duration("every", 50*time.Millisecond, "time between steps")
	step := flag.Duration("step", time.Second, "size of each step")
	maxDur := flag.Duration("max", 2*time.Minute, "stop stepping (and running) after this long")
	grep := flag.String("fail-word", "FAIL", "a run whose output holds this word is counted as failed, with its lines")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: clockstep [--runs N] -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	offset := now(unix.CLOCK_REALTIME) - now(unix.CLOCK_MONOTONIC)
	restore := func() {
		ts := unix.NsecToTimespec(now(unix.CLOCK_MONOTONIC) + offset)
		if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
			fmt.Fprintf(os.Stderr, "clockstep: restoring the clock: %v\n", err)
		}
	}
	// One set to see that we may, before anything else.
	restore()
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_REALTIME, &ts)
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
		fmt.Fprintf(os.Stderr, "clockstep: clock_settime: %v (needs CAP_SYS_TIME)\n", err)
		os.Exit(2)
	}

	var mu sync.Mutex // held while the clock is off by a step
	stop := make(chan struct{})
	done := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	steps := 0
	go func() {
		defer close(done)
		t := time.NewTicker(*every)
		defer t.Stop()
		back := true
		for {
			select {
			case <-stop:
				return
			case <-sig:
				mu.Lock()
				restore()
				os.Exit(130)
			case <-t.C:
			}
			mu.Lock()
			d := step.Nanoseconds()
			if back {
				d = -d
			}
			ts := unix.NsecToTimespec(now(unix.CLOCK_REALTIME) + d)
			unix.ClockSettime(unix.CLOCK_REALTIME, &ts)
			steps++
			back = !back
			mu.Unlock()
		}
	}()

	start := time.Now() // monotonic reading: unaffected by the steps
	failed, ran := 0, 0
	codes := map[int]int{}
	for ran < *runs && time.Since(start) < *maxDur {
		cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		ran++
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			fmt.Fprintf(os.Stderr, "clockstep: %v\n", err)
			code = -1
		}
		codes[code]++
		if code != 0 || strings.Contains(out.String(), *grep) {
			failed++
			for _, l := range strings.Split(out.String(), "\n") {
				if strings.Contains(l, *grep) || strings.Contains(l, "error") {
					fmt.Printf("run %d: %s\n", ran, strings.Join(strings.Fields(l), " "))
				}
			}
		}
	}
	close(stop)
	<-done
	mu.Lock()
	restore()
	mu.Unlock()
	fmt.Printf("%d runs in %.1fs with %d clock steps of %s every %s: %d failed (%s); exit codes %v; clock restored (REALTIME - MONOTONIC as at the start)\n",
		ran, time.Since(start).Seconds(), steps, *step, *every, failed, *grep, codes)
}
