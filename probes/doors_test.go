package probes

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/proc"
	"github.com/vbench-dev/vbench/runfile"
)

// TestMain lets the children of Discover and Bench (this test binary
// started again) do their job and exit.
func TestMain(m *testing.M) {
	if code, child := RunChildWith(nil); child {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

var discovered *Doors

func doors(t *testing.T) *Doors {
	t.Helper()
	if discovered == nil {
		discovered = Discover()
	}
	return discovered
}

func TestDiscover(t *testing.T) {
	d := doors(t)
	if errors.Is(d.VDSOErr, vdso.ErrNoVDSO) {
		t.Skip("no vDSO in this process")
	}
	if d.VDSOErr != nil {
		t.Fatal(d.VDSOErr)
	}
	if _, ok := d.VDSOFunc(vdso.Prefix + "clock_gettime"); !ok {
		t.Error("Discover did not find __vdso_clock_gettime")
	}
	mode, _, err := vsyscall.CurrentMode()
	if err != nil {
		t.Fatal(err)
	}
	if d.VsyscallErr != nil {
		t.Fatal(d.VsyscallErr)
	}
	if d.Vsyscall.Mode != mode || d.VsyscallCallable != mode.Callable() {
		t.Errorf("vsyscall %+v callable %v; maps say %s", d.Vsyscall, d.VsyscallCallable, mode)
	}
	if ci, err := proc.ReadCPUInfo(); err == nil && ci.HasFlag("rdtscp") != d.RDTSCP {
		t.Errorf("CPUID says rdtscp %v, /proc/cpuinfo says %v", d.RDTSCP, ci.HasFlag("rdtscp"))
	}
}

// available lists the paths fn can be called through here.
func available(t *testing.T, d *Doors, fn runfile.Function) []runfile.Path {
	var ps []runfile.Path
	for _, p := range runfile.Paths {
		_, err := d.Target(fn, p)
		switch {
		case err == nil:
			ps = append(ps, p)
		case !errors.Is(err, ErrUnavailable):
			t.Fatalf("%s via %s: %v", fn, p, err)
		}
	}
	return ps
}

func TestPathsAgree(t *testing.T) {
	d := doors(t)
	ref := time.Now()
	for _, p := range available(t, d, runfile.FuncGettimeofday) {
		tv, _, err := d.Gettimeofday(p)
		if err != nil {
			t.Errorf("gettimeofday via %s: %v", p, err)
			continue
		}
		if got := time.Unix(tv.Unix()); got.Sub(ref).Abs() > 5*time.Second || tv.Usec < 0 || tv.Usec >= 1e6 {
			t.Errorf("gettimeofday via %s: %v, time.Now %v", p, got, ref)
		}
	}
	for _, p := range available(t, d, runfile.FuncTime) {
		r, stored, err := d.TimeStore(p)
		if err != nil || r != stored || (r-ref.Unix() > 5 || ref.Unix()-r > 5) {
			t.Errorf("time via %s: %d, stored %d, err %v; time.Now %d", p, r, stored, err, ref.Unix())
		}
	}
	for _, c := range Clocks {
		// The ALARM clocks give EINVAL when no RTC can wake the machine
		// (kernel/time/alarmtimer.c): every path must then say so.
		_, sysErr := d.ClockGettime(runfile.PathSyscall, c.ID)
		for _, p := range available(t, d, runfile.FuncClockGettime) {
			ts, err := d.ClockGettime(p, c.ID)
			switch {
			case !errors.Is(err, sysErr) && err != sysErr:
				t.Errorf("clock_gettime(%s) via %s: %v, the syscall: %v", c.Name, p, err, sysErr)
			case err == nil && (ts.Nsec < 0 || ts.Nsec >= 1e9):
				t.Errorf("clock_gettime(%s) via %s: %+v not normalized", c.Name, p, ts)
			}
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, p := range available(t, d, runfile.FuncGetcpu) {
		cpu, _, err := d.Getcpu(p)
		if err != nil || int(cpu) >= runtime.NumCPU()*64 {
			t.Errorf("getcpu via %s: cpu %d, %v", p, cpu, err)
		}
	}
}

func TestInvalidClockEINVAL(t *testing.T) {
	d := doors(t)
	for _, id := range []int32{-1, -1 << 31, 1<<31 - 1, 12} {
		for _, p := range available(t, d, runfile.FuncClockGettime) {
			if _, err := d.ClockGettime(p, id); !errors.Is(err, unix.EINVAL) {
				t.Errorf("clock_gettime(%d) via %s: %v, want EINVAL", id, p, err)
			}
			if _, err := d.ClockGetres(p, id); !errors.Is(err, unix.EINVAL) {
				t.Errorf("clock_getres(%d) via %s: %v, want EINVAL", id, p, err)
			}
		}
	}
}

func TestUnavailableNeverCalls(t *testing.T) {
	none := &Doors{
		VDSOErr:  vdso.ErrNoVDSO,
		Vsyscall: vsyscall.Observed{Mode: vsyscall.None, ReadProbe: "SIGSEGV", CallProbe: "SIGSEGV"},
	}
	for _, tc := range []struct {
		call func() error
		want string
	}{
		{func() error { _, _, err := none.Gettimeofday(runfile.PathVsyscall); return err }, "vsyscall=none"},
		{func() error { _, err := none.Time(runfile.PathVsyscall); return err }, "vsyscall=none"},
		{func() error { _, _, err := none.Getcpu(runfile.PathVDSO); return err }, "no vDSO"},
		{func() error { _, err := none.ClockGettime(runfile.PathVsyscall, 1); return err }, "no clock_gettime entry"},
		{func() error { _, err := doors(t).ClockGetres(runfile.PathVsyscall, 1); return err }, "no clock_getres entry"},
	} {
		err := tc.call()
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want ErrUnavailable saying %q", err, tc.want)
		}
	}
	// A vDSO without the symbol: the reason names it.
	d := doors(t)
	if d.VDSO != nil {
		if _, err := d.Target(runfile.Function("nanosleep"), runfile.PathVDSO); err == nil {
			t.Error("Target accepted an unknown function")
		}
	}
	if _, err := runfile.ParsePath("vdos"); err == nil || !strings.Contains(err.Error(), "valid: syscall, vdso, vsyscall, rseq)") {
		t.Errorf("ParsePath: %v", err)
	}
	if _, err := ClockByName("MONOTONIC_FAST"); err == nil || !strings.Contains(err.Error(), "BOOTTIME") {
		t.Errorf("ClockByName: %v", err)
	}
	if c, err := ClockByName("clock_monotonic"); err != nil || c.ID != unix.CLOCK_MONOTONIC {
		t.Errorf("ClockByName(clock_monotonic) = %+v, %v", c, err)
	}
}

// TestCallFromFreshGoroutines: callC's 16 KiB frame makes a new goroutine's
// small stack grow (and move) in its prologue; results written through the
// pointers handed over must still arrive.
func TestCallFromFreshGoroutines(t *testing.T) {
	d := doors(t)
	if _, err := d.Target(runfile.FuncClockGettime, runfile.PathVDSO); err != nil {
		t.Skip(err)
	}
	ref := time.Now()
	errs := make(chan error, 32)
	for i := 0; i < cap(errs); i++ {
		go func() {
			ts, err := d.ClockGettime(runfile.PathVDSO, unix.CLOCK_REALTIME)
			if err == nil && time.Unix(ts.Unix()).Sub(ref).Abs() > 5*time.Second {
				err = errors.New("wrong time " + time.Unix(ts.Unix()).String())
			}
			errs <- err
		}()
	}
	for i := 0; i < cap(errs); i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
