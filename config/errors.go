package config

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// ErrNotFound is returned (wrapped) by Load when the config file does not
// exist. It also matches fs.ErrNotExist.
var ErrNotFound = errors.New("config file not found")

// ErrInvalid is returned (wrapped) by Load when the file exists but cannot be
// used: malformed JSON5, unknown keys, wrong types or values that fail
// validation.
var ErrInvalid = errors.New("invalid config")

// Error is one problem in a config file, with where it is.
type Error struct {
	File   string // path of the file, "" for the built-in defaults
	Line   int    // 1-based; 0 when the problem has no single place
	Column int    // 1-based, in bytes
	Path   string // key path, e.g. models.providers.lmstudio.api
	Msg    string // plain words: what is wrong and, where possible, what to do
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true for every config Error.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Errors is every problem found in one file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the first *Error and errors.Is find ErrInvalid.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

type notFoundError struct{ path string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("config file %s does not exist: create it (see the README's example) or run without --config to use the defaults", e.path)
}

func (e *notFoundError) Is(target error) bool {
	return target == ErrNotFound || target == fs.ErrNotExist
}
