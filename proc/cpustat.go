package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// This file reads the "cpu" lines of /proc/stat (the system-wide file, not
// /proc/PID/stat, which stat.go reads): the time each CPU spent in each
// state since boot, in USER_HZ ticks (proc(5); fs/proc/stat.c prints them
// through nsec_to_clock_t). vbench reads the steal column: time the
// hypervisor ran something else while this virtual CPU wanted to run.

// ErrMalformedCPUStat is wrapped by every error about a /proc/stat cpu line
// that does not have the form proc(5) documents.
var ErrMalformedCPUStat = errors.New("malformed /proc/stat cpu line")

// UserHZ is the unit of /proc/stat's times: USER_HZ, which the kernel fixes
// at 100 on x86 (include/asm-generic/param.h; sysconf(_SC_CLK_TCK)).
const UserHZ = 100

// CPUTimes is one cpu line of /proc/stat, in USER_HZ ticks. Columns the
// running kernel does not print (steal since 2.6.11, guest since 2.6.24,
// guest_nice since 2.6.33) read as 0.
type CPUTimes struct {
	CPU     int // -1 for the "cpu" line (all CPUs summed)
	User    uint64
	Nice    uint64
	System  uint64
	Idle    uint64
	IOWait  uint64
	IRQ     uint64
	SoftIRQ uint64
	Steal   uint64
	Guest   uint64
	// GuestNice is the last column.
	GuestNice uint64
}

// ParseCPUStat parses the cpu lines of /proc/stat; other lines are skipped.
// The first element is the "cpu" line (CPU -1) when the file has one.
func ParseCPUStat(r io.Reader) ([]CPUTimes, error) {
	var out []CPUTimes
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // the intr line is long
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "cpu") {
			continue
		}
		f := strings.Fields(line)
		t := CPUTimes{CPU: -1}
		if n := strings.TrimPrefix(f[0], "cpu"); n != "" {
			cpu, err := strconv.Atoi(n)
			if err != nil || cpu < 0 {
				return nil, fmt.Errorf("%w: %q: CPU number %q", ErrMalformedCPUStat, line, n)
			}
			t.CPU = cpu
		}
		cols := []*uint64{&t.User, &t.Nice, &t.System, &t.Idle, &t.IOWait, &t.IRQ, &t.SoftIRQ, &t.Steal, &t.Guest, &t.GuestNice}
		if len(f) < 5 { // user nice system idle: in every kernel
			return nil, fmt.Errorf("%w: %q: %d columns", ErrMalformedCPUStat, line, len(f)-1)
		}
		for i, s := range f[1:min(len(f), len(cols)+1)] {
			v, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: %q: column %d %q is not a count", ErrMalformedCPUStat, line, i+1, s)
			}
			*cols[i] = v
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no cpu lines", ErrMalformedCPUStat)
	}
	return out, nil
}

// ReadCPUStat reads the cpu lines of ROOT/stat, where root is where procfs
// is mounted ("" means /proc).
func ReadCPUStat(root string) ([]CPUTimes, error) {
	if root == "" {
		root = "/proc"
	}
	b, err := os.ReadFile(filepath.Join(root, "stat"))
	if err != nil {
		return nil, err
	}
	return ParseCPUStat(bytes.NewReader(b))
}
