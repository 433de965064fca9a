package analysis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// CSVWriter streams one line per sample: the sample number, then each
// region's base in hex (empty when absent), then the [vsyscall] address
// (empty when not mapped). Nothing is kept in memory.
type CSVWriter struct {
	w   *bufio.Writer
	buf []byte
}

// NewCSV writes the header to w; nil for a nil w (then every method does
// nothing).
func NewCSV(w io.Writer) *CSVWriter {
	if w == nil {
		return nil
	}
	c := &CSVWriter{w: bufio.NewWriterSize(w, 64<<10)}
	c.buf = append(c.buf, "sample"...)
	for _, n := range Regions {
		c.buf = append(c.buf, ',')
		c.buf = append(c.buf, n...)
	}
	c.buf = append(c.buf, ",vsyscall\n"...)
	c.w.Write(c.buf)
	return c
}

// Add writes sample number i.
func (c *CSVWriter) Add(i int, s *Sample) error {
	if c == nil {
		return nil
	}
	b := strconv.AppendInt(c.buf[:0], int64(i), 10)
	for r := range NRegions {
		b = append(b, ',')
		if s.Has(r) {
			b = append(b, "0x"...)
			b = strconv.AppendUint(b, s.Base[r], 16)
		}
	}
	b = append(b, ',')
	if s.VsyscallPerms != "" {
		b = append(b, "0x"...)
		b = strconv.AppendUint(b, s.Vsyscall, 16)
	}
	b = append(b, '\n')
	c.buf = b
	_, err := c.w.Write(b)
	return err
}

// Flush writes what is buffered.
func (c *CSVWriter) Flush() error {
	if c == nil {
		return nil
	}
	return c.w.Flush()
}

// ErrCSV is wrapped by errors about a samples CSV file.
var ErrCSV = errors.New("bad samples CSV")

// FromCSV re-estimates everything from a samples CSV in the format
// Config.CSV gets: a header naming the columns ("sample", region names,
// "vsyscall"; any order, any subset of regions), then one line per sample
// with bases in hex (0x optional) and empty fields for absent regions.
// Regions without a column are left out of the result. Errors name the
// line and wrap ErrCSV.
func FromCSV(r io.Reader, name string) (*runfile.ASLR, error) {
	res, _, err := ReadCSV(r, name)
	return res, err
}

// CSVRead says what ReadCSV left out.
type CSVRead struct {
	// CutLine, if not 0, is the number of the last line, left out because
	// no newline ended it: a file a killed or interrupted run was
	// streaming to (CSVWriter ends every line with one).
	CutLine int
	CutText string // its first characters
}

// endReader remembers the last byte read.
type endReader struct {
	r    io.Reader
	last byte
}

func (e *endReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if n > 0 {
		e.last = p[n-1]
	}
	return n, err
}

// ReadCSV is FromCSV, saying also what it left out: a last line without
// a newline is taken as cut short and left out, whether or not it parses
// (a hex address cut short parses as another address).
func ReadCSV(r io.Reader, name string) (*runfile.ASLR, CSVRead, error) {
	var info CSVRead
	er := &endReader{r: r, last: '\n'}
	sc := bufio.NewScanner(er)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	next := func() (string, bool) {
		for sc.Scan() {
			line++
			if t := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(t) != "" {
				return t, true
			}
		}
		return "", false
	}
	head, ok := next()
	if !ok {
		if err := sc.Err(); err != nil {
			return nil, info, fmt.Errorf("%w: %v", ErrCSV, err)
		}
		return nil, info, fmt.Errorf("%w: empty file, no header", ErrCSV)
	}
	var cols []int // region index, colSample or colVsyscall
	var have uint16
	for _, h := range strings.Split(head, ",") {
		h = strings.TrimSpace(h)
		switch i := slices.Index(Regions, h); {
		case h == "sample":
			cols = append(cols, colSample)
		case h == "vsyscall":
			cols = append(cols, colVsyscall)
		case i >= 0 && have&(1<<i) == 0:
			cols = append(cols, i)
			have |= 1 << i
		case i >= 0:
			return nil, info, fmt.Errorf("%w: line %d: column %q twice", ErrCSV, line, h)
		default:
			return nil, info, fmt.Errorf("%w: line %d: unknown column %q (want sample, vsyscall or a region: %s)", ErrCSV, line, h, strings.Join(Regions, ", "))
		}
	}
	if have == 0 {
		return nil, info, fmt.Errorf("%w: line %d: no region column in the header", ErrCSV, line)
	}
	agg := NewColumns(0, have)
	vsCol := slices.Contains(cols, colVsyscall)
	// One line of lookahead: the last line is the one next() has nothing
	// after, and by then er.last is the file's last byte.
	pend, ok := next()
	pendLine := line
	for ok {
		t, more := next()
		if !more && er.last != '\n' {
			info.CutLine, info.CutText = pendLine, pend[:min(len(pend), 40)]
			break
		}
		if err := addCSVLine(agg, cols, pend, pendLine); err != nil {
			return nil, info, err
		}
		pend, pendLine, ok = t, line, more
	}
	if err := sc.Err(); err != nil {
		return nil, info, fmt.Errorf("%w: line %d: %v", ErrCSV, line+1, err)
	}
	if agg.n == 0 {
		if info.CutLine != 0 {
			return nil, info, fmt.Errorf("%w: no samples after the header (line %d, cut short, left out)", ErrCSV, info.CutLine)
		}
		return nil, info, fmt.Errorf("%w: no samples after the header", ErrCSV)
	}
	res := &runfile.ASLR{Target: "samples from " + name, Samples: agg.n, Requested: agg.n}
	Analyze(agg, res)
	if !vsCol {
		res.Vsyscall = nil
	}
	return res, info, nil
}

// The columns of a CSV header, besides regions.
const colSample, colVsyscall = -1, -2

// addCSVLine parses line number n, t, into agg.
func addCSVLine(agg *Columns, cols []int, t string, n int) error {
	fields := strings.Split(t, ",")
	if len(fields) != len(cols) {
		return fmt.Errorf("%w: line %d: %d fields, the header has %d", ErrCSV, n, len(fields), len(cols))
	}
	var s Sample
	for j, f := range fields {
		f = strings.TrimSpace(f)
		if cols[j] == colSample || f == "" {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(f, "0x"), "0X"), 16, 64)
		if err != nil {
			return fmt.Errorf("%w: line %d: column %d: %q is not a hex address", ErrCSV, n, j+1, f)
		}
		if cols[j] == colVsyscall {
			s.Vsyscall, s.VsyscallPerms = v, "perms not in the CSV"
			continue
		}
		s.Set(cols[j], v)
	}
	agg.Add(&s)
	return nil
}
