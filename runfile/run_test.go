package runfile

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sampleRun() *Run {
	r := New(Env{Hostname: "h", KernelRelease: "6.18.0-test", VsyscallMode: "xonly", CPUFlags: map[string]bool{"pti": true}})
	r.Bench = &Bench{CPU: 0, Count: 2, Benchtime: 10 * time.Millisecond, Cells: []Cell{
		{Function: "clock_gettime", Clock: "MONOTONIC", Path: "vdso", Iters: 1000, Samples: []float64{25.1, 25.3},
			Summary: &Summary{Median: 25.2, Lo: 25.1, Hi: 25.3, Mean: 25.2, Min: 25.1, Max: 25.3}},
		{Function: "time", Path: "vsyscall", Unavailable: "unavailable (vsyscall=none)"},
	}}
	r.Finished = r.Started.Add(time.Second)
	return r
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.json")
	want := sampleRun()
	if err := want.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema != SchemaVersion || got.Env.KernelRelease != want.Env.KernelRelease {
		t.Errorf("schema %d kernel %q", got.Schema, got.Env.KernelRelease)
	}
	c, ok := got.Bench.Find("clock_gettime", "MONOTONIC", "vdso")
	if !ok || c.Summary.Median != 25.2 || len(c.Samples) != 2 {
		t.Errorf("cell = %+v", c)
	}
	if c, ok := got.Bench.Find("time", "", "vsyscall"); !ok || c.Unavailable == "" {
		t.Errorf("unavailable cell lost: %+v", c)
	}
}

// TestNewTakesEnv: New stamps the run and keeps the Env it is given; it
// reads nothing of the machine.
func TestNewTakesEnv(t *testing.T) {
	before := time.Now().UTC()
	r := New(Env{})
	if r.Schema != SchemaVersion || r.Tool != "vbench" || r.Started.Before(before.Add(-time.Second)) {
		t.Errorf("run = %+v", r)
	}
	if !reflect.DeepEqual(r.Env, Env{}) {
		t.Errorf("New filled the environment: %+v", r.Env)
	}
	if got := New(Env{KernelRelease: "6.1.0", VsyscallMode: "none", Hostname: "guest"}).DefaultLabel(); got != "vsyscall=none 6.1.0 guest" {
		t.Errorf("DefaultLabel = %q", got)
	}
}

// TestImportsOnlyAtomicfile keeps the schema a leaf: of vbench's packages
// runfile may import internal/atomicfile alone, never the code that reads
// the machine or spawns probes.
func TestImportsOnlyAtomicfile(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/vbench-dev/vbench/") && path != "github.com/vbench-dev/vbench/internal/atomicfile" {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}

func TestFlagList(t *testing.T) {
	e := Env{CPUFlags: map[string]bool{"pti": true, "rdtscp": false, "constant_tsc": true}}
	if got := e.FlagList(); !slices.Equal(got, []string{"constant_tsc", "pti"}) {
		t.Errorf("FlagList = %v", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	var good bytes.Buffer
	if err := sampleRun().Encode(&good); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text string
		want       error
		say        string
	}{
		{"truncated", good.String()[:good.Len()/2], ErrCorrupt, "truncated"},
		{"not json", "hello\n", ErrCorrupt, "line 1"},
		{"other tool", `{"schema": 1, "tool": "benchstat"}`, ErrCorrupt, "tool"},
		{"no schema", `{"tool": "vbench"}`, ErrCorrupt, "schema"},
		{"future schema", `{"schema": 99, "tool": "vbench"}`, ErrSchema, "99"},
		{"wrong type", `{"schema": 1, "tool": "vbench", "bench": {"cells": 3}}`, ErrCorrupt, "cells"},
	}
	for _, tt := range tests {
		_, err := Decode(strings.NewReader(tt.text), "x.json")
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "x.json: ") || !strings.Contains(msg, tt.say) || strings.Contains(msg, "\n") {
			t.Errorf("%s: message %q should be one line naming the file and %q", tt.name, msg, tt.say)
		}
	}
}

func TestCellName(t *testing.T) {
	for _, tt := range []struct {
		c    Cell
		want string
	}{
		{Cell{Function: "gettimeofday", Path: "vdso"}, "Gettimeofday/path=vdso"},
		{Cell{Function: "time", Path: "vsyscall"}, "Time/path=vsyscall"},
		{Cell{Function: "clock_gettime", Clock: "MONOTONIC", Path: "syscall"}, "ClockGettime/clock=MONOTONIC/path=syscall"},
		{Cell{Function: "getcpu", Path: "vdso"}, "Getcpu/path=vdso"},
		{Cell{Function: "clock_getres", Clock: "REALTIME", Path: "vdso"}, "ClockGetres/clock=REALTIME/path=vdso"},
		{Cell{Function: "floor", Clock: "rdtsc"}, "Floor/op=rdtsc"},
		{Cell{Function: "floor", Clock: "call"}, "Floor/op=call"},
		// A new function needs no change here: the name follows one rule.
		{Cell{Function: "getrandom", Path: "vdso"}, "Getrandom/path=vdso"},
		{Cell{Function: "clock_gettime64", Clock: "TAI", Path: "vdso"}, "ClockGettime64/clock=TAI/path=vdso"},
	} {
		if got := tt.c.Name(); got != tt.want {
			t.Errorf("%+v.Name() = %q, want %q", tt.c, got, tt.want)
		}
	}
}

func TestWriteFileLeavesNoTempOnError(t *testing.T) {
	dir := t.TempDir()
	r := sampleRun()
	r.ASLR = &ASLR{Regions: []Region{{Name: "vdso", BitFreq: []float64{0.5}, Estimates: []Estimate{{Name: "collision", Hi: inf()}}}}}
	path := filepath.Join(dir, "run.json")
	if err := r.WriteFile(path); err == nil {
		t.Fatal("writing +Inf should fail: JSON has no infinity")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func inf() float64 { var z float64; return 1 / z }

func TestCellNotes(t *testing.T) {
	one, zero, half := 1.0, 0.0, 0.5
	for _, c := range []struct {
		cell       Cell
		noise, per string
	}{
		{Cell{}, "", ""},
		{Cell{Noise: &Noise{Noisy: false}}, "", ""},
		{Cell{Noise: &Noise{Noisy: true, Reasons: []string{"±52%", "steal 3%"}}}, "noisy: ±52%, steal 3%", ""},
		{Cell{PerCall: &PerCall{Syscalls: &zero, PageFaults: &one}}, "", "0 syscalls, 1 page fault per call"},
		{Cell{PerCall: &PerCall{Syscalls: &one, PageFaults: &zero}}, "", "1 syscall per call"},
		{Cell{PerCall: &PerCall{Syscalls: &half}}, "", "0.5 syscalls per call"},
	} {
		if got := c.cell.NoiseNote(); got != c.noise {
			t.Errorf("NoiseNote %+v = %q, want %q", c.cell.Noise, got, c.noise)
		}
		if got := c.cell.PerCallNote(); got != c.per {
			t.Errorf("PerCallNote %+v = %q, want %q", c.cell.PerCall, got, c.per)
		}
	}
}
