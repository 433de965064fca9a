package report

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// CSV writes the keyed columns, Data ones included, "-" as empty; Text
// and Markdown leave the Data columns out.
func TestTableCSV(t *testing.T) {
	tb := &Table{Cols: slices.Concat(keyed(cols("name", "ns>", "notes"), map[string]string{"name": "name", "notes": "notes"}), data("ns_exact")),
		Rows: [][]string{{"a", "1.00", "x, \"y\"", "1.0001"}, {"b", "-", "-", ""}}, Notes: []string{"not in CSV"}}
	var b bytes.Buffer
	if err := tb.CSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
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
	var buf bytes.Buffer
	if err := BenchTable(b).CSV(&buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
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
