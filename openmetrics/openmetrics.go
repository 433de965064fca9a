// Package openmetrics writes run files as metrics in the Prometheus text
// exposition format (version 0.0.4), the format node_exporter's textfile
// collector reads from *.prom files and Prometheus scrapes: one HELP and
// one TYPE line per family, then its samples.
//
// It imports nothing of vbench but runfile and internal/atomicfile: the
// metrics are a view of a run file, whether it was just measured (`vbench
// run --openmetrics`) or read back (`vbench export`).
//
// Naming follows Prometheus's conventions (prometheus.io/docs/practices/
// naming): a vbench_ prefix, base units (seconds, bits), one gauge family
// per quantity, the environment as the labels of vbench_info with the value
// 1. Labels take only values from bounded sets (the call registry's
// functions, clocks, paths and contexts; ASLR regions and entropy kinds;
// the machine's facts in vbench_info), never a sample count or a time.
// Every family is a gauge: a run's figures are measured values, not
// counters that only grow.
//
// The text is written whole or not at all (WriteFile): node_exporter must
// never read half a file. Its temporary file, ".NAME.tmpNNN", does not end
// in .prom, so the collector does not read it either.
package openmetrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/runfile"
)

// Family is one metric family: its name, HELP text and samples.
type Family struct {
	Name, Help string
	Samples    []Sample
}

// Sample is one series of a family: labels (in order) and a value.
type Sample struct {
	Labels []Label
	Value  float64
}

// Label is one label pair.
type Label struct{ Name, Value string }

// Names of the families, in the order they are written.
const (
	Info            = "vbench_info"
	RunTimestamp    = "vbench_run_timestamp_seconds"
	CallSeconds     = "vbench_call_seconds"
	CallSamples     = "vbench_call_samples"
	SyscallsPerCall = "vbench_syscalls_per_call"
	VDSOFellBack    = "vbench_vdso_fell_back"
	VerifyFailures  = "vbench_verify_failed_checks"
	VerifyChecks    = "vbench_verify_checks"
	ASLRBits        = "vbench_aslr_effective_entropy"
	ASLRBitsLow     = "vbench_aslr_effective_entropy_low"
	ASLRBitsHigh    = "vbench_aslr_effective_entropy_high"
	ASLRKernelMax   = "vbench_aslr_kernel_max_entropy"
	ASLRSamples     = "vbench_aslr_samples"
)

// helps are the HELP texts, one per family.
var helps = map[string]string{
	Info:            "The environment of the run: vbench release and version, kernel, clocksource, vsyscall mode, CPU model, virtualization (value 1).",
	RunTimestamp:    "When the run started, in seconds since the Unix epoch.",
	CallSeconds:     "Median cost of one call, in seconds, per function, clock, path (syscall, vdso, vsyscall; none for a floor) and context.",
	CallSamples:     "Samples the median cost of a call was taken from.",
	SyscallsPerCall: "System calls entered per call, counted (tracepoint or ptrace child).",
	VDSOFellBack:    "1 when the vDSO handed the call to the kernel (one syscall per call counted), 0 when it answered in user space.",
	VerifyFailures:  "Correctness checks that failed (paths disagreeing, time going backwards).",
	VerifyChecks:    "Correctness checks run, by status (pass, fail, skip).",
	ASLRBits:        "Effective ASLR entropy of a region's base address, in bits (log2 of the equally likely values it is worth); the entropy label names which entropy it is (collision, min, upper-bound).",
	ASLRBitsLow:     "Lower end of the 95% interval of the effective ASLR entropy, in bits.",
	ASLRBitsHigh:    "Upper end of the 95% interval of the effective ASLR entropy, in bits.",
	ASLRKernelMax:   "The most ASLR entropy the kernel allows for the region, in bits, from its source.",
	ASLRSamples:     "Spawns sampled for the ASLR estimates.",
}

// order is the order families are written in.
var order = []string{Info, RunTimestamp, CallSeconds, CallSamples, SyscallsPerCall, VDSOFellBack,
	VerifyFailures, VerifyChecks, ASLRBits, ASLRBitsLow, ASLRBitsHigh, ASLRKernelMax, ASLRSamples}

