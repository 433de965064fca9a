package plots

import (
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// TestTimelineFigure: the timeline draws one bits point per kernel with a
// vDSO estimate and one cost point per measured gettimeofday door; a
// kernel without a run keeps its place and draws nothing; the TCG caveat
// is in the title when the guests were emulated.
func TestTimelineFigure(t *testing.T) {
	r := load(t, "xonly.json") // a host run: gettimeofday through all three doors, and ASLR
	doors := 0
	for _, p := range []runfile.Path{runfile.PathSyscall, runfile.PathVsyscall, runfile.PathVDSO} {
		if c, ok := r.Bench.Find(timelineCall, "", p); ok && c.Unavailable == "" && c.Summary != nil {
			doors++
		}
	}
	ks := []TimelineKernel{
		{Label: "6.1.176", Arch: "x86_64", Run: r},
		{Label: "6.16.12", Arch: "x86_64"}, // timed out
		{Label: "7.3.4", Arch: "x86_64", Run: r},
		{Label: "7.3.4", Arch: "aarch64", Run: r},
	}
	f := Timeline(ks, true, "")
	if f.Empty != "" {
		t.Fatalf("empty: %s", f.Empty)
	}
	if want := 3 + 3*doors; f.Points != want {
		t.Errorf("%d points, want %d (3 kernels' bits, %d doors each)", f.Points, want, doors)
	}
	title := f.Plots[1].Title.Text
	if !strings.Contains(title, "TCG") {
		t.Errorf("cost panel title %q does not say the timings are TCG's", title)
	}
	decode(t, f)
	if f := Timeline(ks, false, ""); strings.Contains(f.Plots[1].Title.Text, "TCG") {
		t.Error("TCG caveat on KVM guests' timings")
	}
	if f := Timeline([]TimelineKernel{{Label: "6.1", Arch: "x86_64"}}, true, ""); f.Empty == "" || f.Points != 0 {
		t.Errorf("no runs: empty %q, %d points", f.Empty, f.Points)
	}
}
