package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vbench-dev/vbench/internal/console"
)

// One table, three writers. Every table vbench shows (the bench cells, the
// per-call latencies, the verify checks, the ASLR regions and pairs, the
// comparison of runs) is computed once, as rows of strings, by one
// function of this package (BenchTable, LatencyTable, VerifyTable,
// ASLRTables, Comparison): numbers are formatted there, once, with
// FormatNS and fmtRatio. The terminal and report.md then print the same
// rows through Text and Markdown, which only lay them out, and CSV, which
// writes the columns that have a Key (with Data columns: full-precision
// numbers the others do not show).

// Table is a table of formatted cells and the sentences that explain it.
type Table struct {
	Cols []Col
	Rows [][]string // one string per column; a short row is padded with ""
	// Notes are the legend: what the columns mean, how the numbers were
	// taken. Each is one sentence or a few; Text prints each on its own
	// lines, Markdown as one paragraph.
	Notes []string
	// Width, when not 0, is the widest line Text may write: a last column
	// of text (sentences) is wrapped to fit, its further lines indented
	// under it, and the notes are wrapped at Width. Markdown ignores it.
	Width int
}

// Col is a column: its heading and how it is laid out.
type Col struct {
	Head string
	// Right aligns the column to the right: numbers.
	Right bool
	// Strong marks the column a reader looks for first (the figure the
	// table is about): bold in Markdown, unchanged in text.
	Strong bool
	// Key names the column in CSV, e.g. "median_ns"; CSV leaves out a
	// column without one.
	Key string
	// Data marks a column for CSV only (a number at full precision, where
	// Text and Markdown show it formatted in another column).
	Data bool
}

// keyed sets the CSV key of the columns headed by each key of keys.
func keyed(cs []Col, keys map[string]string) []Col {
	for i := range cs {
		if k, ok := keys[cs[i].Head]; ok {
			cs[i].Key = k
		}
	}
	return cs
}

// data makes CSV-only columns from their keys.
func data(keys ...string) []Col {
	out := make([]Col, len(keys))
	for i, k := range keys {
		out[i] = Col{Head: k, Key: k, Data: true, Right: true}
	}
	return out
}

// cols makes columns from headings; a heading ending in ">" is
// right-aligned and one ending in "*" is also strong (the marks are
// removed).
func cols(heads ...string) []Col {
	out := make([]Col, len(heads))
	for i, h := range heads {
		var c Col
		if s, ok := strings.CutSuffix(h, "*"); ok {
			h, c.Right, c.Strong = s, true, true
		} else if s, ok := strings.CutSuffix(h, ">"); ok {
			h, c.Right = s, true
		}
		c.Head = h
		out[i] = c
	}
	return out
}

// noteWidth is where Text wraps the notes of a table narrower than that
// (notes of a wider table wrap at its width), and where the other prose of
// the text writers wraps: 100 columns, or the terminal's width once the
// command has called SetConsole.
var noteWidth = console.DefaultWidth

// asciiText is true where the locale's character set is not UTF-8: Text
// then writes "+/-" for "±" (console.ASCII) before it aligns the columns.
var asciiText = false

// SetConsole sets, once at start-up and before any output, the width
// prose wraps at (console.Width of standard output) and whether only ASCII
// may be written (not console.UTF8). Markdown and CSV are not affected.
func SetConsole(width int, ascii bool) { noteWidth, asciiText = width, ascii }

// ProseWidth is the width prose is wrapped at (SetConsole).
func ProseWidth() int { return noteWidth }

// cell is row[i], or "" past the row's end.
func cell(row []string, i int) string {
	if i < len(row) {
		return row[i]
	}
	return ""
}

// Text writes the table as aligned columns, two spaces apart, numbers
// right-aligned, the last column not padded (and wrapped at Width); then,
// after a blank line, each note, wrapped at the table's width or 100
// characters, whichever is wider, but not beyond a Width above 100.
func (t *Table) Text(w io.Writer) error {
	t = t.shown()
	if asciiText {
		t = t.ascii()
	}
	ew := &errWriter{w: w}
	width := make([]int, len(t.Cols))
	for i, c := range t.Cols {
		width[i] = utf8.RuneCountInString(c.Head)
	}
	for _, r := range t.Rows {
		for i := range t.Cols {
			width[i] = max(width[i], utf8.RuneCountInString(cell(r, i)))
		}
	}
	wide := noteWidth
	// With a Width, a last column of text gets what the others leave of
	// it, if that is enough to read (30 characters).
	last, indent := -1, 0
	if n := len(t.Cols); t.Width > 0 && n > 0 && !t.Cols[n-1].Right {
		for _, w := range width[:n-1] {
			indent += w + 2
		}
		if t.Width-indent >= 30 {
			last = n - 1
		}
	}
	line := func(cells func(i int) string) {
		var b strings.Builder
		for i, c := range t.Cols {
			f := cells(i)
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(f))
			switch {
			case i == last:
				b.WriteString(strings.ReplaceAll(wrap(f, t.Width-indent), "\n", "\n"+strings.Repeat(" ", indent)))
			case i == len(t.Cols)-1 && !c.Right:
				b.WriteString(f)
			case c.Right:
				b.WriteString(pad + f + "  ")
			default:
				b.WriteString(f + pad + "  ")
			}
		}
		l := strings.TrimRight(b.String(), " ")
		for _, part := range strings.Split(l, "\n") {
			wide = max(wide, utf8.RuneCountInString(part))
		}
		ew.printf("%s\n", l)
	}
	line(func(i int) string { return t.Cols[i].Head })
	for _, r := range t.Rows {
		line(func(i int) string { return cell(r, i) })
	}
	if t.Width > 0 {
		wide = min(wide, max(t.Width, noteWidth))
	}
	if len(t.Notes) > 0 {
		ew.printf("\n")
		for _, n := range t.Notes {
			ew.printf("%s\n", wrap(n, wide))
		}
	}
	return ew.err
}

