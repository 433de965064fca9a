package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/internal/console"
	"github.com/vbench-dev/vbench/report"
)

// TestConsoleLocale: under a locale without UTF-8 the tables say "+/-"
// for "±", aligned; the run file on standard output is data and passes
// unchanged; under UTF-8 "±" stays.
func TestConsoleLocale(t *testing.T) {
	defer report.SetConsole(console.DefaultWidth, false)
	for _, tt := range []struct {
		lang, want, not string
	}{{"C", "+/-", "±"}, {"en_US.UTF-8", "±", "+/-"}} {
		var out, errb bytes.Buffer
		stdout, stderr := setConsole(func(k string) string {
			if k == "LANG" {
				return tt.lang
			}
			return ""
		}, &out, &errb)
		err := runChecked([]string{"bench", "--functions", "time", "--paths", "syscall", "--count", "2", "--benchtime", "100us",
			"--latency=false", "--quiet", "--json", "-"}, stdout, stderr)
		if err != nil {
			t.Fatal(err)
		}
		head := strings.SplitN(errb.String(), "\n", 2)[0]
		if !strings.Contains(head, tt.want) || strings.Contains(errb.String(), tt.not) {
			t.Errorf("LANG=%s: table head %q, want %q and no %q", tt.lang, head, tt.want, tt.not)
		}
		if i, j := strings.Index(head, "ns/call"), strings.Index(head, "vs vdso"); i < 0 || j < 0 {
			t.Errorf("LANG=%s: head %q", tt.lang, head)
		}
		var v map[string]any
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Errorf("LANG=%s: run file on stdout: %v", tt.lang, err)
		}
	}
}
