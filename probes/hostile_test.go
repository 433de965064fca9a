package probes

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/limits"
	"github.com/vbench-dev/vbench/runfile"
)

// Samples kept although throttled or suspended flag the cell, with the
// count and the cause.
func TestHostileNoise(t *testing.T) {
	c := &runfile.Cell{Samples: make([]float64, 10), SampleCounts: make([]runfile.SampleCounts, 10)}
	for i := range 3 {
		c.SampleCounts[i].Throttled = 2
	}
	c.SampleCounts[7].Suspended = true
	n := &runfile.Noise{}
	hostileNoise(c, n, "CPU quota 20000/100000 us (20% of a CPU) in /x")
	if !n.Noisy || n.Throttled != 3 || n.Suspended != 1 {
		t.Errorf("noise %+v", n)
	}
	got := strings.Join(n.Reasons, "; ")
	for _, want := range []string{"throttled: 3 of 10 samples (CPU quota 20000/100000 us", "suspended: 1 of 10 samples"} {
		if !strings.Contains(got, want) {
			t.Errorf("reasons %q lack %q", got, want)
		}
	}
	quiet := &runfile.Noise{}
	hostileNoise(&runfile.Cell{Samples: make([]float64, 3), SampleCounts: make([]runfile.SampleCounts, 3)}, quiet, "q")
	if quiet.Noisy || len(quiet.Reasons) > 0 {
		t.Errorf("a quiet cell flagged: %+v", quiet)
	}
}

func spin(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
}

// A process stopped and continued while a sample runs is seen.
func TestWatchSeesStop(t *testing.T) {
	w := newSampleWatch()
	defer w.close()
	m := w.begin()
	stopper := exec.Command("/bin/sh", "-c", fmt.Sprintf("sleep 0.05; kill -STOP %d; sleep 0.1; kill -CONT %d", os.Getpid(), os.Getpid()))
	if err := stopper.Start(); err != nil {
		t.Skipf("no shell to send the signals: %v", err)
	}
	spin(300 * time.Millisecond)
	stopper.Wait()
	spin(20 * time.Millisecond) // the SIGCONT notification arrives
	if _, suspended := w.end(m, 0, 0); !suspended {
		t.Error("a SIGSTOP and SIGCONT during the sample were not seen")
	}
	// A sample with no stop: any wall time beyond CPU time is preemption
	// (a loaded machine), counted, and not a stop.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// On a loaded machine a wait that is not counted as a preemption (a
	// fault served from disk) can look like a stop: one quiet sample in
	// three must read as one.
	quiet := 0
	for range 3 {
		var r0, r1 unix.Rusage
		unix.Getrusage(unix.RUSAGE_THREAD, &r0)
		m = w.begin()
		spin(30 * time.Millisecond)
		unix.Getrusage(unix.RUSAGE_THREAD, &r1)
		if _, suspended := w.end(m, r1.Nivcsw-r0.Nivcsw, 0); !suspended {
			quiet++
		}
	}
	if quiet == 0 {
		t.Error("three quiet samples all seen as suspended")
	}
}

// In a cgroup with a CPU quota of 10%, a busy loop is throttled and the
// watch sees it (as root, where a cgroup can be made; the process goes
// back to its own cgroup afterwards).
func TestWatchSeesThrottling(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a cpu cgroup needs root")
	}
	cg, err := limits.Live.CgroupOf("cpu")
	if err != nil {
		t.Skipf("no cpu cgroup controller: %v", err)
	}
	dir := filepath.Join(cg.Top, fmt.Sprintf("vbench-test-cpu-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup: %v", err)
	}
	defer os.Remove(dir)
	set := func(file, v string) error { return os.WriteFile(filepath.Join(dir, file), []byte(v), 0o644) }
	if cg.V2 {
		err = set("cpu.max", "10000 100000")
	} else {
		err = set("cpu.cfs_period_us", "100000")
		if err == nil {
			err = set("cpu.cfs_quota_us", "10000")
		}
	}
	if err != nil {
		t.Skipf("cannot set the quota: %v", err)
	}
	pid := []byte(fmt.Sprint(os.Getpid()))
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), pid, 0o644); err != nil {
		t.Skipf("cannot enter the cgroup: %v", err)
	}
	defer os.WriteFile(filepath.Join(cg.Dir, "cgroup.procs"), pid, 0o644)
	w := newSampleWatch()
	defer w.close()
	if !w.cpu.Active() || !w.cpu.Quota.Limited {
		t.Fatalf("the watch does not see the cgroup's quota: %+v", w.cpu)
	}
	m := w.begin()
	spin(400 * time.Millisecond)
	throttled, _ := w.end(m, 0, 0)
	if throttled == 0 {
		t.Errorf("400 ms of busy loop under a 10%% quota: not seen throttled (%s)", w.quotaWords())
	}
	t.Logf("%d periods throttled; %s", throttled, w.quotaWords())
}
