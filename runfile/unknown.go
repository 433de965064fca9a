package runfile

import (
	"fmt"
	"strings"
)

// A value that could not be read (a sysctl under a masked /proc/sys, or
// one an unprivileged user may not read) is unknown, not -1: nil in Env,
// absent in the run file, and shown as "unknown" with the reason from
// Env.Missing. Files written before this held -1, which reads as unknown
// too.

// Int returns a pointer to v, for the optional fields.
func Int(v int) *int { return &v }

// Known returns the value and true, or false when it is unknown (nil, or
// the -1 of older files).
func Known(v *int) (int, bool) {
	if v == nil || *v < 0 {
		return 0, false
	}
	return *v, true
}

// Or is the value, or def when it is unknown.
func Or(v *int, def int) int {
	if n, ok := Known(v); ok {
		return n
	}
	return def
}

// Shown is the value as text, or "unknown" with why: the entry of
// Missing that names the file (its last dotted part, e.g. mmap_rnd_bits
// for vm.mmap_rnd_bits), when there is one.
func (e Env) Shown(name string, v *int) string {
	if n, ok := Known(v); ok {
		return fmt.Sprint(n)
	}
	file := name[strings.LastIndex(name, ".")+1:]
	for _, m := range e.Missing {
		if strings.HasPrefix(m, file+":") || strings.HasPrefix(m, name+":") {
			return "unknown (" + strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(m, name+":"), file+":")) + ")"
		}
	}
	return "unknown"
}
