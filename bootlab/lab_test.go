package bootlab

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/runfile"
)

// namedKernel writes a fake bzImage (fakeKernel) as dir/name.
func namedKernel(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.Rename(fakeKernel(t), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLabValidate: each setting that cannot work is a *field.Error naming
// its field, before anything boots.
func TestLabValidate(t *testing.T) {
	dir := t.TempDir()
	k := namedKernel(t, dir, "vmlinuz-6.1.0-50-cloud-amd64")
	good := Lab{Kernels: []string{k}, Timeout: time.Minute, Out: filepath.Join(dir, "out")}
	if err := good.Validate(); err != nil {
		t.Fatalf("a good lab: %v", err)
	}
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte(strings.Repeat("x", 4096)), 0o644)
	for _, c := range []struct {
		field string
		edit  func(*Lab)
		want  string
	}{
		{"Kernels", func(l *Lab) { l.Kernels = nil }, "no kernel given"},
		{"Kernels", func(l *Lab) { l.Kernels = []string{notes} }, "not a kernel image"},
		{"Kernels", func(l *Lab) { l.Kernels = []string{k, k} }, "would both be filed"},
		{"Modes", func(l *Lab) { l.Modes = "xonly,sometimes" }, `unknown mode "sometimes"`},
		{"Timeout", func(l *Lab) { l.Timeout = 0 }, "must be positive"},
		{"Accel", func(l *Lab) { l.Accel = "hvf" }, "hvf"},
		{"Parallel", func(l *Lab) { l.Parallel = -1 }, "want 1 to"},
		{"Parallel", func(l *Lab) { l.Parallel = MaxParallel + 1 }, "want 1 to"},
		{"Inits", func(l *Lab) { l.Inits = []string{notes} }, "notes.txt"},
		{"Out", func(l *Lab) { l.Out = "" }, "empty output directory"},
		{"Out", func(l *Lab) { l.Out = filepath.Join(notes, "x") }, "not a directory"},
	} {
		l := good
		l.Kernels = append([]string(nil), good.Kernels...)
		c.edit(&l)
		err := l.Validate()
		var fe *field.Error
		if !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s (%q): got %v, want a field.Error %s saying %q", c.field, c.want, err, c.field, c.want)
		}
	}
	// A timeline ignores Modes: every kernel boots once, by default.
	tl := good
	tl.Timeline, tl.Modes = true, "nonsense"
	if p, err := tl.plan(); err != nil || len(p.modes) != 1 || p.modes[0] != DefaultMode {
		t.Errorf("timeline plan: %v %v", p, err)
	}
}

// TestLabRunStopsBeforeBooting: a QEMU that is not there is a field.Error
// for QEMU, and a kernel of an architecture without an /init one for
// Inits, with nothing written.
func TestLabRunStopsBeforeBooting(t *testing.T) {
	dir := t.TempDir()
	k := namedKernel(t, dir, "vmlinuz-x")
	out := filepath.Join(dir, "out")
	l := Lab{Kernels: []string{k}, Timeout: time.Minute, Out: out, QEMU: filepath.Join(dir, "no-qemu")}
	_, err := l.Run(t.Context())
	var fe *field.Error
	if !errors.As(err, &fe) || fe.Field != "QEMU" {
		t.Errorf("missing QEMU: %v", err)
	}
	l.QEMU = "/bin/true"
	_, err = l.Run(t.Context())
	if !errors.As(err, &fe) || fe.Field != "Inits" {
		t.Errorf("no /init: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output directory made before anything could boot: %v", err)
	}
}

func TestDefaultParallel(t *testing.T) {
	for _, c := range []struct {
		cpus  int
		avail uint64
		want  int
	}{
		{2, 1 << 40, 2},       // plenty of memory: the CPUs decide
		{8, 3 * 712 << 20, 1}, // half of it holds one 512 MB guest and QEMU's 200
		{8, 700 << 20, 1},     // none fits: still one
		{8, 0, 8},             // unknown memory: the CPUs
		{0, 0, 1},
	} {
		if n := DefaultParallel(c.cpus, c.avail, 512); n != c.want {
			t.Errorf("%d CPUs, %d MiB available: %d guests, want %d", c.cpus, c.avail>>20, n, c.want)
		}
	}
}

