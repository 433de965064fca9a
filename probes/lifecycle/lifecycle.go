package lifecycle

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/proc"
	"github.com/vbench-dev/vbench/runfile"
)

// Check names, in the order Run reports them.
const (
	CheckMremap  = "mremap"
	CheckMap     = "arch_prctl map"
	checkEEXIST  = "EEXIST " // + the region left mapped, e.g. "EEXIST [vvar] left"
	CheckFaults  = "fault injection"
	statusPass   = runfile.StatusPass
	statusFail   = runfile.StatusFail
	statusSkip   = runfile.StatusSkip
	defaultMax   = 64
	debugfsMount = "/sys/kernel/debug"
)

// vdsoNames are the vDSO's mappings as /proc/PID/maps names them: [vvar]
// and [vdso] always, [vvar_vclock] since 6.13 ("x86/vdso: Split virtual
// clock pages into dedicated mapping").
var vdsoNames = map[string]bool{"[vvar]": true, "[vvar_vclock]": true, "[vdso]": true}

// Config says how the checks run.
type Config struct {
	// MaxPoints bounds the fault-injection enumeration; 0 means 64.
	MaxPoints int
	// DebugFS is where debugfs is (or is mounted); "" means
	// /sys/kernel/debug.
	DebugFS string
	// MountDebugFS lets the fault-injection check mount debugfs at DebugFS
	// when it is not mounted there (a guest's /init does; on a host vbench
	// does not change the mounts and the check says how to mount it).
	MountDebugFS bool
}

// Run runs every check, each in a fresh traced child, and returns the
// verdicts. It never fails as a whole: what cannot run is a skip with its
// reason.
func Run(cfg Config) *runfile.Lifecycle {
	start := time.Now()
	out := &runfile.Lifecycle{}
	onThread(func() { run(cfg, out) })
	out.Seconds = time.Since(start).Seconds()
	return out
}

type runner struct {
	cfg    Config
	out    *runfile.Lifecycle
	prog   *program
	fnOff  uint64 // clock_gettime's offset in [vdso]
	layout []proc.Mapping
}

func (r *runner) add(name string, status runfile.Status, detail string) {
	r.out.Checks = append(r.out.Checks, runfile.Check{Name: name, Status: status, Detail: detail})
}

func (r *runner) skipAll(why string) {
	r.add(CheckMremap, statusSkip, why)
	r.add(CheckMap, statusSkip, why)
	r.add(CheckFaults, statusSkip, why)
}

func run(cfg Config, out *runfile.Lifecycle) {
	if cfg.MaxPoints <= 0 {
		cfg.MaxPoints = defaultMax
	}
	if cfg.DebugFS == "" {
		cfg.DebugFS = debugfsMount
	}
	r := &runner{cfg: cfg, out: out}
	if err := r.lookup(); err != nil {
		r.skipAll(err.Error())
		return
	}
	var err error
	if r.prog, err = newProgram(); err != nil {
		r.skipAll(err.Error())
		return
	}
	defer r.prog.close()

	t, err := spawn(r.prog)
	if err != nil {
		r.skipAll(err.Error())
		return
	}
	ms, err := t.maps()
	if err != nil {
		t.kill()
		r.skipAll(fmt.Sprintf("reading the child's maps: %v", err))
		return
	}
	r.layout = vdsoRegions(ms)
	t.vdso = r.layout
	if _, ok := find(r.layout, "[vdso]"); !ok {
		t.kill()
		r.skipAll("the child has no [vdso] mapping (vdso=0 on the command line?)")
		return
	}
	base := r.layout[0].Start
	for _, m := range r.layout {
		out.Layout = append(out.Layout, runfile.LifecycleRegion{Name: m.Path, Start: m.Start - base, Size: m.Size()})
	}
	r.mremap(t)
	t.kill()

	if !hasMapVDSO {
		why := fmt.Sprintf("%s has no ARCH_MAP_VDSO (arch_prctl is x86-only)", runtime.GOARCH)
		r.add(CheckMap, statusSkip, why)
		r.add(CheckFaults, statusSkip, why)
		return
	}
	if !r.mapChecks() {
		r.add(CheckFaults, statusSkip, "arch_prctl(ARCH_MAP_VDSO_64) did not work (see "+CheckMap+")")
		return
	}
	r.faults()
}

