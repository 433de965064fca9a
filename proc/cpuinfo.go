package proc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrMalformedCPUInfo is wrapped by the error ParseCPUInfo returns for text
// that is not /proc/cpuinfo's "key : value" lines (a line over 1 MiB).
// Lines without a colon are skipped, as are keys it does not read.
var ErrMalformedCPUInfo = errors.New("malformed cpuinfo")

// CPUInfo is what vbench needs from the first processor block of
// /proc/cpuinfo.
type CPUInfo struct {
	VendorID  string
	ModelName string
	Flags     []string
	Bugs      []string
}

// HasFlag reports whether the CPU advertises flag (e.g. "rdtscp").
func (c CPUInfo) HasFlag(flag string) bool {
	for _, f := range c.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// ParseCPUInfo reads the first processor block of /proc/cpuinfo text.
func ParseCPUInfo(r io.Reader) (CPUInfo, error) {
	var c CPUInfo
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			if c.ModelName != "" || len(c.Flags) > 0 {
				break // end of the first processor block
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "vendor_id":
			c.VendorID = v
		case "model name":
			c.ModelName = v
		case "flags":
			c.Flags = strings.Fields(v)
		case "bugs":
			c.Bugs = strings.Fields(v)
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
