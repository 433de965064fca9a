// Package limits reads the limits the kernel puts on this process, so a
// run can be sized to them before it starts, and the throttling that a CPU
// quota imposes while it runs:
//
//   - the cgroup the process is in, for each controller (/proc/self/cgroup,
//     cgroup v1 and v2, found through /proc/self/mountinfo: a hybrid
//     machine mounts v1 controllers and an empty v2 tree side by side);
//   - its memory limit and usage, the tightest over the cgroup and its
//     ancestors (v2 memory.max and memory.current, v1
//     memory.limit_in_bytes and memory.usage_in_bytes;
//     Documentation/admin-guide/cgroup-v2.rst, cgroup-v1/memory.rst);
//   - its CPU quota and throttling counters (v2 cpu.max and cpu.stat
//     nr_throttled, throttled_usec; v1 cpu.cfs_quota_us, cpu.cfs_period_us
//     and cpu.stat nr_throttled, throttled_time in ns; kernel/sched/core.c);
//   - the resource limits RLIMIT_AS, RLIMIT_DATA, RLIMIT_NPROC and
//     RLIMIT_NOFILE (getrlimit(2)), and what the process already uses of
//     them (/proc/self/status VmSize, VmData; the user's thread count is
//     not visible, so NPROC is compared with the process's own threads).
//
// Parsers read an FS, a tree holding proc's and the cgroup mounts' relative
// paths (the running machine's is Live; tests point it at fixtures in
// testdata/). Errors wrap ErrNoCgroup or ErrParse. Nothing here writes.
package limits