// lookup finds clock_gettime's offset in vbench's own vDSO: the child's
// is the same image (one vdso_image_64 per kernel).
func (r *runner) lookup() error {
	im, err := vdso.Open()
	if err != nil {
		return fmt.Errorf("no vDSO to check: %w", err)
	}
	fn, ok := im.Lookup(vdso.ClockGettime)
	if !ok {
		return fmt.Errorf("the vDSO exports no %s", vdso.ClockGettime)
	}
	r.fnOff = uint64(fn - im.Base)
	return nil
}

// child spawns a fresh child and reads its own vDSO mappings (each child
// has its own, randomized addresses).
func (r *runner) child() (*tracee, error) {
	t, err := spawn(r.prog)
	if err != nil {
		return nil, err
	}
	ms, err := t.maps()
	if err != nil {
		t.kill()
		return nil, fmt.Errorf("reading the child's maps: %w", err)
	}
	t.vdso = vdsoRegions(ms)
	if len(t.vdso) != len(r.layout) {
		t.kill()
		return nil, fmt.Errorf("a child has %d vDSO mappings (%s), the first had %d", len(t.vdso), describe(t.vdso), len(r.layout))
	}
	return t, nil
}

// vdsoRegions are the vDSO's mappings in ms, lowest first.
func vdsoRegions(ms proc.Maps) []proc.Mapping {
	var out []proc.Mapping
	for _, m := range ms {
		if vdsoNames[m.Path] {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

func find(ms []proc.Mapping, name string) (proc.Mapping, bool) {
	for _, m := range ms {
		if m.Path == name {
			return m, true
		}
	}
	return proc.Mapping{}, false
}

func span(ms []proc.Mapping) uint64 { return ms[len(ms)-1].End - ms[0].Start }

// describe is "[vvar] 0x7f..000 16 KiB, ...".
func describe(ms []proc.Mapping) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s at %#x (%d KiB)", m.Path, m.Start, m.Size()>>10))
	}
	return strings.Join(parts, ", ")
}

func toRegions(ms []proc.Mapping) []runfile.LifecycleRegion {
	var out []runfile.LifecycleRegion
	for _, m := range ms {
		out = append(out, runfile.LifecycleRegion{Name: m.Path, Start: m.Start, Size: m.Size()})
	}
	return out
}

// sealedWhy explains an EPERM from munmap or mremap of a system mapping.
const sealedWhy = "the kernel seals its system mappings (CONFIG_MSEAL_SYSTEM_MAPPINGS): %s of %s is EPERM"

// atLayout checks that the child's vDSO mappings are the exec layout moved
// to base: the same names, sizes and offsets.
func (r *runner) atLayout(ms []proc.Mapping, base uint64) error {
	got := ms
	if len(got) != len(r.layout) {
		return fmt.Errorf("%d vDSO mappings (%s), the exec layout has %d (%s)", len(got), describe(got), len(r.layout), describe(r.layout))
	}
	for i, want := range r.layout {
		w := base + want.Start - r.layout[0].Start
		if got[i].Path != want.Path || got[i].Start != w || got[i].Size() != want.Size() {
			return fmt.Errorf("%s at %#x (%d KiB), expected %s at %#x (%d KiB) as at exec", got[i].Path, got[i].Start, got[i].Size()>>10, want.Path, w, want.Size()>>10)
		}
	}
	return nil
}

// mremap moves every vDSO mapping by the same distance, keeping their
// offsets (the vDSO's code finds its data pages at a fixed offset from
// itself), into a free range the child reserved, then calls clock_gettime
// through the moved vDSO (tools/testing/selftests/x86/test_mremap_vdso.c
// moves [vdso] and checks the process still runs; here the call's result
// is checked too).
func (r *runner) mremap(t *tracee) {
	total := span(r.layout)
	res, err := t.chain(call(unix.SYS_MMAP, 0, total, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0))
	if err != nil {
		r.add(CheckMremap, statusFail, err.Error())
		return
	}
	if e := errnoOf(res[0]); e != 0 {
		r.add(CheckMremap, statusFail, "mmap of a destination: "+errnoName(e))
		return
	}
	dst := uint64(res[0])
	var calls []sc
	for _, m := range t.vdso {
		calls = append(calls, call(unix.SYS_MREMAP, m.Start, m.Size(), m.Size(), unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, dst+m.Start-t.vdso[0].Start))
	}
	res, err = t.chain(calls...)
	if err != nil {
		r.add(CheckMremap, statusFail, err.Error())
		return
	}
	for i, v := range res {
		e := errnoOf(v)
		switch {
		case e == unix.EPERM:
			r.add(CheckMremap, statusSkip, fmt.Sprintf(sealedWhy, "mremap", t.vdso[i].Path))
			return
		case e != 0:
			r.add(CheckMremap, statusFail, fmt.Sprintf("mremap of %s: %s", t.vdso[i].Path, errnoName(e)))
			return
		}
	}
	ms, err := t.maps()
	if err != nil {
		r.add(CheckMremap, statusFail, err.Error())
		return
	}
	if err := r.atLayout(vdsoRegions(ms), dst); err != nil {
		r.add(CheckMremap, statusFail, "after mremap: "+err.Error())
		return
	}
	vd, _ := find(vdsoRegions(ms), "[vdso]")
	detail, err := r.agree(t, vd.Start)
	if err != nil {
		r.add(CheckMremap, statusFail, "moved to "+hex(dst)+": "+err.Error())
		return
	}
	r.add(CheckMremap, statusPass, fmt.Sprintf("%d mappings moved by %+#x to %s; %s", len(t.vdso), int64(dst-t.vdso[0].Start), hex(dst), detail))
}

func hex(a uint64) string { return "0x" + strconv.FormatUint(a, 16) }

// agree calls clock_gettime through the vDSO at vdsoBase for MONOTONIC and
// REALTIME between two clock_gettime syscalls: syscall <= vDSO <= syscall
// (the order vdso_test_correctness.c checks).
func (r *runner) agree(t *tracee, vdsoBase uint64) (string, error) {
	fn := vdsoBase + r.fnOff
	var parts []string
	for _, c := range []struct {
		id   uint64
		name string
	}{{unix.CLOCK_MONOTONIC, "MONOTONIC"}, {unix.CLOCK_REALTIME, "REALTIME"}} {
		ts := func(slot int) (int64, error) {
			b, err := t.peek(t.data+uint64(16*slot), 16)
			if err != nil {
				return 0, err
			}
			le := binary.LittleEndian
			return int64(le.Uint64(b))*1e9 + int64(le.Uint64(b[8:])), nil
		}
		sys := func(slot int) (int64, error) {
			res, err := t.chain(call(unix.SYS_CLOCK_GETTIME, c.id, t.data+uint64(16*slot)))
			if err != nil {
				return 0, err
			}
			if e := errnoOf(res[0]); e != 0 {
				return 0, fmt.Errorf("clock_gettime(%s) syscall: %s", c.name, errnoName(e))
			}
			return ts(slot)
		}
		s1, err := sys(0)
		if err != nil {
			return "", err
		}
		ret, err := t.callFn(fn, c.id, t.data+16)
		if err != nil {
			return "", fmt.Errorf("calling clock_gettime(%s) through the vDSO at %s: %w", c.name, hex(fn), err)
		}
		if ret != 0 {
			return "", fmt.Errorf("clock_gettime(%s) through the vDSO returned %d", c.name, int64(ret))
		}
		v, err := ts(1)
		if err != nil {
			return "", err
		}
		s2, err := sys(2)
		if err != nil {
			return "", err
		}
		if !(s1 <= v && v <= s2) {
			return "", fmt.Errorf("clock_gettime(%s): syscall %d, vDSO %d, syscall %d ns: not in order", c.name, s1, v, s2)
		}
		parts = append(parts, fmt.Sprintf("%s syscall <= vDSO <= syscall (%d ns window)", c.name, s2-s1))
	}
	return "clock_gettime " + strings.Join(parts, ", "), nil
}

// freeRange has the child find an unmapped range of the vDSO's size: mmap
// it and unmap it again. map_vdso() takes the address as a hint
// (get_unmapped_area) and gets it when it is free.
func (r *runner) freeRange(t *tracee) (uint64, error) {
	total := span(r.layout)
	res, err := t.chain(call(unix.SYS_MMAP, 0, total, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uint64(0), 0))
	if err != nil {
		return 0, err
	}
	if e := errnoOf(res[0]); e != 0 {
		return 0, fmt.Errorf("mmap: %s", errnoName(e))
	}
	a := uint64(res[0])
	if res, err = t.chain(call(unix.SYS_MUNMAP, a, total)); err != nil {
		return 0, err
	} else if e := errnoOf(res[0]); e != 0 {
		return 0, fmt.Errorf("munmap: %s", errnoName(e))
	}
	return a, nil
}

// unmap unmaps the named exec-layout mappings in the child; a sealed
// mapping is reported as errSealed.
func (r *runner) unmap(t *tracee, keep string) error {
	var calls []sc
	var names []string
	for _, m := range t.vdso {
		if m.Path != keep {
			calls = append(calls, call(unix.SYS_MUNMAP, m.Start, m.Size()))
			names = append(names, m.Path)
		}
	}
	res, err := t.chain(calls...)
	if err != nil {
		return err
	}
	for i, v := range res {
		if e := errnoOf(v); e == unix.EPERM {
			return &skipError{fmt.Sprintf(sealedWhy, "munmap", names[i])}
		} else if e != 0 {
			return fmt.Errorf("munmap of %s: %s", names[i], errnoName(e))
		}
	}
	return nil
}

// skipError is a reason a check cannot run.
type skipError struct{ why string }

func (e *skipError) Error() string { return e.why }

// noCR explains an EINVAL from ARCH_MAP_VDSO_64.
const noCR = "arch_prctl(ARCH_MAP_VDSO_64) is EINVAL: the kernel was built without CONFIG_CHECKPOINT_RESTORE"

// mapChecks runs the EEXIST checks (one child per region left mapped) and
// the map at a chosen address (in the child that left [vvar], the lowest,
// after unmapping it too). It reports whether the map worked.
func (r *runner) mapChecks() bool {
	mapped := false
	mapDone := false
	for i := len(r.layout) - 1; i >= 0; i-- { // the lowest last: its child maps
		keep := r.layout[i].Path
		name := checkEEXIST + keep + " left"
		t, err := r.child()
		if err != nil {
			r.add(name, statusFail, err.Error())
			continue
		}
		a, err := r.freeRange(t)
		if err == nil {
			err = r.unmap(t, keep)
		}
		var se *skipError
		if errors.As(err, &se) {
			t.kill()
			r.add(name, statusSkip, se.why)
			if i == 0 {
				r.add(CheckMap, statusSkip, se.why)
				mapDone = true
			}
			continue
		}
		if err != nil {
			t.kill()
			r.add(name, statusFail, err.Error())
			continue
		}
		if err == nil {
			err = leftOnly(t, keep)
		}
		if err != nil {
			t.kill()
			r.add(name, statusFail, err.Error())
			continue
		}
		res, err := t.chain(call(sysArchPrctl, archMapVDSO64, a))
		switch e := errnoOf(firstOr(res)); {
		case err != nil:
			r.add(name, statusFail, err.Error())
		case e == unix.EEXIST:
			r.add(name, statusPass, fmt.Sprintf("arch_prctl(ARCH_MAP_VDSO_64) with only %s mapped: EEXIST", keep))
		case e == unix.EINVAL:
			r.add(name, statusSkip, noCR)
		case e != 0:
			r.add(name, statusFail, fmt.Sprintf("arch_prctl(ARCH_MAP_VDSO_64) with only %s mapped: %s, expected EEXIST", keep, errnoName(e)))
		default:
			r.add(name, statusFail, fmt.Sprintf("arch_prctl(ARCH_MAP_VDSO_64) with only %s mapped succeeded (returned %d), expected EEXIST", keep, firstOr(res)))
		}
		if i == 0 && err == nil {
			mapped = r.mapAt(t, a, keep)
			mapDone = true
		}
		t.kill()
	}
	if !mapDone {
		r.add(CheckMap, statusFail, "no child got as far as the map")
	}
	return mapped
}

// leftOnly checks that keep is the child's only vDSO mapping left.
func leftOnly(t *tracee, keep string) error {
	ms, err := t.maps()
	if err != nil {
		return err
	}
	got := vdsoRegions(ms)
	if len(got) != 1 || got[0].Path != keep {
		return fmt.Errorf("after unmapping all but %s the child has %s", keep, describe(got))
	}
	return nil
}

func firstOr(res []int64) int64 {
	if len(res) == 0 {
		return 0
	}
	return res[0]
}

// mapAt unmaps keep, the last vDSO mapping left, maps the vDSO at a and
// checks the layout and the calls.
func (r *runner) mapAt(t *tracee, a uint64, keep string) bool {
	m, _ := find(t.vdso, keep)
	res, err := t.chain(call(unix.SYS_MUNMAP, m.Start, m.Size()), call(sysArchPrctl, archMapVDSO64, a))
	if err != nil {
		r.add(CheckMap, statusFail, err.Error())
		return false
	}
	if e := errnoOf(res[0]); e != 0 {
		r.add(CheckMap, statusFail, fmt.Sprintf("munmap of %s: %s", keep, errnoName(e)))
		return false
	}
	switch e := errnoOf(res[1]); {
	case e == unix.EINVAL:
		r.add(CheckMap, statusSkip, noCR)
		return false
	case e != 0:
		r.add(CheckMap, statusFail, fmt.Sprintf("arch_prctl(ARCH_MAP_VDSO_64, %s) with nothing mapped: %s", hex(a), errnoName(e)))
		return false
	}
	ms, err := t.maps()
	if err != nil {
		r.add(CheckMap, statusFail, err.Error())
		return false
	}
	got := vdsoRegions(ms)
	if err := r.atLayout(got, a); err != nil {
		r.add(CheckMap, statusFail, fmt.Sprintf("after arch_prctl(ARCH_MAP_VDSO_64, %s): %v", hex(a), err))
		return false
	}
	vd, _ := find(got, "[vdso]")
	if uint64(res[1]) != vd.Size() {
		r.add(CheckMap, statusFail, fmt.Sprintf("arch_prctl(ARCH_MAP_VDSO_64) returned %d, [vdso] is %d bytes (prctl_map_vdso returns the image's size)", res[1], vd.Size()))
		return false
	}
	detail, err := r.agree(t, vd.Start)
	if err != nil {
		r.add(CheckMap, statusFail, err.Error())
		return false
	}
	r.add(CheckMap, statusPass, fmt.Sprintf("mapped at %s as at exec (%s), returned %d; %s", hex(a), layoutWords(r.layout), res[1], detail))
	return true
}

// layoutWords is "[vvar] +0 16 KiB, [vvar_vclock] +0x4000 8 KiB, ...".
func layoutWords(ms []proc.Mapping) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s +%#x %d KiB", m.Path, m.Start-ms[0].Start, m.Size()>>10))
	}
	return strings.Join(parts, ", ")
}

