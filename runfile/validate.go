package runfile

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strconv"
)

// Limits a reader enforces. A run file is the input of `vbench report` and
// `vbench compare`, which may be handed anything: Decode reads at most
// MaxFileSize bytes and Validate rejects lists and strings beyond these
// bounds, so that a hostile file costs a bounded amount of memory and
// time and never reaches a plot or a report as a value no measurement can
// produce. Each bound is far above what vbench writes (SCHEMA.md, "Limits").
const (
	// MaxFileSize is the largest run file read: 64 MiB. vbench's own runs
	// are well under 1 MiB (0.4 MiB with 5000 ASLR samples and the default
	// bench); 64 MiB holds about 2.5 million bench samples.
	MaxFileSize = 64 << 20
	// MaxLabel is the longest label, in bytes. Labels are drawn in every
	// figure's title.
	MaxLabel = 256
	// MaxText is the longest free-text string (notes, conclusions, check
	// details, the kernel command line, a target path).
	MaxText = 16 << 10
	// MaxUname is the longest host name, kernel release, kernel version or
	// machine: uname(2) fields hold at most 64 bytes (__NEW_UTS_LEN,
	// include/uapi/linux/utsname.h).
	MaxUname = 64
	// MaxName is the longest name (function, clock, path, region, status,
	// permissions, version).
	MaxName = 128
	// MaxSamples is the most samples one cell may hold.
	MaxSamples = 1 << 20
	// MaxPoints is the most points in one distribution: latency quantiles,
	// histogram bins (vbench writes 200 and 64).
	MaxPoints = 4096
	// MaxItems is the most entries in any other list or map: cells,
	// checks, regions, pairs, notes, flags.
	MaxItems = 1 << 16
	// MaxNS is the largest time per call, in ns, a run may hold (1000 s):
	// no call a benchmark times takes that long, and larger values
	// overflow the figures' axes.
	MaxNS = 1e12
	// MaxBits bounds an entropy figure: a 64-bit address has at most 64
	// bits; a difference of two addresses, estimated from pairs of
	// samples, at most 128.
	MaxBits     = 64
	maxDiffBits = 128
)

// ErrInvalid is wrapped by a ValidationError: the file is JSON of the
// right shape but holds a value no run can have. It wraps ErrCorrupt, so
// callers that treat a corrupt file as bad input need no new case.
var ErrInvalid = fmt.Errorf("%w: impossible value", ErrCorrupt)

// ErrTooLarge is returned for a file over MaxFileSize; it wraps
// ErrCorrupt.
var ErrTooLarge = fmt.Errorf("%w: too large", ErrCorrupt)

// ValidationError names the first impossible value found: its field path
// in the JSON document (e.g. "bench.cells[3].summary.median") and why.
type ValidationError struct {
	Path   string
	Reason string
}

func (e *ValidationError) Error() string { return "invalid " + e.Path + ": " + e.Reason }

// Unwrap makes every ValidationError match ErrInvalid (and so ErrCorrupt).
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Validate reports the first value in r that no vbench run can hold: a
// negative count or time, a minimum above its maximum, an alignment that
// is not a power of two, bits beyond 64, a list or string beyond the
// limits above, a name with characters a name never has. It returns nil
// or a *ValidationError. Decode calls it on every file it reads.
func (r *Run) Validate() error {
	v := validator{}
	v.run(r)
	if v.err != nil {
		return v.err
	}
	return nil
}

// validator walks a run and keeps the first failure.
type validator struct{ err *ValidationError }

func (v *validator) failf(path, format string, a ...any) {
	if v.err == nil {
		v.err = &ValidationError{Path: path, Reason: fmt.Sprintf(format, a...)}
	}
}

