package proc

import "strings"

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
