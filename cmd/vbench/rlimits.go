package main

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/limits"
)

// Resource limits, checked before a command starts threads and processes:
// RLIMIT_NPROC (ulimit -u) counts every task (thread) of the user, the Go
// runtime's own threads among them, and a fork or thread creation beyond
// it fails with EAGAIN; in the Go runtime, that is a fatal error and a
// trace ("failed to create new OS thread"), which no program can catch.
// RLIMIT_NOFILE (ulimit -n) bounds the pipes and descriptors each
// spawning worker holds.

// tasksFor is how many tasks (threads and children) a run with workers
// spawning workers holds at its peak: measured here with GOMAXPROCS=1
// (polling /proc/PID/status Threads and the children), 9 with one spawn
// worker and 12 with two, 8 and 11 with exec chains: the runtime's own
// (one per P, sysmon, the template thread, threads blocked in system
// calls), then per worker its locked thread, its child and a thread
// blocked in wait4 or read.
func tasksFor(workers int) int { return runtime.GOMAXPROCS(0) + 5 + 3*workers }

// threadsFor is how many tasks a run of workers adds to the own this
// process already has.
func threadsFor(workers, own int) int { return max(tasksFor(workers)-own, 0) }

// Descriptors a run holds: a fixed part (standard streams, the netpoller's
// epoll and eventfd, the target's memfd, a /proc file being read, the
// ceiling's pipe) and a part per worker (pipe ends of the spawn in flight
// and of the next; the chain keeps one pipe). Measured here by bisecting
// ulimit -n: spawn needs 16 with 1 worker and 24 with 3; the chain 16
// and 20.
func fdsFor(method string, workers int) int {
	if method == aslr.MethodChain {
		return 14 + 2*workers
	}
	return 12 + 4*workers
}

// nprocRoom is how many more tasks this user may start (ok false: no
// limit binds).
func nprocRoom() (room, own int, limit uint64, ok bool) {
	r := limits.ReadRlimits().NPROC
	if r.Unlimited || limits.Live.Privileged() {
		return 0, 0, 0, false
	}
	used, err := limits.Live.UserTasks(os.Getuid())
	if err != nil {
		return 0, 0, 0, false
	}
	if st, err := limits.Live.Status(); err == nil {
		own = st.Threads
	}
	return int(r.Cur) - used, own, r.Cur, true
}

// checkNPROC refuses, in one line, a command that needs threads and
// processes when RLIMIT_NPROC leaves too few for even one worker, after
// asking the runtime for fewer threads (GOMAXPROCS 1) if that is enough.
func checkNPROC(cmd string) error {
	room, own, limit, ok := nprocRoom()
	if !ok {
		return nil
	}
	if need := threadsFor(1, own); room < need && runtime.GOMAXPROCS(0) > 1 {
		runtime.GOMAXPROCS(1)
	}
	if need := threadsFor(1, own); room < need {
		return usageErrorf("%s: RLIMIT_NPROC (ulimit -u) is %d and uid %d runs %d tasks already: vbench needs %d more (the Go runtime's threads, a spawning worker's thread and child): raise ulimit -u to at least %d",
			cmd, limit, os.Getuid(), int(limit)-room, need, int(limit)-room+need)
	}
	return nil
}

// sizeWorkers lowers cfg.Workers (0: the sampler's default) to what
// RLIMIT_NPROC and RLIMIT_NOFILE allow, saying so, or refuses when not
// even one worker fits.
func sizeWorkers(cmd string, cfg *aslr.Config) (note string, err error) {
	method := sampleMethod(cfg)
	want := cfg.Workers
	if want == 0 {
		want = aslr.DefaultWorkers()
		if method == aslr.MethodChain {
			want = aslr.DefaultChainWorkers()
		}
	}
	fit := want
	var why []string
	var ceilingNote string
	if room, own, limit, ok := nprocRoom(); ok {
		w := want
		for w > 0 && threadsFor(w, own) > room {
			w--
		}
		if w == 0 {
			return "", usageErrorf("%s: RLIMIT_NPROC (ulimit -u) is %d and uid %d runs %d tasks already: not even one spawning worker fits (it needs %d more tasks)",
				cmd, limit, os.Getuid(), int(limit)-room, threadsFor(1, own))
		}
		if w < fit {
			fit = w
			why = append(why, fmt.Sprintf("RLIMIT_NPROC %d leaves %d tasks", limit, room))
		}
		// The ceiling's stub forks children of its own (aslr/ceiling.go):
		// a few spare tasks or no ceiling (measured: ulimit -u 10 and 12
		// failed in the ceiling, not in sampling).
		if room-threadsFor(w, own) < ceilingSpareTasks && cfg.Ceiling > 0 && cfg.Target == "" {
			cfg.Ceiling = 0
			ceilingNote = fmt.Sprintf("spawn ceiling not measured: its stub forks children of its own, more than the %d tasks RLIMIT_NPROC %d leaves", room, limit)
		}
	}
	if r := limits.ReadRlimits().NOFILE; !r.Unlimited {
		open, err := limits.Live.OpenFiles()
		if err != nil {
			open = 3
		}
		// Descriptors beyond the ones a run starts with (measured with
		// the fixed part of fdsFor: 9 open when the check runs).
		extra := max(open-9, 0)
		w := want
		for w > 0 && uint64(fdsFor(method, w)+extra) > r.Cur {
			w--
		}
		if w == 0 {
			return "", usageErrorf("%s: RLIMIT_NOFILE (ulimit -n) is %d: a run needs %d descriptors with one worker: raise ulimit -n to at least %d",
				cmd, r.Cur, fdsFor(method, 1)+extra, fdsFor(method, 1)+extra)
		}
		if w < fit {
			fit = w
			why = append(why, fmt.Sprintf("RLIMIT_NOFILE %d leaves room for the descriptors of %d", r.Cur, w))
		}
	}
	var notes []string
	if fit < want {
		cfg.Workers = fit
		notes = append(notes, fmt.Sprintf("%d workers instead of %d: %s", fit, want, strings.Join(why, "; ")))
	}
	if ceilingNote != "" {
		notes = append(notes, ceilingNote)
	}
	return strings.Join(notes, "; "), nil
}

// ceilingSpareTasks: tasks the spawn ceiling needs beyond sampling's.
const ceilingSpareTasks = 6
