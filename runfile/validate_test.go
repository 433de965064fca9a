package runfile

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fullRun is a run with every part filled, as vbench writes them.
func fullRun() *Run {
	r := sampleRun()
	r.Label = "before"
	r.Bench.TSCHz, r.Bench.TSCStepNs = 2.096e9, 10
	r.Bench.Cells[0].Latency = &Latency{N: 1000, P50: 25, P90: 26, P99: 30, P999: 40, Max: 900, Overhead: 11,
		Quantiles: []float64{24, 25, 25, 26, 40}}
	r.Verify = &Verify{Passed: true, Checks: []Check{{Name: "clock_gettime MONOTONIC: syscall <= vdso <= syscall", Status: "pass"}}}
	r.ASLR = &ASLR{Target: "builtin", Samples: 4, Requested: 4, Duration: time.Millisecond, Rate: 4000, Workers: 2,
		Regions: []Region{{Name: "vdso", Present: 4, Min: 0x7f0000000000, Max: 0x7f0000003000, Alignment: 0x1000, Distinct: 4,
			VaryingMask: 0x3000, VaryingBits: 2, QualityBits: 2,
			Estimates: []Estimate{{Name: "bitsum", Kind: EntropyUpperBound, Bits: 2, Hi: 2.1}, {Name: "range", Kind: EntropyUpperBound, Bits: 2, Lo: 2, Hi: 2.5},
				{Name: "collision", Kind: EntropyCollision, Bits: -1, Hi: -1}, {Name: "shannon", Kind: EntropyShannon, Bits: 2, Hi: -1},
				{Name: "min", Kind: EntropyMin, Bits: 2, Lo: 0.5, Hi: 2}},
			Effective: 2, EffectiveLo: 1, EffectiveHi: 2, Rule: "range", Entropy: EntropyUpperBound, BitFreq: []float64{0, 0.5, 1},
			Histogram: []int{1, 1, 1, 1}},
			{Name: "vvar_vclock"}}, // absent: alignment 0 is fine
		Pairs:    []Pair{{A: "vdso", B: "vvar", DistinctDiffs: 1, Offset: -0x4000, MinDiff: -0x4000, MaxDiff: -0x4000}},
		Vsyscall: &Vsyscall{Mapped: 4, Addr: 0xffffffffff600000, Perms: "--xp", Fixed: true}}
	r.Boot = &Boot{Mode: "vdso=0", Append: "console=ttyS0 vdso=0", Kernel: "vmlinuz", Accel: "tcg", Seconds: 2.5}
	return r
}

