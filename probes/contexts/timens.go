package contexts

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/runfile"
)

// Entering a time namespace with offsets (kernel/time/namespace.c):
// unshare(CLONE_NEWTIME) gives the calling task a new namespace for its
// children (time_ns_for_children) without moving the task itself, and the
// offsets can only be written to /proc/PID/timens_offsets until the first
// task enters it (frozen_offsets; EACCES after). Since Linux 5.16 a task
// also enters its time_ns_for_children at exec (fs/exec.c ->
// exec_task_namespaces in kernel/nsproxy.c), so the child unshares, writes
// the offsets and executes itself again: the new image runs inside, with
// the VVAR page of the namespace, whose seq is odd, sending the vDSO down
// do_hres_timens() (lib/vdso/gettimeofday.c).
//
// Namespaces are per task, not per process, and /proc/PID/timens_offsets
// is the thread-group leader's: the unshare, the write and the exec all
// happen on the main thread, locked.

// enterTimens is Enter for the time namespace.
func enterTimens(info *runfile.ContextInfo) error {
	info.OffsetNs = int64(TimensOffset)
	if os.Getenv(stageEnv) == "" {
		runtime.LockOSThread() // never unlocked: this image ends in exec
		if tid, pid := unix.Gettid(), unix.Getpid(); tid != pid {
			// /proc/PID/timens_offsets is the thread-group leader's
			// (fs/proc/base.c lists it for processes, not threads).
			return fmt.Errorf("entering a time namespace must happen on the main thread (thread %d of process %d): call the child dispatch first thing in main", tid, pid)
		}
		if err := unix.Unshare(unix.CLONE_NEWTIME); err != nil {
			return fmt.Errorf("unshare(CLONE_NEWTIME): %s", unshareReason(err))
		}
		secs := int64(TimensOffset / time.Second)
		offsets := fmt.Sprintf("monotonic %d 0\nboottime %d 0\n", secs, secs)
		f, err := os.OpenFile("/proc/self/timens_offsets", os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString(offsets)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return fmt.Errorf("writing /proc/self/timens_offsets: %v", err)
		}
		env := append(os.Environ(), stageEnv+"=entered")
		err = syscall.Exec("/proc/self/exe", os.Args, env)
		return fmt.Errorf("exec into the time namespace: %v", err)
	}
	in, err1 := os.Readlink("/proc/thread-self/ns/time")
	kids, err2 := os.Readlink("/proc/thread-self/ns/time_for_children")
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("reading /proc/thread-self/ns: %v", err)
	}
	if in != kids {
		return fmt.Errorf("exec did not enter the new time namespace (%s, children %s): entering at exec needs Linux 5.16", in, kids)
	}
	how := "unshare(CLONE_NEWTIME)"
	if inUserNS() {
		how += " in a new user namespace (unprivileged)"
	}
	b, _ := os.ReadFile("/proc/self/timens_offsets")
	info.Notes = append(info.Notes,
		how+", offsets written to timens_offsets, entered by exec",
		"timens_offsets: "+strings.Join(strings.Split(strings.TrimSpace(string(b)), "\n"), "; "))
	return nil
}

// unshareReason explains why unshare(CLONE_NEWTIME) failed.
func unshareReason(err error) string {
	switch {
	case errors.Is(err, unix.EINVAL):
		return "EINVAL: the kernel has no time namespaces (CONFIG_TIME_NS off, or older than 5.6)"
	case errors.Is(err, unix.EPERM):
		return "EPERM: no CAP_SYS_ADMIN here (user namespaces refused, or a seccomp filter)"
	case errors.Is(err, unix.ENOSPC):
		return "ENOSPC: user.max_time_namespaces reached"
	}
	return err.Error()
}

// inUserNS reports whether this process is in a user namespace other than
// the initial one: its uid_map is not the identity of the whole range.
func inUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}
