package runfile

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// A run file of the per-field layout (schema 1 before regions held a
// list of estimates) reads into estimates, and its stored sentences are
// not read; written back, it has the new layout and reads the same.
func TestLegacyRegionReadsIntoEstimates(t *testing.T) {
	r, err := ReadFile("../report/testdata/aslr-static.json")
	if err != nil {
		t.Fatal(err)
	}
	g := r.ASLR.Regions[0] // vdso: 2000 samples, no equal pair
	want := []Estimate{
		{Name: "bitsum", Kind: EntropyUpperBound, Bits: 28.12578864783746, Lo: 0, Hi: -1},
		{Name: "range", Kind: EntropyUpperBound, Bits: 27.998553696607818, Lo: 27.998553696607818, Hi: -1},
		{Name: "collision", Kind: EntropyCollision, Bits: -1, Lo: 19.047664396259464, Hi: -1},
		{Name: "shannon", Kind: EntropyShannon, Bits: 10.965784284661922, Lo: 0, Hi: -1},
		{Name: "min", Kind: EntropyMin, Bits: 10.965784284662087, Lo: 9.523832198129732, Hi: 28.002577207640037},
	}
	if g.Name != "vdso" || !reflect.DeepEqual(g.Estimates, want) {
		t.Errorf("%s estimates:\n got %+v\nwant %+v", g.Name, g.Estimates, want)
	}
	var buf bytes.Buffer
	if err := r.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"bit_entropy_sum":`, `"collision_bits":`, `"shannon":`, `"effective_rule":`, `"conclusions":`, `"conclusion":`} {
		if strings.Contains(buf.String(), key) {
			t.Errorf("re-encoded run still holds %s", key)
		}
	}
	back, err := Decode(&buf, "again.json")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Error("an old run re-encoded does not read back the same")
	}
}
