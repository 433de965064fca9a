package probes

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vbench-dev/vbench/runfile"
	"golang.org/x/sys/unix"
)

// The rseq door for getcpu. A thread that registers a struct rseq
// (include/uapi/linux/rseq.h) with the rseq system call has the kernel
// write its CPU number into the area's cpu_id field whenever it returns to
// user space after a migration or preemption (kernel/rseq.c,
// include/linux/rseq_entry.h), so reading the CPU becomes a load: glibc
// 2.35+ registers one area per thread and its sched_getcpu reads cpu_id.
// The Go runtime registers none (nothing in runtime/ calls SYS_RSEQ, as of
// Go 1.26), so vbench registers its own, with its own signature, on the
// locked OS thread that times or checks it, and unregisters it before the
// thread is unlocked. Where someone else registered an area on that thread
// first (glibc does, for the threads it starts in a cgo build), the kernel
// refuses vbench's (rseqError says which errno means that) and the path is
// unavailable, saying so.
//
// The area lives in a page of its own from mmap, outside the Go heap: the
// kernel writes to it asynchronously, so it must never move or be freed
// while it is registered.

// rseqArea is struct rseq as registered with the original size
// (ORIG_RSEQ_SIZE, 32 bytes, 32-byte aligned), which every kernel since
// 4.18 accepts. node_id and mm_cid are filled since Linux 6.3, which says
// so with AT_RSEQ_FEATURE_SIZE in the auxiliary vector.
type rseqArea struct {
	CPUIDStart uint32
	CPUID      uint32
	RseqCS     uint64
	Flags      uint32
	NodeID     uint32
	MMCID      uint32
	_          uint32
}

// rseqLen is the length registered: ORIG_RSEQ_SIZE.
const rseqLen = 32

// rseqSig is vbench's signature ("VBCH"): the kernel only compares it
// against the word before an abort handler, and vbench runs no critical
// sections, so it only has to match between register and unregister.
const rseqSig = 0x56424348

// rseqFlagUnregister is RSEQ_FLAG_UNREGISTER (include/uapi/linux/rseq.h).
const rseqFlagUnregister = 1

// atRseqFeatureSize is AT_RSEQ_FEATURE_SIZE (include/uapi/linux/auxvec.h,
// Linux 6.3+), which golang.org/x/sys/unix does not define.
const atRseqFeatureSize = 27

// rseqNodeIDEnd is the end of node_id in struct rseq: a feature size at
// least this large means the kernel fills node_id.
const rseqNodeIDEnd = 28

// rseqReg is one registration: the thread it is on and its area.
type rseqReg struct {
	tid  int
	page []byte
	area *rseqArea
}

// rseqRegs holds the live registrations, by thread id.
var rseqRegs struct {
	mu  sync.Mutex
	tid map[int]*rseqReg
}

// ErrRseqBusy is wrapped when the thread already has an rseq area
// registered by someone else.
var ErrRseqBusy = errors.New("another rseq area is registered on this thread")

