package bootlab

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

func lifecycleResult(kernel string, l *runfile.Lifecycle) Result {
	return Result{Kernel: kernel, Mode: Mode{Name: "xonly"}, Run: &runfile.Run{Lifecycle: l}}
}

// The pair side by side: the fixed kernel's row says no leak, the unfixed
// one names the point, the region, its size and where it stayed; a kernel
// without fault injection says why it did not run (the option missing).
func TestWriteLifecycleMarkdown(t *testing.T) {
	layout := []runfile.LifecycleRegion{{Name: "[vvar]", Size: 16384}, {Name: "[vvar_vclock]", Start: 16384, Size: 8192}, {Name: "[vdso]", Start: 24576, Size: 8192}}
	pass := []runfile.Check{{Name: "mremap", Status: "pass"}, {Name: "EEXIST [vdso] left", Status: "pass"}, {Name: "arch_prctl map", Status: "pass"}}
	points := func() []runfile.FaultPoint {
		var ps []runfile.FaultPoint
		for n := 1; n <= 5; n++ {
			ps = append(ps, runfile.FaultPoint{N: n, Errno: "ENOMEM"})
		}
		return ps
	}
	leak := []runfile.LifecycleRegion{{Name: "[vvar]", Start: 0x7f1234560000, Size: 16384}}
	unfixed := points()
	unfixed[4].Left = leak
	results := []Result{
		lifecycleResult("7.3-fi-fixed", &runfile.Lifecycle{Layout: layout,
			Checks:         append(pass, runfile.Check{Name: "fault injection", Status: "pass"}),
			FaultInjection: &runfile.FaultInjection{Points: 5, Complete: true, Results: points()}}),
		lifecycleResult("7.3-fi-unfixed", &runfile.Lifecycle{Layout: layout,
			Checks:         append(pass, runfile.Check{Name: "fault injection", Status: "fail", Detail: "point 5 left [vvar]"}),
			FaultInjection: &runfile.FaultInjection{Points: 5, Complete: true, Results: unfixed, Leaks: []runfile.FaultLeak{{Point: 5, Errno: "ENOMEM", Regions: leak}}}}),
		lifecycleResult("6.12-cloud", &runfile.Lifecycle{Layout: layout[:1],
			Checks: append(pass, runfile.Check{Name: "fault injection", Status: "skip", Detail: "no /proc/thread-self/fail-nth: the kernel was built without CONFIG_FAULT_INJECTION"})}),
		{Kernel: "broken", Mode: Mode{Name: "xonly"}},
	}
	var b bytes.Buffer
	WriteLifecycleMarkdown(&b, results)
	md := b.String()
	t.Log(md)
	rows := map[string]string{}
	for _, l := range strings.Split(md, "\n") {
		if f := strings.Split(l, " | "); len(f) > 2 && strings.HasPrefix(l, "| ") {
			rows[strings.TrimPrefix(f[0], "| ")] = l
		}
	}
	for k, want := range map[string][]string{
		"7.3-fi-fixed":   {"| 5 (ENOMEM x5) | none |", "[vvar] 16 KiB, [vvar_vclock] 8 KiB, [vdso] 8 KiB", "| pass | pass | 1 of 1 pass |"},
		"7.3-fi-unfixed": {"| 5 (ENOMEM x5) | **N=5** (ENOMEM): [vvar] 16 KiB at 0x7f1234560000 |"},
		"6.12-cloud":     {"| not run | no /proc/thread-self/fail-nth: the kernel was built without CONFIG_FAULT_INJECTION |"},
		"broken":         {"| no result |"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[k], w) {
				t.Errorf("%s row %q lacks %q", k, rows[k], w)
			}
		}
	}
	if !strings.Contains(md, "- 7.3-fi-unfixed, xonly: fault injection FAIL: point 5 left [vvar]") {
		t.Errorf("the failed check is not listed under the table")
	}
	b.Reset()
	WriteLifecycleMarkdown(&b, []Result{{Kernel: "k", Run: &runfile.Run{}}})
	if b.Len() != 0 {
		t.Errorf("a section without any lifecycle run: %q", b.String())
	}
}
