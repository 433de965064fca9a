// Package fleetgen is a test helper: it writes a synthetic fleet of run
// files made from real ones (the reference runs under results/, the
// fixtures under report/testdata), with labels, host names, start times and
// environments varied, so that compare, report and export can be tried at
// fleet scale without committing thousands of files.
//
// What it varies is what a fleet varies in: kernel release, clocksource,
// CPU model, vsyscall mode, page-table isolation; and, following those, the
// measured figures: every timing sample is scaled by a factor of the
// machine (a few percent), a run whose clocksource has no vDSO clock mode
// (xen, as on older EC2 instances) has its clock-reading vDSO cells replaced
// by the syscall's figures with one syscall per call counted and the
// fallback noted, one run in 50 is an outlier (its samples doubled), and
// the vDSO's effective ASLR bits drop on 6.1 kernels, where the vDSO sat
// next to the stack. The figures are synthetic; the structure of every file
// is a real run's, and every file validates.
package fleetgen

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

// profile is one kind of machine of the fleet.
type profile struct {
	kernel, clocksource, cpu, vendor, vsyscall string
	pti, hypervisor                            bool
	scale                                      float64 // timing factor of the kind
}

var profiles = []profile{
	{"6.18.44-fc-v1045", "kvm-clock", "AMD EPYC", "AuthenticAMD", "xonly", true, true, 1.0},
	{"6.12.117+deb12-cloud-amd64", "tsc", "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "GenuineIntel", "xonly", false, true, 0.35},
	{"6.1.0-50-cloud-amd64", "tsc", "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "GenuineIntel", "none", false, true, 0.4},
	{"6.1.0-50-cloud-amd64", "xen", "Intel(R) Xeon(R) CPU E5-2676 v3 @ 2.40GHz", "GenuineIntel", "emulate", true, true, 1.2},
	{"6.12.117+deb12-cloud-amd64", "tsc", "AMD EPYC 7R13 Processor", "AuthenticAMD", "xonly", false, false, 0.3},
}

// fellBackFuncs are the calls whose vDSO path reads the clocksource
// (do_hres in lib/vdso/gettimeofday.c): without a vDSO clock mode they
// become a syscall.
var hres = map[runfile.Clock]bool{"": true, "REALTIME": true, "MONOTONIC": true, "BOOTTIME": true, "TAI": true, "MONOTONIC_RAW": true}

// Sources returns the real run files under root (the repository's top
// directory) that a fleet is made from.
func Sources(root string) ([]string, error) {
	var out []string
	for _, pat := range []string{"results/*/run.json", "results/bootmodes/*/*/run.json", "report/testdata/*.json"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			return nil, err
		}
		out = append(out, m...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("fleetgen: no run files under %s", root)
	}
	return out, nil
}

// Write writes n run files into dir (host-0000.json, ...) made from the
// run files sources, varied by a generator seeded with seed, and returns
// their paths. Only runs with timing results are used as sources. Each
// kind of x86-64 machine (profiles) is made from one source run, so that
// the runs of a group differ by their machine factor only; runs of
// another architecture (arm64) keep their own environment and make a kind
// of their own.
func Write(dir string, sources []string, n int, seed int64) ([]string, error) {
	var x86, other []*runfile.Run
	for _, s := range sources {
		r, err := runfile.ReadFile(s)
		if err != nil {
			return nil, err
		}
		switch {
		case r.Bench == nil:
		case r.Env.Machine == "x86_64":
			x86 = append(x86, r)
		default:
			other = append(other, r)
		}
	}
	if len(x86) == 0 {
		return nil, fmt.Errorf("fleetgen: no x86-64 source with timing results")
	}
	rng := rand.New(rand.NewSource(seed))
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	paths := make([]string, 0, n)
	for i := 0; i < n; i++ {
		var r *runfile.Run
		k := rng.Intn(len(profiles) + len(other))
		if k < len(profiles) {
			r = clone(x86[k%len(x86)])
			vary(r, profiles[k], i, rng)
		} else {
			r = clone(other[k-len(profiles)])
			vary(r, profile{}, i, rng)
		}
		r.Started = t0.Add(time.Duration(i) * 37 * time.Second)
		r.Finished = r.Started.Add(12 * time.Second)
		path := filepath.Join(dir, fmt.Sprintf("host-%04d.json", i))
		if err := r.WriteFile(path); err != nil {
			return nil, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// clone copies a run deeply enough that vary can change it: the
// environment's maps, the cells and their samples, the regions.
func clone(src *runfile.Run) *runfile.Run {
	r := *src
	r.Env.CPUFlags = map[string]bool{}
	for k, v := range src.Env.CPUFlags {
		r.Env.CPUFlags[k] = v
	}
	r.Env.Vulnerabilities = map[string]string{}
	for k, v := range src.Env.Vulnerabilities {
		r.Env.Vulnerabilities[k] = v
	}
	b := *src.Bench
	b.Cells = make([]runfile.Cell, len(src.Bench.Cells))
	for i, c := range src.Bench.Cells {
		c.Samples = append([]float64(nil), c.Samples...)
		if c.Summary != nil {
			s := *c.Summary
			c.Summary = &s
		}
		c.Notes = append([]string(nil), c.Notes...)
		if c.PerCall != nil {
			pc := *c.PerCall
			c.PerCall = &pc
		}
		b.Cells[i] = c
	}
	r.Bench = &b
	if src.ASLR != nil {
		a := *src.ASLR
		a.Regions = append([]runfile.Region(nil), src.ASLR.Regions...)
		r.ASLR = &a
	}
	return &r
}

// vary makes r the run of host i, a machine of kind p (the zero profile:
// the source's own environment).
func vary(r *runfile.Run, p profile, i int, rng *rand.Rand) {
	host := fmt.Sprintf("host-%04d", i)
	r.Label = host
	r.Env.Hostname = host
	if p.kernel == "" {
		p = profile{kernel: r.Env.KernelRelease, clocksource: r.Env.Clocksource, cpu: r.Env.CPUModel, vendor: r.Env.CPUVendor,
			vsyscall: r.Env.VsyscallMode, pti: r.Env.CPUFlags["pti"], hypervisor: r.Env.CPUFlags["hypervisor"], scale: 1}
	}
	// Machines of a fleet, not vbench's QEMU guests.
	r.Env.Guest, r.Env.Accel, r.Boot = false, "", nil
	r.Env.KernelRelease = p.kernel
	r.Env.Clocksource = p.clocksource
	r.Env.CPUModel = p.cpu
	r.Env.CPUVendor = p.vendor
	if r.Env.VsyscallMode != "absent" {
		r.Env.VsyscallMode = p.vsyscall
	}
	r.Env.CPUFlags["pti"] = p.pti
	r.Env.CPUFlags["hypervisor"] = p.hypervisor
	if p.pti {
		r.Env.Vulnerabilities["meltdown"] = "Mitigation: PTI"
	} else {
		r.Env.Vulnerabilities["meltdown"] = "Not affected"
	}
	// A run's cells keep their ratios to each other: one factor of the
	// machine (a few percent around its kind's) and a small one per cell.
	f := p.scale * math.Exp(rng.NormFloat64()*0.04)
	if i%50 == 49 {
		f *= 2 // an outlier: a noisy neighbour, a throttled host
	}
	for k := range r.Bench.Cells {
		c := &r.Bench.Cells[k]
		g := f * math.Exp(rng.NormFloat64()*0.01)
		scaleCell(c, g)
	}
	if p.clocksource == "xen" {
		fallBack(r.Bench)
	}
	if r.ASLR != nil {
		for k := range r.ASLR.Regions {
			g := &r.ASLR.Regions[k]
			if g.Name == "vdso" && p.kernel == "6.1.0-50-cloud-amd64" && g.Effective > 21 {
				// Before 6.9 the vDSO sat just above the stack.
				d := g.Effective - 21.4
				g.Effective, g.EffectiveLo, g.EffectiveHi = g.Effective-d, math.Max(0, g.EffectiveLo-d), g.EffectiveHi-d
			}
		}
	}
}

func scaleCell(c *runfile.Cell, g float64) {
	for j := range c.Samples {
		c.Samples[j] *= g
	}
	if s := c.Summary; s != nil {
		s.Median, s.Lo, s.Hi, s.Mean, s.Stddev, s.Min, s.Max = s.Median*g, s.Lo*g, s.Hi*g, s.Mean*g, s.Stddev*g, s.Min*g, s.Max*g
	}
}

// fallBack makes every measured vDSO cell whose call reads the
// clocksource cost what its syscall cell costs, with one syscall counted
// per call and the fallback noted, as a clocksource without a vDSO clock
// mode does.
func fallBack(b *runfile.Bench) {
	for k := range b.Cells {
		c := &b.Cells[k]
		if c.Path != "vdso" || c.Unavailable != "" || c.Summary == nil || !hres[c.Clock] {
			continue
		}
		if c.Function != "gettimeofday" && c.Function != "clock_gettime" {
			continue
		}
		sc, ok := b.Find(c.Function, c.Clock, "syscall")
		if !ok || sc.Summary == nil || c.Summary.Median <= 0 {
			continue
		}
		scaleCell(c, sc.Summary.Median/c.Summary.Median*1.05)
		one := 1.0
		if c.PerCall == nil {
			c.PerCall = &runfile.PerCall{}
		}
		c.PerCall.Syscalls = &one
		c.Notes = append(c.Notes, "vDSO fell back to the syscall", "the clocksource has no vDSO clock mode")
	}
}

// MustWrite is Write for tests and benchmarks: it fails tb on error.
func MustWrite(tb interface {
	Helper()
	Fatal(...any)
}, dir, root string, n int, seed int64) []string {
	tb.Helper()
	src, err := Sources(root)
	if err != nil {
		tb.Fatal(err)
	}
	paths, err := Write(dir, src, n, seed)
	if err != nil {
		tb.Fatal(err)
	}
	return paths
}

// WriteFromEnv is for making a fleet by hand: with $VBENCH_FLEET_DIR and
// $VBENCH_FLEET_N set, it writes that many files there (see the test in
// this package).
func WriteFromEnv(root string) (string, int, error) {
	dir, ns := os.Getenv("VBENCH_FLEET_DIR"), os.Getenv("VBENCH_FLEET_N")
	if dir == "" || ns == "" {
		return "", 0, nil
	}
	var n int
	if _, err := fmt.Sscan(ns, &n); err != nil || n <= 0 {
		return "", 0, fmt.Errorf("VBENCH_FLEET_N=%q: want a positive count", ns)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	src, err := Sources(root)
	if err != nil {
		return "", 0, err
	}
	_, err = Write(dir, src, n, 1)
	return dir, n, err
}
