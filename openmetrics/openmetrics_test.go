package openmetrics

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const reference = "../results/vm-6.18.44-fc-v1045-vsyscall-xonly-20261201T124706Z/run.json"

func readRun(t *testing.T, path string) *runfile.Run {
	t.Helper()
	r, err := runfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// parsed is a text exposition read back by a strict reader of the
// format's grammar (HELP, TYPE, then samples of that family only).
type parsed struct {
	types   map[string]string
	helps   map[string]string
	samples map[string]float64 // "name{labels}" -> value
	names   []string           // families in order
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)`)
)

func parse(t *testing.T, text string) parsed {
	t.Helper()
	p := parsed{types: map[string]string{}, helps: map[string]string{}, samples: map[string]float64{}}
	cur := ""
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := i + 1
		switch {
		case strings.HasPrefix(line, "# HELP "):
			f := strings.SplitN(line[len("# HELP "):], " ", 2)
			if len(f) != 2 || !metricName.MatchString(f[0]) || f[1] == "" {
				t.Fatalf("line %d: bad HELP %q", n, line)
			}
			if _, dup := p.helps[f[0]]; dup {
				t.Fatalf("line %d: family %s twice", n, f[0])
			}
			p.helps[f[0]], cur = f[1], f[0]
			p.names = append(p.names, f[0])
		case strings.HasPrefix(line, "# TYPE "):
			f := strings.Fields(line[len("# TYPE "):])
			if len(f) != 2 || f[0] != cur || f[1] != "gauge" {
				t.Fatalf("line %d: TYPE %q not right after the HELP of %s", n, line, cur)
			}
			p.types[f[0]] = f[1]
		default:
			m := sampleLine.FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("line %d: not a sample: %q", n, line)
			}
			if m[1] != cur || p.types[cur] == "" {
				t.Fatalf("line %d: sample of %s under family %q", n, m[1], cur)
			}
			rest := m[3]
			seen := map[string]bool{}
			for rest != "" {
				lp := labelPair.FindStringSubmatch(rest)
				if lp == nil {
					t.Fatalf("line %d: bad labels %q", n, m[3])
				}
				if seen[lp[1]] {
					t.Fatalf("line %d: label %s twice", n, lp[1])
				}
				seen[lp[1]] = true
				rest = rest[len(lp[0]):]
			}
			v, err := strconv.ParseFloat(m[4], 64)
			if err != nil {
				t.Fatalf("line %d: value %q: %v", n, m[4], err)
			}
			key := m[1] + "{" + m[3] + "}"
			if _, dup := p.samples[key]; dup {
				t.Fatalf("line %d: series %s twice", n, key)
			}
			p.samples[key] = v
		}
	}
	return p
}

// TestReference renders the reference run, checks it against its golden
// file and reads it back: every family has HELP and TYPE, no series
// twice, values in base units that agree with the run file.
func TestReference(t *testing.T) {
	r := readRun(t, reference)
	var b bytes.Buffer
	if err := WriteRuns(&b, []*runfile.Run{r}, nil); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "reference.prom")
	if *update {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("output differs from %s (go test -update to rewrite)", golden)
	}
	p := parse(t, b.String())
	for _, n := range order {
		if p.types[n] != "gauge" && n != VDSOFellBack {
			t.Errorf("family %s missing", n)
		}
	}
	// The reference run's clock_gettime MONOTONIC through the vDSO.
	c, _ := r.Bench.Find("clock_gettime", "MONOTONIC", "vdso")
	key := CallSeconds + `{function="clock_gettime",clock="MONOTONIC",path="vdso",context="plain"}`
	if got := p.samples[key]; math.Abs(got-c.Summary.Median*1e-9) > 1e-15 || got > 1e-6 {
		t.Errorf("%s = %g, want %g s", key, got, c.Summary.Median*1e-9)
	}
	// PROCESS_CPUTIME_ID falls back (one syscall per call counted), MONOTONIC does not.
	if v, ok := p.samples[VDSOFellBack+`{function="clock_gettime",clock="PROCESS_CPUTIME_ID",path="vdso",context="plain"}`]; !ok || v != 1 {
		t.Errorf("CPUTIME vDSO fell back = %v %v, want 1", v, ok)
	}
	if v := p.samples[VDSOFellBack+`{function="clock_gettime",clock="MONOTONIC",path="vdso",context="plain"}`]; v != 0 {
		t.Errorf("MONOTONIC vDSO fell back = %v, want 0", v)
	}
	var vdso *runfile.Region
	for i := range r.ASLR.Regions {
		if r.ASLR.Regions[i].Name == "vdso" {
			vdso = &r.ASLR.Regions[i]
		}
	}
	if got := p.samples[ASLRBits+`{region="vdso",entropy="`+string(vdso.Entropy)+`"}`]; got != vdso.Effective {
		t.Errorf("vdso effective bits %v, want %v", got, vdso.Effective)
	}
	if got := p.samples[RunTimestamp+"{}"]; time.Unix(int64(got), 0).UTC().Format(time.RFC3339) != r.Started.UTC().Truncate(time.Second).Format(time.RFC3339) {
		t.Errorf("timestamp %v, want %v", got, r.Started)
	}
}

// TestSeveralRuns: each run's series carry a run label, so none collide.
func TestSeveralRuns(t *testing.T) {
	var runs []*runfile.Run
	for _, f := range []string{"emulate", "xonly", "none", "xonly"} {
		runs = append(runs, readRun(t, "../report/testdata/"+f+".json"))
	}
	var b bytes.Buffer
	if err := WriteRuns(&b, runs, []string{"emulate", "xonly", "none"}); err != nil {
		t.Fatal(err)
	}
	p := parse(t, b.String())
	n := 0
	for k := range p.samples {
		if strings.HasPrefix(k, Info+"{") {
			n++
			if !strings.Contains(k, `run="`) {
				t.Errorf("%s: no run label", k)
			}
		}
	}
	if n != 4 {
		t.Errorf("%d info series, want 4", n)
	}
	if !strings.Contains(b.String(), `run="vsyscall=xonly (QEMU tcg)"`) {
		t.Errorf("the unlabelled fourth run is not named by its default label")
	}
}

