package limits

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Rlimits are the limits that bound how many threads and files a run may
// open.
type Rlimits struct {
	NPROC, NOFILE, AS, DATA Rlimit
}

// ReadRlimits reads them (getrlimit(2)); one that cannot be read counts
// as unlimited.
func ReadRlimits() Rlimits {
	get := func(res int) Rlimit {
		r, err := getrlimit(res)
		if err != nil {
			return Rlimit{Unlimited: true}
		}
		return r
	}
	return Rlimits{NPROC: get(unix.RLIMIT_NPROC), NOFILE: get(unix.RLIMIT_NOFILE), AS: get(unix.RLIMIT_AS), DATA: get(unix.RLIMIT_DATA)}
}

// Privileged reports whether RLIMIT_NPROC does not bind this process:
// the kernel skips the check for a task with CAP_SYS_RESOURCE or
// CAP_SYS_ADMIN (kernel/fork.c, copy_process), read from CapEff in
// /proc/self/status.
func (fs FS) Privileged() bool {
	b, err := os.ReadFile(fs.proc("self", "status"))
	if err != nil {
		return os.Geteuid() == 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return os.Geteuid() == 0
			}
			return caps&(1<<unix.CAP_SYS_RESOURCE|1<<unix.CAP_SYS_ADMIN) != 0
		}
	}
	return os.Geteuid() == 0
}

// UserTasks counts the tasks (threads) of processes whose real uid is
// uid, the count RLIMIT_NPROC limits, from /proc/PID/status (Uid's
// first field, Threads). Processes that vanish meanwhile are skipped.
func (fs FS) UserTasks(uid int) (int, error) {
	entries, err := os.ReadDir(fs.Proc)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(fs.proc(e.Name(), "status"))
		if err != nil {
			continue
		}
		var ruid, threads = -1, 0
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					ruid, _ = strconv.Atoi(f[0])
				}
			}
			if v, ok := strings.CutPrefix(line, "Threads:"); ok {
				threads, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if ruid == uid {
			n += max(threads, 1)
		}
	}
	return n, nil
}

// OpenFiles counts this process's open file descriptors.
func (fs FS) OpenFiles() (int, error) {
	entries, err := os.ReadDir(fs.proc("self", "fd"))
	if err != nil {
		return 0, err
	}
	return len(entries) - 1, nil // the directory being read is one
}
