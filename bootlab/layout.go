package bootlab

import (
	"fmt"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// layoutCell is the vDSO's mappings in address order with their sizes,
// "[vvar] 16K, [vvar_vclock] 8K, [vdso] 8K" ([vsyscall], far above, left
// out: the vsyscall column shows it), or "-" when the run has none.
func layoutCell(b *runfile.Boot) string {
	if b == nil {
		return "-"
	}
	var parts []string
	for _, m := range b.Layout {
		if m.Name == "[vsyscall]" {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s", strings.Trim(m.Name, "[]"), kib(m.Size)))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// kib writes a size in KiB ("16K"), or bytes when it is not a whole KiB.
func kib(n uint64) string {
	if n%1024 == 0 {
		return fmt.Sprintf("%dK", n/1024)
	}
	return fmt.Sprintf("%dB", n)
}
