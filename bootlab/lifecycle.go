package bootlab

import (
	"fmt"
	"io"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// WriteLifecycleMarkdown writes the vDSO lifecycle checks of every guest
// side by side, one row per boot: the verdict of each check and, for the
// fault-injection enumeration of arch_prctl(ARCH_MAP_VDSO_64), how many
// failure points there were and which of them left a mapping behind, where
// and how big. Booted as `--kernel FIXED --kernel UNFIXED` on the pair
// .ci/build-kernel makes, it shows the map_vdso() error-path leak on one
// and its absence on the other. Nothing is written when no guest ran the
// lifecycle part.
func WriteLifecycleMarkdown(w io.Writer, results []Result) {
	some := false
	for _, r := range results {
		some = some || (r.Run != nil && r.Run.Lifecycle != nil)
	}
	if !some {
		return
	}
	fmt.Fprintf(w, "\n## The vDSO's lifecycle in each guest\n\n")
	fmt.Fprintln(w, "mremap: the three mappings moved, clock_gettime through the moved vDSO agrees with the syscall. "+
		"map: all unmapped, arch_prctl(ARCH_MAP_VDSO_64) at a free address gives the exec layout and agreeing calls. "+
		"EEXIST: with one region left mapped the call is refused. Fault injection: the call's N-th allocation "+
		"fails (fail-nth, failslab), N = 1, 2, ... until it succeeds; a leak is a mapping a failed call left behind.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| kernel | mode | layout at exec | mremap | map | EEXIST | failure points | leaks |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		if r.Run == nil || r.Run.Lifecycle == nil {
			why := "no result"
			if r.Run != nil {
				why = "lifecycle part did not run"
			}
			fmt.Fprintf(w, "| %s | %s | - | - | - | - | - | %s |\n", r.Kernel, r.Mode.Name, why)
			continue
		}
		l := r.Run.Lifecycle
		var layout []string
		for _, g := range l.Layout {
			layout = append(layout, fmt.Sprintf("%s %d KiB", g.Name, g.Size>>10))
		}
		points, leaks := faultCells(l)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Kernel, r.Mode.Name, mdCell(strings.Join(layout, ", ")),
			verdictCell(l, "mremap"), verdictCell(l, "arch_prctl map"), eexistCell(l), points, leaks)
	}
	fmt.Fprintln(w)
	for _, r := range results {
		if r.Run == nil || r.Run.Lifecycle == nil {
			continue
		}
		for _, c := range r.Run.Lifecycle.Checks {
			if c.Status != runfile.StatusPass {
				fmt.Fprintf(w, "- %s, %s: %s %s: %s\n", r.Kernel, r.Mode.Name, c.Name, strings.ToUpper(string(c.Status)), mdCell(c.Detail))
			}
		}
	}
}

func checkOf(l *runfile.Lifecycle, name string) (runfile.Check, bool) {
	for _, c := range l.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return runfile.Check{}, false
}

func verdictCell(l *runfile.Lifecycle, name string) string {
	c, ok := checkOf(l, name)
	switch {
	case !ok:
		return "-"
	case c.Status == runfile.StatusSkip:
		return "skip: " + mdCell(c.Detail)
	}
	return string(c.Status)
}

// eexistCell is "3 of 3 pass", or the first that did not pass.
func eexistCell(l *runfile.Lifecycle) string {
	n, pass := 0, 0
	other := ""
	for _, c := range l.Checks {
		if !strings.HasPrefix(c.Name, "EEXIST ") {
			continue
		}
		n++
		if c.Status == runfile.StatusPass {
			pass++
		} else if other == "" {
			other = fmt.Sprintf("; %s %s: %s", c.Name, c.Status, mdCell(c.Detail))
		}
	}
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%d of %d pass%s", pass, n, other)
}

// faultCells are the failure points ("5: ENOMEM x5") and the leaks ("none",
// or "N=5 (ENOMEM): [vvar] 16 KiB at 0x..."), or why fault injection did
// not run.
func faultCells(l *runfile.Lifecycle) (string, string) {
	fi := l.FaultInjection
	if fi == nil {
		c, _ := checkOf(l, "fault injection")
		return "not run", mdCell(c.Detail)
	}
	count := map[string]int{}
	var order []string
	for _, p := range fi.Results {
		e := p.Errno
		if e == "" {
			e = "succeeded"
		}
		if count[e] == 0 {
			order = append(order, e)
		}
		count[e]++
	}
	var es []string
	for _, e := range order {
		es = append(es, fmt.Sprintf("%s x%d", e, count[e]))
	}
	points := fmt.Sprintf("%d (%s)", fi.Points, strings.Join(es, ", "))
	if !fi.Complete {
		points += ", not all visited"
	}
	if len(fi.Leaks) == 0 {
		return points, "none"
	}
	var ls []string
	for _, k := range fi.Leaks {
		var rs []string
		for _, g := range k.Regions {
			rs = append(rs, fmt.Sprintf("%s %d KiB at %s", g.Name, g.Size>>10, runfile.HexAddr(g.Start)))
		}
		l := fmt.Sprintf("**N=%d** (%s): %s", k.Point, k.Errno, strings.Join(rs, ", "))
		if k.Retry != "" {
			l += "; a new ARCH_MAP_VDSO_64 then gives " + k.Retry
		}
		ls = append(ls, l)
	}
	return points, strings.Join(ls, "; ")
}
