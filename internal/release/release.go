// Package release holds vbench's release version, the one CHANGELOG.md
// describes, so that every build knows it whatever its build flags: a run
// file (env.vbench_release, and the start of env.vbench_version) and every
// exported metric (vbench_info's release label) carry it.
//
// The version follows Semantic Versioning and is raised by hand in the
// commit that renames CHANGELOG.md's "Unreleased" section to it.
package release

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// Version is the release this source tree is: the latest section of
// CHANGELOG.md that has a version, or the one its "Unreleased" section
// will become.
const Version = "v0.3.0"

// Commit may be set at build time where the toolchain records no VCS
// stamp (-buildvcs=false, a git worktree, a source tarball):
//
//	go build -ldflags "-X github.com/vbench-dev/vbench/internal/release.Commit=$(git rev-parse HEAD)" ./cmd/vbench
//
// It is used only when the build information has no vcs.revision.
var Commit string

// pseudo matches the pseudo-versions cmd/go derives from a commit
// (v0.0.0-20261201112243-caf0d02ab730, vX.Y.Z-0.2026...-..., +dirty): not
// a release, whatever their numbers say.
var pseudo = regexp.MustCompile(`[-.]?[0-9]{14}-[0-9a-f]{12}(\+dirty)?$`)

// Build describes the running binary, from debug.ReadBuildInfo.
type Build struct {
	// Release is Version, or the module's version when the binary was
	// built from a tagged module (go install ...@v0.3.0).
	Release string
	// Version is what a run file records (env.vbench_version): Release,
	// then "+" and the commit's first 12 hex digits where one is known,
	// ".dirty" after them when the tree had uncommitted changes (Semantic
	// Versioning build metadata): v0.3.0+c42f615a1b2c.dirty.
	Version  string
	Revision string // vcs.revision (or Commit), the full hash; "" if not known
	Time     string // vcs.time, the commit's time (RFC 3339); "" if not recorded
	Modified bool   // vcs.modified: the tree had uncommitted changes
	// FromLdflags is true when Revision came from Commit, not from the
	// toolchain's VCS stamp.
	FromLdflags bool
	Go          string // the toolchain, e.g. "go1.26.8"
	// CgoEnabled is the CGO_ENABLED setting of the build, "0" or "1" (""
	// if not recorded); vbench must be built with 0 to be static.
	CgoEnabled string
}

// Read describes the running binary.
func Read() Build {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	return Of(bi, Commit)
}

// Of reads a build's description; commit stands in for a missing
// vcs.revision (tests give both).
func Of(bi *debug.BuildInfo, commit string) Build {
	b := Build{Go: bi.GoVersion, Release: Version}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		case "CGO_ENABLED":
			b.CgoEnabled = s.Value
		}
	}
	if b.Revision == "" && validHex(commit) {
		b.Revision, b.FromLdflags = commit, true
	}
	if v := bi.Main.Version; strings.HasPrefix(v, "v") && !pseudo.MatchString(v) && !strings.Contains(v, "+dirty") {
		b.Release = v
	}
	b.Version = b.Release
	if b.Revision != "" {
		b.Version += "+" + b.Revision[:min(12, len(b.Revision))]
		if b.Modified {
			b.Version += ".dirty"
		}
	}
	return b
}

// validHex is true for a commit hash (abbreviated or full).
func validHex(s string) bool {
	if len(s) < 7 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