// Markdown writes the table as a GitHub table, every cell escaped
// (mdEscape), strong columns in bold; then, after a blank line, the notes
// as one paragraph.
func (t *Table) Markdown(w io.Writer) error {
	t = t.shown()
	ew := &errWriter{w: w}
	var b strings.Builder
	b.WriteString("|")
	for _, c := range t.Cols {
		b.WriteString(" " + mdEscape(c.Head) + " |")
	}
	b.WriteString("\n|")
	for _, c := range t.Cols {
		if c.Right {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	ew.printf("%s\n", b.String())
	for _, r := range t.Rows {
		b.Reset()
		b.WriteString("|")
		for i, c := range t.Cols {
			raw := cell(r, i)
			f := mdEscape(raw)
			if c.Strong && raw != "" && raw != "-" {
				f = "**" + f + "**"
			}
			b.WriteString(" " + f + " |")
		}
		ew.printf("%s\n", b.String())
	}
	if len(t.Notes) > 0 {
		esc := make([]string, len(t.Notes))
		for i, n := range t.Notes {
			esc[i] = mdEscape(n)
		}
		ew.printf("\n%s\n", strings.Join(esc, " "))
	}
	return ew.err
}

// CSV writes the columns that have a Key (RFC 4180, encoding/csv): a
// header of the keys, then one record per row; a cell that says there is
// nothing ("-") is empty. The notes are not written.
func (t *Table) CSV(w io.Writer) error {
	var idx []int
	var head []string
	for i, c := range t.Cols {
		if c.Key != "" {
			idx = append(idx, i)
			head = append(head, c.Key)
		}
	}
	cw := csv.NewWriter(w)
	cw.Write(head)
	for _, r := range t.Rows {
		rec := make([]string, len(idx))
		for j, i := range idx {
			if v := cell(r, i); v != "-" {
				rec[j] = v
			}
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// ascii is the table with console.ASCII applied to every string.
func (t *Table) ascii() *Table {
	c := *t
	c.Cols = slices.Clone(t.Cols)
	for i := range c.Cols {
		c.Cols[i].Head = console.ASCII(c.Cols[i].Head)
	}
	c.Rows = make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		c.Rows[i] = make([]string, len(r))
		for j, v := range r {
			c.Rows[i][j] = console.ASCII(v)
		}
	}
	c.Notes = make([]string, len(t.Notes))
	for i, n := range t.Notes {
		c.Notes[i] = console.ASCII(n)
	}
	return &c
}

// shown is the table without its Data columns: what Text and Markdown
// lay out.
func (t *Table) shown() *Table {
	hasData := false
	for _, c := range t.Cols {
		hasData = hasData || c.Data
	}
	if !hasData {
		return t
	}
	var keep []int
	for i, c := range t.Cols {
		if !c.Data {
			keep = append(keep, i)
		}
	}
	p := t.pick(keep)
	p.Notes, p.Width = t.Notes, t.Width
	return p
}

// project is the table with only the columns headed heads, in that
// order, their cells unchanged; a heading the table lacks is skipped. The
// notes are not kept: they describe the columns dropped too.
func (t *Table) project(heads []string) *Table {
	var idx []int
	for _, h := range heads {
		for i, c := range t.Cols {
			if c.Head == h {
				idx = append(idx, i)
				break
			}
		}
	}
	return t.pick(idx)
}

// pick is the table with the columns at idx, in that order, without notes.
func (t *Table) pick(idx []int) *Table {
	p := &Table{}
	for _, i := range idx {
		p.Cols = append(p.Cols, t.Cols[i])
	}
	for _, r := range t.Rows {
		row := make([]string, len(idx))
		for j, i := range idx {
			row[j] = cell(r, i)
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}

// errWriter keeps the first write error; later writes are dropped.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}

// dash is s, or "-" for nothing.
func dash[T ~string](s T) string {
	if s == "" {
		return "-"
	}
	return string(s)
}
