package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// TestEnvOneBlock: `vbench env`'s lines and report.md's table show the same
// fields, in the same order, every field of the fixture's Env among them.
func TestEnvOneBlock(t *testing.T) {
	r, err := runfile.ReadFile("testdata/host.json")
	if err != nil {
		t.Fatal(err)
	}
	var text, md bytes.Buffer
	if err := EnvText(&text, r); err != nil {
		t.Fatal(err)
	}
	EnvMarkdown(&md, r)
	var textKeys, mdKeys []string
	for _, l := range strings.Split(strings.TrimSpace(text.String()), "\n") {
		k, _, _ := strings.Cut(l, ":")
		textKeys = append(textKeys, k)
	}
	for _, l := range strings.Split(strings.TrimSpace(md.String()), "\n")[2:] {
		mdKeys = append(mdKeys, strings.TrimSpace(strings.Split(l, "|")[1]))
	}
	if strings.Join(textKeys, ",") != strings.Join(mdKeys, ",") {
		t.Errorf("text shows %q,\nMarkdown %q", textKeys, mdKeys)
	}
	for _, want := range []string{"host", "kernel", "cmdline", "vsyscall", "vsyscall maps line", "clocksource", "cpu", "cpu flags",
		"vuln meltdown", "randomize_va_space", "mmap_rnd_bits", "mmap_rnd_compat_bits", "go", "vbench"} {
		if !strings.Contains(","+strings.Join(textKeys, ",")+",", ","+want+",") {
			t.Errorf("no %q in the block: %q", want, textKeys)
		}
	}
	if !strings.Contains(text.String(), "clocksource:           kvm-clock (available: kvm-clock)\n") {
		t.Errorf("clocksource line:\n%s", text.String())
	}
}
