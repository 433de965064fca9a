package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// The contexts table: the cells measured in more than the plain context,
// one row per (function, clock, path), the contexts side by side: ns/call,
// the ratio to plain, syscalls per call. The cost table and the latency
// table show the plain context's cells; this one shows what a time
// namespace or a seccomp filter changes.

// nonPlain reports whether b has cells or context entries besides plain.
func nonPlain(b *runfile.Bench) bool {
	if len(b.Contexts) > 0 {
		return true
	}
	for _, c := range b.Cells {
		if c.Context.Or() != runfile.ContextPlain {
			return true
		}
	}
	return false
}

// contextCols are the contexts of b shown side by side: plain, then each
// one that has cells, in table order.
func contextCols(b *runfile.Bench) []runfile.Context {
	out := []runfile.Context{runfile.ContextPlain}
	for _, ctx := range b.ContextsMeasured() {
		if ctx != runfile.ContextPlain {
			out = append(out, ctx)
		}
	}
	return out
}

// ContextTable is the contexts table; nil when b was measured in plain
// alone. Its notes say how each context was entered, or why it could not
// be (once), and what a seccomp filter added to the syscall path and to
// the vDSO.
func ContextTable(b *runfile.Bench) *Table {
	if !nonPlain(b) {
		return nil
	}
	ctxs := contextCols(b)
	head := []string{"function", "clock", "path"}
	for _, ctx := range ctxs {
		if ctx == runfile.ContextPlain {
			head = append(head, string(ctx)+">", "sys>")
			continue
		}
		head = append(head, string(ctx)+">", "vs plain>", "sys>")
	}
	t := &Table{Cols: cols(head...)}
	type key struct {
		f runfile.Function
		c runfile.Clock
		p runfile.Path
	}
	var keys []key
	for _, c := range b.Cells {
		k := key{c.Function, c.Clock, c.Path}
		if c.Context.Or() != runfile.ContextPlain && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	// In the cost table's order: that of the plain cells.
	order := map[key]int{}
	for i, c := range b.Cells {
		k := key{c.Function, c.Clock, c.Path}
		if _, ok := order[k]; !ok {
			order[k] = i
		}
	}
	sort.SliceStable(keys, func(i, j int) bool { return order[keys[i]] < order[keys[j]] })
	for _, k := range keys {
		row := []string{string(k.f), dash(k.c), dash(k.p)}
		plain, _ := b.FindIn(runfile.ContextPlain, k.f, k.c, k.p)
		for _, ctx := range ctxs {
			c, ok := b.FindIn(ctx, k.f, k.c, k.p)
			ns, sys := "", ""
			switch {
			case !ok:
			case !measured(c):
				ns = "-"
			default:
				ns = FormatNS(c.Summary.Median)
				if c.PerCall != nil && c.PerCall.Syscalls != nil {
					sys = runfile.FormatCount(*c.PerCall.Syscalls)
				}
			}
			row = append(row, ns)
			if ctx != runfile.ContextPlain {
				vs := ""
				if ok && measured(c) && plain != nil && measured(plain) && plain.Summary.Median > 0 {
					vs = fmtRatio(c.Summary.Median / plain.Summary.Median)
				}
				row = append(row, vs)
			}
			row = append(row, sys)
		}
		t.Rows = append(t.Rows, row)
	}
	t.Notes = contextNotes(b, ctxs)
	return t
}

// contextNotes is the contexts table's legend.
func contextNotes(b *runfile.Bench, ctxs []runfile.Context) []string {
	out := []string{"ns/call: median, as in the cost table; vs plain: over the plain context's median of the same cell; sys: syscalls per call, counted in that context. Each context's cells were measured in a child placed there, their samples taken round-robin with the plain ones."}
	for _, ci := range b.Contexts {
		switch {
		case ci.Unavailable != "":
			out = append(out, fmt.Sprintf("%s: unavailable: %s.", ci.Name, ci.Unavailable))
		case ci.Seccomp != nil:
			s := ci.Seccomp
			what := fmt.Sprintf("%s: a BPF filter of %d instructions allowing %d system calls", ci.Name, s.Instructions, s.Allowed)
			if len(s.ArgChecked) > 0 {
				what += ", the first argument of " + strings.Join(s.ArgChecked, ", ") + " checked"
			}
			out = append(out, what+"; "+s.Status+"; "+s.Cache+".")
		default:
			out = append(out, fmt.Sprintf("%s: %s.", ci.Name, strings.Join(ci.Notes, "; ")))
		}
	}
	for _, ctx := range ctxs {
		if line := contextEffect(b, ctx); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// contextEffect says, for a context other than plain, what it changed:
// the median over its cells of the difference to plain, per path, for the
// cells that entered the kernel (a syscall counted per call) and for the
// vDSO cells that did not.
func contextEffect(b *runfile.Bench, ctx runfile.Context) string {
	if ctx == runfile.ContextPlain {
		return ""
	}
	groups := map[string][]float64{}
	var names []string
	for i := range b.Cells {
		c := &b.Cells[i]
		if c.Context.Or() != ctx || !measured(c) {
			continue
		}
		p, ok := b.FindIn(runfile.ContextPlain, c.Function, c.Clock, c.Path)
		if !ok || !measured(p) {
			continue
		}
		g := string(c.Path)
		if c.Path == runfile.PathVDSO {
			g = "vDSO answered in user space"
			if c.PerCall != nil && c.PerCall.Syscalls != nil && *c.PerCall.Syscalls >= 0.5 {
				g = "vDSO falling back to the syscall"
			}
		}
		if _, ok := groups[g]; !ok {
			names = append(names, g)
		}
		groups[g] = append(groups[g], c.Summary.Median-p.Summary.Median)
	}
	if len(names) == 0 {
		return ""
	}
	var parts []string
	for _, g := range names {
		d := groups[g]
		slices.Sort(d)
		med := d[len(d)/2]
		if len(d)%2 == 0 {
			med = (d[len(d)/2-1] + d[len(d)/2]) / 2
		}
		sign := "+"
		if med < 0 {
			sign = "-"
		}
		parts = append(parts, fmt.Sprintf("%s %s%s ns (%d cells)", g, sign, FormatNS(abs(med)), len(d)))
	}
	return fmt.Sprintf("%s against plain, median difference per cell: %s.", ctx, strings.Join(parts, "; "))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// ContextHeadline is runfile's: the summaries and the boot lab show the
// context cells runfile.ContextHeadlines lists.
type ContextHeadline = runfile.ContextHeadline

// ContextHeadlines are runfile.ContextHeadlines.
var ContextHeadlines = runfile.ContextHeadlines

// HeadlineValue is the headline cell h of b as "19.4 ns (plain 17.9,
// 1.09x)", or why there is none ("unavailable: ..."); "" when b did not ask
// for the context.
func HeadlineValue(h runfile.ContextHeadline, b *runfile.Bench) string {
	if b == nil {
		return ""
	}
	if ci, ok := b.Context(h.Context); ok && ci.Unavailable != "" {
		return "unavailable: " + ci.Unavailable
	}
	c, ok := b.FindIn(h.Context, h.Function, h.Clock, h.Path)
	if !ok {
		return ""
	}
	if !measured(c) {
		return "-"
	}
	v := FormatNS(c.Summary.Median) + " ns"
	if p, ok := b.Find(h.Function, h.Clock, h.Path); ok && measured(p) && p.Summary.Median > 0 {
		v += fmt.Sprintf(" (plain %s, %s)", FormatNS(p.Summary.Median), fmtRatio(c.Summary.Median/p.Summary.Median))
	}
	return v
}

// pathIn is a cell's path, with its context when not plain: "vdso in
// timens", as the comparison's rows name the cells it lines up by context.
func pathIn(c *runfile.Cell) string {
	if c.Context.Or() == runfile.ContextPlain {
		return dash(c.Path)
	}
	return string(c.Path) + " in " + string(c.Context)
}
