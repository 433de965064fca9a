package report

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

func TestMdEscape(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		// Ordinary text is written unchanged.
		{"vsyscall=xonly 6.18.44-fc-v769 vm", "vsyscall=xonly 6.18.44-fc-v769 vm"},
		{"6.18.0-fixture #1 SMP PREEMPT_DYNAMIC", "6.18.0-fixture #1 SMP PREEMPT_DYNAMIC"},
		{"clock_gettime MONOTONIC: syscall <= vdso <= syscall", "clock_gettime MONOTONIC: syscall <= vdso <= syscall"},
		{"[vsyscall]: fixed at 0xffffffffff600000 in every sample", "[vsyscall]: fixed at 0xffffffffff600000 in every sample"},
		{"the vDSO moves with the mmap base (vDSO - mmap = -0x2000)", "the vDSO moves with the mmap base (vDSO - mmap = -0x2000)"},
		{"vm.mmap_rnd_bits", "vm.mmap_rnd_bits"},
		// Lines end nowhere inside text.
		{"x\n# Injected\n![img](http://e/x.png)\n", `x # Injected ![img\](http://e/x.png)`},
		{"a\r\nb\u2028c\x00d\u0085e", "a  b c d e"},
		// Inline markup is escaped.
		{"a|b", `a\|b`},
		{"*bold* _em_ ~~gone~~ `code` $x$", `\*bold\* \_em\_ \~\~gone\~\~ \` + "`code\\`" + ` \$x\$`},
		{`back\slash`, `back\\slash`},
		{"<img src=x onerror=alert(1)>", `\<img src=x onerror=alert(1)>`},
		{"</p> <!-- c --> <?x", `\</p> \<!-- c --> \<?x`},
		{"[link](http://e) [ref][x]", `[link\](http://e) [ref\][x]`},
		{"&lt; &#10;", `\&lt; \&#10;`},
		{"run #", `run \#`},
		// Nothing opens a block at the start of a list item.
		{"# heading", `\# heading`},
		{"###### six", `\###### six`},
		{"> quote", `\> quote`},
		{"- item", `\- item`},
		{"+ item", `\+ item`},
		{"---", `\---`},
		{"===", `\===`},
		{"12. item", `12\. item`},
		{"3) item", `3\) item`},
		{`[x]: http://e "t"`, `\[x]: http://e "t"`},
		{"[x]: http://e", `\[x]: http://e`},
		{"  \t padded  ", "padded"},
	} {
		if got := mdEscape(tt.in); got != tt.want {
			t.Errorf("mdEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMdCode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"console=ttyS0 vsyscall=xonly", "`console=ttyS0 vsyscall=xonly`"},
		{"a`b", "``a`b``"},
		{"`x``", "``` `x`` ```"},
		{"a|b\nc", "`a\\|b c`"},
		{"", ""},
	} {
		if got := mdCode(tt.in); got != tt.want {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestHostileTextStaysText: text from a run file or the command line
// that tries to add headings, images, HTML or table cells to report.md
// adds none.
func TestHostileTextStaysText(t *testing.T) {
	const inject = "x\n# Injected heading\n![img](http://evil.example/x.png)\n<img src=http://evil.example/y.png>\n| a | b |\n"
	r := loadFixture(t, "xonly")
	r.Label = inject
	r.Errors = []string{inject}
	r.Env.Cmdline = "console=ttyS0`\n# Injected"
	r.Env.Hostname = "h\n# Injected"
	r.Bench.Cells[0].Notes = []string{inject}
	r.Verify.Checks[0].Detail = inject
	r.ASLR.Target = inject // conclusions are computed, not read from the file: the target is the ASLR part's free text
	two := loadFixture(t, "none")
	for _, tt := range []struct {
		name   string
		runs   []*runfile.Run
		labels []string
	}{
		{"one run", []*runfile.Run{r}, nil},
		{"two runs, labels given", []*runfile.Run{r, two}, []string{inject, inject}},
	} {
		path, err := Write(context.Background(), filepath.Join(t.TempDir(), "out"), tt.runs, Options{Labels: tt.labels})
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The widest table is the wide ASLR region table: a column per
		// estimator of the registry and 11 others.
		widest := 11 + len(analysis.Estimators())
		ownImage := regexp.MustCompile(`^!\[[a-zA-Z0-9 ,.-]+\]\([a-z0-9-]+\.png\)$`)
		for i, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(strings.TrimLeft(line, "# "), "Injected"):
				t.Errorf("%s: line %d is injected (a heading or a paragraph of its own): %q", tt.name, i+1, line)
			case strings.HasPrefix(line, "![") && !ownImage.MatchString(line):
				t.Errorf("%s: line %d is an injected image: %q", tt.name, i+1, line)
			case strings.HasPrefix(line, "[x]:"), strings.HasPrefix(line, "- [x]:"):
				t.Errorf("%s: line %d defines a link: %q", tt.name, i+1, line)
			}
			if k := strings.Index(line, "](http://evil"); k >= 0 && line[k-1] != '\\' {
				t.Errorf("%s: line %d links out: %q", tt.name, i+1, line)
			}
			if k := strings.Index(line, "<img"); k >= 0 && (k == 0 || line[k-1] != '\\') {
				t.Errorf("%s: line %d holds raw HTML: %q", tt.name, i+1, line)
			}
			if strings.HasPrefix(line, "|") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") > widest+1 {
				t.Errorf("%s: line %d has injected table cells: %q", tt.name, i+1, line)
			}
		}
	}
}
