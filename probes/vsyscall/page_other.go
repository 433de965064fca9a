//go:build !amd64

package vsyscall

// Exists is false: only x86-64 has a vsyscall page. Probe reports Absent
// and starts no child, and RunChild refuses to probe.
const Exists = false

// callEntry is never reached where the page does not exist (RunChild
// exits first); it is here so the probe code builds on every architecture.
func callEntry(fn, a1, a2 uintptr) uintptr {
	panic("vsyscall: " + AbsentReason)
}
