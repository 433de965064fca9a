package probes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/proc"
	"github.com/vbench-dev/vbench/runfile"
)

// What the kernel counts on the timed thread around each sample: perf
// software events (perf_event_open(2) with pid 0 and cpu -1: this thread,
// on whatever CPU), the hardware cycle and instruction counters where the
// machine has a PMU, syscalls entered through the raw_syscalls:sys_enter
// tracepoint where tracefs is mounted, the thread's involuntary context
// switches (getrusage RUSAGE_THREAD, ru_nivcsw) and the pinned CPU's steal
// time (/proc/stat). A counter that cannot be opened is said once, in
// runfile.Bench.Counters, and reads 0.
//
// The software page-fault event is counted at the top of the x86 fault
// handler (arch/x86/mm/fault.c: do_user_addr_fault calls perf_sw_event
// PERF_COUNT_SW_PAGE_FAULTS before it looks at the address), so it sees the
// faults by which the kernel emulates a vsyscall call (emulate_vsyscall is
// called further down, for an address in the vsyscall page). The minor
// fault event is counted only when handle_mm_fault maps a page
// (mm/memory.c: mm_account_fault), which never happens for those: they
// are page faults, but not minor faults.

// Three of these events fire inside the timed call itself, and counting
// them costs the call: the page-fault events run perf_sw_event in the
// fault handler for every emulated vsyscall call, and an open
// raw_syscalls:sys_enter event registers the tracepoint, which sends every
// syscall on the machine down the traced slow path (syscall_regfunc in
// kernel/tracepoint.c sets SYSCALL_WORK_SYSCALL_TRACEPOINT on every task).
// Measured on an Intel Xeon VM (Linux 6.18, no PTI) against the C loop of
// probes/fidelity: with tracefs mounted, time(2) through the syscall took
// 224 ns in vbench against 97 ns in C, and a vsyscall call about 400 ns
// against about 330 ns with the page-fault counter open. So these are
// inCall events: openCounters only learns whether they can be opened,
// and countInCall opens them for a pass of their own after a cell's
// calibration; they are closed while samples and latencies are timed.
var inCall = [nEvents]bool{evPageFaults: true, evMinorFaults: true, evSyscalls: true}

// perfEvent is one perf counter bench tries to open.
type perfEvent struct {
	name   string // runfile.Counter* name
	typ    uint32
	config uint64
}

var perfEvents = []perfEvent{
	{runfile.CounterPageFaults, unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS},
	{runfile.CounterMinorFaults, unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_PAGE_FAULTS_MIN},
	{runfile.CounterContextSwitches, unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CONTEXT_SWITCHES},
	{runfile.CounterMigrations, unix.PERF_TYPE_SOFTWARE, unix.PERF_COUNT_SW_CPU_MIGRATIONS},
	{runfile.CounterCycles, unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_CPU_CYCLES},
	{runfile.CounterInstructions, unix.PERF_TYPE_HARDWARE, unix.PERF_COUNT_HW_INSTRUCTIONS},
}

// Event indices into counters.fd and snapshot.perf: perfEvents, then the
// syscall tracepoint.
const (
	evPageFaults = iota
	evMinorFaults
	evContextSwitches
	evMigrations
	evCycles
	evInstructions
	evSyscalls
	nEvents
)

// tracefsRoots are where tracefs is found: its own mount point (Linux 4.1+)
// and its old place under debugfs.
var tracefsRoots = []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}

// counters are the open counters of one Bench, on its locked thread.
type counters struct {
	fd    [nEvents]int  // -1: not open
	avail [nEvents]bool // could be opened (inCall ones are closed again)
	cpu   int           // the pinned CPU, for steal
	steal bool          // /proc/stat readable
	info  []runfile.Counter
	buf   [8]byte
}