// failslab is the fault-injection set-up: the knobs changed and their old
// values, put back by restore.
type failslab struct {
	dir   string
	saved map[string]string
	setup string
}

// openFailslab checks what fault injection needs and sets it up, or says
// why it cannot run, naming the missing kernel option.
func (r *runner) openFailslab() (*failslab, string) {
	if _, err := os.Stat("/proc/thread-self/fail-nth"); err != nil {
		return nil, "no /proc/thread-self/fail-nth: the kernel was built without CONFIG_FAULT_INJECTION"
	}
	dbg := r.cfg.DebugFS
	dir := filepath.Join(dbg, "failslab")
	if _, err := os.Stat(dir); err != nil {
		var st unix.Statfs_t
		mounted := unix.Statfs(dbg, &st) == nil && st.Type == unix.DEBUGFS_MAGIC
		if !mounted && !r.cfg.MountDebugFS {
			return nil, fmt.Sprintf("debugfs is not mounted at %s (mount -t debugfs none %s)", dbg, dbg)
		}
		if !mounted {
			os.MkdirAll(dbg, 0o755)
			if err := unix.Mount("debugfs", dbg, "debugfs", 0, ""); err != nil {
				if errors.Is(err, unix.ENODEV) {
					return nil, "no debugfs: the kernel was built without CONFIG_DEBUG_FS"
				}
				return nil, fmt.Sprintf("mounting debugfs on %s: %v", dbg, err)
			}
		}
		if _, err := os.Stat(dir); err != nil {
			others, _ := filepath.Glob(filepath.Join(dbg, "fail*"))
			if len(others) > 0 {
				return nil, fmt.Sprintf("debugfs has no failslab/ (but %s): the kernel was built without CONFIG_FAILSLAB", filepath.Base(others[0]))
			}
			return nil, "debugfs has no failslab/: the kernel was built without CONFIG_FAILSLAB or CONFIG_FAULT_INJECTION_DEBUG_FS"
		}
	}
	f := &failslab{dir: dir, saved: map[string]string{}}
	for _, kv := range [][2]string{{"ignore-gfp-wait", "N"}, {"verbose", "0"}} {
		p := filepath.Join(dir, kv[0])
		old, err := os.ReadFile(p)
		if err != nil {
			f.restore()
			return nil, fmt.Sprintf("reading %s: %v", p, err)
		}
		if err := os.WriteFile(p, []byte(kv[1]), 0); err != nil {
			f.restore()
			return nil, fmt.Sprintf("writing %s: %v", p, err)
		}
		f.saved[kv[0]] = strings.TrimSpace(string(old))
	}
	prob, _ := os.ReadFile(filepath.Join(dir, "probability"))
	f.setup = fmt.Sprintf("failslab ignore-gfp-wait=N verbose=0 (were %s, %s), probability %s; fail-nth per child",
		f.saved["ignore-gfp-wait"], f.saved["verbose"], strings.TrimSpace(string(prob)))
	return f, ""
}