func TestValidRunsValidate(t *testing.T) {
	if err := fullRun().Validate(); err != nil {
		t.Fatalf("a run as vbench writes it: %v", err)
	}
	// Every run vbench has written into the repository reads back.
	paths, _ := filepath.Glob("../results/*/run.json")
	more, _ := filepath.Glob("../results/*/*/run.json")
	fixtures, _ := filepath.Glob("../report/testdata/*.json")
	paths = append(append(paths, more...), fixtures...)
	if len(paths) == 0 {
		t.Fatal("no reference runs found")
	}
	for _, p := range paths {
		if _, err := ReadFile(p); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// TestValidateRejects: each impossible value the hostile-input review
// tried is an error naming the file, the field path and why, wrapping
// ErrInvalid (and ErrCorrupt).
func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *Run)
		path   string // the field path the error must name
		say    string
	}{
		{"negative samples", func(r *Run) { r.ASLR.Samples = -5 }, "aslr.samples", "negative"},
		{"negative ns", func(r *Run) { r.Bench.Cells[0].Samples[1] = -3 }, "bench.cells[0].samples[1]", "negative"},
		{"negative median", func(r *Run) { r.Bench.Cells[0].Summary.Median = -1 }, "bench.cells[0].summary.median", "negative"},
		{"huge median", func(r *Run) { r.Bench.Cells[0].Summary.Median = 1.7e308 }, "bench.cells[0].summary.median", "beyond"},
		{"median above max", func(r *Run) { r.Bench.Cells[0].Summary.Median = 99 }, "bench.cells[0].summary", "above max"},
		{"unordered percentiles", func(r *Run) { r.Bench.Cells[0].Latency.P99 = 1 }, "bench.cells[0].latency", "p90"},
		{"unsorted quantiles", func(r *Run) { r.Bench.Cells[0].Latency.Quantiles[3] = 1 }, "bench.cells[0].latency.quantiles[3]", "below"},
		{"tsc_hz 0 with latency", func(r *Run) { r.Bench.TSCHz = 0 }, "bench.tsc_hz", "TSC"},
		{"tsc_hz 5", func(r *Run) { r.Bench.TSCHz = 5 }, "bench.tsc_hz", "below"},
		{"negative count", func(r *Run) { r.Bench.Count = -1 }, "bench.count", "negative"},
		{"min above max", func(r *Run) { g := &r.ASLR.Regions[0]; g.Min, g.Max = g.Max, g.Min }, "aslr.regions[0].min", "above max"},
		{"alignment 0", func(r *Run) { r.ASLR.Regions[0].Alignment = 0 }, "aslr.regions[0].alignment", "power of two"},
		{"alignment 3", func(r *Run) { r.ASLR.Regions[0].Alignment = 3 }, "aslr.regions[0].alignment", "power of two"},
		{"negative histogram count", func(r *Run) { r.ASLR.Regions[0].Histogram[2] = -7 }, "aslr.regions[0].histogram[2]", "-7"},
		{"varying_bits 1e9", func(r *Run) { r.ASLR.Regions[0].VaryingBits = 1e9 }, "aslr.regions[0].varying_bits", "64"},
		{"varying_bits against mask", func(r *Run) { r.ASLR.Regions[0].VaryingBits = 5 }, "aslr.regions[0].varying_bits", "varying_mask"},
		{"present above samples", func(r *Run) { r.ASLR.Regions[0].Present = 5 }, "aslr.regions[0].present", "[0, 4]"},
		{"chi-square p above 1", func(r *Run) { r.ASLR.Regions[0].ChiSquareP = 2 }, "aslr.regions[0].chi_square_p", "beyond"},
		{"bit frequency 1.5", func(r *Run) { r.ASLR.Regions[0].BitFreq[1] = 1.5 }, "aslr.regions[0].bit_freq[1]", "beyond"},
		{"unknown entropy kind", func(r *Run) { r.ASLR.Regions[0].Estimates[2].Kind = "renyi-3" }, "aslr.regions[0].estimates[2].kind", "not a value"},
		{"estimator twice", func(r *Run) { r.ASLR.Regions[0].Estimates[1].Name = "bitsum" }, "aslr.regions[0].estimates[1].name", "twice"},
		{"estimate low above high", func(r *Run) { r.ASLR.Regions[0].Estimates[4].Lo = 3 }, "aslr.regions[0].estimates[4]", "above high"},
		{"estimate of 1000 bits", func(r *Run) { r.ASLR.Regions[0].Estimates[3].Bits = 1000 }, "aslr.regions[0].estimates[3].bits", "beyond"},
		{"negative estimate low", func(r *Run) { r.ASLR.Regions[0].Estimates[0].Lo = -1 }, "aslr.regions[0].estimates[0].low", "negative"},
		{"pair min above max", func(r *Run) { r.ASLR.Pairs[0].MinDiff = 0 }, "aslr.pairs[0]", "max_diff"},
		{"1M-bin histogram", func(r *Run) { r.ASLR.Regions[0].Histogram = make([]int, 1<<20) }, "aslr.regions[0].histogram", "4096"},
		{"10 MB label", func(r *Run) { r.Label = strings.Repeat("A", 10<<20) }, "label", "256"},
		{"function with a newline", func(r *Run) { r.Bench.Cells[0].Function = "time\n# x" }, "bench.cells[0].function", "name"},
		{"empty function", func(r *Run) { r.Bench.Cells[1].Function = "" }, "bench.cells[1].function", "empty"},
		{"region name with markup", func(r *Run) { r.ASLR.Regions[1].Name = "![x](y)" }, "aslr.regions[1].name", "name"},
		{"status with a pipe", func(r *Run) { r.Verify.Checks[0].Status = "pass|" }, "verify.checks[0].status", "name"},
		// Words of the vocabulary (vocab.go) this vbench does not know.
		{"unknown function", func(r *Run) { r.Bench.Cells[0].Function = "nanosleep" }, "bench.cells[0].function", "not a value this vbench knows"},
		{"unknown path", func(r *Run) { r.Bench.Cells[0].Path = "int80" }, "bench.cells[0].path", "not a value"},
		{"unknown clock", func(r *Run) { r.Bench.Cells[0].Clock = "SGI_CYCLE" }, "bench.cells[0].clock", "not a value"},
		{"clock with its prefix", func(r *Run) { r.Bench.Cells[0].Clock = "CLOCK_MONOTONIC" }, "bench.cells[0].clock", "not a value"},
		{"unknown status", func(r *Run) { r.Verify.Checks[0].Status = "maybe" }, "verify.checks[0].status", "not a value"},
		{"empty status", func(r *Run) { r.Verify.Checks[0].Status = "" }, "verify.checks[0].status", "empty"},
		{"unknown rule", func(r *Run) { r.ASLR.Regions[0].Rule = "guess" }, "aslr.regions[0].rule", "not a value"},
		{"unknown entropy", func(r *Run) { r.ASLR.Regions[0].Entropy = "hartley" }, "aslr.regions[0].entropy", "not a value"},
		{"unknown word, 1 MB", func(r *Run) { r.Bench.Cells[0].Path = Path(strings.Repeat("p", 1<<20)) }, "bench.cells[0].path", "128"},
		{"long host name", func(r *Run) { r.Env.Hostname = strings.Repeat("h", 65) }, "env.hostname", "64"},
		{"mmap_rnd_bits 99", func(r *Run) { r.Env.MmapRndBits = Int(99) }, "env.mmap_rnd_bits", "[-1, 64]"},
		{"negative boot seconds", func(r *Run) { r.Boot.Seconds = -2 }, "boot.seconds", "negative"},
	}
	for _, tt := range tests {
		r := fullRun()
		tt.mutate(r)
		var buf bytes.Buffer
		if err := r.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		_, err := Decode(&buf, "x.json")
		if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Path != tt.path {
			t.Errorf("%s: error %v names path %q, want %q", tt.name, err, ve.Path, tt.path)
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "x.json: invalid "+tt.path+": ") || !strings.Contains(msg, tt.say) ||
			strings.Contains(msg, "\n") || len(msg) > 200 {
			t.Errorf("%s: message %q should be one short line naming x.json, %s and %q", tt.name, msg, tt.path, tt.say)
		}
	}
}

