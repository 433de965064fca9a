package analysis

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A samples CSV cut short at any byte (a run killed while streaming it)
// reads back: every complete line is a sample, and a last line without a
// newline is left out and named.
func TestReadCSVCutShort(t *testing.T) {
	var buf bytes.Buffer
	w := NewCSV(&buf)
	const n = 50
	for i := range n {
		var s Sample
		s.Set(0, 0x7f0000000000+uint64(i)<<12)
		s.Set(2, 0x7ffc00000000+uint64(i)<<16)
		if err := w.Add(i, &s); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	full := buf.Bytes()
	header := bytes.IndexByte(full, '\n') + 1
	for cut := header + 1; cut <= len(full); cut++ {
		b := full[:cut]
		complete := bytes.Count(b, []byte("\n")) - 1
		res, info, err := ReadCSV(bytes.NewReader(b), "cut.csv")
		if complete == 0 {
			if !errors.Is(err, ErrCSV) || (b[len(b)-1] != '\n' && info.CutLine != 2) {
				t.Fatalf("cut at %d (no complete sample): %v, %+v", cut, err, info)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if res.Samples != complete {
			t.Fatalf("cut at %d: %d samples, want %d", cut, res.Samples, complete)
		}
		endsNL := b[len(b)-1] == '\n'
		if endsNL != (info.CutLine == 0) {
			t.Fatalf("cut at %d: CutLine %d, file ends in a newline: %v", cut, info.CutLine, endsNL)
		}
		if !endsNL && (info.CutLine != complete+2 || !strings.HasPrefix(string(b[bytes.LastIndexByte(b, '\n')+1:]), info.CutText)) {
			t.Fatalf("cut at %d: %+v", cut, info)
		}
	}
}
