package bootlab

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// TimelineRow is one kernel of the timeline: its boot, its version and
// architecture.
type TimelineRow struct {
	*Result
	Version string // upstream version, "6.1.176", from the guest's uname -v or the kernel's name
	Arch    *Arch
	ver     []int
}

// Column is one column of the timeline table: its heading, the cell of a
// row, and whether a cell differs from the row above (nil: the cells'
// text differs). A cell that differs is shown in bold.
type Column struct {
	Head    string
	Cell    func(r TimelineRow) string
	Changed func(prev, cur TimelineRow) bool
}

// TimelineColumns are the timeline table's columns after the kernel's.
// A new per-kernel fact (a lifecycle verdict, a context) is one more entry.
var TimelineColumns = []Column{
	{Head: "vsyscall default", Cell: func(r TimelineRow) string { return dash(r.Run.Env.VsyscallMode) }},
	{Head: "maps layout (address order)", Cell: func(r TimelineRow) string { return layoutCell(r.Run.Boot) }},
	{Head: "vDSO placed", Cell: func(r TimelineRow) string { return vdsoPlace(r.Run.ASLR) }},
	{Head: "vDSO effective bits [95%]", Cell: func(r TimelineRow) string { return vdsoBits(r.Run.ASLR) }, Changed: bitsChanged},
	{Head: "getrandom in vDSO", Cell: func(r TimelineRow) string { return vdsoGetrandom(r.Run) }},
	{Head: "lifecycle", Cell: lifecycleCell},
	{Head: "boot (s)", Cell: func(r TimelineRow) string { return fmt.Sprintf("%.1f", r.Seconds) }, Changed: never},
}

func never(prev, cur TimelineRow) bool { return false }

// debianUpstream finds "Debian 6.1.176-1" (or "6.12.117-1~bpo13+1") in uname -v.
var debianUpstream = regexp.MustCompile(`Debian (\d+\.\d+\.\d+)`)

// nameVersion finds the version at the start of a kernel's name:
// "6.12.117+deb13-cloud-amd64" -> 6.12.117; "6.1.0-50-cloud-amd64" -> 6.1.0.
var nameVersion = regexp.MustCompile(`^(\d+\.\d+(?:\.\d+)?)`)

// versionOf is a kernel's upstream version: from the guest's uname -v
// where Debian states it (its 6.1 kernels are named 6.1.0-NN whatever the
// stable release), else from the kernel's name.
func versionOf(r *Result) string {
	if r.Run != nil {
		if m := debianUpstream.FindStringSubmatch(r.Run.Env.KernelVersion); m != nil {
			return m[1]
		}
	}
	if m := nameVersion.FindStringSubmatch(r.Kernel); m != nil {
		return m[1]
	}
	return r.Kernel
}

func versionNumbers(v string) []int {
	var out []int
	for _, f := range strings.Split(v, ".") {
		n, err := strconv.Atoi(f)
		if err != nil {
			break
		}
		out = append(out, n)
	}
	return out
}

// timelineRows orders the boots by architecture (in the order arches lists
// them) and then by version.
func timelineRows(boots []Result) []TimelineRow {
	var rows []TimelineRow
	for i := range boots {
		r := &boots[i]
		a := r.Arch
		if a == nil && r.Run != nil {
			a = archByMachine(r.Run.Env.Machine)
		}
		if a == nil {
			a = arches[0]
		}
		v := versionOf(r)
		rows = append(rows, TimelineRow{Result: r, Version: v, Arch: a, ver: versionNumbers(v)})
	}
	slices.SortStableFunc(rows, func(a, b TimelineRow) int {
		if c := cmp.Compare(slices.Index(arches, a.Arch), slices.Index(arches, b.Arch)); c != 0 {
			return c
		}
		return slices.Compare(a.ver, b.ver)
	})
	return rows
}

func archByMachine(m string) *Arch {
	for _, a := range arches {
		if a.Name == m {
			return a
		}
	}
	return nil
}

