// Package runfile defines vbench's result file: one JSON document per run,
// holding the environment it ran in and whichever parts of the study it did
// (bench, verify, aslr). `vbench report` and `vbench compare` read these
// files; everything else writes them.
//
// It is the schema only: it imports nothing of vbench but
// internal/atomicfile, and never reads the machine (package sysenv fills
// Env).
//
// The schema is versioned by Run.Schema. Fields are added, never renamed or
// removed, within one version; a reader refuses a file whose version it does
// not know (ErrSchema) rather than guessing. The field-by-field description
// lives in SCHEMA.md beside this file.
package runfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/vbench-dev/vbench/internal/atomicfile"
)

// SchemaVersion is the version this package writes and reads.
const SchemaVersion = 1

// Sentinel errors, wrapped with the file name and detail.
var (
	ErrSchema  = errors.New("unsupported schema version")
	ErrCorrupt = errors.New("not a vbench run file")
)

// Run is one result file.
type Run struct {
	Schema int    `json:"schema"`
	Tool   string `json:"tool"` // always "vbench"
	// Label names the run in comparisons; empty means "derive one from Env"
	// (see DefaultLabel).
	Label    string    `json:"label,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Env      Env       `json:"env"`

	Bench  *Bench  `json:"bench,omitempty"`
	Verify *Verify `json:"verify,omitempty"`
	ASLR   *ASLR   `json:"aslr,omitempty"`
	// Lifecycle is the vDSO lifecycle part (lifecycle.go).
	Lifecycle *Lifecycle `json:"lifecycle,omitempty"`
	// Boot is set on runs made inside a `vbench bootmodes` guest.
	Boot *Boot `json:"boot,omitempty"`
	// Errors are the parts of the study that failed in `vbench run`, one
	// line each, e.g. "aslr: ..."; the other parts still ran.
	Errors []string `json:"errors,omitempty"`
}

// New returns a Run of env stamped with the schema version, the tool name
// and the current time. It reads nothing of the machine: the caller passes
// the environment (sysenv.Collect() for the live one).
func New(env Env) *Run {
	return &Run{Schema: SchemaVersion, Tool: "vbench", Started: time.Now().UTC(), Env: env}
}

// DefaultLabel is "vsyscall=MODE kernel host" unless the run has a Label.
func (r *Run) DefaultLabel() string {
	if r.Label != "" {
		return r.Label
	}
	return fmt.Sprintf("vsyscall=%s %s %s", r.Env.VsyscallMode, r.Env.KernelRelease, r.Env.Hostname)
}

// Encode writes r as indented JSON.
func (r *Run) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteFile writes r to path atomically: a temporary file in the same
// directory, renamed into place only once complete.
func (r *Run) WriteFile(path string) error {
	return atomicfile.Write(path, r.Encode)
}

// Decode reads one run, checks its version and validates it (Validate).
// It reads at most MaxFileSize bytes: a larger input, /dev/zero included,
// is ErrTooLarge after that many, not an exhausted memory. name is used in
// errors, which are one line each and wrap ErrCorrupt or ErrSchema.
func Decode(rd io.Reader, name string) (*Run, error) {
	b, err := io.ReadAll(io.LimitReader(rd, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf("%s: %w: more than %d MiB, the most a run file may be", name, ErrTooLarge, MaxFileSize>>20)
	}
	// The usual case in one pass: a file of this version decodes as a Run
	// (encoding/json checks the whole input, trailing bytes included).
	// Anything else takes the checks below, which say what is wrong: the
	// same errors as before, for half the decoding time of a good file
	// (a fleet of 2,000 files is read in seconds).
	var fast Run
	if json.Unmarshal(b, &fast) == nil && fast.Tool == "vbench" && fast.Schema == SchemaVersion {
		if err := fast.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return &fast, nil
	}
	var probe struct {
		Schema *int   `json:"schema"`
		Tool   string `json:"tool"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrCorrupt, jsonErr(b, err))
	}
	if probe.Tool != "vbench" || probe.Schema == nil {
		return nil, fmt.Errorf("%s: %w: no \"tool\": \"vbench\" and \"schema\" fields", name, ErrCorrupt)
	}
	if *probe.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s: %w %d (this vbench reads version %d)", name, ErrSchema, *probe.Schema, SchemaVersion)
	}
	var r Run
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, ErrCorrupt, jsonErr(b, err))
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &r, nil
}

// ReadFile reads and decodes one run file.
func ReadFile(path string) (*Run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f, path)
}

// jsonErr says what is wrong with the JSON in the file's terms: a line
// number for syntax errors, and for a value of the wrong type the field
// path and the JSON types expected and found ("line 3: bench.cells:
// expected an array, got a number"), never the Go types behind them.
func jsonErr(b []byte, err error) string {
	lineAt := func(off int64) int {
		return 1 + bytes.Count(b[:min(max(int(off), 0), len(b))], []byte("\n"))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := lineAt(se.Offset)
		if int(se.Offset) >= len(bytes.TrimRight(b, " \t\r\n")) {
			return fmt.Sprintf("truncated JSON (ends at line %d)", line)
		}
		return fmt.Sprintf("line %d: %s", line, strings.TrimPrefix(se.Error(), "json: "))
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "the document"
		}
		got := te.Value
		switch {
		case strings.HasPrefix(got, "number "): // a number the type cannot hold
			got = strings.TrimPrefix(got, "number ")
		case got == "bool":
			got = "true or false"
		case got == "array", got == "object", got == "number", got == "string":
			got = article(got)
		}
		return fmt.Sprintf("line %d: %s: expected %s, got %s", lineAt(te.Offset), field, jsonType(te.Type), got)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated JSON"
	}
	// What remains comes from a field's own decoder: time.Time's, which
	// does not say which field it was decoding.
	if field, raw := badTime(b); field != "" {
		if len(raw) > 40 {
			raw = append(raw[:40:40], "..."...)
		}
		return fmt.Sprintf("%s: expected %s, got %s", field, jsonType(reflect.TypeFor[time.Time]()), raw)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// badTime finds the time field of Run (started, finished) that does not
// decode, and its raw value.
func badTime(b []byte) (string, []byte) {
	var p struct{ Started, Finished json.RawMessage }
	if json.Unmarshal(b, &p) != nil {
		return "", nil
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"started", p.Started}, {"finished", p.Finished}} {
		var t time.Time
		if f.raw != nil && t.UnmarshalJSON(f.raw) != nil {
			return f.name, f.raw
		}
	}
	return "", nil
}

// jsonType names the JSON value a Go type is decoded from.
func jsonType(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "an integer (nanoseconds)"
	case t == reflect.TypeFor[time.Time]():
		return "a time (RFC 3339 string)"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another type"
}

func article(s string) string {
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

// OneLine is s with every run of white space, newlines included, made one
// space and none at either end: what a field or a cell that holds one line
// holds (Run.Errors, a check's detail in a table, a bench.txt comment).
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
