package proc

import "testing"

func TestBootParam(t *testing.T) {
	const cmdline = "console=ttyS0 vsyscall=emulate quiet vsyscall=none -- vsyscall=xonly"
	if v, ok := BootParam(cmdline, "vsyscall"); !ok || v != "none" {
		t.Errorf("vsyscall = %q, %v; want the last before --, \"none\"", v, ok)
	}
	if v, ok := BootParam(cmdline, "quiet"); !ok || v != "" {
		t.Errorf("quiet = %q, %v", v, ok)
	}
	if _, ok := BootParam(cmdline, "vdso"); ok {
		t.Error("vdso found in a command line without it")
	}
}
