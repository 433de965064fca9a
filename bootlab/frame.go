package bootlab

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// The guest sends its result over the serial console, which also carries
// kernel messages and anything else printed there. The payload is gzipped,
// base64-encoded in short lines, each prefixed so that stray lines are
// skipped, between a BEGIN and an END line; END carries the gzip length and
// its SHA-256 so that a frame cut short or garbled is detected rather than
// decoded into wrong data:
//
//	VBENCH-BEGIN v1
//	VB:H4sIAAAAAAAA/...
//	VBENCH-END len=1234 sha256=ab12...
//
// An error the guest wants the host to report is one line:
//
//	VBENCH-ERROR: bench: not implemented yet
const (
	frameBegin   = "VBENCH-BEGIN v1"
	frameData    = "VB:"
	frameEnd     = "VBENCH-END "
	frameError   = "VBENCH-ERROR: "
	frameLineLen = 76
)

// Framing errors.
var (
	ErrNoFrame   = errors.New("no result frame on the console")
	ErrTruncated = errors.New("result frame cut short")
	ErrCorrupt   = errors.New("result frame corrupt")
)

// writeFrame writes payload framed for the console.
func writeFrame(w io.Writer, payload []byte) error {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if _, err := zw.Write(payload); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	sum := sha256.Sum256(gz.Bytes())
	enc := base64.StdEncoding.EncodeToString(gz.Bytes())
	var b strings.Builder
	b.WriteString("\n" + frameBegin + "\n")
	for len(enc) > 0 {
		n := min(frameLineLen, len(enc))
		b.WriteString(frameData + enc[:n] + "\n")
		enc = enc[n:]
	}
	fmt.Fprintf(&b, "%slen=%d sha256=%s\n", frameEnd, gz.Len(), hex.EncodeToString(sum[:]))
	_, err := io.WriteString(w, b.String())
	return err
}

// writeError writes err as one framed error line.
func writeError(w io.Writer, err error) {
	msg := runfile.OneLine(err.Error())
	fmt.Fprintf(w, "\n%s%s\n", frameError, msg)
}

// decoded is what decodeConsole found on a console transcript.
type decoded struct {
	Payload []byte   // the decompressed payload, nil if no good frame
	Errors  []string // the guest's error lines, in order
}

// decodeConsole finds the first complete frame in a console transcript
// (carriage returns and unrelated lines are ignored) and returns its
// payload, with any error lines the guest wrote. The error wraps ErrNoFrame,
// ErrTruncated or ErrCorrupt; Errors is filled in every case.
func decodeConsole(console []byte) (decoded, error) {
	var d decoded
	var (
		in      bool
		done    bool
		data    strings.Builder
		wantLen = -1
		wantSum string
	)
	sc := bufio.NewScanner(bytes.NewReader(console))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if i := strings.Index(line, frameError); i >= 0 {
			d.Errors = append(d.Errors, strings.TrimSpace(line[i+len(frameError):]))
			continue
		}
		if done {
			continue
		}
		switch {
		case strings.Contains(line, frameBegin):
			in = true
			data.Reset()
		case in && strings.HasPrefix(line, frameData):
			data.WriteString(strings.TrimSpace(line[len(frameData):]))
		case in && strings.Contains(line, frameEnd):
			for _, f := range strings.Fields(line[strings.Index(line, frameEnd)+len(frameEnd):]) {
				k, v, _ := strings.Cut(f, "=")
				switch k {
				case "len":
					n, err := strconv.Atoi(v)
					if err == nil {
						wantLen = n
					}
				case "sha256":
					wantSum = v
				}
			}
			in, done = false, true
		}
	}
	if err := sc.Err(); err != nil {
		return d, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if !done {
		if in {
			return d, fmt.Errorf("%w: no END line after %d base64 bytes", ErrTruncated, data.Len())
		}
		return d, ErrNoFrame
	}
	gz, err := base64.StdEncoding.DecodeString(data.String())
	if err != nil {
		return d, fmt.Errorf("%w: base64: %v", ErrCorrupt, err)
	}
	if wantLen < 0 || wantSum == "" {
		return d, fmt.Errorf("%w: END line lacks len= or sha256=", ErrCorrupt)
	}
	if len(gz) != wantLen {
		if len(gz) < wantLen {
			return d, fmt.Errorf("%w: %d of %d bytes arrived", ErrTruncated, len(gz), wantLen)
		}
		return d, fmt.Errorf("%w: %d bytes, END says %d", ErrCorrupt, len(gz), wantLen)
	}
	sum := sha256.Sum256(gz)
	if hex.EncodeToString(sum[:]) != strings.ToLower(wantSum) {
		return d, fmt.Errorf("%w: sha256 mismatch", ErrCorrupt)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return d, fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
	}
	payload, err := io.ReadAll(io.LimitReader(zr, 64<<20))
	if err != nil {
		return d, fmt.Errorf("%w: gzip: %v", ErrCorrupt, err)
	}
	d.Payload = payload
	return d, nil
}