func TestCachedKernel(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{
		"linux-image-6.1.0-47-cloud-amd64/boot/vmlinuz-6.1.0-47-cloud-amd64",
		"linux-image-6.1.0-50-cloud-amd64/boot/vmlinuz-6.1.0-50-cloud-amd64",
		"linux-image-6.12.9+deb13-cloud-amd64/boot/vmlinuz-6.12.9+deb13-cloud-amd64",
		"linux-image-6.12.117+deb13-cloud-amd64/boot/vmlinuz-6.12.117+deb13-cloud-amd64",
		"linux-image-6.12.117+deb13-cloud-arm64/boot/vmlinuz-6.12.117+deb13-cloud-arm64",
	} {
		p = filepath.Join(dir, "kernel", p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	x86, arm := archByGOARCH("amd64"), archByGOARCH("arm64")
	for _, c := range []struct {
		series string
		a      *Arch
		want   string
	}{
		{"6.1", x86, "vmlinuz-6.1.0-50-cloud-amd64"},        // not 6.12's
		{"6.12", x86, "vmlinuz-6.12.117+deb13-cloud-amd64"}, // 117 after 9: version order
		{"6.12", arm, "vmlinuz-6.12.117+deb13-cloud-arm64"},
	} {
		got, err := CachedKernel(dir, c.series, c.a)
		if err != nil || filepath.Base(got) != c.want {
			t.Errorf("%s %s: %s %v, want %s", c.series, c.a.GOARCH, got, err, c.want)
		}
	}
	if _, err := CachedKernel(dir, "7.3", arm); err == nil || !strings.Contains(err.Error(), ".ci/fetch-kernel 7.3/arm64") {
		t.Errorf("missing series: %v, want the command that fetches it", err)
	}
}

// timelineRun is a guest's run with what the timeline table reads.
func timelineRun(machine, version string, layout []runfile.Mapping, place string, bits, lo, hi float64, getrandom bool) *runfile.Run {
	n := 2000
	a := &runfile.ASLR{Samples: n, Regions: []runfile.Region{
		{Name: "vdso", Present: n, Distinct: n, Effective: bits, EffectiveLo: lo, EffectiveHi: hi},
		{Name: "mmap", Present: n, Distinct: n}, {Name: "stack", Present: n, Distinct: n}}}
	switch place {
	case "mmap":
		a.Pairs = []runfile.Pair{{A: "vdso", B: "mmap", DistinctDiffs: 1, Offset: 0x2000}, {A: "vdso", B: "stack", DistinctDiffs: n, MinDiff: -1 << 40, MaxDiff: 1 << 40}}
	case "stack":
		a.Pairs = []runfile.Pair{{A: "vdso", B: "mmap", DistinctDiffs: n, MinDiff: -1 << 40, MaxDiff: 1 << 40}, {A: "vdso", B: "stack", DistinctDiffs: 300, MinDiff: -2 << 20, MaxDiff: -150 << 10}}
	}
	gr := runfile.Cell{Function: "getrandom", Path: "vdso"}
	if !getrandom {
		gr.Unavailable = "no vDSO symbol __vdso_getrandom"
	}
	return &runfile.Run{Env: runfile.Env{Machine: machine, KernelVersion: version, VsyscallMode: "none"},
		Boot: &runfile.Boot{Accel: "tcg", Layout: layout}, ASLR: a, Bench: &runfile.Bench{Cells: []runfile.Cell{gr}}}
}

var (
	old = []runfile.Mapping{{Name: "[vvar]", Start: 0x7ffc0000, Size: 16 << 10}, {Name: "[vdso]", Start: 0x7ffc4000, Size: 8 << 10}}
	cur = []runfile.Mapping{{Name: "[vvar]", Start: 0x7f000000, Size: 16 << 10}, {Name: "[vvar_vclock]", Start: 0x7f004000, Size: 8 << 10},
		{Name: "[vdso]", Start: 0x7f006000, Size: 8 << 10}}
)

// TestWriteTimelineMarkdown: rows per architecture in version order (not
// the order booted), the cells that differ from the row above in bold, a
// timed-out boot a row saying so with its console's last line.
func TestWriteTimelineMarkdown(t *testing.T) {
	x86, arm := archByGOARCH("amd64"), archByGOARCH("arm64")
	boots := []Result{
		{Kernel: "7.3.4+deb13-cloud-amd64", Arch: x86, Mode: DefaultMode, Seconds: 30, Run: timelineRun("x86_64", "#1 SMP Debian 7.3.4-1~bpo13+1", cur, "mmap", 28, 22.5, 28, true)},
		{Kernel: "6.16.12+deb13-cloud-amd64", Arch: x86, Mode: DefaultMode, Seconds: 90, Err: errors.New("boot timed out after 1m30s (killed)"),
			Console: []byte("[    0.0] Linux version 6.16\r\n\x1b[2J[   80.1] rcu: INFO: rcu_preempt self-detected stall on CPU\n\n")},
		{Kernel: "6.12.117+deb13-cloud-amd64", Arch: x86, Mode: DefaultMode, Seconds: 31, Run: timelineRun("x86_64", "#1 SMP Debian 6.12.117-1", old, "mmap", 28, 22.5, 28, true)},
		{Kernel: "6.1.0-50-cloud-amd64", Arch: x86, Mode: DefaultMode, Seconds: 29, Run: timelineRun("x86_64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1", old, "stack", 21.4, 20.3, 21.4, false)},
		{Kernel: "6.1.0-50-cloud-arm64", Arch: arm, Mode: DefaultMode, Seconds: 60, Run: timelineRun("aarch64", "#1 SMP Debian 6.1.176-1", old, "mmap", 18, 17.6, 18, false)},
	}
	boots[1].Err = errors.Join(ErrTimeout, boots[1].Err)
	rows := timelineRows(boots)
	var got []string
	for _, r := range rows {
		got = append(got, r.Arch.GOARCH+" "+r.Version)
	}
	if want := "amd64 6.1.176,amd64 6.12.117,amd64 6.16.12,amd64 7.3.4,arm64 6.1.176"; strings.Join(got, ",") != want {
		t.Fatalf("rows %v, want %s", got, want)
	}
	var b strings.Builder
	WriteTimelineMarkdown(&b, rows, TimelineColumns)
	s := b.String()
	for _, w := range []string{
		"### x86_64\n", "### aarch64\n",
		"| 6.1.176 (`6.1.0-50-cloud-amd64`) | none | vvar 16K, vdso 8K | next to the stack | 21.4 [20.3, 21.4] (2000 samples) | no | - | 29.0 |",
		// 6.12 against 6.1: the vDSO moved, its bits' intervals are
		// disjoint, getrandom appeared; the layout is the same.
		"| 6.12.117 (`6.12.117+deb13-cloud-amd64`) | none | vvar 16K, vdso 8K | **in the mmap region** | **28.0 [22.5, 28.0] (2000 samples)** | **yes** | - | 31.0 |",
		"| 6.16.12 (`6.16.12+deb13-cloud-amd64`) | timed out | last console line: [   80.1] rcu: INFO: rcu_preempt self-detected stall on CPU |",
		// 7.3 is compared with 6.12, the row with a result above it.
		"| 7.3.4 (`7.3.4+deb13-cloud-amd64`) | none | **vvar 16K, vvar_vclock 8K, vdso 8K** | in the mmap region | 28.0 [22.5, 28.0] (2000 samples) | yes | - | 30.0 |",
		// The first row of an architecture has nothing above it.
		"| 6.1.176 (`6.1.0-50-cloud-arm64`) | none | vvar 16K, vdso 8K | in the mmap region | 18.0 [17.6, 18.0] (2000 samples) | no | - | 60.0 |",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("timeline lacks\n%s\nin:\n%s", w, s)
		}
	}
	if n := strings.Count(s, "\n| "); n != 2*1+5 {
		t.Errorf("%d table lines (heads and rows), want 7:\n%s", n, s)
	}
}

func TestLayoutCell(t *testing.T) {
	if c := layoutCell(&runfile.Boot{Layout: append(cur, runfile.Mapping{Name: "[vsyscall]", Start: 0xffffffffff600000, Size: 4096})}); c != "vvar 16K, vvar_vclock 8K, vdso 8K" {
		t.Errorf("cell %q", c)
	}
	if c := layoutCell(&runfile.Boot{}); c != "-" {
		t.Errorf("no layout: %q", c)
	}
}

// TestVDSOGetrandom: a bench cut short before getrandom's cell leaves the
// answer to verify's checks.
func TestVDSOGetrandom(t *testing.T) {
	cut := &runfile.Bench{Cells: []runfile.Cell{{Function: "getrandom", Path: "vdso", Unavailable: "not measured: interrupted"}}}
	has := &runfile.Verify{Checks: []runfile.Check{{Name: "getrandom via vdso: 32 fresh random bytes per call", Status: runfile.StatusPass}}}
	lacks := &runfile.Verify{Checks: []runfile.Check{{Name: "getrandom via vdso", Status: runfile.StatusSkip}}}
	for _, c := range []struct {
		r    *runfile.Run
		want string
	}{
		{&runfile.Run{Bench: cut, Verify: has}, "yes"},
		{&runfile.Run{Bench: cut, Verify: lacks}, "no"},
		{&runfile.Run{Bench: cut}, "-"},
		{&runfile.Run{Bench: &runfile.Bench{Cells: []runfile.Cell{{Function: "getrandom", Path: "vdso"}}}, Verify: lacks}, "yes"},
	} {
		if got := vdsoGetrandom(c.r); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}
