package vdso

// The x86-64 vDSO's exports, from the kernel's linker script
// arch/x86/entry/vdso/vdso.lds.S (VERSION { LINUX_2.6 { global: ... } }):
// each function is exported as __vdso_NAME and as a weak alias NAME, all
// with version LINUX_2.6. __vdso_getrandom appeared in Linux 6.11
// (commit "x86: vdso: Wire up getrandom() vDSO implementation"); older
// kernels lack it, so callers must treat every name as optional.

// Version is the symbol version every x86-64 vDSO function carries.
const Version = "LINUX_2.6"

// Prefix is what every exported function's name starts with: the name is
// Prefix and the C library's name ("clock_gettime"). Package probes' call
// registry names its functions that way and nowhere else.
const Prefix = "__vdso_"

// Names of the exported functions.
const (
	ClockGettime = "__vdso_clock_gettime"
	Gettimeofday = "__vdso_gettimeofday"
	Getcpu       = "__vdso_getcpu"
	Time         = "__vdso_time"
	ClockGetres  = "__vdso_clock_getres"
	Getrandom    = "__vdso_getrandom"
)

// Always lists the functions every x86-64 vDSO exports: all but getrandom.
var Always = []string{ClockGettime, Gettimeofday, Getcpu, Time, ClockGetres}

// Exported lists the names vdso.lds.S exports on x86-64, in its order.
var Exported = []string{ClockGettime, Gettimeofday, Getcpu, Time, ClockGetres, Getrandom}
