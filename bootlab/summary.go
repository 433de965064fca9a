package bootlab

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// TCGNote is said wherever guest timings are shown without KVM.
const TCGNote = "No KVM: QEMU emulated the CPU (TCG). Timings from these guests are not real-hardware numbers; what each guest observed of the vsyscall page is."

// Perms is the permission field of a [vsyscall] maps line, or "absent".
func Perms(mapsLine string) string {
	if f := strings.Fields(mapsLine); len(f) > 1 {
		return f[1]
	}
	return "absent"
}

// WriteSummaryMarkdown writes what each guest saw and how long each boot
// took, one row per kernel and mode, as a Markdown section, with TCGNote
// when any boot was emulated.
func WriteSummaryMarkdown(w io.Writer, accels map[string]Accel, results []Result) {
	fmt.Fprintf(w, "## vsyscall= boot modes\n\n")
	var kernels []string
	for _, r := range results {
		if !slices.Contains(kernels, r.Kernel) {
			kernels = append(kernels, r.Kernel)
		}
	}
	fmt.Fprintf(w, "Kernels %s; one boot per kernel and mode, vbench as /init.\n\n", "`"+strings.Join(kernels, "`, `")+"`")
	emulated := false
	for _, a := range slices.Sorted(maps.Keys(accels)) {
		acc := accels[a]
		fmt.Fprintf(w, "Accelerator for %s kernels: %s (%s).\n\n", a, acc.Name, mdCell(acc.Reason))
		emulated = emulated || acc.Name != AccelKVM
	}
	fmt.Fprintln(w, "| kernel | mode | kernel argument | [vsyscall] in maps | read probe | call probe | accel | boot (s) | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		if r.Run == nil {
			fmt.Fprintf(w, "| %s | %s | %s | - | - | - | - | %.1f | no result: %s |\n", r.Kernel, r.Mode.Name, argCell(r.Mode), r.Seconds, mdCell(errString(r.Err)))
			continue
		}
		b := r.Run.Boot
		if b.Accel != AccelKVM {
			emulated = true
		}
		res := "ok"
		if len(b.Errors) > 0 {
			res = "failed parts: " + mdCell(strings.Join(b.Errors, "; "))
		}
		perms := Perms(b.Observed.MapsLine)
		if perms != "absent" {
			perms = "`" + perms + "`"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %.1f | %s |\n", r.Kernel, r.Mode.Name, argCell(r.Mode), perms,
			dash(b.Observed.ReadProbe), dash(b.Observed.CallProbe), b.Accel, b.Seconds, res)
	}
	if emulated {
		fmt.Fprintf(w, "\n**%s**\n", TCGNote)
	}
}

// argCell is the boot argument of a mode as a table cell: code, or "(none)".
func argCell(m Mode) string {
	if m.Arg == "" {
		return "(none)"
	}
	return "`" + m.Arg + "`"
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// WriteASLRMarkdown writes the ASLR table of a boot-lab run: one row per
// region, one column per kernel, each cell the effective bits with their 95%
// interval (flagged when above the kernel's maximum for that version), and
// then, per kernel, the conclusions aslr draws: where the vDSO sits and
// which regions move with which. Each kernel's column
// comes from its boot with the most ASLR samples (the vsyscall= mode does
// not change the layout); the header names it.
func WriteASLRMarkdown(w io.Writer, results []Result) {
	type col struct {
		kernel string
		res    *Result
	}
	var cols []col
	for i := range results {
		r := &results[i]
		if r.Run == nil || r.Run.ASLR == nil || r.Run.ASLR.Samples == 0 {
			continue
		}
		j := slices.IndexFunc(cols, func(c col) bool { return c.kernel == r.Kernel })
		switch {
		case j < 0:
			cols = append(cols, col{r.Kernel, r})
		case r.Run.ASLR.Samples > cols[j].res.Run.ASLR.Samples:
			cols[j].res = r
		}
	}
	if len(cols) == 0 {
		return
	}
	fmt.Fprintf(w, "\n## ASLR per kernel\n\n")
	fmt.Fprintf(w, "Effective bits of each region's base, with their 95%% interval (the estimator and the entropy it\n")
	fmt.Fprintf(w, "measures are in each run's report). The guests sample for a fixed time: under TCG a spawn is slow,\n")
	fmt.Fprintf(w, "so a wide interval means few samples, not a weak kernel.\n\n")
	var names []string
	head, rule := "| region |", "|---|"
	for _, c := range cols {
		a := c.res.Run.ASLR
		head += fmt.Sprintf(" %s (%s, %d samples) |", c.kernel, c.res.Mode.Name, a.Samples)
		rule += "---|"
		for _, g := range a.Regions {
			if !slices.Contains(names, g.Name) {
				names = append(names, g.Name)
			}
		}
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, n := range names {
		line := "| " + n + " |"
		for _, c := range cols {
			line += " " + aslrCell(c.res.Run, n) + " |"
		}
		fmt.Fprintln(w, line)
	}
	for _, c := range cols {
		// What moves with what, as the run's report says it (computed
		// from the data now, not stored prose).
		fmt.Fprintf(w, "\nOn %s:\n\n", c.kernel)
		for _, m := range analysis.Conclusions(c.res.Run.ASLR) {
			fmt.Fprintf(w, "- %s\n", mdCell(m))
		}
	}
}

// aslrCell is one region of one run: "28.0 [21.7, 28.0]", with the kernel
// maximum when the figure is above it.
func aslrCell(r *runfile.Run, name string) string {
	a := r.ASLR
	i := slices.IndexFunc(a.Regions, func(g runfile.Region) bool { return g.Name == name })
	if i < 0 {
		return "-"
	}
	g := a.Regions[i]
	if g.Present == 0 {
		return "absent"
	}
	if g.Distinct == 1 {
		return "0 (fixed)"
	}
	s := fmt.Sprintf("%.1f [%.1f, %.1f]", g.Effective, g.EffectiveLo, g.EffectiveHi)
	if m := analysis.MaxIn(a, name, analysis.KernelOf(r.Env)); analysis.Above(g, m) {
		s += fmt.Sprintf(" **above the kernel's %.0f**", m.Bits)
	}
	return s
}
