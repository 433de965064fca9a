package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// CSV writes the keyed columns, Data ones included, "-" as empty; Text
// and Markdown leave the Data columns out.
func TestTableCSV(t *testing.T) {
	tb := &Table{Cols: slices.Concat(keyed(cols("name", "ns>", "notes"), map[string]string{"name": "name", "notes": "notes"}), data("ns_exact")),
		Rows: [][]string{{"a", "1.00", "x, \"y\"", "1.0001"}, {"b", "-", "-", ""}}, Notes: []string{"not in CSV"}}
	recs := readCSV(t, tb)
	want := [][]string{{"name", "notes", "ns_exact"}, {"a", "x, \"y\"", "1.0001"}, {"b", "", ""}}
	if !slices.EqualFunc(recs, want, slices.Equal) {
		t.Errorf("CSV %q, want %q", recs, want)
	}
	text, md := render(t, tb)
	if strings.Contains(text, "ns_exact") || strings.Contains(md, "ns_exact") || strings.Contains(text, "1.0001") {
		t.Errorf("a Data column shown:\n%s\n%s", text, md)
	}
}

// The bench CSV: one record per cell, from BenchTable's rows, with the
// summary at full precision.
func TestBenchCSV(t *testing.T) {
	b := loadFixture(t, "host").Bench
	recs := readCSV(t, BenchTable(b))
	head := recs[0]
	if !slices.Equal(head[:7], []string{"function", "clock", "path", "median_ns", "lo_ns", "hi_ns", "samples"}) || head[len(head)-1] != "notes" {
		t.Fatalf("header %q", head)
	}
	col := func(k string) int { return slices.Index(head, k) }
	if len(recs)-1 != len(b.Cells) {
		t.Fatalf("%d records for %d cells", len(recs)-1, len(b.Cells))
	}
	unavailable := 0
	for i, c := range b.Cells {
		r := recs[1+i]
		if r[0] != string(c.Function) || r[1] != string(c.Clock) || r[2] != string(c.Path) {
			t.Errorf("record %d names %q, cell %s/%s/%s", i, r[:3], c.Function, c.Clock, c.Path)
		}
		if c.Summary == nil || c.Unavailable != "" {
			unavailable++
			if r[col("median_ns")] != "" || !strings.Contains(r[col("notes")], c.Unavailable) {
				t.Errorf("unavailable cell %d: %q", i, r)
			}
			continue
		}
		for k, want := range map[string]float64{"median_ns": c.Summary.Median, "lo_ns": c.Summary.Lo, "hi_ns": c.Summary.Hi,
			"samples": float64(len(c.Samples))} {
			got, err := strconv.ParseFloat(r[col(k)], 64)
			if err != nil || got != want {
				t.Errorf("cell %d %s: %q, want %v", i, k, r[col(k)], want)
			}
		}
	}
	if unavailable == 0 || unavailable == len(b.Cells) {
		t.Errorf("fixture has %d unavailable cells of %d: the test wants both kinds", unavailable, len(b.Cells))
	}
}

// The bench CSV holds every context's cells, plain first, each with its
// context and its ratio to the plain cell; the plain table only plain ones.
func TestBenchCSVContexts(t *testing.T) {
	b := loadFixture(t, "host").Bench
	plain, ok := b.Find("clock_gettime", "MONOTONIC", "vdso")
	if !ok || plain.Summary == nil {
		t.Fatal("fixture has no clock_gettime MONOTONIC vdso cell")
	}
	tn := *plain
	tn.Context = runfile.ContextTimens
	s := *plain.Summary
	s.Median *= 1.25
	tn.Summary = &s
	b.Cells = append([]runfile.Cell{tn}, b.Cells...) // out of order on purpose
	records := func(tb *Table) ([]string, [][]string) {
		recs := readCSV(t, tb)
		return recs[0], recs[1:]
	}
	head, recs := records(BenchCSVTable(b))
	col := func(k string) int { return slices.Index(head, k) }
	if col("context") < 0 || col("vs_plain") < 0 {
		t.Fatalf("header %q lacks context or vs_plain", head)
	}
	if len(recs) != len(b.Cells) {
		t.Fatalf("%d records for %d cells", len(recs), len(b.Cells))
	}
	last := recs[len(recs)-1]
	if last[col("context")] != "timens" || last[0] != "clock_gettime" || last[1] != "MONOTONIC" || last[2] != "vdso" {
		t.Fatalf("last record %q, want the timens cell after every plain one", last)
	}
	if v, err := strconv.ParseFloat(last[col("vs_plain")], 64); err != nil || v < 1.2499 || v > 1.2501 {
		t.Errorf("timens vs_plain %q, want 1.25", last[col("vs_plain")])
	}
	if v, err := strconv.ParseFloat(last[col("vs_vdso")], 64); err != nil || v != 1 {
		t.Errorf("timens vs_vdso %q, want 1 (its own context's vDSO cell)", last[col("vs_vdso")])
	}
	for _, r := range recs[:len(recs)-1] {
		if r[col("context")] != "plain" || r[col("vs_plain")] != "" {
			t.Errorf("plain record %q: context %q, vs_plain %q", r[:3], r[col("context")], r[col("vs_plain")])
		}
	}
	_, recs = records(BenchTable(b))
	if len(recs) != len(b.Cells)-1 {
		t.Errorf("the plain table has %d records for %d plain cells", len(recs), len(b.Cells)-1)
	}
}

// readCSV writes tb as CSV and reads the records back.
func readCSV(t *testing.T, tb *Table) [][]string {
	t.Helper()
	var buf bytes.Buffer
	if err := tb.CSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}
