package limits

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CPUStat is the throttling a CPU quota imposed on a cgroup (cpu.stat).
type CPUStat struct {
	Periods   uint64        // nr_periods: enforcement periods with runnable tasks
	Throttled uint64        // nr_throttled: periods in which the quota ran out
	Time      time.Duration // throttled_usec (v2) or throttled_time (v1, ns)
}

// ParseCPUStat parses cpu.stat, v2 (throttled_usec) or v1 (throttled_time
// in ns). A cgroup v2 cpu.stat without the cpu controller enabled has no
// nr_throttled line: ok is false.
func ParseCPUStat(b []byte) (s CPUStat, ok bool, err error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return CPUStat{}, false, fmt.Errorf("cpu.stat %s %q: %w", f[0], f[1], ErrParse)
		}
		switch f[0] {
		case "nr_periods":
			s.Periods = v
		case "nr_throttled":
			s.Throttled, ok = v, true
		case "throttled_usec":
			s.Time = time.Duration(v) * time.Microsecond
		case "throttled_time":
			s.Time = time.Duration(v)
		}
	}
	return s, ok, sc.Err()
}

// Quota is a CPU bandwidth limit: Quota of every Period, or none.
type Quota struct {
	Limited       bool
	Quota, Period time.Duration
	Dir           string
}

// String is e.g. "20000/100000 us (20% of a CPU) in /sys/fs/cgroup/x".
func (q Quota) String() string {
	if !q.Limited {
		return "no CPU quota"
	}
	return fmt.Sprintf("CPU quota %d/%d us (%.0f%% of a CPU) in %s", q.Quota.Microseconds(), q.Period.Microseconds(), 100*float64(q.Quota)/float64(q.Period), q.Dir)
}

// CPUWatch follows the throttling of this process's cgroup and its
// ancestors (a quota anywhere above throttles it too).
type CPUWatch struct {
	levels []string
	Quota  Quota // the tightest quota found, as a share of a CPU
}

// CPU finds the cpu cgroup and its quota. No cpu controller is no error:
// Read then says nothing was throttled.
func (fs FS) CPU() (*CPUWatch, error) {
	cg, err := fs.CgroupOf("cpu")
	if errors.Is(err, ErrNoCgroup) {
		return &CPUWatch{}, nil
	}
	if err != nil {
		return nil, err
	}
	w := &CPUWatch{}
	for _, d := range cg.levels() {
		if _, err := os.Stat(filepath.Join(d, "cpu.stat")); err == nil {
			w.levels = append(w.levels, d)
		}
		q, err := readQuota(d, cg.V2)
		if err == nil && q.Limited && (!w.Quota.Limited || float64(q.Quota)/float64(q.Period) < float64(w.Quota.Quota)/float64(w.Quota.Period)) {
			w.Quota = q
		}
	}
	return w, nil
}

// ParseCPUMax parses v2 cpu.max: "QUOTA PERIOD" in us, QUOTA "max" for
// none.
func ParseCPUMax(b []byte) (Quota, error) {
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return Quota{}, fmt.Errorf("cpu.max %q: %w: want QUOTA PERIOD", strings.TrimSpace(string(b)), ErrParse)
	}
	period, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil || period == 0 {
		return Quota{}, fmt.Errorf("cpu.max period %q: %w", f[1], ErrParse)
	}
	if f[0] == "max" {
		return Quota{}, nil
	}
	quota, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return Quota{}, fmt.Errorf("cpu.max quota %q: %w", f[0], ErrParse)
	}
	return Quota{Limited: true, Quota: time.Duration(quota) * time.Microsecond, Period: time.Duration(period) * time.Microsecond}, nil
}

func readQuota(dir string, v2 bool) (Quota, error) {
	if v2 {
		b, err := os.ReadFile(filepath.Join(dir, "cpu.max"))
		if err != nil {
			return Quota{}, err
		}
		q, err := ParseCPUMax(b)
		q.Dir = dir
		return q, err
	}
	// v1: cpu.cfs_quota_us is -1 for none.
	b, err := os.ReadFile(filepath.Join(dir, "cpu.cfs_quota_us"))
	if err != nil {
		return Quota{}, err
	}
	quota, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return Quota{}, fmt.Errorf("cpu.cfs_quota_us: %w", ErrParse)
	}
	if quota < 0 {
		return Quota{Dir: dir}, nil
	}
	period, ok, err := readUint(filepath.Join(dir, "cpu.cfs_period_us"))
	if err != nil || !ok || period == 0 {
		return Quota{}, fmt.Errorf("cpu.cfs_period_us: %w", ErrParse)
	}
	return Quota{Limited: true, Quota: time.Duration(quota) * time.Microsecond, Period: time.Duration(period) * time.Microsecond, Dir: dir}, nil
}

// Read sums the throttling counters over the levels (0 without a cpu
// controller). Compare two reads: a sample taken between them was
// throttled if Throttled grew.
func (w *CPUWatch) Read() CPUStat {
	var sum CPUStat
	if w == nil {
		return sum
	}
	for _, d := range w.levels {
		b, err := os.ReadFile(filepath.Join(d, "cpu.stat"))
		if err != nil {
			continue
		}
		s, ok, err := ParseCPUStat(b)
		if err != nil || !ok {
			continue
		}
		sum.Periods += s.Periods
		sum.Throttled += s.Throttled
		sum.Time += s.Time
	}
	return sum
}

// Active reports whether there is anything to watch.
func (w *CPUWatch) Active() bool { return w != nil && len(w.levels) > 0 }
