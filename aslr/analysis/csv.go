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
	sc := bufio.NewScanner(r)
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
			return nil, fmt.Errorf("%w: %v", ErrCSV, err)
		}
		return nil, fmt.Errorf("%w: empty file, no header", ErrCSV)
	}
	const colSample, colVsyscall = -1, -2
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
			return nil, fmt.Errorf("%w: line %d: column %q twice", ErrCSV, line, h)
		default:
			return nil, fmt.Errorf("%w: line %d: unknown column %q (want sample, vsyscall or a region: %s)", ErrCSV, line, h, strings.Join(Regions, ", "))
		}
	}
	if have == 0 {
		return nil, fmt.Errorf("%w: line %d: no region column in the header", ErrCSV, line)
	}
	agg := NewColumns(0, have)
	vsCol := slices.Contains(cols, colVsyscall)
	for {
		t, ok := next()
		if !ok {
			break
		}
		fields := strings.Split(t, ",")
		if len(fields) != len(cols) {
			return nil, fmt.Errorf("%w: line %d: %d fields, the header has %d", ErrCSV, line, len(fields), len(cols))
		}
		var s Sample
		for j, f := range fields {
			f = strings.TrimSpace(f)
			if cols[j] == colSample || f == "" {
				continue
			}
			v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(f, "0x"), "0X"), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: column %d: %q is not a hex address", ErrCSV, line, j+1, f)
			}
			if cols[j] == colVsyscall {
				s.Vsyscall, s.VsyscallPerms = v, "perms not in the CSV"
				continue
			}
			s.Set(cols[j], v)
		}
		agg.Add(&s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %v", ErrCSV, line+1, err)
	}
	if agg.n == 0 {
		return nil, fmt.Errorf("%w: no samples after the header", ErrCSV)
	}
	res := &runfile.ASLR{Target: "samples from " + name, Samples: agg.n, Requested: agg.n}
	Analyze(agg, res)
	if !vsCol {
		res.Vsyscall = nil
	}
	return res, nil
}
