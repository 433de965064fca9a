package runfile

// Boot describes the boot a guest run came from (`vbench bootmodes`).
type Boot struct {
	Mode   string `json:"mode"`   // the --modes entry, e.g. "xonly", "vdso=0"
	Append string `json:"append"` // full kernel command line given
	Kernel string `json:"kernel"` // kernel image file name
	Accel  string `json:"accel"`  // "kvm" or "tcg"
	// AccelReason says why Accel was used, e.g. "kvm unusable here: qemu
	// aborted (...); using tcg".
	AccelReason string  `json:"accel_reason,omitempty"`
	Seconds     float64 `json:"seconds"` // boot to power-off, host wall clock
	// Observed is what the guest saw of the vsyscall page.
	Observed VsyscallObserved `json:"observed"`
	// Errors are the parts of the study that failed inside the guest, one
	// line each, e.g. "bench: ..."; the other parts still ran.
	Errors []string `json:"errors,omitempty"`
	// Layout is the kernel's special mappings in the guest's own
	// /proc/self/maps, in address order (Mapping); empty in runs made
	// before it was recorded.
	Layout []Mapping `json:"layout,omitempty"`
}

// VsyscallObserved is the three facts that tell the vsyscall modes apart.
type VsyscallObserved struct {
	MapsLine  string `json:"maps_line"`  // [vsyscall] line, or "" when absent
	ReadProbe string `json:"read_probe"` // "ok" or "SIGSEGV"
	CallProbe string `json:"call_probe"` // "ok" or "SIGSEGV"
}