// openCounters opens what it can on the calling thread, which must be
// locked to its goroutine and pinned to cpu; the counters follow the
// thread. Close them when done.
func openCounters(cpu int) *counters {
	c := &counters{cpu: cpu}
	for i := range c.fd {
		c.fd[i] = -1
	}
	say := func(name, source string, err error) {
		ci := runfile.Counter{Name: name, Source: source}
		if err != nil {
			ci = runfile.Counter{Name: name, Unavailable: err.Error()}
		}
		c.info = append(c.info, ci)
	}
	for i, ev := range perfEvents {
		fd, src, err := openPerf(ev.typ, ev.config)
		if err == nil {
			c.fd[i], c.avail[i] = fd, true
			if inCall[i] {
				src += ", counted in a pass of its own, closed while timing"
			}
		}
		if err != nil && ev.typ == unix.PERF_TYPE_HARDWARE && errors.Is(err, unix.ENOENT) {
			err = fmt.Errorf("no PMU (%w): a virtual machine without a virtual PMU has no cycle or instruction counters", err)
		}
		say(ev.name, src, err)
	}
	if fd, err := openSyscallTracepoint(); err == nil {
		c.fd[evSyscalls], c.avail[evSyscalls] = fd, true
		say(runfile.CounterSyscalls, "tracepoint raw_syscalls:sys_enter (perf_event_open), counted in a pass of its own, closed while timing", nil)
	} // else Bench tries a ptrace child and says which
	c.closeInCall()
	if _, err := c.readSteal(); err != nil {
		say(runfile.CounterSteal, "", err)
	} else {
		c.steal = true
		say(runfile.CounterSteal, fmt.Sprintf("/proc/stat cpu%d steal (%d ms resolution)", cpu, 1000/proc.UserHZ), nil)
	}
	var ru unix.Rusage
	say(runfile.CounterPreemptions, "getrusage(RUSAGE_THREAD) ru_nivcsw", unix.Getrusage(unix.RUSAGE_THREAD, &ru))
	return c
}

// openPerf opens a counting perf event on the calling thread. When the
// kernel refuses to count kernel time (perf_event_paranoid 2 without
// CAP_PERFMON), it counts user time only and says so.
func openPerf(typ uint32, config uint64) (int, string, error) {
	attr := unix.PerfEventAttr{Type: typ, Config: config, Size: uint32(unsafe.Sizeof(unix.PerfEventAttr{}))}
	src := "perf software event"
	if typ == unix.PERF_TYPE_HARDWARE {
		src = "perf hardware event"
	}
	fd, err := unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		attr.Bits |= unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv
		fd, err = unix.PerfEventOpen(&attr, 0, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		src += ", user space only (perf_event_paranoid)"
	}
	if err != nil {
		return -1, "", fmt.Errorf("perf_event_open: %w", err)
	}
	return fd, src, nil
}

// errNoTracefs says why the syscall tracepoint could not be used.
var errNoTracefs = errors.New("tracefs not mounted")

// openSyscallTracepoint counts raw_syscalls:sys_enter on the calling
// thread: every syscall entered, whatever its number
// (include/trace/events/syscalls.h). Its id is read from tracefs.
func openSyscallTracepoint() (int, error) {
	var id uint64
	var err error = errNoTracefs
	for _, root := range tracefsRoots {
		var b []byte
		if b, err = os.ReadFile(root + "/events/raw_syscalls/sys_enter/id"); err == nil {
			id, err = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
			break
		}
	}
	if err != nil {
		return -1, fmt.Errorf("%w (%s/events/raw_syscalls/sys_enter/id: %v)", errNoTracefs, tracefsRoots[0], err)
	}
	fd, _, err := openPerf(unix.PERF_TYPE_TRACEPOINT, id)
	return fd, err
}

// openEvent opens event ev again (one of perfEvents, or the tracepoint).
func openEvent(ev int) (int, error) {
	if ev == evSyscalls {
		return openSyscallTracepoint()
	}
	fd, _, err := openPerf(perfEvents[ev].typ, perfEvents[ev].config)
	return fd, err
}

// closeInCall closes the inCall events.
func (c *counters) closeInCall() {
	for ev, fd := range c.fd {
		if inCall[ev] && fd >= 0 {
			unix.Close(fd)
			c.fd[ev] = -1
		}
	}
}

