package report

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vbench-dev/vbench/runfile"
)

// headCells splits a text table's header line at runs of two spaces.
func headCells(line string) []string {
	return regexp.MustCompile(` {2,}`).Split(strings.TrimSpace(line), -1)
}

// mdCells splits a Markdown table line into its cells, as text: a
// backslash before ASCII punctuation is removed (CommonMark 2.4), and the
// bold of a strong column.
func mdCells(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(line, "| "), " |")
	unescape := regexp.MustCompile(`\\([!-/:-@[-` + "`" + `{-~])`)
	var out []string
	for _, c := range regexp.MustCompile(` \| `).Split(line, -1) {
		if strings.HasPrefix(c, "**") && strings.HasSuffix(c, "**") && len(c) > 4 {
			c = c[2 : len(c)-2]
		}
		out = append(out, strings.TrimSpace(unescape.ReplaceAllString(c, "$1")))
	}
	return out
}

// render writes t both ways.
func render(t *testing.T, tb *Table) (text, md string) {
	t.Helper()
	var a, b bytes.Buffer
	if err := tb.Text(&a); err != nil {
		t.Fatal(err)
	}
	if err := tb.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	return a.String(), b.String()
}

// sameTable checks that the text and the Markdown of one table have the
// same columns and the same rows, cell for cell where a cell has no
// spaces (text columns cannot be split where cells hold spaces).
func sameTable(t *testing.T, name string, tb *Table) {
	t.Helper()
	text, md := render(t, tb)
	tb = tb.shown() // the columns Text and Markdown lay out
	tl, ml := strings.Split(text, "\n"), strings.Split(md, "\n")
	var want []string
	for _, c := range tb.Cols {
		want = append(want, c.Head)
	}
	if got := headCells(tl[0]); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s: text header %q, want %q", name, got, want)
	}
	if got := mdCells(ml[0]); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s: Markdown header %q, want %q", name, got, want)
	}
	// A text row is a line and, with a Width, the indented lines under it
	// that continue its last column.
	var rows []string
	for _, l := range tl[1:] {
		if l == "" {
			break
		}
		if tb.Width > 0 && strings.HasPrefix(l, " ") && len(rows) > 0 {
			rows[len(rows)-1] += " " + strings.TrimSpace(l)
			if n := utf8.RuneCountInString(l); n > tb.Width {
				t.Errorf("%s: line %q is %d characters, more than the table's Width %d", name, l, n, tb.Width)
			}
			continue
		}
		rows = append(rows, l)
	}
	if len(rows) != len(tb.Rows) {
		t.Fatalf("%s: %d text rows, want %d:\n%s", name, len(rows), len(tb.Rows), text)
	}
	for i, r := range tb.Rows {
		m := mdCells(ml[2+i])
		if len(m) != len(tb.Cols) {
			t.Errorf("%s: Markdown row %d has %d cells, want %d: %q", name, i, len(m), len(tb.Cols), ml[2+i])
			continue
		}
		for k := range tb.Cols {
			if m[k] != cell(r, k) {
				t.Errorf("%s: Markdown row %d column %q = %q, want %q", name, i, tb.Cols[k].Head, m[k], cell(r, k))
			}
		}
		for _, c := range r {
			if c != "" && !strings.Contains(runfile.OneLine(rows[i]), runfile.OneLine(c)) {
				t.Errorf("%s: text row %d lacks %q: %q", name, i, c, rows[i])
			}
		}
	}
}

func TestTableWriters(t *testing.T) {
	tb := &Table{Cols: cols("name", "ns>", "bits*", "notes"), Rows: [][]string{
		{"a", "1.00", "28.0", "x | y"},
		{"longer", "1234", "-"},
	}, Notes: []string{"ns: per call.", "bits: effective."}}
	text, md := render(t, tb)
	wantText := "name      ns  bits  notes\n" +
		"a       1.00  28.0  x | y\n" +
		"longer  1234     -\n" +
		"\nns: per call.\nbits: effective.\n"
	if text != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", text, wantText)
	}
	wantMD := "| name | ns | bits | notes |\n|---|---:|---:|---|\n" +
		"| a | 1.00 | **28.0** | " + mdEscape("x | y") + " |\n" +
		"| longer | 1234 | " + mdEscape("-") + " |  |\n" +
		"\nns: per call. bits: effective.\n"
	if md != wantMD {
		t.Errorf("Markdown:\n%s\nwant:\n%s", md, wantMD)
	}
}

// withCounters is the host run with counters, noise and a --retry-noisy
// budget on some cells, as a run of today's bench has them.
func withCounters(r *runfile.Run) *runfile.Bench {
	b := *r.Bench
	b.Cells = append([]runfile.Cell(nil), b.Cells...)
	one, zero := 1.0, 0.0
	b.Cells[0].PerCall = &runfile.PerCall{Syscalls: &one, PageFaults: &zero}
	b.Cells[1].PerCall = &runfile.PerCall{Syscalls: &zero, PageFaults: &one}
	b.Cells[1].Noise = &runfile.Noise{Noisy: true, Reasons: []string{"±12%"}, CIPct: 12}
	b.Order = runfile.OrderInterleaved
	return &b
}