func idx(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// text checks a free-text string's length; its content is escaped where
// it is rendered (report/markdown.go).
func (v *validator) text(path, s string, limit int) {
	if len(s) > limit {
		v.failf(path, "%d bytes, more than the %d a run file may hold here", len(s), limit)
	}
}

// name checks an identifier: letters, digits and _ . = + - only, at most
// MaxName bytes. Names are written into tables and figures unescaped.
func (v *validator) name(path, s string, required bool) {
	switch {
	case s == "" && required:
		v.failf(path, "empty")
	case len(s) > MaxName:
		v.failf(path, "%d bytes, more than the %d a name may have", len(s), MaxName)
	default:
		for _, c := range []byte(s) {
			if !isNameByte(c) {
				v.failf(path, "%q: a name has only letters, digits and _ . = + -", s)
				return
			}
		}
	}
}

// known checks a word of the vocabulary (vocab.go): one of its type's
// known values, or empty where required is false (files from before the
// field existed). An unknown one is an impossible value: it may be a later
// vbench's word, but this one cannot say what it means.
func known[T ~string](v *validator, path string, s T, ok, required bool) {
	switch {
	case s == "" && !required:
	case s == "":
		v.failf(path, "empty")
	case !ok:
		v.name(path, string(s), true) // a too-long one is not quoted whole
		v.failf(path, "%q: not a value this vbench knows", s)
	}
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '=' || c == '+' || c == '-'
}

func (v *validator) texts(path string, ss []string, limit int) {
	v.count(path, len(ss), MaxItems)
	for i, s := range ss {
		v.text(idx(path, i), s, limit)
	}
}

func (v *validator) count(path string, n, limit int) {
	if n > limit {
		v.failf(path, "%d entries, more than the %d a run file may hold here", n, limit)
	}
}

func (v *validator) nonNeg(path string, n int64) {
	if n < 0 {
		v.failf(path, "%d: cannot be negative", n)
	}
}

func (v *validator) between(path string, n, lo, hi int64) {
	if n < lo || n > hi {
		v.failf(path, "%d: outside [%d, %d]", n, lo, hi)
	}
}

// real checks that x lies in [lo, hi] (JSON has no NaN or infinity, but a
// Run built in memory may).
func (v *validator) real(path string, x, lo, hi float64, unit string) {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		v.failf(path, "%v: not a finite number", x)
	case x < lo && lo == 0:
		v.failf(path, "%g%s: cannot be negative", x, unit)
	case x < lo:
		v.failf(path, "%g%s: below %g", x, unit, lo)
	case x > hi:
		v.failf(path, "%g%s: beyond %g, more than any run can hold", x, unit, hi)
	}
}

func (v *validator) ns(path string, x float64) { v.real(path, x, 0, MaxNS, " ns") }

// ordered checks that vals (named by their field names under path) never
// decrease. Medians, means and interval bounds are computed from the same
// samples in floating point, so a relative slack of 1e-9 is allowed.
func (v *validator) ordered(path string, names []string, vals ...float64) {
	for i := 1; i < len(vals); i++ {
		a, b := vals[i-1], vals[i]
		if a > b && a-b > 1e-9*math.Max(math.Abs(a), math.Abs(b)) {
			v.failf(path, "%s %g is above %s %g", names[i-1], a, names[i], b)
			return
		}
	}
}

func (v *validator) run(r *Run) {
	v.text("label", r.Label, MaxLabel)
	v.env("env", &r.Env)
	if r.Bench != nil {
		v.bench("bench", r.Bench)
	}
	if r.Verify != nil {
		v.verify("verify", r.Verify)
	}
	if r.ASLR != nil {
		v.aslr("aslr", r.ASLR)
	}
	if r.Boot != nil {
		v.boot("boot", r.Boot)
	}
	if r.Lifecycle != nil {
		v.lifecycle("lifecycle", r.Lifecycle)
	}
	v.texts("errors", r.Errors, MaxText)
}

