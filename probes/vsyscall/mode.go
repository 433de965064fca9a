// Package vsyscall knows the legacy vsyscall page at 0xffffffffff600000: its
// entry points, and which of the three vsyscall= boot modes the running kernel
// is in.
//
// The page is fixed by the x86-64 ABI (arch/x86/entry/vsyscall/vsyscall_64.c)
// and exists nowhere else: on other architectures (Exists is false, see
// page_other.go) the package builds, its mode is Absent and nothing is
// probed or called.
// Since Linux 3.1 its code is a trap the kernel emulates; since 5.3 the default
// mode is xonly (executable, not readable); vsyscall=none removes it. Calling
// it when it is absent kills the process with SIGSEGV, so callers decide
// availability from Mode first and confirm it in a child process.
package vsyscall

import (
	"fmt"
	"runtime"

	"github.com/vbench-dev/vbench/proc"
)

// Page addresses, from the kernel ABI (Documentation/ABI and
// arch/x86/include/uapi/asm/vsyscall.h).
const (
	Base         uintptr = 0xffffffffff600000
	Gettimeofday         = Base + 0x000
	Time                 = Base + 0x400
	Getcpu               = Base + 0x800
)

// Mode is a vsyscall= boot mode as seen from user space.
type Mode string

const (
	// Emulate: the page is mapped readable and executable (r-xp); calls trap
	// and are emulated.
	Emulate Mode = "emulate"
	// XOnly: the page is mapped execute-only (--xp); reads fault, calls are
	// emulated.
	XOnly Mode = "xonly"
	// None: no page; reads and calls fault.
	None Mode = "none"
	// Absent: the architecture has no vsyscall page at all (everything but
	// x86-64: Exists is false); nothing is probed.
	Absent Mode = "absent"
)

// SourceArch is Observed.ModeSource when the mode is Absent: it follows
// from the architecture, not from maps or probes.
const SourceArch = "architecture"

// AbsentReason says why an architecture without the page has none.
var AbsentReason = "no vsyscall page on " + runtime.GOARCH + " (it exists on x86-64 only: arch/x86/entry/vsyscall/vsyscall_64.c)"

// Callable reports whether calls into the page are emulated in this mode.
func (m Mode) Callable() bool { return m == Emulate || m == XOnly }

// Readable reports whether the page can be read in this mode.
func (m Mode) Readable() bool { return m == Emulate }

// ModeFromMaps reads the mode off a parsed /proc/PID/maps, as the kernel's
// selftest tools/testing/selftests/x86/test_vsyscall.c does: a [vsyscall]
// line with 'r' is emulate, with only 'x' is xonly, no line is none.
func ModeFromMaps(ms proc.Maps) (Mode, proc.Mapping, error) {
	m, ok := ms.Find("[vsyscall]")
	if !ok {
		return None, proc.Mapping{}, nil
	}
	if uintptr(m.Start) != Base {
		return "", m, fmt.Errorf("[vsyscall] mapped at %#x, not %#x", m.Start, Base)
	}
	switch {
	case m.Readable() && m.Executable():
		return Emulate, m, nil
	case m.Executable():
		return XOnly, m, nil
	}
	return "", m, fmt.Errorf("[vsyscall] has unexpected permissions %q", m.Perms)
}

// CurrentMode reads /proc/self/maps; on an architecture without the page
// it is Absent without reading anything.
func CurrentMode() (Mode, proc.Mapping, error) {
	if !Exists {
		return Absent, proc.Mapping{}, nil
	}
	ms, err := proc.ReadMaps(0)
	if err != nil {
		return "", proc.Mapping{}, err
	}
	return ModeFromMaps(ms)
}