// The CLI and report.md print one table: same columns, same cells.
func TestBenchTableBothWays(t *testing.T) {
	r := loadFixture(t, "host")
	b := withCounters(r)
	tb := BenchTable(b)
	sameTable(t, "bench", tb)
	heads := map[string]bool{}
	for _, c := range tb.Cols {
		heads[c.Head] = true
	}
	for _, h := range []string{"ns/call", "±", "vs vdso", "sys/call", "pf/call", "p50", "p99", "notes"} {
		if !heads[h] {
			t.Errorf("no column %q in %v", h, tb.Cols)
		}
	}
	if heads["cycles"] {
		t.Error("a cycles column where no cell has cycles")
	}
	if got := tb.Rows[1][len(tb.Cols)-1]; got != "noisy: ±12%" {
		t.Errorf("noise not among the notes: %q", got)
	}
	notes := strings.Join(tb.Notes, " ")
	for _, want := range []string{"median of 10 samples", "round-robin", "Per call, counted", "noisy: 95% interval", "p50, p99"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q: %s", want, notes)
		}
	}
	var text bytes.Buffer
	if err := BenchTable(r.Bench).Text(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "bench-host.txt", text.Bytes())
	sameTable(t, "latency", LatencyTable(r.Bench))
	if LatencyTable(loadFixture(t, "xonly").Bench) != nil {
		t.Error("a latency table for a run without latencies")
	}
}

func TestVerifyTable(t *testing.T) {
	v := &runfile.Verify{Checks: []runfile.Check{
		{Name: "a", Status: "pass", Detail: "fine"},
		{Name: "b", Status: "fail", Detail: "went\nbackwards"},
		{Name: "c", Status: "skip", Detail: "no vDSO"},
		{Name: "d", Status: "fail"},
	}, Info: []runfile.Check{{Name: "vdso found", Status: "info", Detail: "no"}}}
	tb := VerifyTable(v)
	sameTable(t, "verify", tb)
	var order []string
	for _, r := range tb.Rows {
		order = append(order, r[0]+" "+r[1])
	}
	if got := strings.Join(order, ", "); got != "FAIL b, FAIL d, SKIP c, INFO vdso found, PASS a" {
		t.Errorf("order %s: want failures, skips, info, passes", got)
	}
	if tb.Rows[0][2] != "went backwards" {
		t.Errorf("detail not on one line: %q", tb.Rows[0][2])
	}
	if got, want := VerifySummary(v), "4 checks: 1 pass, 2 fail, 1 skip (failed: b; d)"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	var text bytes.Buffer
	r := loadFixture(t, "host")
	if err := VerifyTable(r.Verify).Text(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "verify-host.txt", text.Bytes())
}

// The ASLR view: same region and pair tables both ways, the conclusions
// in both; the narrow region table is the wide one's columns, cells
// unchanged, and fits 120 columns of a terminal.
func TestASLRTablesBothWays(t *testing.T) {
	for _, name := range []string{"aslr-static", "aslr-norandomize", "host", "none"} {
		r := loadFixture(t, name)
		for _, wide := range []bool{true, false} {
			v := ASLRTables(r.ASLR, r.Env, wide)
			sameTable(t, name+" regions", v.Regions)
			sameTable(t, name+" pairs", v.Pairs)
			var text, md bytes.Buffer
			if err := v.Text(&text); err != nil {
				t.Fatal(err)
			}
			if err := v.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			if len(v.Conclusions) == 0 {
				t.Errorf("%s: no conclusions", name)
			}
			for _, c := range v.Conclusions {
				if !strings.Contains(md.String(), mdEscape(c)) || !strings.Contains(strings.Join(strings.Fields(text.String()), " "), c) {
					t.Errorf("%s: conclusion %q not in both", name, c)
				}
			}
			switch {
			case name == "aslr-static" && wide:
				golden(t, "aslr-static.txt", text.Bytes())
			case name == "aslr-static":
				golden(t, "aslr-static-narrow.txt", text.Bytes())
			}
			if wide {
				continue
			}
			for i, l := range strings.Split(text.String(), "\n") {
				if n := utf8.RuneCountInString(l); n > 120 {
					t.Errorf("%s: narrow line %d is %d characters wide: %q", name, i+1, n, l)
				}
			}
			w := ASLRTables(r.ASLR, r.Env, true).Regions
			if want := 7 + len(narrowEstimators()); len(v.Regions.Cols) != want || len(v.Regions.Rows) != len(w.Rows) {
				t.Fatalf("%s: narrow table %d columns, %d rows; want %d, %d", name, len(v.Regions.Cols), len(v.Regions.Rows), want, len(w.Rows))
			}
			for j, c := range v.Regions.Cols {
				k := slices.IndexFunc(w.Cols, func(x Col) bool { return x == c })
				if k < 0 {
					t.Fatalf("%s: narrow column %+v is not a wide one", name, c)
				}
				for i := range w.Rows {
					if got, want := cell(v.Regions.Rows[i], j), cell(w.Rows[i], k); got != want {
						t.Errorf("%s: row %d %s: narrow %q, wide %q", name, i, c.Head, got, want)
					}
				}
			}
		}
	}
	// Samples read from a CSV file: no environment, no kernel maxima.
	r := loadFixture(t, "aslr-static")
	for _, wide := range []bool{true, false} {
		for _, row := range ASLRTables(r.ASLR, runfile.Env{}, wide).Regions.Rows {
			if row[len(row)-1] != "?" && row[len(row)-1] != "" {
				t.Errorf("%s: kernel max %q without a kernel", row[0], row[len(row)-1])
			}
		}
	}
}
