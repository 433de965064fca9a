package bootlab

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CacheDir is where .ci/fetch-kernel keeps what it downloads, outside any
// clone: $VBENCH_CACHE, else $XDG_CACHE_HOME/vbench, else ~/.cache/vbench.
func CacheDir() string {
	if d := os.Getenv("VBENCH_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "vbench")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "vbench-cache")
	}
	return filepath.Join(home, ".cache", "vbench")
}

// TimelineSeries are the kernel series a timeline boots by default: the
// oldest Debian carries (bookworm's 6.1), trixie's 6.12, and the
// backports and sid series after it.
var TimelineSeries = []string{"6.1", "6.12", "6.16", "6.19", "7.0", "7.3"}

// CachedKernel finds the newest kernel of series ("6.12") for a (GOARCH
// name, which is Debian's: "amd64", "arm64") that .ci/fetch-kernel
// unpacked under dir/kernel/linux-image-SERIES*-cloud-ARCH/boot/. A
// missing one is an error naming the command that fetches it.
func CachedKernel(dir, series string, a *Arch) (string, error) {
	pat := filepath.Join(dir, "kernel", "linux-image-"+series+"*-cloud-"+a.GOARCH, "boot", "vmlinuz-*")
	found, err := filepath.Glob(pat)
	if err != nil {
		return "", err
	}
	var match []string
	for _, p := range found {
		// "6.1" must not take 6.12's kernels: the series ends at a
		// separator.
		rel := strings.TrimPrefix(filepath.Base(p), "vmlinuz-")
		if rest, ok := strings.CutPrefix(rel, series); ok && rest != "" && strings.ContainsRune(".-+", rune(rest[0])) {
			match = append(match, p)
		}
	}
	if len(match) == 0 {
		fetch := series
		if a.GOARCH != "amd64" {
			fetch += "/" + a.GOARCH
		}
		return "", fmt.Errorf("no %s %s kernel in %s (fetch it with .ci/fetch-kernel %s)", series, a.GOARCH, filepath.Join(dir, "kernel"), fetch)
	}
	slices.SortFunc(match, func(x, y string) int {
		return slices.Compare(versionNumbers(versionFromName(x)), versionNumbers(versionFromName(y)))
	})
	return match[len(match)-1], nil
}

func versionFromName(path string) string {
	m := nameVersion.FindStringSubmatch(strings.TrimPrefix(filepath.Base(path), "vmlinuz-"))
	if m == nil {
		return ""
	}
	return m[1]
}

// ArchByGOARCH is the boot lab's architecture for a Go port name
// ("amd64", "arm64"), or nil.
func ArchByGOARCH(goarch string) *Arch { return archByGOARCH(goarch) }

// Arches are the architectures the boot lab knows, in its order.
func Arches() []*Arch { return slices.Clone(arches) }
