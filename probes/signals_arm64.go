package probes

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// guardSignals blocks the asynchronous signals on the calling thread for a
// vDSO call made outside the Go runtime, and returns what unblocks them.
//
// Why: on arm64 the Go runtime keeps g in R28, which C code may use for its
// own purposes, so when a signal arrives while the PC is inside the vDSO
// the runtime's handler does not trust R28: it takes g from the bottom of
// the thread's signal stack, where the runtime's own vDSO calls
// (runtime·nanotime1 in runtime/sys_linux_arm64.s) store it first
// (sigFetchG in runtime/signal_unix.go). vbench's loops cannot store it
// (the offsets are the runtime's own), so the handler would find no g and,
// in a program without cgo, die with "fatal: bad g in signal handler" for
// any signal but the preemption SIGURG and SIGPROF, such as a SIGCHLD or a
// SIGINT that the kernel happens to deliver to this thread. With them
// blocked here, process-wide signals go to the other threads, and one
// aimed at this thread waits until the guard is lifted.
//
// The synchronous signals a fault raises (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
// SIGTRAP, SIGSYS) stay unblocked, so a Go nil dereference between calls
// still panics as usual. The thread is locked while the guard holds, so the
// mask is restored on the thread it was set on. The cost, two
// rt_sigprocmask calls, is paid once per timed sample or single call,
// outside the timed chunks.
func guardSignals() (restore func()) {
	runtime.LockOSThread()
	var set, old unix.Sigset_t
	for i := range set.Val {
		set.Val[i] = ^uint64(0)
	}
	for _, s := range []unix.Signal{unix.SIGSEGV, unix.SIGBUS, unix.SIGILL, unix.SIGFPE, unix.SIGTRAP, unix.SIGSYS} {
		set.Val[(s-1)/64] &^= 1 << ((s - 1) % 64)
	}
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		// rt_sigprocmask fails only for a bad argument; go on unguarded.
		runtime.UnlockOSThread()
		return func() {}
	}
	return func() {
		unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
		runtime.UnlockOSThread()
	}
}
