package gdump

import (
	"errors"
	"fmt"
	"io"
)

// ErrSyntax is wrapped by the error Parse returns for input that holds
// no goroutine (Read and Scan return a Dump with Count 0 instead).
var ErrSyntax = errors.New("gdump: malformed goroutine dump")

// SyntaxError says where a dump stopped making sense.
type SyntaxError struct {
	Line int    // 1-based line number
	Msg  string // what was expected
	Text string // the offending line, truncated
}

// Error returns the message with the line number and text.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("gdump: line %d: %s: %q", e.Line, e.Msg, e.Text)
}

// Unwrap returns ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// ErrLimit is wrapped by the *LimitError that Read and Scan return when
// the input exceeds a bound of Options.
var ErrLimit = errors.New("gdump: input exceeds a limit")

// LimitError says which bound of Options the input exceeded, and where.
type LimitError struct {
	What  string // "line" or "input"
	Limit int64  // the bound, in bytes
	Line  int    // the 1-based line being read
}

// Error describes the bound and the line.
func (e *LimitError) Error() string {
	if e.What == "line" {
		return fmt.Sprintf("gdump: line %d is longer than %d bytes: not a goroutine dump, or a corrupt one", e.Line, e.Limit)
	}
	return fmt.Sprintf("gdump: input is larger than %d bytes (stopped at line %d)", e.Limit, e.Line)
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }

// Default bounds of Options.
const (
	// DefaultMaxLine is far above the longest line the runtime prints
	// (a frame with ten arguments, a header with pprof labels).
	DefaultMaxLine = 1 << 20
	// DefaultMaxFrames is ten times what the runtime prints per
	// goroutine (100 frames, then "...N frames elided...").
	DefaultMaxFrames = 1000
)

// Options bound what Read and Scan take from input they do not trust.
// The zero value applies the defaults and reads input of any size.
type Options struct {
	// MaxLine is the longest line read, in bytes; a longer line ends
	// the read with a *LimitError. 0 means DefaultMaxLine.
	MaxLine int
	// MaxBytes is the most input read; more ends the read with a
	// *LimitError. 0 means no bound.
	MaxBytes int64
	// MaxFrames is the most frames kept per goroutine; further frames
	// are counted in Goroutine.ElidedFrames. 0 means DefaultMaxFrames.
	MaxFrames int
}

func (o Options) withDefaults() Options {
	if o.MaxLine <= 0 {
		o.MaxLine = DefaultMaxLine
	}
	if o.MaxFrames <= 0 {
		o.MaxFrames = DefaultMaxFrames
	}
	return o
}

// Read reads a goroutine dump with what surrounds it: the output of
// runtime.Stack(buf, true), of pprof.Lookup("goroutine").WriteTo(w, 2),
// of a crash at any GOTRACEBACK level, or of SIGQUIT, with a program's
// log lines before, between and after the goroutines. Lines that belong
// to no goroutine and no crash report are counted in Dump.Other; lines
// that look like part of a stack but do not parse are listed in
// Dump.Problems. Read fails only when the input breaks a bound of o or
// r fails; input without a goroutine gives a Dump with Count 0.
func Read(r io.Reader, o Options) (*Dump, error) {
	s := newScanner(r, o, nil)
	s.keep = true
	return s.run()
}

// Scan reads a dump as Read does, but passes each goroutine to fn as
// soon as it is complete instead of keeping it, so that memory does not
// grow with the number of goroutines (with a Grouper, it grows with the
// number of distinct stacks). The *Goroutine and its slices are reused
// after fn returns: copy what you keep. An error from fn ends the scan
// and is returned as is. The Dump returned has no Goroutines; its Count
// says how many fn saw.
func Scan(r io.Reader, o Options, fn func(*Goroutine) error) (*Dump, error) {
	return newScanner(r, o, fn).run()
}

// Parse reads the goroutines of a dump as Read does with default
// Options. An empty input yields no goroutines and no error; input with
// lines but no goroutine is a *SyntaxError.
func Parse(r io.Reader) ([]Goroutine, error) {
	d, err := Read(r, Options{})
	if err != nil {
		return d.Goroutines, err
	}
	if d.Count == 0 && d.Lines > 0 {
		if len(d.Problems) > 0 {
			p := d.Problems[0]
			return nil, &SyntaxError{Line: p.Line, Msg: p.Msg, Text: p.Text}
		}
		return nil, &SyntaxError{Line: 1, Msg: "no goroutine header found"}
	}
	return d.Goroutines, nil
}
