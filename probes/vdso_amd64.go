package probes

import "github.com/vbench-dev/vbench/runfile"

// The x86-64 vDSO's naming, from the kernel's linker script
// arch/x86/entry/vdso/vdso.lds.S: every function is exported as
// __vdso_NAME with symbol version LINUX_2.6, as the Go runtime's
// runtime/vdso_linux_amd64.go looks them up. vdso_arm64.go is the arm64
// counterpart.
const (
	vdsoPrefix  = "__vdso_"
	vdsoVersion = "LINUX_2.6"
)

// vdsoLacks names the registry's functions this architecture's vDSO never
// has, with why: none on x86-64 (a given kernel may still lack one, e.g.
// getrandom before 6.11; Target then says the symbol is missing).
var vdsoLacks = map[runfile.Function]string{}
