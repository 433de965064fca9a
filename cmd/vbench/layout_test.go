package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/proc"
)

// TestSpecialMappings: the 6.18 host's maps give the 6.13 split ([vvar],
// [vvar_vclock]), the vDSO and the vsyscall page, in address order, with
// their sizes.
func TestSpecialMappings(t *testing.T) {
	f, err := os.Open("../../proc/testdata/maps-xonly-6.18.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := proc.ParseMaps(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range specialMappings(ms) {
		got = append(got, fmt.Sprintf("%s %s %d", m.Name, m.Perms, m.Size/4096))
	}
	if want := "[vvar] r--p 4,[vvar_vclock] r--p 2,[vdso] r-xp 2,[vsyscall] --xp 1"; strings.Join(got, ",") != want {
		t.Errorf("special mappings %v, want %s (name, perms, pages)", got, want)
	}
}