// WriteTimelineMarkdown writes the timeline: per architecture, one row per
// kernel in version order, with cols after the kernel's column. A cell
// that differs from the row above is in bold. A boot that brought nothing
// back is a row saying why ("timed out" and its console's last line).
func WriteTimelineMarkdown(w io.Writer, rows []TimelineRow, cols []Column) {
	fmt.Fprintf(w, "## The kernel timeline\n\n")
	fmt.Fprintf(w, "One boot per kernel in its default vsyscall mode (no `vsyscall=` argument: what the kernel's own\n")
	fmt.Fprintf(w, "configuration chose), one table per architecture, the kernels in version order. **Bold**: the cell differs\n")
	fmt.Fprintf(w, "from the kernel above (for the effective bits: the two intervals do not overlap). The maps layout is the\n")
	fmt.Fprintf(w, "guest's own `/proc/self/maps`: the special mappings in address order with their sizes. The vDSO is\n")
	fmt.Fprintf(w, "\"next to the stack\" when its distance to the stack varies by little, \"in the mmap region\" when it\n")
	fmt.Fprintf(w, "moves with the mmap base (one offset in every sample).\n")
	for i := 0; i < len(rows); {
		a := rows[i].Arch
		j := i
		for j < len(rows) && rows[j].Arch == a {
			j++
		}
		fmt.Fprintf(w, "\n### %s\n\n", a.Name)
		head, rule := "| kernel |", "|---|"
		for _, c := range cols {
			head += " " + c.Head + " |"
			rule += "---|"
		}
		fmt.Fprintln(w, head)
		fmt.Fprintln(w, rule)
		var prev *TimelineRow
		for k := i; k < j; k++ {
			r := rows[k]
			line := fmt.Sprintf("| %s (`%s`) |", r.Version, mdCell(r.Kernel))
			if r.Run == nil {
				why, last := failWords(r.Result)
				line += " " + why + " | " + mdCell(last) + " |" + strings.Repeat(" - |", max(len(cols)-3, 0))
				line += fmt.Sprintf(" %.1f |", r.Seconds)
				fmt.Fprintln(w, line)
				continue
			}
			for _, c := range cols {
				cell := mdCell(c.Cell(r))
				changed := false
				if prev != nil {
					if c.Changed != nil {
						changed = c.Changed(*prev, r)
					} else {
						// "-" is not known, not a change.
						p, q := c.Cell(*prev), c.Cell(r)
						changed = p != q && p != "-" && q != "-"
					}
				}
				if changed && cell != "" {
					cell = "**" + cell + "**"
				}
				line += " " + cell + " |"
			}
			fmt.Fprintln(w, line)
			prev = &rows[k]
		}
		i = j
	}
}

// failWords says why a boot brought nothing back: "timed out" or "no
// result", and the console's last line (or the error).
func failWords(r *Result) (why, last string) {
	why = "no result"
	if errors.Is(r.Err, ErrTimeout) {
		why = "timed out"
	}
	last = lastConsoleLine(r.Console)
	if last == "" {
		last = errString(r.Err)
	} else {
		last = "last console line: " + last
	}
	return why, last
}

// lastConsoleLine is the console's last line that is not empty, without
// terminal control sequences.
func lastConsoleLine(b []byte) string {
	lines := strings.Split(ansiEscape.ReplaceAllString(string(b), ""), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return l
		}
	}
	return ""
}

func region(a *runfile.ASLR, name string) *runfile.Region {
	if a == nil {
		return nil
	}
	for i := range a.Regions {
		if a.Regions[i].Name == name {
			return &a.Regions[i]
		}
	}
	return nil
}

func pair(a *runfile.ASLR, x, y string) *runfile.Pair {
	if a == nil {
		return nil
	}
	for i := range a.Pairs {
		p := &a.Pairs[i]
		if (p.A == x && p.B == y) || (p.A == y && p.B == x) {
			return p
		}
	}
	return nil
}