// RegisterRseq registers an rseq area for the calling thread, which must be
// locked to its goroutine (runtime.LockOSThread) until release is called.
// Until then getcpu's rseq path (Target, Getcpu, the bench cells) reads that
// area on this thread. Registering twice on one thread is allowed: the
// second call returns a release that does nothing.
func RegisterRseq() (release func(), err error) {
	tid := unix.Gettid()
	rseqRegs.mu.Lock()
	defer rseqRegs.mu.Unlock()
	if rseqRegs.tid == nil {
		rseqRegs.tid = map[int]*rseqReg{}
	}
	if _, ok := rseqRegs.tid[tid]; ok {
		return func() {}, nil
	}
	page, err := unix.Mmap(-1, 0, unix.Getpagesize(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("mmap for the rseq area: %w", err)
	}
	area := (*rseqArea)(unsafe.Pointer(&page[0])) // page-aligned, so 32-byte aligned
	_, _, e := unix.RawSyscall6(unix.SYS_RSEQ, uintptr(unsafe.Pointer(area)), rseqLen, 0, rseqSig, 0, 0)
	if e != 0 {
		unix.Munmap(page)
		return nil, rseqError(e)
	}
	r := &rseqReg{tid: tid, page: page, area: area}
	rseqRegs.tid[tid] = r
	return func() {
		rseqRegs.mu.Lock()
		defer rseqRegs.mu.Unlock()
		if unix.Gettid() != r.tid {
			panic("probes: rseq released on another thread than it was registered on")
		}
		delete(rseqRegs.tid, r.tid)
		_, _, e := unix.RawSyscall6(unix.SYS_RSEQ, uintptr(unsafe.Pointer(r.area)), rseqLen, rseqFlagUnregister, rseqSig, 0, 0)
		if e == 0 {
			unix.Munmap(r.page)
		} // else the kernel may still write there: leave the page mapped
	}, nil
}

// rseqError explains a refused registration. A thread that already has an
// area registered elsewhere gets EINVAL, not EBUSY: kernel/rseq.c's
// rseq_reregister answers EBUSY only for the very same area and length
// (a repeated registration), EINVAL for any other, EPERM for the same area
// under another signature. The area vbench passes is 32-byte aligned and
// of the original size, which every kernel with rseq accepts, so EINVAL
// here means someone else's area.
func rseqError(e unix.Errno) error {
	switch e {
	case unix.EINVAL, unix.EBUSY:
		return fmt.Errorf("rseq: %s: %w (glibc registers one for every thread it starts, e.g. in a cgo build)", unix.ErrnoName(e), ErrRseqBusy)
	case unix.ENOSYS:
		return fmt.Errorf("rseq: ENOSYS: the kernel has no rseq (CONFIG_RSEQ off, or older than 4.18)")
	case unix.EPERM:
		return fmt.Errorf("rseq: EPERM: refused (a seccomp filter, or another signature on this area)")
	}
	return fmt.Errorf("rseq: %s", unix.ErrnoName(e))
}

// rseqHere is the area registered on the calling thread, if any.
func rseqHere() *rseqArea {
	rseqRegs.mu.Lock()
	defer rseqRegs.mu.Unlock()
	if r, ok := rseqRegs.tid[unix.Gettid()]; ok {
		return r.area
	}
	return nil
}

// probeRseq finds out whether a thread of this process can register an
// rseq area: it registers one on a fresh locked thread and releases it.
func probeRseq() error {
	errc := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		release, err := RegisterRseq()
		if err == nil {
			release()
		}
		errc <- err
	}()
	return <-errc
}

// rseqNodeFilled reports whether the kernel fills node_id: it says
// AT_RSEQ_FEATURE_SIZE of at least the end of node_id (Linux 6.3+).
func rseqNodeFilled() bool {
	return auxval(atRseqFeatureSize) >= rseqNodeIDEnd
}

// auxval is the auxiliary vector's value of tag, or 0.
func auxval(tag uint64) uint64 {
	av, err := unix.Auxv()
	if err != nil {
		return 0
	}
	for _, kv := range av {
		if uint64(kv[0]) == tag {
			return uint64(kv[1])
		}
	}
	return 0
}

// rseqCPU reads cpu_id and node_id from the area registered on the calling
// thread.
func rseqCPU(a *rseqArea) (cpu, node uint32) {
	return atomic.LoadUint32(&a.CPUID), atomic.LoadUint32(&a.NodeID)
}

// WithRseq registers an rseq area on the calling thread, which must be
// locked to its goroutine, when d says a thread can register one, and
// returns the doors to use there with what undoes the registration: d's
// copy whose RseqErr says why this thread could not, where it could not.
// Bench and verify call it after pinning.
func WithRseq(d *Doors) (*Doors, func()) {
	if d.RseqErr != nil {
		return d, func() {}
	}
	release, err := RegisterRseq()
	if err != nil {
		dd := *d
		dd.RseqErr = err
		return &dd, func() {}
	}
	return d, release
}

// withRseq is WithRseq when ps holds the rseq path.
func withRseq(d *Doors, ps []runfile.Path) (*Doors, func()) {
	if !slices.Contains(ps, runfile.PathRseq) {
		return d, func() {}
	}
	return WithRseq(d)
}