// countInCall runs n calls of op (in native loops of chunk) with the
// inCall events open, and returns what they counted; the events are
// closed again before it returns. Events that could not be opened read 0.
func (c *counters) countInCall(op loopOp, n, chunk int64) runfile.SampleCounts {
	for ev, ok := range c.avail {
		if inCall[ev] && ok {
			if fd, err := openEvent(ev); err == nil {
				c.fd[ev] = fd
			}
		}
	}
	defer c.closeInCall()
	var a, b snapshot
	// The tracepoint innermost, as in a sample: the reads of the others
	// are not the call's syscalls.
	a.perf[evPageFaults], a.perf[evMinorFaults] = c.read(evPageFaults), c.read(evMinorFaults)
	a.perf[evSyscalls] = c.read(evSyscalls)
	op.timed(n, chunk)
	b.perf[evSyscalls] = c.read(evSyscalls)
	b.perf[evPageFaults], b.perf[evMinorFaults] = c.read(evPageFaults), c.read(evMinorFaults)
	d := diff(&a, &b)
	return runfile.SampleCounts{PageFaults: d.PageFaults, MinorFaults: d.MinorFaults, Syscalls: d.Syscalls}
}

// close closes every open counter.
func (c *counters) close() {
	for i, fd := range c.fd {
		if fd >= 0 {
			unix.Close(fd)
			c.fd[i] = -1
		}
	}
}

// read reads one counter; 0 when it is not open or the read fails.
func (c *counters) read(ev int) uint64 {
	fd := c.fd[ev]
	if fd < 0 {
		return 0
	}
	if n, err := unix.Read(fd, c.buf[:]); err != nil || n != 8 {
		return 0
	}
	return binary.NativeEndian.Uint64(c.buf[:])
}

// readSteal is the pinned CPU's steal time, in USER_HZ ticks.
func (c *counters) readSteal() (uint64, error) {
	ts, err := proc.ReadCPUStat("")
	if err != nil {
		return 0, err
	}
	for _, t := range ts {
		if t.CPU == c.cpu {
			return t.Steal, nil
		}
	}
	return 0, fmt.Errorf("/proc/stat has no cpu%d line", c.cpu)
}

// snapshot is every counter at one moment.
type snapshot struct {
	perf   [nEvents]uint64
	steal  uint64 // ticks
	nivcsw int64
}

// take reads everything but the syscall tracepoint, which the caller reads
// last before the loop and first after it, so that these reads are not
// counted as the call's syscalls. Before a sample (before is true) the slow
// reads (/proc/stat, getrusage) come first and the perf counters last;
// after it, the other way round: the page faults a /proc/stat read may
// cause fall outside the sample.
func (c *counters) take(s *snapshot, before bool) {
	if before {
		c.takeSlow(s)
	}
	for ev := range evSyscalls {
		s.perf[ev] = c.read(ev)
	}
	if !before {
		c.takeSlow(s)
	}
}

func (c *counters) takeSlow(s *snapshot) {
	if c.steal {
		s.steal, _ = c.readSteal()
	}
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) == nil {
		s.nivcsw = ru.Nivcsw
	}
}

// diff is what was counted between a and b.
func diff(a, b *snapshot) runfile.SampleCounts {
	d := func(ev int) int64 { return int64(b.perf[ev] - a.perf[ev]) }
	return runfile.SampleCounts{
		StealNs:         int64(b.steal-a.steal) * (1e9 / proc.UserHZ),
		Preemptions:     b.nivcsw - a.nivcsw,
		Migrations:      d(evMigrations),
		PageFaults:      d(evPageFaults),
		MinorFaults:     d(evMinorFaults),
		ContextSwitches: d(evContextSwitches),
		Syscalls:        d(evSyscalls),
		Cycles:          d(evCycles),
		Instructions:    d(evInstructions),
	}
}

// has reports whether the counter of event ev can be read: open around
// the samples, or, for the inCall events, in countInCall's pass.
func (c *counters) has(ev int) bool { return c.avail[ev] }
