package progress

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestSilentOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "sampling", "samples", 10)
	if b != nil {
		t.Fatal("a bar on a bytes.Buffer should be nil (silent)")
	}
	b.Set(5) // nil bar: no panic, no output
	b.Add(1)
	b.Done()
	if buf.Len() != 0 {
		t.Errorf("wrote %q off a terminal", buf.String())
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is not a terminal")
	}
}

func TestDraw(t *testing.T) {
	var buf bytes.Buffer
	b := &Bar{w: &buf, label: "bench", unit: "cells", total: 4}
	b.Set(4)
	if got := buf.String(); !bytes.Contains([]byte(got), []byte("4/4 cells")) || !bytes.Contains([]byte(got), []byte("[==============================]")) {
		t.Errorf("drawn %q", got)
	}
}

func TestDumbTerminalGetsNoEscapes(t *testing.T) {
	var buf bytes.Buffer
	b := &Bar{w: &buf, label: "aslr", unit: "samples", total: 100, dumb: true, start: time.Now().Add(-2 * time.Second)}
	b.Set(50)
	b.Set(100)
	b.Done()
	s := buf.String()
	if strings.Contains(s, "\x1b") {
		t.Errorf("escape sequence on a dumb terminal: %q", s)
	}
	if !strings.Contains(s, "50/100 samples") || !strings.HasSuffix(s, "\r") {
		t.Errorf("drawn %q", s)
	}
}

func TestElapsedAndETA(t *testing.T) {
	var buf bytes.Buffer
	b := &Bar{w: &buf, label: "aslr", unit: "samples", total: 1000, start: time.Now().Add(-10 * time.Second)}
	b.Set(250) // 25/s: 30 s to go
	if s := buf.String(); !strings.Contains(s, "0:10 ETA 0:30") {
		t.Errorf("drawn %q, want elapsed 0:10 and ETA 0:30", s)
	}
	if clock(3725*time.Second) != "1:02:05" {
		t.Errorf("clock(3725s) = %s", clock(3725*time.Second))
	}
}