// zeros is a stream of zero bytes, as /dev/zero, counting what was read.
// It ends after four times MaxFileSize, so that a reader without a limit
// fails the test rather than the machine.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n >= 4*MaxFileSize {
		return 0, io.EOF
	}
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

// TestDecodeReadsAtMostTheLimit: an endless input is an error after
// MaxFileSize bytes, not an exhausted memory.
func TestDecodeReadsAtMostTheLimit(t *testing.T) {
	z := &zeros{}
	_, err := Decode(z, "/dev/zero")
	if !errors.Is(err, ErrTooLarge) || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "64 MiB") {
		t.Errorf("err = %v, want ErrTooLarge naming the limit", err)
	}
	if z.n > MaxFileSize+64<<10 {
		t.Errorf("read %d bytes for a limit of %d", z.n, MaxFileSize)
	}
	// Below the limit a file is judged on its content, however padded.
	big := append([]byte(`{"schema": 1, "tool": "vbench", "label": "x"}`), bytes.Repeat([]byte(" "), 1<<20)...)
	if _, err := Decode(bytes.NewReader(big), "big.json"); err != nil {
		t.Errorf("a 1 MiB run: %v", err)
	}
}

// TestTypeErrorsSpeakJSON: a value of the wrong JSON type is named by its
// field path and the JSON types, never by Go's struct and type names.
func TestTypeErrorsSpeakJSON(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{`[1, 2, 3]`, "the document: expected an object, got an array"},
		{`42`, "the document: expected an object, got a number"},
		{`{"schema": 1, "tool": "vbench", "bench": {"cells": 3}}`, "bench.cells: expected an array, got a number"},
		{`{"schema": "1", "tool": "vbench"}`, "schema: expected an integer, got a string"},
		{`{"schema": 1, "tool": "vbench", "bench": {"count": 1.5}}`, "bench.count: expected an integer, got 1.5"},
		{`{"schema": 1, "tool": "vbench", "aslr": {"regions": [{"min": -1}]}}`, "aslr.regions.min: expected a non-negative integer, got -1"},
		{`{"schema": 1, "tool": "vbench", "bench": {"benchtime": "1s"}}`, "bench.benchtime: expected an integer (nanoseconds), got a string"},
		{`{"schema": 1, "tool": "vbench", "env": {"cpu_flags": {"pti": 1}}}`, "env.cpu_flags: expected true or false, got a number"},
		{`{"schema": 1, "tool": "vbench", "started": 5}`, "started: expected a time (RFC 3339 string), got 5"},
		{`{"schema": 1, "tool": "vbench", "finished": "yesterday"}`, `finished: expected a time (RFC 3339 string), got "yesterday"`},
	} {
		_, err := Decode(strings.NewReader(tt.text), "run-file")
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: err = %v, want ErrCorrupt", tt.text, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) {
			t.Errorf("%s: message %q lacks %q", tt.text, msg, tt.want)
		}
		for _, internal := range []string{"Go ", "struct", "runfile.", "json:", "UnmarshalJSON", "[]"} {
			if strings.Contains(msg, internal) {
				t.Errorf("%s: message %q names Go internals (%q)", tt.text, msg, internal)
			}
		}
	}
}
