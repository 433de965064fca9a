package bootlab

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func frame(t *testing.T, payload []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := writeFrame(&b, payload); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// bigPayload is long enough to span many base64 lines and compress poorly.
func bigPayload() []byte {
	var b bytes.Buffer
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, `{"i":%d,"x":%d}`, i, (i*7919)%104729)
	}
	return b.Bytes()
}

// serialize mimics the serial console: \r\n line ends, kernel messages and
// firmware noise around the frame.
func serialize(s string) string {
	return "SeaBIOS (version 1.16)\r\n[    0.5] Run /init as init process\r\n" +
		strings.ReplaceAll(s, "\n", "\r\n") + "[    1.7] reboot: Power down\r\n"
}

func TestFrameRoundTrip(t *testing.T) {
	for _, p := range [][]byte{[]byte(`{"tool":"vbench"}`), bigPayload(), {}} {
		d, err := decodeConsole([]byte(serialize(frame(t, p))))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !bytes.Equal(d.Payload, p) {
			t.Errorf("payload differs: %d bytes back, %d sent", len(d.Payload), len(p))
		}
	}
}

func TestFrameSkipsInterleavedKernelLines(t *testing.T) {
	f := frame(t, bigPayload())
	lines := strings.Split(f, "\n")
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l + "\n")
		if i == 5 {
			b.WriteString("[    1.2] vbench[77]: segfault at ffffffffff600000 ip 0000000000401000\n")
		}
	}
	d, err := decodeConsole([]byte(serialize(b.String())))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !bytes.Equal(d.Payload, bigPayload()) {
		t.Error("payload differs")
	}
}

func TestFrameErrors(t *testing.T) {
	p := bigPayload()
	good := frame(t, p)
	lines := strings.Split(strings.TrimRight(good, "\n"), "\n")
	// lines[0] is empty, lines[1] is BEGIN, the last is END.
	dropData := append(append([]string{}, lines[:4]...), lines[5:]...)
	flip := append([]string{}, lines...)
	l := flip[3]
	c := l[10]
	r := byte('A')
	if c == 'A' {
		r = 'B'
	}
	flip[3] = l[:10] + string(r) + l[11:]
	noSum := append(append([]string{}, lines[:len(lines)-1]...), "VBENCH-END len=12")
	for _, c := range []struct {
		name    string
		console string
		want    error
	}{
		{"empty", "", ErrNoFrame},
		{"kernel only", "[ 0.1] Linux version 6.1\r\nKernel panic - not syncing\r\n", ErrNoFrame},
		{"cut before END", strings.Join(lines[:len(lines)-3], "\n"), ErrTruncated},
		{"a data line lost", strings.Join(dropData, "\n"), ErrTruncated},
		{"a character changed", strings.Join(flip, "\n"), ErrCorrupt},
		{"END without checksum", strings.Join(noSum, "\n"), ErrCorrupt},
		{"bad base64", "VBENCH-BEGIN v1\nVB:@@@@\nVBENCH-END len=3 sha256=00\n", ErrCorrupt},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := decodeConsole([]byte(c.console))
			if !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
			if d.Payload != nil {
				t.Error("a payload was returned with an error")
			}
		})
	}
}

func TestFrameGuestErrors(t *testing.T) {
	var b bytes.Buffer
	writeError(&b, errors.New("mount proc on /proc:\n operation not permitted"))
	b.WriteString(frame(t, []byte("{}")))
	writeError(&b, errors.New("second"))
	d, err := decodeConsole([]byte(serialize(b.String())))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"mount proc on /proc: operation not permitted", "second"}
	if fmt.Sprint(d.Errors) != fmt.Sprint(want) {
		t.Errorf("errors %q, want %q", d.Errors, want)
	}
	// Error lines are reported even when no frame arrived.
	var e bytes.Buffer
	writeError(&e, errors.New("guest panic: boom"))
	d, err = decodeConsole(e.Bytes())
	if !errors.Is(err, ErrNoFrame) || len(d.Errors) != 1 || d.Errors[0] != "guest panic: boom" {
		t.Errorf("got %v, %q", err, d.Errors)
	}
}
