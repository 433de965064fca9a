package proc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrMalformedCPUInfo is wrapped by the error ParseCPUInfo returns for text
// that is not /proc/cpuinfo's "key : value" lines (a line over 1 MiB).
// Lines without a colon are skipped, as are keys it does not read.
var ErrMalformedCPUInfo = errors.New("malformed cpuinfo")

// CPUInfo is what vbench needs from the first processor block of
// /proc/cpuinfo. x86-64 writes vendor_id, model name, flags and bugs
// (arch/x86/kernel/cpu/proc.c, show_cpuinfo); arm64 writes no vendor or
// model name but the hwcaps as Features and the MIDR_EL1 fields as CPU
// implementer, variant, part and revision (arch/arm64/kernel/cpuinfo.c,
// c_show). A field the architecture does not write stays empty.
type CPUInfo struct {
	VendorID  string
	ModelName string
	Flags     []string
	Bugs      []string

	Features    []string // arm64 hwcaps
	Implementer string   // arm64 MIDR_EL1 fields, as written ("0x41", "0x3", "0xd0c", "1")
	Variant     string
	Part        string
	Revision    string
}

// HasFlag reports whether the CPU advertises flag: an x86 flag ("rdtscp")
// or an arm64 feature ("sb").
func (c CPUInfo) HasFlag(flag string) bool {
	return slices.Contains(c.Flags, flag) || slices.Contains(c.Features, flag)
}

// ParseCPUInfo reads the first processor block of /proc/cpuinfo text.
func ParseCPUInfo(r io.Reader) (CPUInfo, error) {
	var c CPUInfo
	seen := false // a key of the block was read
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if seen {
				break // end of the first processor block
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		seen = true
		switch k {
		case "vendor_id":
			c.VendorID = v
		case "model name":
			c.ModelName = v
		case "flags":
			c.Flags = strings.Fields(v)
		case "bugs":
			c.Bugs = strings.Fields(v)
		case "Features":
			c.Features = strings.Fields(v)
		case "CPU implementer":
			c.Implementer = v
		case "CPU variant":
			c.Variant = v
		case "CPU part":
			c.Part = v
		case "CPU revision":
			c.Revision = v
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return c, fmt.Errorf("%w: %w", ErrMalformedCPUInfo, err)
		}
		return c, err
	}
	return c, nil
}
