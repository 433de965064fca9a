package progress

import (
	"bytes"
	"os"
	"testing"
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