func (f *failslab) restore() {
	for k, v := range f.saved {
		os.WriteFile(filepath.Join(f.dir, k), []byte(v), 0)
	}
}

// faults fails the N-th fault point of arch_prctl(ARCH_MAP_VDSO_64) for N =
// 1, 2, ... (Documentation/fault-injection/fault-injection.rst,
// "/proc/thread-self/fail-nth") until the call reaches no N-th point, each
// in a fresh child with the three mappings unmapped, and records what
// each failure left mapped.
func (r *runner) faults() {
	fs, why := r.openFailslab()
	if fs == nil {
		r.add(CheckFaults, statusSkip, why)
		return
	}
	defer fs.restore()
	fi := &runfile.FaultInjection{Setup: fs.setup, Results: []runfile.FaultPoint{}, Leaks: []runfile.FaultLeak{}}
	var errnos []string
	for n := 1; n <= r.cfg.MaxPoints; n++ {
		p, retry, reached, err := r.point(n)
		if err != nil {
			r.out.FaultInjection = fi
			r.add(CheckFaults, statusFail, fmt.Sprintf("point %d: %v", n, err))
			return
		}
		if !reached {
			fi.Complete = true
			break
		}
		fi.Points = n
		fi.Results = append(fi.Results, p)
		errnos = append(errnos, orOK(p.Errno))
		if p.Errno != "" && len(p.Left) > 0 {
			fi.Leaks = append(fi.Leaks, runfile.FaultLeak{Point: n, Errno: p.Errno, Regions: p.Left, Retry: retry})
		}
	}
	r.out.FaultInjection = fi
	switch {
	case len(fi.Leaks) > 0:
		var parts []string
		for _, k := range fi.Leaks {
			var rs []string
			for _, g := range k.Regions {
				rs = append(rs, fmt.Sprintf("%s %d KiB at %s", g.Name, g.Size>>10, hex(g.Start)))
			}
			again := "the call made again succeeds"
			if k.Retry != "" {
				again = "the call made again gives " + k.Retry
			}
			parts = append(parts, fmt.Sprintf("point %d (%s) left %s (%s)", k.Point, k.Errno, strings.Join(rs, ", "), again))
		}
		r.add(CheckFaults, statusFail, fmt.Sprintf("%d failure points (%s): %s", fi.Points, strings.Join(errnos, ", "), strings.Join(parts, "; ")))
	case !fi.Complete:
		r.add(CheckFaults, statusSkip, fmt.Sprintf("the call still reached its %d-th fault point: more than the %d points enumerated", r.cfg.MaxPoints, r.cfg.MaxPoints))
	default:
		r.add(CheckFaults, statusPass, fmt.Sprintf("%d failure points (%s), nothing left behind; with N = %d the call maps the vDSO", fi.Points, strings.Join(errnos, ", "), fi.Points+1))
	}
}

