package proc

import (
	"os"
	"strings"
)

// ReadCmdline returns /proc/cmdline, the kernel's boot arguments, with the
// trailing newline removed.
func ReadCmdline() (string, error) {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// BootParam returns the value of name=value in a kernel command line, and
// whether it was present. The last occurrence wins, as in the kernel's own
// parser for most parameters. Arguments after "--" belong to init and are
// ignored.
func BootParam(cmdline, name string) (string, bool) {
	val, found := "", false
	for _, f := range strings.Fields(cmdline) {
		if f == "--" {
			break
		}
		k, v, _ := strings.Cut(f, "=")
		if k == name {
			val, found = v, true
		}
	}
	return val, found
}
