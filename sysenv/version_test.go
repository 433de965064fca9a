package sysenv

import (
	"runtime/debug"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

func TestBuildOf(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "CGO_ENABLED", Value: "0"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-12-01T11:22:43Z"}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "caf0d02ab730f84225538e97ee922084d0ffcf9d"
	for _, tt := range []struct {
		name     string
		bi       debug.BuildInfo
		want     string
		modified bool
	}{
		{"release", debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "v1.2.0", false},
		{"clone, Go 1.24+ pseudo-version", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201112243-caf0d02ab730+dirty"}, Settings: vcs(rev, "true")},
			"v0.0.0-20261201112243-caf0d02ab730+dirty", true},
		{"revision, no module version", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, "devel-caf0d02ab730", false},
		{"revision, modified tree", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "devel-caf0d02ab730-dirty", true},
		{"nothing recorded (-buildvcs=false)", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel", false},
	} {
		b := buildOf(&tt.bi)
		if b.Version != tt.want || b.Modified != tt.modified {
			t.Errorf("%s: version %q modified %v, want %q %v", tt.name, b.Version, b.Modified, tt.want, tt.modified)
		}
		if len(tt.bi.Settings) > 0 && (b.Revision != rev || b.CgoEnabled != "0" || b.Time == "") {
			t.Errorf("%s: %+v", tt.name, b)
		}
		// Whatever it is, a run file holding it must read back.
		r := runfile.New(runfile.Env{VbenchVersion: b.Version})
		if err := r.Validate(); err != nil {
			t.Errorf("%s: a run stamped %q does not validate: %v", tt.name, b.Version, err)
		}
	}
}
