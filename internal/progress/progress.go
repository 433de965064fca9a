// Package progress draws a one-line progress bar with a rate on a terminal,
// and nothing at all when the output is not a terminal (a pipe, a file, CI),
// so that logs stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Bar is a progress bar. The zero of *Bar (nil) is a valid, silent bar.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	unit  string
	total int
	done  int
	start time.Time
	last  time.Time
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// New returns a bar drawing on w, or nil (silent) if w is not a terminal.
// unit names what is counted, e.g. "samples".
func New(w io.Writer, label, unit string, total int) *Bar {
	if !IsTerminal(w) {
		return nil
	}
	now := time.Now()
	return &Bar{w: w, label: label, unit: unit, total: total, start: now}
}

// Set records progress and redraws at most ten times a second.
func (b *Bar) Set(done int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = done
	if now := time.Now(); now.Sub(b.last) >= 100*time.Millisecond || done >= b.total {
		b.last = now
		b.draw(now)
	}
}

// Add advances the bar by n.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	d := b.done + n
	b.mu.Unlock()
	b.Set(d)
}

// Done clears the bar's line.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	fmt.Fprint(b.w, "\r\033[K")
}

func (b *Bar) draw(now time.Time) {
	const width = 30
	frac := 0.0
	if b.total > 0 {
		frac = float64(b.done) / float64(b.total)
	}
	frac = min(max(frac, 0), 1)
	fill := int(frac * width)
	rate := 0.0
	if el := now.Sub(b.start).Seconds(); el > 0 {
		rate = float64(b.done) / el
	}
	fmt.Fprintf(b.w, "\r\033[K%s [%s%s] %d/%d %s (%.0f/s)", b.label,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), b.done, b.total, b.unit, rate)
}
