package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformedAuxv is wrapped by every error that reports a /proc/PID/auxv
// that is not a sequence of (type, value) pairs of native words ending in
// AT_NULL.
var ErrMalformedAuxv = errors.New("malformed auxv")

// Auxiliary vector entry types, from include/uapi/linux/auxvec.h and
// arch/x86/include/uapi/asm/auxvec.h (golang.org/x/sys/unix does not export
// them). Only the ones vbench reads are named.
const (
	AT_NULL         = 0  // end of the vector
	AT_PHDR         = 3  // address of the program headers of the executable
	AT_PHENT        = 4  // size of one program header
	AT_PHNUM        = 5  // number of program headers
	AT_PAGESZ       = 6  // page size
	AT_BASE         = 7  // load address of the interpreter (0: none)
	AT_ENTRY        = 9  // entry point of the executable
	AT_RANDOM       = 25 // address of 16 random bytes on the stack
	AT_EXECFN       = 31 // address of the file name passed to execve
	AT_SYSINFO_EHDR = 33 // address of the vDSO's ELF header
)

// AuxEntry is one (type, value) pair of the auxiliary vector.
type AuxEntry struct {
	Type, Val uint64
}

// Auxv is a parsed auxiliary vector, in the kernel's order, without the
// terminating AT_NULL.
type Auxv []AuxEntry

// Get returns the value of the first entry of type t.
func (a Auxv) Get(t uint64) (uint64, bool) {
	for _, e := range a {
		if e.Type == t {
			return e.Val, true
		}
	}
	return 0, false
}

// ParseAuxv parses the content of /proc/PID/auxv of a 64-bit little-endian
// process (x86-64): pairs of 8-byte words, ended by an AT_NULL entry. The
// kernel writes the vector the process was started with
// (fs/proc/base.c:proc_pid_auxv), so it is also valid at the exec stop of a
// traced child.
func ParseAuxv(b []byte) (Auxv, error) {
	const word = 8
	if len(b)%(2*word) != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of 16-byte entries", ErrMalformedAuxv, len(b))
	}
	var a Auxv
	for off := 0; off < len(b); off += 2 * word {
		t := binary.LittleEndian.Uint64(b[off:])
		v := binary.LittleEndian.Uint64(b[off+word:])
		if t == AT_NULL {
			return a, nil
		}
		a = append(a, AuxEntry{t, v})
	}
	return nil, fmt.Errorf("%w: no AT_NULL terminator in %d bytes", ErrMalformedAuxv, len(b))
}
