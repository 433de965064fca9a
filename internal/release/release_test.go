package release

import (
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "CGO_ENABLED", Value: "0"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-12-01T11:22:43Z"}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "caf0d02ab730f84225538e97ee922084d0ffcf9d"
	for _, tt := range []struct {
		name   string
		bi     debug.BuildInfo
		commit string
		want   string
	}{
		{"tagged module", debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, "", "v1.2.0"},
		{"clone, Go 1.24+ pseudo-version", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201112243-caf0d02ab730+dirty"}, Settings: vcs(rev, "true")}, "",
			Version + "+caf0d02ab730.dirty"},
		{"pseudo-version after a tag", debug.BuildInfo{Main: debug.Module{Version: "v0.2.1-0.20261201112243-caf0d02ab730"}, Settings: vcs(rev, "false")}, "",
			Version + "+caf0d02ab730"},
		{"revision, no module version", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "false")}, "", Version + "+caf0d02ab730"},
		{"-buildvcs=false", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "", Version},
		{"-buildvcs=false, commit by -ldflags -X", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, rev, Version + "+caf0d02ab730"},
		{"a bad -X value is ignored", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "not a hash; rm -rf", Version},
		{"the toolchain's stamp wins over -X", debug.BuildInfo{Settings: vcs(rev, "false")}, "0123456789abcdef", Version + "+caf0d02ab730"},
	} {
		b := Of(&tt.bi, tt.commit)
		if b.Version != tt.want {
			t.Errorf("%s: version %q, want %q", tt.name, b.Version, tt.want)
		}
		if !strings.HasPrefix(b.Version, b.Release) {
			t.Errorf("%s: version %q does not start with the release %q", tt.name, b.Version, b.Release)
		}
	}
}

// TestChangelog: CHANGELOG.md keeps an Unreleased section and names this
// release, in Keep a Changelog's form.
func TestChangelog(t *testing.T) {
	b, err := os.ReadFile("../../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.Contains(s, "keepachangelog.com") || !strings.Contains(s, "\n## [Unreleased]") {
		t.Errorf("CHANGELOG.md: want a Keep a Changelog header and an [Unreleased] section")
	}
	if !strings.Contains(s, strings.TrimPrefix(Version, "v")) {
		t.Errorf("CHANGELOG.md does not mention release %s", Version)
	}
	if !regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`).MatchString(Version) {
		t.Errorf("Version %q is not vMAJOR.MINOR.PATCH", Version)
	}
	for _, h := range regexp.MustCompile(`(?m)^### (.*)$`).FindAllStringSubmatch(s, -1) {
		switch h[1] {
		case "Added", "Changed", "Deprecated", "Removed", "Fixed", "Security":
		default:
			t.Errorf("CHANGELOG.md: section %q is not one of Keep a Changelog's", h[1])
		}
	}
}
