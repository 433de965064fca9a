package console

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUTF8(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false}, // the C locale
		{map[string]string{"LANG": "en_US.UTF-8"}, true},
		{map[string]string{"LANG": "C.utf8"}, true},
		{map[string]string{"LANG": "de_DE.UTF-8@euro"}, true},
		{map[string]string{"LANG": "C"}, false},
		{map[string]string{"LANG": "POSIX"}, false},
		{map[string]string{"LANG": "de_DE.ISO-8859-1"}, false},
		{map[string]string{"LANG": "en_US"}, false},
		{map[string]string{"LANG": "en_US.UTF-8", "LC_CTYPE": "C"}, false},            // LC_CTYPE over LANG
		{map[string]string{"LANG": "C", "LC_CTYPE": "en_US.UTF-8"}, true},             // LC_CTYPE over LANG
		{map[string]string{"LC_CTYPE": "en_US.UTF-8", "LC_ALL": "POSIX"}, false},      // LC_ALL over all
		{map[string]string{"LC_ALL": "", "LC_CTYPE": "", "LANG": "en_GB.utf8"}, true}, // empty is unset
	} {
		if got := UTF8(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("%v: UTF8 = %v, want %v", tt.env, got, tt.want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, false)
	w.Write([]byte("median ±3%, chi² test\n"))
	if got := b.String(); got != "median +/-3%, chi^2 test\n" {
		t.Errorf("non-UTF-8: %q", got)
	}
	b.Reset()
	NewWriter(&b, true).Write([]byte("±3%"))
	if b.String() != "±3%" {
		t.Errorf("UTF-8: %q", b.String())
	}
	if Raw(w) != &b {
		t.Error("Raw does not give the writer under the Writer")
	}
	if n, err := w.Write([]byte("±")); n != len("±") || err != nil {
		t.Errorf("Write returned %d, %v: want the input's length", n, err)
	}
}

func TestWidth(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if w := Width(f); w != DefaultWidth {
		t.Errorf("a file: width %d, want %d", w, DefaultWidth)
	}
	if w := Width(&bytes.Buffer{}); w != DefaultWidth {
		t.Errorf("a buffer: width %d", w)
	}
}

func TestWrap(t *testing.T) {
	s := strings.Repeat("word ± ", 40)
	for _, width := range []int{20, 60, 100} {
		for _, l := range strings.Split(Wrap(s, width, "  "), "\n") {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line of %d: %q", width, n, l)
			}
		}
	}
}
