package main

// Every example in every --help and in the README's sh blocks runs here,
// as golang.org/x/perf's cmd/benchstat runs its documented examples: the
// command line is taken from the text, run through run() in a temporary
// directory, and must exit 0. The studies they start are shortened
// (shortStudies): every flag of the example is parsed and acted on, but
// bench takes a couple of 1 ms samples of a few cells and aslr a few
// hundred samples. What an example reads (run files, samples) is a fixture
// copied in, or what an earlier example of the same text wrote.
//
// A README sh block that cannot run in a test (it boots QEMU guests,
// builds or installs the binary, fetches kernels) is marked by an HTML
// comment on the line above it:
//
//	<!-- examples: skip: REASON -->
//
// and skipped with that reason; a line of an unmarked block that is not a
// vbench command this test knows how to run is an error, so a new example
// is either run or marked.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/perf/benchfmt"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/internal/fleetgen"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/study"
)

// repoRoot is the module's directory, found before the tests change the
// working directory.
var repoRoot, _ = filepath.Abs("../..")

// example is one command line of a help text or a README block.
type example struct {
	where string // "vbench bench --help", "README.md:135"
	line  string
}

// helpExamples are the lines of the Examples section of each command's
// --help (up to its first blank line), and of vbench's own usage.
func helpExamples(t *testing.T) map[string][]example {
	t.Helper()
	out := map[string][]example{}
	names := append([]string{""}, commandNames()...)
	for _, name := range names {
		args := []string{name, "--help"}
		where := "vbench " + name + " --help"
		if name == "" {
			args, where = []string{"help"}, "vbench help"
		}
		var stdout, stderr bytes.Buffer
		if err := run(args, &stdout, &stderr); err != nil && !errors.Is(err, pflag.ErrHelp) {
			t.Fatalf("%s: %v", where, err)
		}
		in := false
		for _, l := range strings.Split(stdout.String(), "\n") {
			switch {
			case l == "Examples:":
				in = true
			case in && strings.TrimSpace(l) == "":
				in = false
			case in:
				out[name] = append(out[name], example{where, strings.TrimSpace(l)})
			}
		}
		if len(out[name]) == 0 {
			t.Errorf("%s has no examples", where)
		}
	}
	return out
}

// readmeBlock is one ```sh block of README.md.
type readmeBlock struct {
	line  int    // of the opening fence
	skip  string // the reason given by an examples: skip marker
	lines []example
}

