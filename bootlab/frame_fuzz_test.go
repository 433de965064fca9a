package bootlab

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeConsole feeds console transcripts to the frame decoder: it must
// never panic, every error must wrap one of the framing sentinels, and a
// frame written by writeFrame must come back whole whatever kernel noise
// surrounds it (the fuzzer chooses the noise).
func FuzzDecodeConsole(f *testing.F) {
	var good bytes.Buffer
	writeFrame(&good, []byte(`{"schema":1,"tool":"vbench"}`))
	f.Add(good.Bytes(), []byte("[    1.234567] random: crng init done\r\n"))
	f.Add([]byte(frameBegin+"\n"+frameData+"AAAA\n"+frameEnd+"len=3 sha256=00\n"), []byte{})
	var e strings.Builder
	writeError(&e, errors.New("guest panic: boom"))
	f.Add([]byte(e.String()), []byte("\x1b[2J\x1bcSeaBIOS\r\n"))
	f.Fuzz(func(t *testing.T, console, noise []byte) {
		if _, err := decodeConsole(console); err != nil &&
			!errors.Is(err, ErrNoFrame) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error wraps no framing sentinel: %v", err)
		}
		// Noise on its own lines before and after a good frame must not
		// change what it carries, unless the noise itself holds a frame
		// marker (the guest never prints one outside a frame).
		if bytes.Contains(noise, []byte("VBENCH-")) || bytes.Contains(noise, []byte(frameData)) {
			return
		}
		payload := []byte(`{"noise":` + strings.Repeat("1", len(noise)%50) + `}`)
		var b bytes.Buffer
		b.Write(noise)
		writeFrame(&b, payload)
		b.WriteString("\n")
		b.Write(noise)
		d, err := decodeConsole(b.Bytes())
		if err != nil || !bytes.Equal(d.Payload, payload) {
			t.Fatalf("frame among noise %q: %v, payload %q", noise, err, d.Payload)
		}
	})
}
