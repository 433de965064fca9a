package runfile

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

func lifecycleRun() *Run {
	r := sampleRun()
	leak := []LifecycleRegion{{Name: "[vvar]", Start: 0x7f0000000000, Size: 16384}}
	r.Lifecycle = &Lifecycle{
		Layout: []LifecycleRegion{{Name: "[vvar]", Size: 16384}, {Name: "[vvar_vclock]", Start: 16384, Size: 8192}, {Name: "[vdso]", Start: 24576, Size: 8192}},
		Checks: []Check{{Name: "mremap", Status: "pass"}, {Name: "fault injection", Status: "fail", Detail: "point 5 left [vvar]"}},
		FaultInjection: &FaultInjection{Points: 5, Complete: true, Setup: "failslab",
			Results: []FaultPoint{{N: 1, Errno: "ENOMEM"}, {N: 5, Errno: "ENOMEM", Left: leak}},
			Leaks:   []FaultLeak{{Point: 5, Errno: "ENOMEM", Regions: leak}}},
		Seconds: 0.4,
	}
	return r
}

// A run with a lifecycle part survives a write and a read, start_hex is
// written beside start, and every key written is documented.
func TestLifecycleRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := lifecycleRun().Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"start_hex": "0x7f0000000000"`) {
		t.Errorf("no start_hex for the leaked region:\n%s", buf.String())
	}
	r, err := Decode(bytes.NewReader(buf.Bytes()), "run.json")
	if err != nil {
		t.Fatal(err)
	}
	fi := r.Lifecycle.FaultInjection
	if fi.Points != 5 || len(fi.Leaks) != 1 || fi.Leaks[0].Regions[0].Size != 16384 {
		t.Errorf("read back %+v", fi)
	}
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"start_hex", "fault_injection", "points", "leaks", "complete", "left", "regions", "point", "errno", "setup", "layout"} {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("SCHEMA.md does not name `%s`", k)
		}
	}
}

// Impossible lifecycle values are refused, naming the field.
func TestLifecycleValidate(t *testing.T) {
	for _, c := range []struct {
		path string
		edit func(*Lifecycle)
	}{
		{"lifecycle.seconds", func(l *Lifecycle) { l.Seconds = -1 }},
		{"lifecycle.fault_injection.points", func(l *Lifecycle) { l.FaultInjection.Points = -2 }},
		{"lifecycle.fault_injection.results[0].n", func(l *Lifecycle) { l.FaultInjection.Results[0].N = 0 }},
		{"lifecycle.fault_injection.leaks[0].errno", func(l *Lifecycle) { l.FaultInjection.Leaks[0].Errno = "ENO MEM" }},
		{"lifecycle.fault_injection.leaks[0].regions[0].size", func(l *Lifecycle) {
			l.FaultInjection.Leaks[0].Regions = []LifecycleRegion{{Name: "[vvar]", Start: 0x7f0000000000, Size: ^uint64(0) - 0xfff}}
		}},
		{"lifecycle.checks[0].status", func(l *Lifecycle) { l.Checks[0].Status = "" }},
	} {
		r := lifecycleRun()
		c.edit(r.Lifecycle)
		err := r.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Path != c.path {
			t.Errorf("%s: got %v", c.path, err)
		}
	}
	if err := lifecycleRun().Validate(); err != nil {
		t.Errorf("a sound run refused: %v", err)
	}
}
