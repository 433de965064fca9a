package limits

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// v1NoLimit: cgroup v1 reports "no limit" as the largest page-aligned
// signed 64-bit value (PAGE_COUNTER_MAX pages); anything this large is no
// limit.
const v1NoLimit = 1 << 62

// CgroupMemory is the memory limit of this process's cgroup: the level
// (the cgroup itself or an ancestor) with the least room left.
type CgroupMemory struct {
	Limited bool
	Max     uint64 // that level's limit, bytes
	Current uint64 // that level's usage, bytes
	Dir     string // that level's directory
	V2      bool
}

// Room is what is left below the limit (0 when at or over it).
func (m CgroupMemory) Room() uint64 {
	if m.Current >= m.Max {
		return 0
	}
	return m.Max - m.Current
}

// Source names the files the figure came from.
func (m CgroupMemory) Source() string {
	if m.V2 {
		return filepath.Join(m.Dir, "memory.max")
	}
	return filepath.Join(m.Dir, "memory.limit_in_bytes")
}

// Memory reads the memory limit that applies to this process's cgroup.
// No memory controller is not an error: Limited is false.
func (fs FS) Memory() (CgroupMemory, error) {
	cg, err := fs.CgroupOf("memory")
	if errors.Is(err, ErrNoCgroup) {
		return CgroupMemory{}, nil
	}
	if err != nil {
		return CgroupMemory{}, err
	}
	maxName, curName := "memory.limit_in_bytes", "memory.usage_in_bytes"
	if cg.V2 {
		maxName, curName = "memory.max", "memory.current"
	}
	var best CgroupMemory
	for _, d := range cg.levels() {
		max, limited, err := readUint(filepath.Join(d, maxName))
		if errors.Is(err, fsErrNotExist) {
			continue // the v2 root has no memory.max
		}
		if err != nil {
			return CgroupMemory{}, err
		}
		if !limited || max >= v1NoLimit {
			continue
		}
		cur, _, err := readUint(filepath.Join(d, curName))
		if err != nil {
			return CgroupMemory{}, err
		}
		m := CgroupMemory{Limited: true, Max: max, Current: cur, Dir: d, V2: cg.V2}
		if !best.Limited || m.Room() < best.Room() {
			best = m
		}
	}
	return best, nil
}

var fsErrNotExist = fs.ErrNotExist

// Rlimit is one resource limit: Cur, or unlimited.
type Rlimit struct {
	Unlimited bool
	Cur       uint64
}

func getrlimit(res int) (Rlimit, error) {
	var r unix.Rlimit
	if err := unix.Getrlimit(res, &r); err != nil {
		return Rlimit{}, err
	}
	if r.Cur == unix.RLIM_INFINITY || r.Cur == math.MaxUint64 {
		return Rlimit{Unlimited: true}, nil
	}
	return Rlimit{Cur: r.Cur}, nil
}

// Status is what /proc/PID/status says of the process's use of them.
type Status struct {
	VmSize, VmData uint64 // bytes
	Threads        int
}

// ParseStatus reads VmSize, VmData (in kB there) and Threads from the
// contents of /proc/PID/status.
func ParseStatus(b []byte) (Status, error) {
	var s Status
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		switch k {
		case "VmSize", "VmData", "Threads":
			if err != nil {
				return Status{}, fmt.Errorf("status %s %q: %w", k, v, ErrParse)
			}
			seen++
		}
		switch k {
		case "VmSize":
			s.VmSize = n << 10
		case "VmData":
			s.VmData = n << 10
		case "Threads":
			s.Threads = int(n)
		}
	}
	if seen < 3 {
		return Status{}, fmt.Errorf("status: %w: VmSize, VmData or Threads missing", ErrParse)
	}
	return s, sc.Err()
}

// Status reads /proc/self/status.
func (fs FS) Status() (Status, error) {
	b, err := os.ReadFile(fs.proc("self", "status"))
	if err != nil {
		return Status{}, err
	}
	return ParseStatus(b)
}

// MemoryRoom is how many more bytes this process may allocate before a
// limit stops it, and which limit that is.
type MemoryRoom struct {
	Limited bool
	Bytes   uint64
	// Limit names it, e.g. "the cgroup's memory limit of 40 MiB
	// (/sys/fs/cgroup/memory/x/memory.limit_in_bytes)"; Used says what is
	// in use of it, e.g. "3.7 MiB in use".
	Limit, Used string
	Rlimit      bool // RLIMIT_AS or RLIMIT_DATA, not the cgroup
}

// Room finds the tightest of the cgroup's memory limit (what is left of
// it), RLIMIT_AS (less VmSize) and RLIMIT_DATA (less VmData). Limits
// that cannot be read are left out.
func (fs FS) Room() MemoryRoom {
	var best MemoryRoom
	consider := func(r MemoryRoom) {
		if !best.Limited || r.Bytes < best.Bytes {
			r.Limited = true
			best = r
		}
	}
	if m, err := fs.Memory(); err == nil && m.Limited {
		consider(MemoryRoom{Bytes: m.Room(), Limit: fmt.Sprintf("the cgroup's memory limit of %s (%s)", MiB(m.Max), m.Source()), Used: MiB(m.Current) + " in use"})
	}
	st, stErr := fs.Status()
	for _, l := range []struct {
		res  int
		name string
		used func() uint64
		what string
	}{
		{unix.RLIMIT_AS, "RLIMIT_AS", func() uint64 { return st.VmSize }, "address space"},
		{unix.RLIMIT_DATA, "RLIMIT_DATA", func() uint64 { return st.VmData }, "data segment"},
	} {
		r, err := getrlimit(l.res)
		if err != nil || r.Unlimited || stErr != nil {
			continue
		}
		used := l.used()
		room := uint64(0)
		if r.Cur > used {
			room = r.Cur - used
		}
		consider(MemoryRoom{Bytes: room, Limit: fmt.Sprintf("%s of %s", l.name, MiB(r.Cur)), Used: fmt.Sprintf("%s of %s in use", MiB(used), l.what), Rlimit: true})
	}
	return best
}

// MiB formats bytes as "40 MiB" (one decimal below 10).
func MiB(b uint64) string {
	m := float64(b) / (1 << 20)
	if m < 10 {
		return strconv.FormatFloat(m, 'f', 1, 64) + " MiB"
	}
	return strconv.FormatFloat(m, 'f', 0, 64) + " MiB"
}

// ReadCurrent reads the usage of the level m came from again.
func (m CgroupMemory) ReadCurrent() (uint64, error) {
	name := "memory.usage_in_bytes"
	if m.V2 {
		name = "memory.current"
	}
	v, _, err := readUint(filepath.Join(m.Dir, name))
	return v, err
}
