package limits

import "golang.org/x/sys/unix"

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
