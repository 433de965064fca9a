package proc

import (
	"bufio"
	"io"
	"os"
	"strings"
)

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
	return c, sc.Err()
}

// ReadCPUInfo parses the live /proc/cpuinfo.
func ReadCPUInfo() (CPUInfo, error) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return CPUInfo{}, err
	}
	defer f.Close()
	return ParseCPUInfo(f)
}