// TestEscaping: label values with quotes, backslashes and line feeds, and
// bytes that are not UTF-8, come out as the format allows.
func TestEscaping(t *testing.T) {
	r := runfile.New(runfile.Env{CPUModel: "Weird \"CPU\" \\ model\nline two \xff", KernelRelease: "6.18"})
	var b bytes.Buffer
	if err := WriteRuns(&b, []*runfile.Run{r}, nil); err != nil {
		t.Fatal(err)
	}
	p := parse(t, b.String())
	want := `cpu_model="Weird \"CPU\" \\ model\nline two ` + "\uFFFD" + `"`
	found := false
	for k := range p.samples {
		if strings.Contains(k, want) {
			found = true
		}
	}
	if !found {
		t.Errorf("escaped cpu_model not found in:\n%s", b.String())
	}
}

// TestWriteFileAtomic: the file appears whole; a directory that does not
// exist is an error naming the path, and nothing is left behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	r := readRun(t, reference)
	path := filepath.Join(dir, "vbench.prom")
	if err := WriteFile(path, []*runfile.Run{r}, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasPrefix(string(b), "# HELP vbench_info ") {
		t.Fatalf("%v %q", err, b[:min(len(b), 40)])
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only vbench.prom", len(ents))
	}
	err = WriteFile(filepath.Join(dir, "no", "such", "x.prom"), []*runfile.Run{r}, nil)
	if err == nil || !strings.Contains(err.Error(), "x.prom") {
		t.Errorf("err = %v, want one naming x.prom", err)
	}
}

// TestContexts: the same call measured in two contexts is two series,
// told apart by the context label.
func TestContexts(t *testing.T) {
	r := readRun(t, reference)
	c, _ := r.Bench.Find("clock_gettime", "MONOTONIC", "vdso")
	tn := *c
	tn.Context = runfile.ContextTimens
	r.Bench.Cells = append(r.Bench.Cells, tn)
	var b bytes.Buffer
	if err := WriteRuns(&b, []*runfile.Run{r}, nil); err != nil {
		t.Fatal(err)
	}
	p := parse(t, b.String()) // fails on a series written twice
	for _, ctx := range []string{"plain", "timens"} {
		key := CallSeconds + `{function="clock_gettime",clock="MONOTONIC",path="vdso",context="` + ctx + `"}`
		if _, ok := p.samples[key]; !ok {
			t.Errorf("no %s", key)
		}
	}
}
