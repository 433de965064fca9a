package probes

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The vDSO's getrandom (Linux 6.11+, lib/vdso/getrandom.c) works on an
// opaque per-thread state that the caller allocates. The kernel's selftest
// tools/testing/selftests/vDSO/vdso_test_getrandom.c shows how: call the
// function once with buffer NULL, len 0, flags 0 and opaque_len ~0UL, and
// it fills struct vgetrandom_opaque_params (include/uapi/linux/random.h)
// with the state's size and the mmap protection and flags the states must
// be mapped with (PROT_READ|PROT_WRITE, MAP_DROPPABLE|MAP_ANONYMOUS on
// 6.18). A state must not straddle a page: the vDSO answers EFAULT for one
// that does, since the kernel may drop a droppable page at any time.

// ErrGetrandomState is wrapped when the vDSO's getrandom state cannot be
// set up; the vDSO path of getrandom is then unavailable.
var ErrGetrandomState = errors.New("cannot set up the vDSO getrandom state")

// vgetrandomParams is struct vgetrandom_opaque_params.
type vgetrandomParams struct {
	SizeOfOpaqueState uint32
	MmapProt          uint32
	MmapFlags         uint32
	Reserved          [13]uint32
}

// randomStates is how many states are allocated: one per callBuf (Bench's
// loops, the single calls), since two threads must never share one.
const randomStates = 2

var vgetrandom struct {
	once   sync.Once
	err    error
	ready  atomic.Bool
	params vgetrandomParams // a global: its address is handed to the vDSO
	states [randomStates][]byte
}

// prepareGetrandom sets up the states the first time, using the vDSO
// function at fn.
func prepareGetrandom(fn uintptr) error {
	vgetrandom.once.Do(func() {
		vgetrandom.err = setupGetrandom(fn)
		vgetrandom.ready.Store(vgetrandom.err == nil)
	})
	return vgetrandom.err
}

func setupGetrandom(fn uintptr) error {
	p := &vgetrandom.params
	if r := callGuarded(fn, 0, 0, 0, addr(p), ^uintptr(0)); r != 0 {
		return fmt.Errorf("%w: the params query returned %d", ErrGetrandomState, int64(r))
	}
	size, page := int(p.SizeOfOpaqueState), unix.Getpagesize()
	if size <= 0 || size > page {
		return fmt.Errorf("%w: state size %d (page %d)", ErrGetrandomState, size, page)
	}
	perPage := page / size
	pages := (randomStates + perPage - 1) / perPage
	mem, err := unix.Mmap(-1, 0, pages*page, int(p.MmapProt), int(p.MmapFlags))
	if err != nil {
		return fmt.Errorf("%w: mmap prot %#x flags %#x: %w", ErrGetrandomState, p.MmapProt, p.MmapFlags, err)
	}
	for i := range vgetrandom.states {
		off := i/perPage*page + i%perPage*size // never across a page
		vgetrandom.states[i] = mem[off : off+size : off+size]
	}
	return nil
}

// randomState is b's getrandom state, nil until set up.
func randomState(b *callBuf) []byte {
	if !vgetrandom.ready.Load() {
		return nil
	}
	return vgetrandom.states[b.randState]
}
