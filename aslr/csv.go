package aslr

import (
	"bufio"
	"io"
	"strconv"
)

// csvWriter streams one line per sample: the sample number, then each
// region's base in hex (empty when absent), then the [vsyscall] address
// (empty when not mapped). Nothing is kept in memory.
type csvWriter struct {
	w   *bufio.Writer
	buf []byte
}

func newCSV(w io.Writer) *csvWriter {
	if w == nil {
		return nil
	}
	c := &csvWriter{w: bufio.NewWriterSize(w, 64<<10)}
	c.buf = append(c.buf, "sample"...)
	for _, n := range regionNames {
		c.buf = append(c.buf, ',')
		c.buf = append(c.buf, n...)
	}
	c.buf = append(c.buf, ",vsyscall\n"...)
	c.w.Write(c.buf)
	return c
}

func (c *csvWriter) add(i int, s *sample) error {
	if c == nil {
		return nil
	}
	b := strconv.AppendInt(c.buf[:0], int64(i), 10)
	for r := range nRegions {
		b = append(b, ',')
		if s.present[r] {
			b = append(b, "0x"...)
			b = strconv.AppendUint(b, s.base[r], 16)
		}
	}
	b = append(b, ',')
	if s.vsyscallPerms != "" {
		b = append(b, "0x"...)
		b = strconv.AppendUint(b, s.vsyscall, 16)
	}
	b = append(b, '\n')
	c.buf = b
	_, err := c.w.Write(b)
	return err
}

func (c *csvWriter) flush() error {
	if c == nil {
		return nil
	}
	return c.w.Flush()
}