// Families turns runs into metric families. With more than one run, every
// sample gets a run label holding the run's label (labels, else
// Run.DefaultLabel, made unique as report.Labels does); one run has none.
// A family with no samples is left out.
func Families(runs []*runfile.Run, labels []string) []Family {
	b := NewBuilder(len(runs) > 1)
	for i, r := range runs {
		l := ""
		if i < len(labels) {
			l = labels[i]
		}
		b.Add(r, l)
	}
	return b.Families()
}

// Builder gathers the families of runs added one at a time, so that a
// caller reading many run files need not hold them all.
type Builder struct {
	byName map[string]*Family
	multi  bool
	seen   map[string]int
}

// NewBuilder returns an empty Builder; with multi, every sample gets a run
// label (the label Add is given).
func NewBuilder(multi bool) *Builder {
	b := &Builder{byName: map[string]*Family{}, multi: multi, seen: map[string]int{}}
	for _, n := range order {
		b.byName[n] = &Family{Name: n, Help: helps[n]}
	}
	return b
}

// Families returns the families gathered so far, in order, leaving out
// those with no samples.
func (b *Builder) Families() []Family {
	var out []Family
	for _, n := range order {
		if f := b.byName[n]; len(f.Samples) > 0 {
			out = append(out, *f)
		}
	}
	return out
}

// Add adds a run's samples. With multi, they carry a run label: given,
// else the run's DefaultLabel, made unique with " #2", " #3" as
// report.Labels does.
func (b *Builder) Add(r *runfile.Run, given string) {
	label := strings.TrimSpace(given)
	if label == "" {
		label = r.DefaultLabel()
	}
	if b.seen[label]++; b.seen[label] > 1 {
		label = fmt.Sprintf("%s #%d", label, b.seen[label])
	}
	add := func(name string, v float64, ls ...Label) {
		if math.IsNaN(v) {
			return
		}
		b.byName[name].Samples = append(b.byName[name].Samples, Sample{Labels: ls, Value: v})
	}
	var runL []Label
	if b.multi {
		runL = []Label{{"run", label}}
	}
	with := func(ls ...Label) []Label { return append(append([]Label(nil), runL...), ls...) }
	e := r.Env
	add(Info, 1, with(
		Label{"release", orUnknown(e.VbenchRelease)},
		Label{"version", orUnknown(e.VbenchVersion)},
		Label{"kernel", orUnknown(e.KernelRelease)},
		Label{"machine", orUnknown(e.Machine)},
		Label{"clocksource", orUnknown(e.Clocksource)},
		Label{"vsyscall_mode", orUnknown(e.VsyscallMode)},
		Label{"cpu_model", orUnknown(strings.TrimSpace(e.CPUModel))},
		Label{"virtualization", Virtualization(e)},
		Label{"pti", cpuFlag(e, "pti")},
	)...)
	if !r.Started.IsZero() {
		add(RunTimestamp, float64(r.Started.UnixNano())/1e9, runL...)
	}
	if bn := r.Bench; bn != nil {
		for k := range bn.Cells {
			c := &bn.Cells[k]
			if c.Unavailable != "" || c.Summary == nil {
				continue
			}
			ls := with(cellLabels(c)...)
			add(CallSeconds, c.Summary.Median*1e-9, ls...)
			add(CallSamples, float64(len(c.Samples)), ls...)
			if c.PerCall != nil && c.PerCall.Syscalls != nil {
				add(SyscallsPerCall, *c.PerCall.Syscalls, ls...)
			}
			if fell, known := FellBack(c); known {
				add(VDSOFellBack, b2f(fell), ls...)
			}
		}
	}
	if v := r.Verify; v != nil {
		counts, _ := v.Counts()
		add(VerifyFailures, float64(counts[runfile.StatusFail]), runL...)
		// Every status a check can have, 0 included, in name order.
		for _, s := range []runfile.Status{runfile.StatusFail, runfile.StatusPass, runfile.StatusSkip} {
			add(VerifyChecks, float64(counts[s]), with(Label{"status", string(s)})...)
		}
	}
	if a := r.ASLR; a != nil {
		add(ASLRSamples, float64(a.Samples), runL...)
		for k := range a.Regions {
			g := &a.Regions[k]
			if g.Present == 0 {
				continue
			}
			ls := with(Label{"region", g.Name})
			add(ASLRBits, g.Effective, with(Label{"region", g.Name}, Label{"entropy", orUnknown(g.Entropy)})...)
			add(ASLRBitsLow, g.EffectiveLo, ls...)
			if g.EffectiveHi >= 0 { // -1 stands for +Inf in old files
				add(ASLRBitsHigh, g.EffectiveHi, ls...)
			}
			if g.KernelMaxBits > 0 {
				add(ASLRKernelMax, g.KernelMaxBits, ls...)
			}
		}
	}
}

