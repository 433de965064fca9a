package bootlab

import (
	"fmt"
	"io"
	"slices"
	"strings"
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
func WriteSummaryMarkdown(w io.Writer, acc Accel, results []Result) {
	fmt.Fprintf(w, "# vsyscall= boot modes under QEMU\n\n")
	var kernels []string
	for _, r := range results {
		if !slices.Contains(kernels, r.Kernel) {
			kernels = append(kernels, r.Kernel)
		}
	}
	fmt.Fprintf(w, "Kernels %s; one boot per kernel and mode, vbench as /init.\n\n", "`"+strings.Join(kernels, "`, `")+"`")
	if acc.Name != "" {
		fmt.Fprintf(w, "Accelerator: %s (%s).\n\n", acc.Name, mdCell(acc.Reason))
	}
	fmt.Fprintln(w, "| kernel | mode | kernel argument | [vsyscall] in maps | read probe | call probe | accel | boot (s) | result |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	emulated := acc.Name != "" && acc.Name != AccelKVM
	for _, r := range results {
		if r.Run == nil {
			fmt.Fprintf(w, "| %s | %s | `%s` | - | - | - | - | %.1f | no result: %s |\n", r.Kernel, r.Mode.Name, r.Mode.Arg, r.Seconds, mdCell(errString(r.Err)))
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
		fmt.Fprintf(w, "| %s | %s | `%s` | %s | %s | %s | %s | %.1f | %s |\n", r.Kernel, r.Mode.Name, r.Mode.Arg, perms,
			dash(b.Observed.ReadProbe), dash(b.Observed.CallProbe), b.Accel, b.Seconds, res)
	}
	if emulated {
		fmt.Fprintf(w, "\n**%s**\n", TCGNote)
	}
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
