package limits

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

var (
	hybrid = FS{Proc: "testdata/hybrid/proc", Root: "testdata/hybrid"}
	v2     = FS{Proc: "testdata/v2/proc", Root: "testdata/v2"}
)

// The hybrid tree is this project's VM's layout: v1 controllers, each its
// own mount, beside an empty cgroup2 mount; the limit is on the innermost
// cgroup, tighter (in room left) than its parent's.
func TestMemoryHybrid(t *testing.T) {
	m, err := hybrid.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if !m.Limited || m.Max != 40<<20 || m.Current != 9<<20 || m.V2 {
		t.Errorf("got %+v, want the 40 MiB v1 limit with 9 MiB used", m)
	}
	if !strings.HasSuffix(m.Source(), "memory/process_api/job/bench/memory.limit_in_bytes") {
		t.Errorf("source %s", m.Source())
	}
	if m.Room() != 31<<20 {
		t.Errorf("room %d", m.Room())
	}
	// An ancestor with less room left is the limit that applies.
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/hybrid")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(dir+"/sys/fs/cgroup/memory/process_api/job/memory.usage_in_bytes", []byte("251658240\n"), 0o644)
	m, err = FS{Proc: dir + "/proc", Root: dir}.Memory()
	if err != nil || m.Room() != 16<<20 || !strings.HasSuffix(m.Dir, "process_api/job") {
		t.Errorf("with the parent nearly full: %+v, %v", m, err)
	}
}

// v2: one mount, memory.max "max" at the parent (no limit), 40 MiB at
// the scope.
func TestMemoryV2(t *testing.T) {
	m, err := v2.Memory()
	if err != nil {
		t.Fatal(err)
	}
	if !m.Limited || m.Max != 40<<20 || m.Current != 12<<20 || !m.V2 {
		t.Errorf("got %+v", m)
	}
	if !strings.HasSuffix(m.Source(), "user.slice/vbench.scope/memory.max") {
		t.Errorf("source %s", m.Source())
	}
}

func TestCPUHybrid(t *testing.T) {
	w, err := hybrid.CPU()
	if err != nil {
		t.Fatal(err)
	}
	if !w.Quota.Limited || w.Quota.Quota != 20*time.Millisecond || w.Quota.Period != 100*time.Millisecond {
		t.Errorf("quota %+v", w.Quota)
	}
	if !strings.Contains(w.Quota.String(), "20% of a CPU") {
		t.Errorf("%s", w.Quota)
	}
	s := w.Read()
	if s.Throttled != 398 || s.Periods != 412 || s.Time != 31745021393 {
		t.Errorf("stat %+v", s)
	}
}

func TestCPUV2(t *testing.T) {
	w, err := v2.CPU()
	if err != nil {
		t.Fatal(err)
	}
	if !w.Quota.Limited || w.Quota.Quota != 20*time.Millisecond {
		t.Errorf("quota %+v", w.Quota)
	}
	if s := w.Read(); s.Throttled != 97 || s.Time != 7806213*time.Microsecond {
		t.Errorf("stat %+v", s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"cgroup", func() error { _, err := ParseCgroup([]byte("4:memory\n")); return err }()},
		{"mountinfo", func() error { _, err := ParseMountinfo([]byte("35 31 0:32 / /x rw - cgroup\n")); return err }()},
		{"cpu.stat", func() error { _, _, err := ParseCPUStat([]byte("nr_throttled lots\n")); return err }()},
		{"cpu.max", func() error { _, err := ParseCPUMax([]byte("20000\n")); return err }()},
		{"status", func() error { _, err := ParseStatus([]byte("Name: x\n")); return err }()},
	} {
		if !errors.Is(tc.err, ErrParse) {
			t.Errorf("%s: %v does not wrap ErrParse", tc.name, tc.err)
		}
	}
	if _, err := (FS{Proc: "testdata/none", Root: "testdata/none"}).CgroupOf("memory"); !errors.Is(err, ErrNoCgroup) {
		t.Errorf("no /proc/self/cgroup: %v", err)
	}
	if m, err := (FS{Proc: "testdata/none", Root: "testdata/none"}).Memory(); err != nil || m.Limited {
		t.Errorf("no cgroup is no limit: %+v, %v", m, err)
	}
}

func TestParseStatus(t *testing.T) {
	b, err := os.ReadFile("testdata/status")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	if s.VmSize != 3060<<10 || s.VmData != 360<<10 || s.Threads != 1 {
		t.Errorf("%+v", s)
	}
}

func TestMountinfoEscapes(t *testing.T) {
	m, err := ParseMountinfo([]byte(`50 31 0:40 /a\040b /sys/fs/cgroup/my\040mem rw - cgroup cgroup rw,memory,nsroot=/` + "\n"))
	if err != nil || len(m) != 1 || m[0].MountPoint != "/sys/fs/cgroup/my mem" || m[0].Root != "/a b" || len(m[0].Controllers) != 1 {
		t.Errorf("%+v %v", m, err)
	}
}

// TestLive reads this machine: whatever it has, no error.
func TestLive(t *testing.T) {
	m, err := Live.Memory()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("memory: %+v", m)
	w, err := Live.CPU()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cpu: %s, %d levels, %+v", w.Quota, len(w.levels), w.Read())
	t.Logf("room: %+v", Live.Room())
	t.Logf("rlimits: %+v", ReadRlimits())
}

func TestUserTasks(t *testing.T) {
	fs := FS{Proc: "testdata/tasks/proc", Root: "testdata/tasks"}
	if n, err := fs.UserTasks(65534); err != nil || n != 6 {
		t.Errorf("UserTasks(65534) = %d, %v; want 6 (bash 1 + vbench 5; self is not a pid)", n, err)
	}
	if n, _ := fs.UserTasks(0); n != 1 {
		t.Errorf("UserTasks(0) = %d", n)
	}
	if fs.Privileged() {
		t.Error("CapEff 0 is not privileged")
	}
	if n, err := Live.OpenFiles(); err != nil || n < 3 {
		t.Logf("open files: %d, %v", n, err)
	}
}