func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	prev := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(l, "```sh"):
			blocks = append(blocks, readmeBlock{line: n})
			cur = &blocks[len(blocks)-1]
			if r, ok := strings.CutPrefix(prev, "<!-- examples: skip:"); ok {
				cur.skip = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(r), "-->"))
			}
		case cur != nil && strings.HasPrefix(l, "```"):
			cur = nil
		case cur != nil:
			if c := stripShellComment(l); c != "" {
				cur.lines = append(cur.lines, example{fmt.Sprintf("README.md:%d", n), c})
			}
		}
		if strings.TrimSpace(l) != "" {
			prev = strings.TrimSpace(l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// stripShellComment drops a "# ..." comment outside quotes, and spaces.
func stripShellComment(l string) string {
	var q rune
	for i, c := range l {
		switch {
		case q != 0 && c == q:
			q = 0
		case q != 0:
		case c == '\'' || c == '"':
			q = c
		case c == '#' && (i == 0 || l[i-1] == ' '):
			return strings.TrimSpace(l[:i])
		}
	}
	return strings.TrimSpace(l)
}

// commandLine is an example split as a shell would: the words of the
// command, then what follows a "|" (a pipe) or a "<" (an input file). A
// help example's comment starts at a run of two or more spaces outside
// quotes.
type commandLine struct {
	words, pipe []string
	stdin       string
}

func parseExample(l string) (commandLine, error) {
	var c commandLine
	var words []string
	var cur strings.Builder
	inWord := false
	var q rune
	flush := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	rs := []rune(l)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case q != 0 && r == q:
			q = 0
		case q != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			q, inWord = r, true
		case r == ' ' && i+1 < len(rs) && rs[i+1] == ' ':
			flush()
			rs = rs[:i] // a comment follows
		case r == ' ' || r == '\t':
			flush()
		case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
			return c, fmt.Errorf("command substitution in %q", l)
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if q != 0 {
		return c, fmt.Errorf("unterminated quote in %q", l)
	}
	flush()
	for i, w := range words {
		switch w {
		case "|":
			c.words, c.pipe = words[:i], words[i+1:]
			return c, nil
		case "<":
			if i+1 < len(words) {
				c.words, c.stdin = words[:i], words[i+1]
				return c, nil
			}
		}
	}
	c.words = words
	return c, nil
}

// shortStudies shortens every study the examples start, keeping what each
// example asked for where it already is short.
func shortStudies(t *testing.T) {
	oldRun, oldStudy, oldCompare, oldDiscover := studyRun, aslrStudy, aslrCompare, discoverDoors
	t.Cleanup(func() { studyRun, aslrStudy, aslrCompare, discoverDoors = oldRun, oldStudy, oldCompare, oldDiscover })
	// The doors are found once: each discovery starts two probe children.
	discoverDoors = sync.OnceValue(oldDiscover)
	studyRun = func(ctx context.Context, cfg study.Config, r *runfile.Run) *probes.Doors {
		b := &cfg.Bench
		b.Count, b.Benchtime = min(b.Count, 2), min(b.Benchtime, time.Millisecond)
		b.LatencyCalls, b.LatencyTime = min(b.LatencyCalls, 200), min(b.LatencyTime, 2*time.Millisecond)
		b.RetryNoisy = min(b.RetryNoisy, 10*time.Millisecond)
		if len(b.Functions) == 0 {
			b.Functions = []runfile.Function{runfile.FuncTime, runfile.FuncClockGettime, runfile.FuncFloor}
		}
		if len(b.Clocks) == 0 {
			b.Clocks = []runfile.Clock{runfile.ClockMonotonic}
		}
		cfg.ASLR = shortASLR(cfg.ASLR)
		return study.Run(ctx, cfg, r)
	}
	aslrStudy = func(ctx context.Context, cfg aslr.Config, progress func(done, total int)) (*runfile.ASLR, error) {
		return aslr.Study(ctx, shortASLR(cfg), progress)
	}
	aslrCompare = func(ctx context.Context, cfg aslr.Config, a, b string, progress func(done, total int)) ([]runfile.MethodComparison, []*runfile.ASLR, error) {
		return aslr.CompareMethods(ctx, shortASLR(cfg), a, b, progress)
	}
}

// shortASLR takes at most 300 samples, counted: sampling until narrow
// (Samples 0) is given a count too, since a budget that ends in the middle
// of an exec chain's self-check once failed the run here ("ended (status
// 0x9) instead of stopping for its check", under -cover at load 20).
func shortASLR(c aslr.Config) aslr.Config {
	if c.Samples == 0 || c.Samples > 300 { // not study.SkipASLR (negative)
		c.Samples = 300
	}
	c.Ceiling = min(c.Ceiling, 20*time.Millisecond)
	return c
}

// fixtures copies run files an example may read into dir: two runs under
// results/ (for results/*/run.json). A glob DIR/*.json that matches nothing
// gets a fleet of ten runs (localPaths).
func fixtures(t *testing.T, dir string) {
	t.Helper()
	copyFixture := func(name, to string) {
		b, err := os.ReadFile(filepath.Join(repoRoot, "report/testdata", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		to = filepath.Join(dir, to)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFixture("host", "results/host-xonly/run.json")
	copyFixture("emulate", "results/guest-emulate/run.json")
}

// inputs gives a run file to every .json argument of a reading command
// (report, compare, export) that does not exist yet: the fixture of that
// name where there is one (emulate.json), else the host run.
func inputs(t *testing.T, dir string, args []string) {
	t.Helper()
	if len(args) == 0 || !slices.Contains([]string{"report", "compare", "export"}, args[0]) {
		return
	}
	for i, a := range args[1:] {
		if !strings.HasSuffix(a, ".json") || strings.HasPrefix(a, "-") || strings.HasPrefix(args[i], "--") || strings.Contains(a, "*") {
			continue
		}
		p := filepath.Join(dir, a)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		src := filepath.Join(repoRoot, "report/testdata", filepath.Base(a))
		if _, err := os.Stat(src); err != nil {
			src = filepath.Join(repoRoot, "report/testdata/host.json")
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// localPaths keeps an example's files inside dir: an absolute path that
// does not exist, or lies under /tmp, is put under dir (its directory
// made), and a glob is expanded there as a shell would.
func localPaths(t *testing.T, dir string, args []string) []string {
	t.Helper()
	var out []string
	for _, a := range args {
		flag, val, isFlag := strings.Cut(a, "=")
		if !isFlag || !strings.HasPrefix(flag, "--") {
			flag, val = "", a
		}
		if filepath.IsAbs(val) {
			if _, err := os.Stat(val); err != nil || strings.HasPrefix(val, "/tmp/") || val == "/tmp" {
				val = filepath.Join(dir, val)
				if err := os.MkdirAll(filepath.Dir(val), 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
		if strings.ContainsAny(val, "*?[") {
			m, _ := filepath.Glob(filepath.Join(dir, val))
			if d, pat := filepath.Split(val); len(m) == 0 && pat == "*.json" && !strings.ContainsAny(d, "*?[") {
				// A fleet of runs (fleetgen: varied copies of the
				// repository's real run files), enough for the fleet view.
				src, err := fleetgen.Sources(repoRoot)
				if err == nil {
					err = os.MkdirAll(filepath.Join(dir, d), 0o755)
				}
				if err != nil {
					t.Fatal(err)
				}
				if m, err = fleetgen.Write(filepath.Join(dir, d), src, 10, 1); err != nil {
					t.Fatal(err)
				}
			}
			if len(m) == 0 {
				t.Fatalf("%s matches nothing", val)
			}
			for _, p := range m {
				rel, _ := filepath.Rel(dir, p)
				out = append(out, rel)
			}
			continue
		}
		if flag != "" {
			val = flag + "=" + val
		}
		out = append(out, val)
	}
	return out
}

// runExample runs one example in dir; skip says why it cannot run.
func runExample(t *testing.T, dir string, ex example) {
	t.Helper()
	if f := strings.Fields(ex.line); len(f) > 0 && strings.HasPrefix(f[0], ".ci/") && !strings.HasPrefix(ex.where, "README") {
		t.Logf("%s: %q not run: a CI script (it fetches or builds kernels; .ci/run runs it)", ex.where, ex.line)
		return
	}
	if f := strings.Fields(ex.line); len(f) > 1 && f[0] == "vbench" && f[1] == "bootmodes" {
		if strings.HasPrefix(ex.where, "README") {
			t.Errorf("%s: %q boots QEMU guests: mark its block <!-- examples: skip: REASON -->", ex.where, ex.line)
		} else {
			t.Logf("%s: %q not run: it boots QEMU guests (bootlab's integration tests boot them)", ex.where, ex.line)
		}
		return
	}
	c, err := parseExample(ex.line)
	if err != nil {
		t.Errorf("%s: %v", ex.where, err)
		return
	}
	w := c.words
	switch {
	case len(w) >= 3 && w[0] == "go" && w[1] == "run" && w[2] == "./cmd/vbench":
		w = append([]string{"vbench"}, w[3:]...)
	case len(w) >= 2 && w[0] == "go" && w[1] == "test":
		t.Logf("%s: %q not run: it is the test command itself", ex.where, ex.line)
		return
	case len(w) > 0 && w[0] == "benchstat":
		benchstatRead(t, dir, ex, localPaths(t, dir, w[1:]))
		return
	case len(w) > 0 && w[0] == "promtool":
		if _, err := exec.LookPath("promtool"); err != nil {
			t.Logf("%s: %q not run: promtool is not installed (openmetrics' test checks the format)", ex.where, ex.line)
			return
		}
		pipeThrough(t, dir, ex, w, c.stdin, nil)
		return
	}
	if len(w) == 0 || w[0] != "vbench" {
		t.Errorf("%s: %q is no vbench command this test can run: run it here or mark its README block <!-- examples: skip: REASON -->", ex.where, ex.line)
		return
	}
	args := w[1:]
	inputs(t, dir, args)
	args = localPaths(t, dir, args)
	stdout, stderr, code := runCLI(t, args...)
	if code == exitBadArgs && strings.Contains(stderr, "not a CPU this process may run on") {
		t.Logf("%s: %q not run here: %s", ex.where, ex.line, strings.TrimSpace(stderr))
		return
	}
	if code != exitOK {
		t.Errorf("%s: %q: exit %d, stderr:\n%s", ex.where, ex.line, code, stderr)
		return
	}
	if c.pipe != nil {
		pipeThrough(t, dir, ex, c.pipe, "", []byte(stdout))
	}
}

// pipeThrough runs a program an example pipes into (jq) or feeds a file
// (promtool); without jq on PATH the output is only checked to be JSON.
func pipeThrough(t *testing.T, dir string, ex example, words []string, stdinFile string, in []byte) {
	t.Helper()
	if _, err := exec.LookPath(words[0]); err != nil {
		switch {
		case words[0] == "jq" && json.Valid(in):
			t.Logf("%s: no jq here: checked the output is JSON", ex.where)
			return
		case words[0] == "promtool" && len(in) > 0:
			t.Logf("%s: no promtool here: the metrics are not checked by it (openmetrics' tests check the format)", ex.where)
			return
		}
		if words[0] == "promtool" {
			t.Logf("%s: promtool is not installed: the output is not checked here (openmetrics' tests and .ci/metrics-check check the format)", ex.where)
			return
		}
		t.Errorf("%s: %s is not installed and the output is not JSON", ex.where, words[0])
		return
	}
	cmd := exec.Command(words[0], words[1:]...)
	cmd.Dir = dir
	if stdinFile != "" {
		f, err := os.Open(filepath.Join(dir, stdinFile))
		if err != nil {
			t.Errorf("%s: %v", ex.where, err)
			return
		}
		defer f.Close()
		cmd.Stdin = f
	} else {
		cmd.Stdin = bytes.NewReader(in)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: %s: %v\n%s", ex.where, strings.Join(words, " "), err, out)
	}
}

// benchstatRead reads the files of a benchstat example as benchstat does
// (golang.org/x/perf/benchfmt): each must hold results.
func benchstatRead(t *testing.T, dir string, ex example, files []string) {
	t.Helper()
	for _, name := range files {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", ex.where, err)
			continue
		}
		rd := benchfmt.NewReader(f, name)
		n := 0
		for rd.Scan() {
			if _, ok := rd.Result().(*benchfmt.Result); ok {
				n++
			}
		}
		f.Close()
		if rd.Err() != nil || n == 0 {
			t.Errorf("%s: %s: %d results, %v", ex.where, name, n, rd.Err())
		}
	}
}

func TestHelpExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every example (short studies, about a minute)")
	}
	shortStudies(t)
	all := helpExamples(t)
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run("vbench "+name, func(t *testing.T) {
			dir := t.TempDir()
			t.Chdir(dir)
			fixtures(t, dir)
			for _, ex := range all[name] {
				runExample(t, dir, ex)
			}
		})
	}
}

func TestREADMEExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every README example (short studies)")
	}
	shortStudies(t)
	blocks := readmeBlocks(t)
	if len(blocks) == 0 {
		t.Fatal("no sh blocks in README.md")
	}
	dir := t.TempDir()
	t.Chdir(dir)
	fixtures(t, dir)
	for _, b := range blocks {
		if b.skip != "" {
			t.Logf("README.md:%d: block skipped: %s", b.line, b.skip)
			continue
		}
		for _, ex := range b.lines {
			runExample(t, dir, ex)
		}
	}
}

// TestParseExample: the splitting the runners rely on.
func TestParseExample(t *testing.T) {
	for _, c := range []struct {
		line        string
		words, pipe []string
		stdin       string
	}{
		{`vbench run --out /tmp/r --label "xonly, idle machine" --samples 20000`, []string{"vbench", "run", "--out", "/tmp/r", "--label", "xonly, idle machine", "--samples", "20000"}, nil, ""},
		{`vbench aslr                                  5000 spawns`, []string{"vbench", "aslr"}, nil, ""},
		{`vbench verify --json - | jq '.verify.checks[] | select(.status == "fail")'`, []string{"vbench", "verify", "--json", "-"}, []string{"jq", `.verify.checks[] | select(.status == "fail")`}, ""},
		{`promtool check metrics < vbench.prom`, []string{"promtool", "check", "metrics"}, nil, "vbench.prom"},
	} {
		got, err := parseExample(c.line)
		if err != nil || !slices.Equal(got.words, c.words) || !slices.Equal(got.pipe, c.pipe) || got.stdin != c.stdin {
			t.Errorf("%q: %q | %q < %q, %v", c.line, got.words, got.pipe, got.stdin, err)
		}
	}
	if _, err := parseExample(`vbench bootmodes --kernel /boot/vmlinuz-$(uname -r)`); err == nil {
		t.Error("command substitution accepted")
	}
	if got := stripShellComment(`vbench aslr --target /bin/true          # a dynamically linked target`); got != "vbench aslr --target /bin/true" {
		t.Errorf("comment: %q", got)
	}
}