func orOK(s string) string {
	if s == "" {
		return "succeeded"
	}
	return s
}

// point runs the call in a fresh child with its n-th fault point failed.
// reached is false when the call had fewer than n points (it then ran with
// no failure and must have succeeded). When the failed call left a mapping,
// the call is made once more with nothing injected, and retry is its errno
// ("" for success).
func (r *runner) point(n int) (runfile.FaultPoint, string, bool, error) {
	p := runfile.FaultPoint{N: n}
	t, err := r.child()
	if err != nil {
		return p, "", false, err
	}
	defer t.kill()
	a, err := r.freeRange(t)
	if err != nil {
		return p, "", false, err
	}
	path := append([]byte("/proc/thread-self/fail-nth"), 0)
	num := []byte(strconv.Itoa(n))
	pathAt, numAt, zeroAt, bufAt := t.data+0x100, t.data+0x200, t.data+0x210, t.data+0x220
	for _, w := range []struct {
		at uint64
		b  []byte
	}{{pathAt, path}, {numAt, num}, {zeroAt, []byte("0")}, {bufAt, make([]byte, 16)}} {
		if err := t.poke(w.at, w.b); err != nil {
			return p, "", false, err
		}
	}
	cwd := int64(unix.AT_FDCWD)
	res, err := t.chain(call(unix.SYS_OPENAT, uint64(cwd), pathAt, unix.O_RDWR|unix.O_CLOEXEC))
	if err != nil {
		return p, "", false, err
	}
	if e := errnoOf(res[0]); e != 0 {
		return p, "", false, fmt.Errorf("the child's open of /proc/thread-self/fail-nth: %s", errnoName(e))
	}
	fd := uint64(res[0])
	if err := r.unmap(t, ""); err != nil {
		return p, "", false, err
	}
	// One chain: arm fail-nth, the call, read what is left of the count,
	// disarm. Nothing runs in the child in between.
	res, err = t.chain(
		call(unix.SYS_PWRITE64, fd, numAt, uint64(len(num)), 0),
		call(sysArchPrctl, archMapVDSO64, a),
		call(unix.SYS_PREAD64, fd, bufAt, 15, 0),
		call(unix.SYS_PWRITE64, fd, zeroAt, 1, 0),
	)
	if err != nil {
		return p, "", false, err
	}
	for i, what := range []string{"arming fail-nth", "", "reading fail-nth", "disarming fail-nth"} {
		if e := errnoOf(res[i]); i != 1 && e != 0 {
			return p, "", false, fmt.Errorf("%s: %s", what, errnoName(e))
		}
	}
	b, err := t.peek(bufAt, int(res[2]))
	if err != nil {
		return p, "", false, err
	}
	left, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return p, "", false, fmt.Errorf("fail-nth read back %q", b)
	}
	e := errnoOf(res[1])
	if left > 0 {
		// No n-th point: the call ran with nothing failed.
		if e != 0 {
			return p, "", false, fmt.Errorf("with no fault injected (fail-nth %d not reached, %d left) the call failed: %s", n, left, errnoName(e))
		}
		return p, "", false, nil
	}
	retry := ""
	if e != 0 {
		p.Errno = errnoName(e)
		ms, err := t.maps()
		if err != nil {
			return p, "", false, err
		}
		p.Left = toRegions(vdsoRegions(ms))
		if len(p.Left) > 0 {
			res, err := t.chain(call(sysArchPrctl, archMapVDSO64, a))
			if err != nil {
				return p, "", false, err
			}
			if e := errnoOf(res[0]); e != 0 {
				retry = errnoName(e)
			}
		}
	}
	return p, retry, true, nil
}
