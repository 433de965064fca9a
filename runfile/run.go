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

// Decode reads one run and checks its version. name is used in errors.
func Decode(rd io.Reader, name string) (*Run, error) {
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
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

// jsonErr adds a line number to JSON syntax errors.
func jsonErr(b []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
		if int(se.Offset) >= len(bytes.TrimRight(b, " \t\r\n")) {
			return fmt.Sprintf("truncated JSON (ends at line %d)", line)
		}
		return fmt.Sprintf("line %d: %v", line, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated JSON"
	}
	return err.Error()
}
