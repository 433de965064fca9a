package probes

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/runfile"
)

// near reports whether two readings of the same clock, taken one after the
// other, are within a second of each other.
func near(a, b unix.Timespec) bool {
	d := time.Duration(a.Nano() - b.Nano())
	return d > -time.Second && d < time.Second
}

func TestLoopSyscallClockGettime(t *testing.T) {
	loopBuf.TS = unix.Timespec{}
	r := loopSyscall(unix.SYS_CLOCK_GETTIME, 3, unix.CLOCK_MONOTONIC, addr(&loopBuf.TS), 0, 0, 0)
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
	r := loopSyscall(unix.SYS_CLOCK_GETTIME, 1, ^uintptr(0), addr(&loopBuf.TS), 0, 0, 0) // clock -1
	if e := unix.Errno(-int64(r)); e != unix.EINVAL {
		t.Errorf("clock_gettime(-1) via syscall gave %d, want -EINVAL", int64(r))
	}
}

func TestLoopSyscallTime(t *testing.T) {
	if sysTime == noTrap {
		t.Skip(timeCall().NoSyscall[runtime.GOARCH])
	}
	r := loopSyscall(sysTime, 2, 0, 0, 0, 0, 0)
	now := time.Now().Unix()
	if d := now - int64(r); d < 0 || d > 2 {
		t.Errorf("time via syscall = %d, Go says %d", int64(r), now)
	}
}

func TestLoopSyscallGetcpu(t *testing.T) {
	loopBuf.CPU, loopBuf.Node = ^uint32(0), ^uint32(0)
	r := loopSyscall(unix.SYS_GETCPU, 1, addr(&loopBuf.CPU), addr(&loopBuf.Node), 0, 0, 0)
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

func TestLoopFloorsAndCounter(t *testing.T) {
	loopEmpty(1000)
	loopEmpty(0)
	a := counterNow()
	b := loopCounter(1000)
	c := counterNow()
	if !(a <= b && b <= c) {
		t.Errorf("%s not monotonic on one thread: %d %d %d", CounterName, a, b, c)
	}
	if floorUnavailable(opCounter2, &Doors{RDTSCP: cpuHasRDTSCP()}) == "" {
		if x := loopCounter2(10); x == 0 {
			t.Errorf("second counter loop returned 0")
		}
	}
	if loopCounter(0) != 0 || loopCounter2(0) != 0 {
		t.Error("a loop of no reads returned a count")
	}
}

func TestLoopLatencyOverhead(t *testing.T) {
	out := (loopOp{kind: opEmpty}).latency(2000, 1024, cpuHasRDTSCP())
	if len(out) != 2000 {
		t.Fatalf("got %d values", len(out))
	}
	for i, v := range out {
		if v == 0 || v > 1<<40 {
			t.Fatalf("overhead sample %d = %d ticks", i, v)
		}
	}
	sys := (loopOp{kind: opSyscall, addr: unix.SYS_GETCPU, args: [maxArgs]uintptr{addr(&loopBuf.CPU), addr(&loopBuf.Node)}}).latency(100, 7, cpuHasRDTSCP())
	for i, v := range sys {
		if v == 0 || v > 1<<40 {
			t.Fatalf("syscall sample %d = %d ticks", i, v)
		}
	}
}

// pinned runs f on a locked thread pinned to the CPU it is on.
func pinned(t *testing.T, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_, restore, err := Pin(-1)
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	f()
}

func TestLoopCallVDSO(t *testing.T) {
	d := Discover()
	if d.VDSO == nil {
		t.Skipf("no vDSO: %v", d.VDSOErr)
	}
	defer guardSignals()() // as Bench does around vDSO loops (signals_arm64.go)
	// time and getcpu only where this architecture's vDSO has them.
	_, noTime := timeCall().NoVDSO[runtime.GOARCH]
	gcRow, _ := CallOf(runfile.FuncGetcpu)
	_, noGetcpu := gcRow.NoVDSO[runtime.GOARCH]
	cg, ok1 := d.VDSOFunc(vdso.Prefix + "clock_gettime")
	tm, ok2 := d.VDSOFunc(vdso.Prefix + "time")
	gc, ok3 := d.VDSOFunc(vdso.Prefix + "getcpu")
	if !ok1 || ok2 == noTime || ok3 == noGetcpu {
		t.Fatalf("vDSO has clock_gettime/time/getcpu: %v %v %v; the architecture lacks time %v getcpu %v", ok1, ok2, ok3, noTime, noGetcpu)
	}
	loopBuf.TS = unix.Timespec{}
	if r := loopCall(cg, 1000, unix.CLOCK_MONOTONIC, addr(&loopBuf.TS), 0, 0, 0); r != 0 {
		t.Fatalf("vDSO clock_gettime returned %d", int64(r))
	}
	var want unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &want)
	if !near(loopBuf.TS, want) {
		t.Errorf("vDSO loop left %v, Go read %v", loopBuf.TS, want)
	}
	if r := loopCall(cg, 1, ^uintptr(0), addr(&loopBuf.TS), 0, 0, 0); unix.Errno(-int64(r)) != unix.EINVAL {
		t.Errorf("vDSO clock_gettime(-1) returned %d, want -EINVAL", int64(r))
	}
	// The three-argument loop gives the same answers.
	loopBuf.TS = unix.Timespec{}
	if r := loopCall3(cg, 1000, unix.CLOCK_MONOTONIC, addr(&loopBuf.TS)); r != 0 {
		t.Fatalf("vDSO clock_gettime through loopCall3 returned %d", int64(r))
	}
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &want)
	if !near(loopBuf.TS, want) {
		t.Errorf("loopCall3 left %v, Go read %v", loopBuf.TS, want)
	}
	if r := loopCall3(cg, 1, ^uintptr(0), addr(&loopBuf.TS)); unix.Errno(-int64(r)) != unix.EINVAL {
		t.Errorf("loopCall3: vDSO clock_gettime(-1) returned %d, want -EINVAL", int64(r))
	}
	if r := loopCall3(cg, 0, unix.CLOCK_MONOTONIC, addr(&loopBuf.TS)); r != 0 {
		t.Errorf("loopCall3 with n=0 returned %d", r)
	}
	if !noTime {
		r := loopCall(tm, 1000, 0, 0, 0, 0, 0)
		if now := time.Now().Unix(); now-int64(r) < 0 || now-int64(r) > 2 {
			t.Errorf("vDSO time = %d, Go says %d", int64(r), now)
		}
	}
	pinned(t, func() {
		if noGetcpu {
			return
		}
		loopSyscall(unix.SYS_GETCPU, 1, addr(&loopBuf.CPU), addr(&loopBuf.Node), 0, 0, 0)
		sysCPU := loopBuf.CPU
		loopBuf.CPU = ^uint32(0)
		if r := loopCall(gc, 100, addr(&loopBuf.CPU), addr(&loopBuf.Node), 0, 0, 0); r != 0 || loopBuf.CPU != sysCPU {
			t.Errorf("vDSO getcpu: returned %d, cpu %d; syscall said %d", int64(r), loopBuf.CPU, sysCPU)
		}
	})
	// The per-call mode through the same door gives positive tick counts.
	for i, v := range (loopOp{kind: opCall, addr: cg, args: [maxArgs]uintptr{unix.CLOCK_MONOTONIC, addr(&loopBuf.TS)}}).latency(300, 100, hasRDTSCP(d)) {
		if v == 0 || v > 1<<40 {
			t.Fatalf("latency sample %d = %d ticks", i, v)
		}
	}
}

