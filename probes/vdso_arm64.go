package probes

import "github.com/vbench-dev/vbench/runfile"

// The arm64 vDSO's naming, from the kernel's linker script
// arch/arm64/kernel/vdso/vdso.lds.S and the selftests' table
// tools/testing/selftests/vDSO/vdso_config.h: every function is exported as
// __kernel_NAME with symbol version LINUX_2.6.39, as the Go runtime's
// runtime/vdso_linux_arm64.go looks up __kernel_clock_gettime.
const (
	vdsoPrefix  = "__kernel_"
	vdsoVersion = "LINUX_2.6.39"
)

// vdsoLacks names the registry's functions the arm64 vDSO never has, with
// why: vdso.lds.S exports only rt_sigreturn, gettimeofday, clock_gettime,
// clock_getres and (6.12+) getrandom. Their cells are unavailable with this
// reason rather than "no symbol", which would suggest an old kernel.
var vdsoLacks = map[runfile.Function]string{
	runfile.FuncTime:   "the arm64 vDSO has no time (arch/arm64/kernel/vdso/vdso.lds.S exports none)",
	runfile.FuncGetcpu: "the arm64 vDSO has no getcpu (arch/arm64/kernel/vdso/vdso.lds.S exports none; the syscall exists)",
}
