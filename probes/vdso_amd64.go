package probes

// The x86-64 vDSO's naming, from the kernel's linker script
// arch/x86/entry/vdso/vdso.lds.S: every function is exported as
// __vdso_NAME with symbol version LINUX_2.6, as the Go runtime's
// runtime/vdso_linux_amd64.go looks them up. An arm64 file would say
// "__kernel_" and "LINUX_2.6.39" (arch/arm64/kernel/vdso/vdso.lds.S).
const (
	vdsoPrefix  = "__vdso_"
	vdsoVersion = "LINUX_2.6"
)
