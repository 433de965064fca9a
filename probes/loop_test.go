package probes

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// near reports whether two readings of the same clock, taken one after the
// other, are within a second of each other.
func near(a, b unix.Timespec) bool {
	d := time.Duration(a.Nano() - b.Nano())
	return d > -time.Second && d < time.Second
}

func TestLoopSyscallClockGettime(t *testing.T) {
	loopBuf.TS = unix.Timespec{}
	r := loopSyscall(unix.SYS_CLOCK_GETTIME, 3, unix.CLOCK_MONOTONIC, loopBufTS())
	if r != 0 {
		t.Fatalf("clock_gettime via syscall returned %d", int64(r))
	}
	var want unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &want); err != nil {
		t.Fatal(err)
	}
	if !near(loopBuf.TS, want) {
		t.Errorf("loop left %v, Go read %v", loopBuf.TS, want)
	}
}

func TestLoopSyscallErrno(t *testing.T) {
	r := loopSyscall(unix.SYS_CLOCK_GETTIME, 1, ^uintptr(0), loopBufTS()) // clock -1
	if e := unix.Errno(-int64(r)); e != unix.EINVAL {
		t.Errorf("clock_gettime(-1) via syscall gave %d, want -EINVAL", int64(r))
	}
}

func TestLoopSyscallTime(t *testing.T) {
	r := loopSyscall(unix.SYS_TIME, 2, 0, 0)
	now := time.Now().Unix()
	if d := now - int64(r); d < 0 || d > 2 {
		t.Errorf("time via syscall = %d, Go says %d", int64(r), now)
	}
}

func TestLoopSyscallGetcpu(t *testing.T) {
	loopBuf.CPU, loopBuf.Node = ^uint32(0), ^uint32(0)
	r := loopSyscall(unix.SYS_GETCPU, 1, loopBufCPU(), loopBufNode())
	if r != 0 {
		t.Fatalf("getcpu returned %d", int64(r))
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	if !set.IsSet(int(loopBuf.CPU)) {
		t.Errorf("getcpu says CPU %d, not in this thread's affinity set", loopBuf.CPU)
	}
}

func TestLoopFloorsAndTSC(t *testing.T) {
	loopEmpty(1000)
	loopEmpty(0)
	a := loopTSC()
	b := loopRdtsc(1000)
	c := loopTSC()
	if !(a <= b && b <= c) {
		t.Errorf("TSC not monotonic on one thread: %d %d %d", a, b, c)
	}
	if loopHasRDTSCP() {
		if x := loopRdtscp(10); x == 0 {
			t.Errorf("rdtscp loop returned 0")
		}
	}
}

func TestLoopLatencyOverhead(t *testing.T) {
	out := (loopOp{kind: opEmpty}).latency(2000, loopHasRDTSCP())
	if len(out) != 2000 {
		t.Fatalf("got %d values", len(out))
	}
	for i, v := range out {
		if v == 0 || v > 1<<40 {
			t.Fatalf("overhead sample %d = %d ticks", i, v)
		}
	}
	sys := (loopOp{kind: opSyscall, addr: unix.SYS_GETCPU, a1: loopBufCPU(), a2: loopBufNode()}).latency(100, loopHasRDTSCP())
	for i, v := range sys {
		if v == 0 || v > 1<<40 {
			t.Fatalf("syscall sample %d = %d ticks", i, v)
		}
	}
}