// cellLabels are a timing cell's labels: function, clock ("none" for the
// calls that take none), path ("none" for a floor) and context.
func cellLabels(c *runfile.Cell) []Label {
	return []Label{
		{"function", string(c.Function)},
		{"clock", orNone(c.Clock)},
		{"path", orNone(c.Path)},
		{"context", Context(c)},
	}
}

// Context is the context a cell ran in (runfile.Context: "plain", an
// ordinary process, for a cell that names none).
func Context(c *runfile.Cell) string { return string(c.Context.Or()) }

// FellBack says whether a vDSO cell's calls entered the kernel: from the
// syscalls counted per call where counted (a fallback makes one per call,
// a vDSO read none: 0.5 is the threshold probes uses), else from the note
// the bench wrote. known is false for cells of other paths and vDSO cells
// with neither.
func FellBack(c *runfile.Cell) (fell, known bool) {
	if c.Path != runfile.PathVDSO || c.Unavailable != "" {
		return false, false
	}
	if c.PerCall != nil && c.PerCall.Syscalls != nil {
		return *c.PerCall.Syscalls >= 0.5, true
	}
	for _, n := range c.Notes {
		if strings.HasPrefix(n, "vDSO fell back") || strings.HasPrefix(n, "vDSO falls back") {
			return true, true
		}
	}
	return false, false
}

// Virtualization is what the run's environment says of the machine:
// "qemu-tcg" or "qemu-kvm" inside vbench's own boot lab, "guest" where the
// CPU has the hypervisor flag, "none" where it has not, "unknown" where it
// was not recorded.
func Virtualization(e runfile.Env) string {
	if e.Guest {
		return "qemu-" + orUnknown(e.Accel)
	}
	v, ok := e.CPUFlags["hypervisor"]
	switch {
	case !ok:
		return "unknown"
	case v:
		return "guest"
	}
	return "none"
}

func cpuFlag(e runfile.Env, name string) string {
	v, ok := e.CPUFlags[name]
	switch {
	case !ok:
		return "unknown"
	case v:
		return "on"
	}
	return "off"
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func orUnknown[T ~string](s T) string {
	if s == "" {
		return "unknown"
	}
	return string(s)
}

func orNone[T ~string](s T) string {
	if s == "" {
		return "none"
	}
	return string(s)
}

// Write writes the families in the text exposition format.
func Write(w io.Writer, fams []Family) error {
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", f.Name, escapeHelp(f.Help), f.Name)
		for _, s := range f.Samples {
			bw.WriteString(f.Name)
			if len(s.Labels) > 0 {
				bw.WriteByte('{')
				for i, l := range s.Labels {
					if i > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(l.Name)
					bw.WriteString(`="`)
					bw.WriteString(escapeLabel(l.Value))
					bw.WriteByte('"')
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			bw.WriteString(formatValue(s.Value))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// WriteRuns writes runs' families to w.
func WriteRuns(w io.Writer, runs []*runfile.Run, labels []string) error {
	return Write(w, Families(runs, labels))
}

// WriteFile writes runs' families to path atomically: a temporary file in
// the same directory, renamed into place when complete.
func WriteFile(path string, runs []*runfile.Run, labels []string) error {
	fams := Families(runs, labels)
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, fams) })
}

// escapeHelp escapes a HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// escapeLabel escapes a label value: backslash, double quote, line feed.
// Other bytes pass as they are; a value that is not UTF-8 has its invalid
// bytes replaced, as the format is UTF-8.
func escapeLabel(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// formatValue writes a float as the format wants it: Go's shortest
// representation, +Inf, -Inf, NaN.
func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
