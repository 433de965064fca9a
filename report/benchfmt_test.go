package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
	"golang.org/x/perf/benchfmt"
)

// TestBenchfmtSideBySide: two runs that differ in kernel, vsyscall mode,
// clocksource, CPU and label give bench.txt files with the same
// configuration keys and values (benchstat puts them in one table, a
// column per file), while each still records its environment in comment
// lines the benchmark reader skips.
func TestBenchfmtSideBySide(t *testing.T) {
	mk := func(kernel, mode, clocksource, label string) *runfile.Run {
		r := runfile.New(runfile.Env{KernelRelease: kernel, VsyscallMode: mode, Clocksource: clocksource,
			CPUModel: "cpu of " + kernel, GoVersion: "go1.26.8", VbenchVersion: "devel"})
		r.Label = label
		r.Bench = &runfile.Bench{CPU: 1, Cells: []runfile.Cell{
			{Function: "clock_gettime", Clock: "MONOTONIC", Path: "vdso", Iters: 1000, Samples: []float64{25, 26, 25.5}},
			{Function: "time", Path: "vsyscall", Unavailable: "unavailable (vsyscall=none)"},
		}}
		return r
	}
	runs := []*runfile.Run{
		mk("6.18.44", "xonly", "kvm-clock", ""),
		mk("6.1.0-50-cloud-amd64", "emulate", "tsc", "old kernel\nBenchmarkInjected 1 1 ns/op"),
	}
	var configs []string
	for i, r := range runs {
		var buf bytes.Buffer
		if err := WriteBenchfmt(&buf, r); err != nil {
			t.Fatal(err)
		}
		text := buf.String()
		for _, want := range []string{"# kernel: " + r.Env.KernelRelease + "\n", "# vsyscall: " + r.Env.VsyscallMode + "\n",
			"# clocksource: " + r.Env.Clocksource + "\n", "# cpu: " + r.Env.CPUModel + "\n", "# pinned-cpu: 1\n", "# vbench: devel\n"} {
			if !strings.Contains(text, want) {
				t.Errorf("run %d: bench.txt lacks %q:\n%s", i, want, text)
			}
		}
		rd := benchfmt.NewReader(strings.NewReader(text), "bench.txt")
		n := 0
		for rd.Scan() {
			res, ok := rd.Result().(*benchfmt.Result)
			if !ok {
				t.Fatalf("run %d: not a result: %v", i, rd.Result())
			}
			n++
			if got := res.Name.String(); got != "ClockGettime/clock=MONOTONIC/path=vdso" {
				t.Errorf("run %d: result %q: only the measured cell has lines", i, got)
			}
			var cfg []string
			for _, c := range res.Config {
				if !c.File {
					t.Errorf("run %d: %s is not a file-level key", i, c.Key)
				}
				cfg = append(cfg, c.Key+"="+string(c.Value))
			}
			if n == 1 {
				configs = append(configs, strings.Join(cfg, " "))
			}
		}
		if err := rd.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("run %d: %d results, want one per sample (3)", i, n)
		}
	}
	if len(configs) != 2 || configs[0] != configs[1] {
		t.Errorf("configurations differ between the runs, benchstat would split them: %q", configs)
	}
	if !strings.HasPrefix(configs[0], "goos=") {
		t.Errorf("configuration %q", configs[0])
	}
}
