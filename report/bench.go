package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// BenchTable is the cost table, for `vbench bench` and report.md alike:
// one row per cell with the median ns/call and the half-width of its 95%
// confidence interval as a percentage of it (as benchstat shows it), the
// ratio to the vDSO cell of the same call, syscalls and page faults per
// call where they were counted, cycles and instructions per call where
// the machine has a PMU, the latency mode's p50 and p99 if it ran, and
// the notes (the noise verdict among them). A column no cell has a value
// for is left out. The notes under it say how the samples were taken and,
// once each, which counters could not be read and why.
func BenchTable(b *runfile.Bench) *Table { return benchTable(b, false) }

// BenchCSVTable is BenchTable with the cells of every context, plain
// first, each naming its context (the CSV column context, and vs_plain,
// its median over the plain context's same cell): what `vbench bench
// --csv` writes. The text and markdown tables show the other contexts
// side by side instead (ContextTable).
func BenchCSVTable(b *runfile.Bench) *Table { return benchTable(b, true) }

func benchTable(b *runfile.Bench, allContexts bool) *Table {
	hasLat, hasSys, hasPF, hasHW, hasNoise := false, false, false, false, false
	for _, c := range b.Cells {
		hasLat = hasLat || c.Latency != nil
		hasNoise = hasNoise || c.Noise != nil
		if p := c.PerCall; p != nil {
			hasSys = hasSys || p.Syscalls != nil
			hasPF = hasPF || p.PageFaults != nil
			hasHW = hasHW || p.Cycles != nil || p.Instructions != nil
		}
	}
	head := []string{"function", "clock", "path", "ns/call>", "±>", "vs vdso>"}
	if hasSys {
		head = append(head, "sys/call>")
	}
	if hasPF {
		head = append(head, "pf/call>")
	}
	if hasHW {
		head = append(head, "cycles>", "instr>")
	}
	if hasLat {
		head = append(head, "p50>", "p99>")
	}
	head = append(head, "notes")
	// CSV (`vbench bench --csv`) gets the names and the notes, and instead
	// of the formatted figures the numbers at full precision (benchDataKeys).
	shown := keyed(cols(head...), map[string]string{"function": "function", "clock": "clock", "path": "path", "notes": "notes"})
	t := &Table{Cols: slices.Concat(shown[:3], data(benchDataKeys...), shown[3:])}
	count := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return runfile.FormatCount(*v)
	}
	big := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return FormatNS(*v)
	}
	var order []*runfile.Cell // plain first, then each context in turn
	for _, ctx := range runfile.Contexts {
		if ctx != runfile.ContextPlain && !allContexts {
			break // ContextTable shows them
		}
		for i := range b.Cells {
			if b.Cells[i].Context.Or() == ctx {
				order = append(order, &b.Cells[i])
			}
		}
	}
	for _, c := range order {
		row := append([]string{string(c.Function), dash(c.Clock), dash(c.Path)}, benchData(b, c)...)
		var notes []string
		if !measured(c) {
			row = append(row, "-")
			for len(row) < len(t.Cols)-1 {
				row = append(row, "")
			}
			why := c.Unavailable
			if why == "" {
				why = "not measured"
			}
			t.Rows = append(t.Rows, append(row, why))
			continue
		}
		s := c.Summary
		row = append(row, FormatNS(s.Median), ciPct(s), vdsoRatio(b, c))
		p := c.PerCall
		if p == nil {
			p = &runfile.PerCall{}
		}
		if hasSys {
			row = append(row, count(p.Syscalls))
		}
		if hasPF {
			row = append(row, count(p.PageFaults))
		}
		if hasHW {
			row = append(row, big(p.Cycles), big(p.Instructions))
		}
		if hasLat {
			if l := c.Latency; l != nil {
				row = append(row, FormatNS(l.P50), FormatNS(l.P99))
			} else {
				row = append(row, "", "")
			}
		}
		notes = append(notes, c.Notes...)
		if n := c.NoiseNote(); n != "" {
			notes = append(notes, n)
		}
		t.Rows = append(t.Rows, append(row, strings.Join(notes, "; ")))
	}
	t.Notes = benchNotes(b, hasSys, hasPF, hasHW, hasLat, hasNoise)
	return t
}