func TestLoopCallVsyscall(t *testing.T) {
	d := Discover()
	if !d.VsyscallCallable {
		t.Skipf("vsyscall not callable here: %s", d.vsyscallReason())
	}
	loopBuf.TV = unix.Timeval{}
	if r := loopCall(vsyscall.Gettimeofday, 3, addr(&loopBuf.TV), 0, 0, 0, 0); r != 0 {
		t.Fatalf("vsyscall gettimeofday returned %d", int64(r))
	}
	now := time.Now()
	if d := now.Unix() - loopBuf.TV.Sec; d < 0 || d > 2 {
		t.Errorf("vsyscall gettimeofday left %v, Go says %v", loopBuf.TV, now)
	}
	r := loopCall(vsyscall.Time, 3, 0, 0, 0, 0, 0)
	if d := time.Now().Unix() - int64(r); d < 0 || d > 2 {
		t.Errorf("vsyscall time = %d", int64(r))
	}
	pinned(t, func() {
		loopSyscall(unix.SYS_GETCPU, 1, addr(&loopBuf.CPU), addr(&loopBuf.Node), 0, 0, 0)
		sysCPU := loopBuf.CPU
		loopBuf.CPU = ^uint32(0)
		if r := loopCall(vsyscall.Getcpu, 3, addr(&loopBuf.CPU), addr(&loopBuf.Node), 0, 0, 0); r != 0 || loopBuf.CPU != sysCPU {
			t.Errorf("vsyscall getcpu: returned %d, cpu %d; syscall said %d", int64(r), loopBuf.CPU, sysCPU)
		}
	})
}

// timeCall is time's row.
func timeCall() Call {
	c, _ := CallOf(runfile.FuncTime)
	return c
}
