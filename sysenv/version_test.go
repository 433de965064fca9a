package sysenv

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/internal/release"
	"github.com/vbench-dev/vbench/runfile"
)

// TestVersionValidates: whatever a build records, a run file stamped with
// it reads back, and it starts with the release.
func TestVersionValidates(t *testing.T) {
	const rev = "caf0d02ab730f84225538e97ee922084d0ffcf9d"
	for _, bi := range []debug.BuildInfo{
		{Main: debug.Module{Version: "v1.2.0"}},
		{Main: debug.Module{Version: "v0.0.0-20261201112243-caf0d02ab730+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}},
		{Main: debug.Module{Version: "(devel)"}},
	} {
		b := release.Of(&bi, "")
		r := runfile.New(runfile.Env{VbenchVersion: b.Version, VbenchRelease: b.Release})
		if err := r.Validate(); err != nil {
			t.Errorf("a run stamped %q does not validate: %v", b.Version, err)
		}
		if !strings.HasPrefix(b.Version, b.Release) {
			t.Errorf("%q does not start with %q", b.Version, b.Release)
		}
	}
	if e := Collect(); e.VbenchRelease != release.Version || !strings.HasPrefix(e.VbenchVersion, release.Version) {
		t.Errorf("Collect: release %q version %q, want %s", e.VbenchRelease, e.VbenchVersion, release.Version)
	}
}
