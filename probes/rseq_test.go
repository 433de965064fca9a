package probes

import (
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
	"golang.org/x/sys/unix"
)

// Pinned to each allowed CPU in turn, rseq's cpu_id names the CPU the
// syscall names, and its node_id the syscall's node where the kernel fills
// it.
func TestRseqAgreesWithSyscall(t *testing.T) {
	d := doors(t)
	if d.RseqErr != nil {
		t.Skipf("rseq unavailable here: %v", d.RseqErr)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		t.Fatal(err)
	}
	defer unix.SchedSetaffinity(0, &old)
	d, release := WithRseq(d)
	defer release()
	if d.RseqErr != nil {
		t.Fatalf("the probe could register, this thread could not: %v", d.RseqErr)
	}
	seen := 0
	for c := 0; c < len(old)*64; c++ {
		if !old.IsSet(c) {
			continue
		}
		var set unix.CPUSet
		set.Set(c)
		if unix.SchedSetaffinity(0, &set) != nil {
			continue
		}
		sc, sn, err := d.Getcpu(runfile.PathSyscall)
		if err != nil {
			t.Fatal(err)
		}
		rc, rn, err := d.Getcpu(runfile.PathRseq)
		if err != nil {
			t.Fatal(err)
		}
		if int(sc) != c || rc != sc {
			t.Errorf("pinned to %d: syscall says %d, rseq %d", c, sc, rc)
		}
		if d.RseqNode && rn != sn {
			t.Errorf("pinned to %d: syscall node %d, rseq node_id %d", c, sn, rn)
		}
		seen++
	}
	if seen == 0 {
		t.Fatal("no CPU could be pinned to")
	}
}

// A second registration on the same thread is allowed by RegisterRseq (a
// no-op), while the kernel itself refuses another area with EINVAL (the
// same area again would be EBUSY), which is explained as someone else's
// registration.
func TestRseqBusy(t *testing.T) {
	if doors(t).RseqErr != nil {
		t.Skip("rseq unavailable here")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	release, err := RegisterRseq()
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	again, err := RegisterRseq()
	if err != nil {
		t.Fatalf("second RegisterRseq on one thread: %v", err)
	}
	again()
	if rseqHere() == nil {
		t.Fatal("the inner release dropped the outer registration")
	}
	// Another area on the same thread: EINVAL (kernel/rseq.c,
	// rseq_reregister); the same one again: EBUSY.
	var other struct {
		_    [0]uint64
		area [2]rseqArea
	}
	a := &other.area[0]
	if uintptr(addr(a))%32 != 0 {
		a = &other.area[1]
	}
	_, _, e := unix.RawSyscall6(unix.SYS_RSEQ, addr(a), rseqLen, 0, rseqSig, 0, 0)
	if e != unix.EINVAL {
		t.Fatalf("registering a second area: %v, want EINVAL", e)
	}
	_, _, e = unix.RawSyscall6(unix.SYS_RSEQ, addr(rseqHere()), rseqLen, 0, rseqSig, 0, 0)
	if e != unix.EBUSY {
		t.Fatalf("registering the same area again: %v, want EBUSY", e)
	}
	if err := rseqError(unix.EINVAL); !errors.Is(err, ErrRseqBusy) || !strings.Contains(err.Error(), "glibc") {
		t.Errorf("rseqError(EINVAL) = %v", err)
	}
}

// Without a registration on the calling thread the rseq path is
// unavailable, and nothing is read.
func TestRseqUnregisteredThread(t *testing.T) {
	d := &Doors{}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, _, err := d.Getcpu(runfile.PathRseq); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no rseq area") {
		t.Errorf("Getcpu(rseq) without a registration: %v", err)
	}
	d.RseqErr = rseqError(unix.ENOSYS)
	if _, err := d.Target(runfile.FuncGetcpu, runfile.PathRseq); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "ENOSYS") {
		t.Errorf("Target(rseq) on a kernel without rseq: %v", err)
	}
	if _, err := d.Target(runfile.FuncClockGettime, runfile.PathRseq); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Target(clock_gettime, rseq): %v", err)
	}
}
