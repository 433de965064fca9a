package probes

import (
	"errors"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/vbench-dev/vbench/probes/contexts"
	"github.com/vbench-dev/vbench/probes/vsyscall"
)

// Children: vbench measures some things in a copy of itself, started again
// with an environment variable saying what to do, because a fault there
// would kill the measuring process (the vsyscall page's read and call
// probes, vsyscall.Probe) or because only a process stopped at exec can be
// traced from its first instruction (the syscall-counting child,
// syscount.go). RunChild is the one place those copies are told apart from
// an ordinary start: no package init exits.

// init keeps a syscall-counting child (and a context child) on the main
// thread, the one the counting child's tracer follows: package
// initialization runs locked to it, and a LockOSThread made here lasts
// into main (the runtime's documented way to run main on the main
// thread). Without it the main goroutine may move to another thread
// between initialization and RunChild: sysmon asks a goroutine that ran
// 10 ms to yield, and a test binary's initialization (fonts for the
// figures) can take longer; seen once in about 40 counting children of
// TestHelpExamplesRun under load. It only locks; RunChild does the
// child's work.
func init() {
	_, count := os.LookupEnv(syscountEnv)
	_, ctx := contexts.Asked()
	if count || ctx {
		runtime.LockOSThread()
	}
}

// dispatching is set once RunChild has run in this process: only then may
// a child be started, for only then does the copy know to do its job
// rather than run the whole program (or every test of a test binary).
var dispatching atomic.Bool

// errNoDispatch is why no child is started where RunChild was not called.
var errNoDispatch = errors.New("this program does not dispatch re-executed children: its main (or TestMain) must call probes.RunChild first")

// RunChild must be called first thing in main, and in TestMain of every
// test binary whose tests start children (Discover, Bench, verify.Run,
// study.Run). In a child it does the child's job and returns the exit
// status with true: the caller exits with it at once. Otherwise it returns
// false and the process goes on.
func RunChild() (code int, child bool) { return RunChildWith(nil) }

// RunChildWith is RunChild in a program whose context children (remote.go)
// run the checks too, with verify (package verify's InContext; probes
// cannot import it).
func RunChildWith(verify ContextVerifier) (code int, child bool) {
	dispatching.Store(true)
	if code, ok := vsyscall.RunChild(); ok {
		return code, true
	}
	if spec, ok := os.LookupEnv(syscountEnv); ok {
		os.Unsetenv(syscountEnv)
		return syscountChild(spec), true
	}
	if ctx, ok := contexts.Asked(); ok {
		runtime.LockOSThread() // the main thread: a time namespace is entered from it
		return serveContext(ctx, verify, os.Stdin, os.Stdout), true
	}
	return 0, false
}
