package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// This file reads /proc/meminfo (proc(5); fs/proc/meminfo.c prints each
// line as "Name:  N kB"). The boot lab reads MemAvailable to decide how
// many guests fit at once.

// ErrMalformedMeminfo is wrapped by every error about a /proc/meminfo line
// that does not have the form "Name: N" or "Name: N kB".
var ErrMalformedMeminfo = errors.New("malformed /proc/meminfo line")

// ErrNoMemAvailable is returned when /proc/meminfo has no MemAvailable line
// (kernels before 3.14).
var ErrNoMemAvailable = errors.New("no MemAvailable in /proc/meminfo")

// Meminfo maps each /proc/meminfo field to its value, in bytes for the
// fields given in kB, as counted for the others (HugePages_Total...).
type Meminfo map[string]uint64

// ParseMeminfo reads /proc/meminfo.
func ParseMeminfo(r io.Reader) (Meminfo, error) {
	out := Meminfo{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		f := strings.Fields(rest)
		if !ok || name == "" || len(f) < 1 || len(f) > 2 || (len(f) == 2 && f[1] != "kB") {
			return nil, fmt.Errorf("%w %d: %q", ErrMalformedMeminfo, n, line)
		}
		v, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w %d: %q: %v", ErrMalformedMeminfo, n, line, err)
		}
		if len(f) == 2 {
			if v > (1<<64-1)>>10 {
				return nil, fmt.Errorf("%w %d: %q: too large", ErrMalformedMeminfo, n, line)
			}
			v <<= 10
		}
		out[name] = v
	}
	return out, sc.Err()
}

// Meminfo reads ROOT/meminfo.
func (fs FS) Meminfo() (Meminfo, error) {
	b, err := os.ReadFile(fs.Path("meminfo"))
	if err != nil {
		return nil, err
	}
	return ParseMeminfo(bytes.NewReader(b))
}

// MemAvailable is the kernel's estimate of the memory available for new
// work without swapping, in bytes (si_mem_available(), mm/show_mem.c).
func (fs FS) MemAvailable() (uint64, error) {
	m, err := fs.Meminfo()
	if err != nil {
		return 0, err
	}
	v, ok := m["MemAvailable"]
	if !ok {
		return 0, ErrNoMemAvailable
	}
	return v, nil
}
