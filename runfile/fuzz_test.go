package runfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzDecode: Decode never panics, its errors wrap ErrCorrupt or
// ErrSchema (ErrInvalid and ErrTooLarge wrap ErrCorrupt), a run it
// accepts validates, and encodes and decodes back to the same run. Seeded
// with a sample run, every run file under results/ and runs holding
// impossible values.
//
//	go test ./runfile -run '^$' -fuzz '^FuzzDecode$' -fuzztime 30s -fuzzminimizetime 0
func FuzzDecode(f *testing.F) {
	var good bytes.Buffer
	if err := sampleRun().Encode(&good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(`{"schema": 1, "tool": "vbench", "bench": {"cells": 3}}`))
	f.Add([]byte(`{"schema": 99, "tool": "vbench"}`))
	f.Add([]byte(`{"schema": 1, "tool": "vbench", "label": "x\n# heading\n![i](u)", "aslr": {"samples": -5}}`))
	f.Add([]byte(`{"schema": 1, "tool": "vbench", "aslr": {"samples": 1, "regions": [{"name": "vdso", "present": 1, "distinct": 1, "alignment": 0}]}}`))
	f.Add([]byte(`[1, 2, 3]`))
	var full bytes.Buffer
	if err := fullRun().Encode(&full); err != nil {
		f.Fatal(err)
	}
	f.Add(full.Bytes())
	runs, _ := filepath.Glob("../results/*/run.json")
	for _, p := range runs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(bytes.NewReader(b), "f.json")
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrSchema) {
				t.Fatalf("error %q wraps neither ErrCorrupt nor ErrSchema", err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("Decode accepted a run that does not validate: %v", err)
		}
		var again bytes.Buffer
		if err := r.Encode(&again); err != nil {
			t.Fatalf("a decoded run does not encode: %v", err)
		}
		back, err := Decode(&again, "again.json")
		if err != nil {
			t.Fatalf("re-encoded run does not decode: %v\n%s", err, again.Bytes())
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip changed the run:\n got %+v\nwant %+v", back, r)
		}
	})
}
