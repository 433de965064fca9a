// Package field is the error a configuration's Validate method returns: it
// names the field that is wrong, by its Go name, so that each front end can
// say it in its own terms (the CLI maps "Count" to --count, a guest's
// environment to VBENCH_...). It assumes nothing of the configurations.
package field

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one field out of bounds: "Count 0: want 1 to 10000 samples per
// cell" is Field "Count", Value "0" and Msg "want 1 to 10000 samples per
// cell". Kind, if not nil, is the sentinel the error matches (errors.Is),
// such as a package's ErrBadConfig.
type Error struct {
	Field string // the Go field, with the path of nested configs: "Bench.Count"
	Value string // the value, as the message shows it; "" to show none
	Msg   string
	Kind  error
}

func (e *Error) Error() string {
	if e.Value == "" {
		return e.Field + ": " + e.Msg
	}
	return e.Field + " " + e.Value + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error for name and its value (nil: none shown)
// matching kind.
func Errorf(kind error, name string, value any, format string, a ...any) *Error {
	e := &Error{Field: name, Msg: fmt.Sprintf(format, a...), Kind: kind}
	if value != nil {
		e.Value = fmt.Sprint(value)
	}
	return e
}

// In returns err with its field put under parent ("Count" becomes
// "Bench.Count"); an error that is no *Error, or nil, is returned as it is.
func In(parent string, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	c.Field = parent + "." + c.Field
	return &c
}

// Rename says err in a front end's words: the field becomes names[Field]
// (e.g. "--count"), or else the name of its last element ("Count" for
// "Bench.Count"), so the message reads "--count 0: want 1 to 10000
// samples per cell". A field names lacks, or an error that is no *Error,
// is returned unchanged.
func Rename(err error, names map[string]string) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	n, ok := names[e.Field]
	if !ok {
		n, ok = names[e.Field[strings.LastIndexByte(e.Field, '.')+1:]]
	}
	if !ok {
		return err
	}
	c := *e
	c.Field = n
	return &c
}