// benchDataKeys are the CSV-only columns of the cost table: the summary
// of the samples in ns per call (median, its 95% interval lo and hi), how
// many samples of how many calls, the ratio to the vDSO cell, the kernel
// counters per call, the latency mode's p50 and p99 in ns, and whether
// the cell is noisy.
var benchDataKeys = []string{"median_ns", "lo_ns", "hi_ns", "samples", "iters", "vs_vdso",
	"syscalls_per_call", "page_faults_per_call", "p50_ns", "p99_ns", "noisy", "context", "vs_plain"}

// benchData is a cell's benchDataKeys, "" for what it lacks.
func benchData(b *runfile.Bench, c *runfile.Cell) []string {
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	opt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return num(*v)
	}
	out := make([]string, len(benchDataKeys))
	out[11] = string(c.Context.Or())
	if !measured(c) {
		return out
	}
	s := c.Summary
	out[0], out[1], out[2] = num(s.Median), num(s.Lo), num(s.Hi)
	out[3], out[4] = strconv.Itoa(len(c.Samples)), strconv.FormatInt(c.Iters, 10)
	if v, ok := b.FindIn(c.Context, c.Function, c.Clock, runfile.PathVDSO); ok && measured(v) && v.Summary.Median > 0 &&
		c.Function != runfile.FuncFloor {
		out[5] = num(s.Median / v.Summary.Median)
	}
	if c.Context.Or() != runfile.ContextPlain {
		if v, ok := b.Find(c.Function, c.Clock, c.Path); ok && measured(v) && v.Summary.Median > 0 {
			out[12] = num(s.Median / v.Summary.Median)
		}
	}
	if p := c.PerCall; p != nil {
		out[6], out[7] = opt(p.Syscalls), opt(p.PageFaults)
	}
	if l := c.Latency; l != nil {
		out[8], out[9] = num(l.P50), num(l.P99)
	}
	out[10] = strconv.FormatBool(c.Noise != nil && c.Noise.Noisy)
	return out
}

// benchNotes is the legend of the cost table.
func benchNotes(b *runfile.Bench, hasSys, hasPF, hasHW, hasLat, hasNoise bool) []string {
	var out []string
	ci := "half-width of the 95% confidence interval of the median, in % of it"
	if b.Count < runfile.MinSamplesForCI {
		ci = fmt.Sprintf("range of the samples (a 95%% confidence interval needs --count %d or more)", runfile.MinSamplesForCI)
	}
	out = append(out, fmt.Sprintf("ns/call: median of %d samples of %v each on CPU %d; ±: %s.", b.Count, b.Benchtime, b.CPU, ci))
	switch b.Order {
	case runfile.OrderCellByCell:
		out = append(out, "Samples taken cell by cell (--cell-by-cell): drift of the machine during the run falls on some cells and not others.")
	case runfile.OrderInterleaved:
		out = append(out, "Samples taken round-robin, one of each cell per round, every cell calibrated first: slow drift falls on every cell alike.")
	}
	if b.Interrupted {
		out = append(out, "Interrupted: cells hold the samples taken so far.")
	}
	out = append(out, fmt.Sprintf("vs vdso: median over the vDSO median of the same call. The vsyscall page has no %s entry: no rows.", noVsyscall()))
	if hasSys || hasPF || hasHW {
		var parts []string
		if hasSys {
			src := "syscalls entered"
			if c, ok := b.Counter(runfile.CounterSyscalls); ok && c.Source != "" {
				src += " (" + firstClause(c.Source) + ")"
			}
			parts = append(parts, "sys: "+src)
		}
		if hasPF {
			parts = append(parts, "pf: page faults (perf software event; a vsyscall call is one fault the kernel emulates)")
		}
		if hasHW {
			parts = append(parts, "cycles, instr: hardware counters")
		}
		out = append(out, fmt.Sprintf("Per call, counted: %s.", strings.Join(parts, "; ")))
	}
	// Each reason once, with every counter it applies to.
	var reasons []string
	names := map[string][]string{}
	for _, c := range b.Counters {
		if c.Unavailable != "" {
			if names[c.Unavailable] == nil {
				reasons = append(reasons, c.Unavailable)
			}
			names[c.Unavailable] = append(names[c.Unavailable], c.Name)
		}
	}
	for _, r := range reasons {
		out = append(out, fmt.Sprintf("%s: unavailable: %s.", strings.Join(names[r], ", "), r))
	}
	if hasNoise {
		out = append(out, fmt.Sprintf("noisy: 95%% interval wider than ±%.0f%%, samples in two groups (bimodal), or steal time, preemptions or migrations seen while the cell ran.", runfile.NoisyCI*100))
	}
	if b.RetryNoisy > 0 {
		out = append(out, fmt.Sprintf("--retry-noisy %v: cells with a wide interval or bimodal samples were sampled again within that budget.", b.RetryNoisy))
	}
	if hasLat {
		out = append(out, latencyNote(b, "p50, p99: single calls"))
	}
	return out
}