// vdsoPlace says where the vDSO sits, from the pairs the ASLR part
// computed: "in the mmap region" when vDSO - mmap base is one offset in
// every sample (Linux 6.9+ on x86-64, arch/x86/entry/vdso/vma.c; arm64
// always), "next to the stack" when stack - vDSO varies over less than
// 4 MiB (vdso_addr() before 6.9 put it within 2 MiB above the stack's
// top), "elsewhere" otherwise.
func vdsoPlace(a *runfile.ASLR) string {
	g := region(a, "vdso")
	switch {
	case a == nil || a.Samples == 0:
		return "-"
	case g == nil || g.Present == 0:
		return "no vDSO"
	case g.Distinct <= 1:
		return "fixed"
	}
	if p := pair(a, "vdso", "mmap"); p != nil && p.DistinctDiffs == 1 {
		return "in the mmap region"
	}
	if p := pair(a, "vdso", "stack"); p != nil && p.MaxDiff-p.MinDiff < 4<<20 {
		return "next to the stack"
	}
	return "elsewhere"
}

// vdsoBits is the vDSO base's effective bits with their interval and the
// sample count: "28.0 [19.5, 28.0] (2,000)".
func vdsoBits(a *runfile.ASLR) string {
	g := region(a, "vdso")
	if g == nil || g.Present == 0 {
		return "-"
	}
	if g.Distinct <= 1 {
		return fmt.Sprintf("0 (%d samples)", a.Samples)
	}
	return fmt.Sprintf("%.1f [%.1f, %.1f] (%d samples)", g.Effective, g.EffectiveLo, g.EffectiveHi, a.Samples)
}

// bitsChanged: the vDSO's intervals of two kernels do not overlap.
func bitsChanged(prev, cur TimelineRow) bool {
	p, c := region(prev.Run.ASLR, "vdso"), region(cur.Run.ASLR, "vdso")
	if p == nil || c == nil {
		return (p == nil) != (c == nil)
	}
	return p.EffectiveHi < c.EffectiveLo || c.EffectiveHi < p.EffectiveLo
}

// vdsoHas says whether the guest's vDSO serves fn: "yes" when its vDSO
// cell was measured (or is unavailable only for a reason other than a
// missing symbol), "no" when the vDSO lacks the symbol, "-" without a
// bench.
func vdsoHas(b *runfile.Bench, fn string) string {
	if b == nil {
		return "-"
	}
	for _, c := range b.Cells {
		if string(c.Function) != fn || string(c.Path) != "vdso" {
			continue
		}
		switch {
		case c.Unavailable == "":
			return "yes"
		case strings.Contains(c.Unavailable, "interrupted"):
			return "-"
		default:
			return "no"
		}
	}
	return "-"
}

// lifecycleCell is the guest's lifecycle verdicts in one short cell (the
// lifecycle section has them in full): mremap's and ARCH_MAP_VDSO's
// status, the EEXIST checks, and the leaks fault injection found ("not
// run" where the kernel has no fault injection, as Debian's); "-" where the
// part did not run.
func lifecycleCell(r TimelineRow) string {
	l := r.Run.Lifecycle
	if l == nil {
		return "-"
	}
	status := func(name string) string {
		if c, ok := checkOf(l, name); ok {
			return string(c.Status)
		}
		return "-"
	}
	leaks := "leaks: not run"
	if fi := l.FaultInjection; fi != nil {
		leaks = fmt.Sprintf("%d leak(s) in %d failure points", len(fi.Leaks), fi.Points)
	}
	return fmt.Sprintf("mremap %s, map %s, EEXIST %s, %s", status("mremap"), status("arch_prctl map"), eexistCell(l), leaks)
}

// vdsoGetrandom says whether the guest's vDSO has getrandom: from the
// bench cell (vdsoHas), or, where the bench was cut short before it,
// from verify, which runs "getrandom via vdso: ..." checks only where the
// vDSO has the symbol and skips "getrandom via vdso" where it has not.
func vdsoGetrandom(r *runfile.Run) string {
	if s := vdsoHas(r.Bench, "getrandom"); s != "-" || r.Verify == nil {
		return s
	}
	for _, c := range r.Verify.Checks {
		switch {
		case strings.HasPrefix(c.Name, "getrandom via vdso: "):
			return "yes"
		case c.Name == "getrandom via vdso" && c.Status == runfile.StatusSkip:
			return "no"
		}
	}
	return "-"
}
