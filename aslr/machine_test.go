package aslr

import (
	"runtime"
	"testing"
)

// The kernel a run annotates itself with says which architecture it runs.
func TestCurrentKernelMachine(t *testing.T) {
	k := currentKernel()
	if (k.Machine == "aarch64" || k.Machine == "arm64") != (runtime.GOARCH == "arm64") {
		t.Errorf("uname -m %q on GOARCH %s", k.Machine, runtime.GOARCH)
	}
}