// latencyNote says how single calls were timed, after what, naming the
// counter the run was timed with.
func latencyNote(b *runfile.Bench, what string) string {
	counter := b.TimerName()
	s := what + " timed with the " + counter
	if b.TSCHz > 0 {
		s += fmt.Sprintf(" (%s)", hz(b.TSCHz))
	}
	s += ", the timer's own cost subtracted"
	if b.TSCStepNs > 0 {
		s += fmt.Sprintf("; the %s advances in steps of %.3g ns here, so shorter calls read as 0 or one step", counter, b.TSCStepNs)
	}
	return s + "."
}

// hz is a rate as GHz, or MHz below one GHz (arm64's counter runs at tens
// of MHz).
func hz(f float64) string {
	if f >= 1e9 {
		return fmt.Sprintf("%.3f GHz", f/1e9)
	}
	return fmt.Sprintf("%.4g MHz", f/1e6)
}

// LatencyTable is the per-call latency table: the percentiles of single
// calls timed one by one, for the cells the latency mode ran on. Nil when
// it ran on none.
func LatencyTable(b *runfile.Bench) *Table {
	if !hasLatency(b) {
		return nil
	}
	t := &Table{Cols: cols("function", "clock", "path", "calls>", "p50>", "p90>", "p99>", "p99.9>", "max>")}
	for _, c := range b.Cells {
		l := c.Latency
		if l == nil || c.Context.Or() != runfile.ContextPlain {
			continue
		}
		t.Rows = append(t.Rows, []string{string(c.Function), dash(c.Clock), dash(c.Path), fmt.Sprint(l.N),
			FormatNS(l.P50), FormatNS(l.P90), FormatNS(l.P99), FormatNS(l.P999), FormatNS(l.Max)})
	}
	t.Notes = []string{latencyNote(b, "ns per call, each call")}
	return t
}

// hasLatency reports whether any cell has per-call latencies.
func hasLatency(b *runfile.Bench) bool {
	for _, c := range b.Cells {
		if c.Latency != nil {
			return true
		}
	}
	return false
}

// ciPct is the larger half-width of the summary's interval as a
// percentage of its median, as benchstat shows it: "3%".
func ciPct(s *runfile.Summary) string {
	if s.Median <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", math.Max(s.Hi-s.Median, s.Median-s.Lo)/s.Median*100)
}

// vdsoRatio is the cell's median over the vDSO median of the same call;
// "" for the floor cells, which have no vDSO counterpart.
func vdsoRatio(b *runfile.Bench, c *runfile.Cell) string {
	if c.Function == runfile.FuncFloor {
		return ""
	}
	v, ok := b.Find(c.Function, c.Clock, runfile.PathVDSO)
	if !ok || !measured(v) || v.Summary.Median <= 0 {
		return "-"
	}
	return fmtRatio(c.Summary.Median / v.Summary.Median)
}

// firstClause is s up to its first "; " or " (": a counter's source
// without the detail the run file keeps.
func firstClause(s string) string {
	if i := strings.Index(s, " ("); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "; "); i >= 0 {
		s = s[:i]
	}
	return s
}

// noVsyscall lists the calls the vsyscall page has no entry for, e.g.
// "clock_gettime, clock_getres or getrandom".
func noVsyscall() string {
	var fs []string
	for _, c := range runfile.Calls {
		if !c.Has(runfile.PathVsyscall) {
			fs = append(fs, string(c.Function))
		}
	}
	if len(fs) < 2 {
		return strings.Join(fs, "")
	}
	return strings.Join(fs[:len(fs)-1], ", ") + " or " + fs[len(fs)-1]
}
