package vdso

// The arm64 vDSO's exports, from the kernel's linker script
// arch/arm64/kernel/vdso/vdso.lds.S (VERSION { LINUX_2.6.39 { global: ... } })
// and the selftests' table tools/testing/selftests/vDSO/vdso_config.h
// (aarch64: version "LINUX_2.6.39", names "__kernel_*"). Unlike x86-64 there
// is no time and no getcpu, and no unprefixed aliases. __kernel_getrandom
// appeared in Linux 6.12 (commit "arm64: vDSO: Wire up getrandom() vDSO
// implementation"); older kernels lack it, so callers must treat every name
// as optional. __kernel_rt_sigreturn is the signal trampoline, not a
// function to call.

// Version is the symbol version every arm64 vDSO function carries.
const Version = "LINUX_2.6.39"

// Prefix is what every exported function's name starts with: the name is
// Prefix and the C library's name ("clock_gettime"). Package probes' call
// registry names its functions that way and nowhere else.
const Prefix = "__kernel_"

// Names of the exported functions.
const (
	RtSigreturn  = "__kernel_rt_sigreturn"
	Gettimeofday = "__kernel_gettimeofday"
	ClockGettime = "__kernel_clock_gettime"
	ClockGetres  = "__kernel_clock_getres"
	Getrandom    = "__kernel_getrandom"
)

// Always lists the functions every arm64 vDSO exports: all but getrandom.
var Always = []string{Gettimeofday, ClockGettime, ClockGetres}

// Exported lists the names vdso.lds.S exports on arm64, in its order.
var Exported = []string{RtSigreturn, Gettimeofday, ClockGettime, ClockGetres, Getrandom}