func (v *validator) env(p string, e *Env) {
	v.text(p+".hostname", e.Hostname, MaxUname)
	v.text(p+".kernel_release", e.KernelRelease, MaxUname)
	v.text(p+".kernel_version", e.KernelVersion, MaxUname)
	v.text(p+".machine", e.Machine, MaxUname)
	v.text(p+".cmdline", e.Cmdline, MaxText)
	v.text(p+".vsyscall_boot", e.VsyscallBoot, MaxText)
	v.name(p+".vsyscall_mode", e.VsyscallMode, false)
	v.text(p+".vsyscall_maps_line", e.VsyscallMapsLine, MaxText)
	v.text(p+".clocksource", e.Clocksource, MaxUname)
	v.texts(p+".available_clocksources", e.AvailableClocksources, MaxUname)
	v.text(p+".cpu_model", e.CPUModel, MaxText)
	v.text(p+".cpu_vendor", e.CPUVendor, MaxText)
	v.between(p+".num_cpu", int64(e.NumCPU), 0, MaxItems)
	v.count(p+".cpu_flags", len(e.CPUFlags), MaxItems)
	for _, k := range sortedKeys(e.CPUFlags) {
		v.name(p+".cpu_flags["+strconv.Quote(k)+"]", k, true)
	}
	v.count(p+".vulnerabilities", len(e.Vulnerabilities), MaxItems)
	for _, k := range sortedKeys(e.Vulnerabilities) {
		v.text(p+".vulnerabilities["+strconv.Quote(k)+"]", k, MaxName)
		v.text(p+".vulnerabilities["+strconv.Quote(k)+"]", e.Vulnerabilities[k], MaxText)
	}
	// -1 stands for unreadable (sysenv); randomize_va_space is 0, 1 or 2
	// today (Documentation/admin-guide/sysctl/kernel.rst).
	for _, f := range []struct {
		name string
		v    *int
	}{{".randomize_va_space", e.RandomizeVASpace}, {".mmap_rnd_bits", e.MmapRndBits}, {".mmap_rnd_compat_bits", e.MmapRndCompatBits}} {
		if f.v != nil {
			v.between(p+f.name, int64(*f.v), -1, MaxBits) // -1: unknown, in older files
		}
	}
	v.text(p+".go_version", e.GoVersion, MaxName)
	v.name(p+".vbench_version", e.VbenchVersion, false)
	v.name(p+".vbench_release", e.VbenchRelease, false)
	v.name(p+".accel", e.Accel, false)
	v.texts(p+".missing", e.Missing, MaxText)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (v *validator) bench(p string, b *Bench) {
	v.between(p+".cpu", int64(b.CPU), -1, MaxItems)
	v.nonNeg(p+".count", int64(b.Count))
	v.nonNeg(p+".benchtime", int64(b.Benchtime))
	// tsc_hz is 0 when the latency mode did not run; a TSC below 1 MHz or
	// above 100 GHz does not exist.
	if b.TSCHz != 0 {
		v.real(p+".tsc_hz", b.TSCHz, 1e6, 1e11, " Hz")
	}
	v.ns(p+".tsc_step_ns", b.TSCStepNs)
	v.contextInfos(p+".contexts", b.Contexts)
	v.count(p+".cells", len(b.Cells), MaxItems)
	for i := range b.Cells {
		c := &b.Cells[i]
		cp := idx(p+".cells", i)
		v.context(cp+".context", c.Context)
		known(v, cp+".function", c.Function, c.Function.Known(), true)
		known(v, cp+".clock", c.Clock, c.Clock.Known(), false)
		known(v, cp+".path", c.Path, c.Path.Known(), false)
		v.text(cp+".unavailable", c.Unavailable, MaxText)
		v.nonNeg(cp+".iters", c.Iters)
		v.count(cp+".samples", len(c.Samples), MaxSamples)
		for j, x := range c.Samples {
			v.ns(idx(cp+".samples", j), x)
		}
		if s := c.Summary; s != nil {
			sp := cp + ".summary"
			v.ns(sp+".median", s.Median)
			v.ns(sp+".lo", s.Lo)
			v.ns(sp+".hi", s.Hi)
			v.ns(sp+".mean", s.Mean)
			v.ns(sp+".stddev", s.Stddev)
			v.ns(sp+".min", s.Min)
			v.ns(sp+".max", s.Max)
			v.ordered(sp, []string{"min", "median", "max"}, s.Min, s.Median, s.Max)
			v.ordered(sp, []string{"lo", "median", "hi"}, s.Lo, s.Median, s.Hi)
		}
		if l := c.Latency; l != nil {
			lp := cp + ".latency"
			if b.TSCHz == 0 {
				v.failf(p+".tsc_hz", "0, but %s holds single calls timed with the TSC", lp)
			}
			v.nonNeg(lp+".n", int64(l.N))
			v.ns(lp+".p50", l.P50)
			v.ns(lp+".p90", l.P90)
			v.ns(lp+".p99", l.P99)
			v.ns(lp+".p999", l.P999)
			v.ns(lp+".max", l.Max)
			v.ns(lp+".overhead", l.Overhead)
			v.ordered(lp, []string{"p50", "p90", "p99", "p999", "max"}, l.P50, l.P90, l.P99, l.P999, l.Max)
			v.count(lp+".quantiles", len(l.Quantiles), MaxPoints)
			for j, x := range l.Quantiles {
				v.ns(idx(lp+".quantiles", j), x)
				if j > 0 && x < l.Quantiles[j-1] {
					v.failf(idx(lp+".quantiles", j), "%g is below the quantile before it (%g)", x, l.Quantiles[j-1])
				}
			}
		}
		v.texts(cp+".notes", c.Notes, MaxText)
		if v.err != nil {
			return
		}
	}
}

func (v *validator) verify(p string, vr *Verify) {
	v.nonNeg(p+".clock_steps", int64(vr.ClockSteps))
	v.contextInfos(p+".contexts", vr.Contexts)
	for _, list := range []struct {
		name   string
		checks []Check
	}{{".checks", vr.Checks}, {".info", vr.Info}} {
		v.count(p+list.name, len(list.checks), MaxItems)
		for i, c := range list.checks {
			cp := idx(p+list.name, i)
			v.context(cp+".context", c.Context)
			v.text(cp+".name", c.Name, MaxText)
			known(v, cp+".status", c.Status, c.Status.Known(), true)
			v.text(cp+".detail", c.Detail, MaxText)
		}
	}
}

func (v *validator) aslr(p string, a *ASLR) {
	v.text(p+".target", a.Target, MaxText)
	v.nonNeg(p+".samples", int64(a.Samples))
	v.nonNeg(p+".requested", int64(a.Requested))
	v.nonNeg(p+".duration", int64(a.Duration))
	v.real(p+".rate", a.Rate, 0, 1e12, " samples/s")
	v.between(p+".workers", int64(a.Workers), 0, MaxItems)
	v.count(p+".regions", len(a.Regions), MaxItems)
	for i := range a.Regions {
		v.region(idx(p+".regions", i), &a.Regions[i], a.Samples)
		if v.err != nil {
			return
		}
	}
	v.count(p+".pairs", len(a.Pairs), MaxItems)
	for i, pr := range a.Pairs {
		pp := idx(p+".pairs", i)
		v.name(pp+".a", pr.A, true)
		v.name(pp+".b", pr.B, true)
		v.nonNeg(pp+".distinct_diffs", int64(pr.DistinctDiffs))
		if pr.MinDiff > pr.MaxDiff {
			v.failf(pp, "min_diff %d is above max_diff %d", pr.MinDiff, pr.MaxDiff)
		}
		v.real(pp+".diff_bits", pr.DiffBits, 0, maxDiffBits, " bits")
	}
	if vs := a.Vsyscall; vs != nil {
		vp := p + ".vsyscall"
		v.between(vp+".mapped", int64(vs.Mapped), 0, int64(a.Samples))
		v.name(vp+".perms", vs.Perms, false)
		v.real(vp+".entropy_bits", vs.Entropy, -1, MaxBits, " bits")
	}
}

func (v *validator) region(p string, g *Region, samples int) {
	v.name(p+".name", g.Name, true)
	v.between(p+".present", int64(g.Present), 0, int64(max(samples, 0)))
	v.between(p+".distinct", int64(g.Distinct), 0, int64(max(g.Present, 0)))
	if g.Present > 0 {
		if g.Distinct == 0 {
			v.failf(p+".distinct", "0, but the region is present in %d samples", g.Present)
		}
		if g.Alignment == 0 || g.Alignment&(g.Alignment-1) != 0 {
			v.failf(p+".alignment", "%d: not a power of two", g.Alignment)
		} else if g.Min%g.Alignment != 0 || g.Max%g.Alignment != 0 {
			v.failf(p+".alignment", "%#x does not divide min %#x and max %#x", g.Alignment, g.Min, g.Max)
		}
		if g.Min > g.Max {
			v.failf(p+".min", "%#x is above max %#x", g.Min, g.Max)
		}
	}
	v.between(p+".varying_bits", int64(g.VaryingBits), 0, MaxBits)
	if n := bits.OnesCount64(g.VaryingMask); n != g.VaryingBits {
		v.failf(p+".varying_bits", "%d, but varying_mask %#x has %d bits set", g.VaryingBits, g.VaryingMask, n)
	}
	v.between(p+".quality_bits", int64(g.QualityBits), 0, int64(g.VaryingBits))
	v.nonNeg(p+".collisions", int64(g.Collisions))
	v.estimates(p+".estimates", g.Estimates)
	v.real(p+".chi_square", g.ChiSquare, 0, math.MaxFloat64, "")
	v.nonNeg(p+".chi_square_df", int64(g.ChiSquareDF))
	v.real(p+".chi_square_p", g.ChiSquareP, 0, 1, "")
	v.real(p+".effective_bits", g.Effective, 0, MaxBits, " bits")
	// Files from before the rule was a field have neither.
	known(v, p+".rule", g.Rule, g.Rule.Known(), false)
	known(v, p+".entropy", g.Entropy, g.Entropy.Known(), false)
	v.count(p+".bit_freq", len(g.BitFreq), MaxBits)
	for j, f := range g.BitFreq {
		v.real(idx(p+".bit_freq", j), f, 0, 1, "")
	}
	v.count(p+".histogram", len(g.Histogram), MaxPoints)
	for j, n := range g.Histogram {
		v.between(idx(p+".histogram", j), int64(n), 0, int64(max(g.Present, 0)))
	}
}

// estimates checks a region's list of estimates the same way whatever
// the estimator: a name, once; a known kind; bits and the interval's ends
// in [-1, 128] (-1: infinite; 128 for the difference of two addresses),
// the lower end finite and not above a finite upper end.
func (v *validator) estimates(p string, es []Estimate) {
	v.count(p, len(es), MaxPoints)
	seen := map[string]bool{}
	for i, e := range es {
		ep := idx(p, i)
		v.name(ep+".name", e.Name, true)
		if seen[e.Name] {
			v.failf(ep+".name", "%q twice in one region", e.Name)
		}
		seen[e.Name] = true
		known(v, ep+".kind", e.Kind, e.Kind.Known(), true)
		v.real(ep+".bits", e.Bits, -1, maxDiffBits, " bits")
		v.real(ep+".low", e.Lo, 0, maxDiffBits, " bits")
		v.real(ep+".high", e.Hi, -1, maxDiffBits, " bits")
		if e.Hi >= 0 {
			v.ordered(ep, []string{"low", "high"}, e.Lo, e.Hi)
		}
		if v.err != nil {
			return
		}
	}
}

func (v *validator) boot(p string, b *Boot) {
	v.text(p+".mode", b.Mode, MaxText)
	v.text(p+".append", b.Append, MaxText)
	v.text(p+".kernel", b.Kernel, MaxText)
	v.name(p+".accel", b.Accel, false)
	v.text(p+".accel_reason", b.AccelReason, MaxText)
	v.real(p+".seconds", b.Seconds, 0, 1e9, " s")
	v.text(p+".observed.maps_line", b.Observed.MapsLine, MaxText)
	v.text(p+".observed.read_probe", b.Observed.ReadProbe, MaxText)
	v.text(p+".observed.call_probe", b.Observed.CallProbe, MaxText)
	v.texts(p+".errors", b.Errors, MaxText)
	v.count(p+".layout", len(b.Layout), MaxPoints)
	for j, m := range b.Layout {
		q := idx(p+".layout", j)
		v.text(q+".name", m.Name, MaxText)
		v.text(q+".perms", m.Perms, MaxText)
		if m.Start+m.Size < m.Start {
			v.failf(q+".size", "%d: past the end of the address space", m.Size)
		}
		if j > 0 && m.Start < b.Layout[j-1].Start {
			v.failf(q+".start", "%#x: below the mapping before it (want address order)", m.Start)
		}
	}
}
