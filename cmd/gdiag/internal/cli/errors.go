package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes; see the package documentation.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitUsage    = 2
	ExitTarget   = 3
	ExitTimeout  = 4
	ExitInput    = 5
	ExitRemote   = 6
)

// Error is an error with an exit code and a hint that says what to do next.
type Error struct {
	Code int
	Err  error
	Hint string
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with code, a hint and a formatted message.
func Errorf(code int, hint, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...), Hint: hint}
}

// Usagef returns a usage error (exit code 2).
func Usagef(format string, args ...any) error {
	return &Error{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// Input wraps err reading the file name as bad input (exit code 5).
func Input(name string, err error) error {
	return &Error{Code: ExitInput, Err: fmt.Errorf("%s: %w", name, err),
		Hint: "check that the file is complete; gdiag analyze reads goroutine dumps (debug=2), schedtrace logs, pprof profiles and execution traces"}
}

// Findings is returned by commands whose result is "something is wrong"
// (doctor with findings, goroutines --diff with growth): exit code 1, and
// no message, because the output already says it.
var Findings = &Error{Code: ExitFindings, Err: errors.New("findings reported")}

// exitCode maps err to the process exit code.
func exitCode(err error) int {
	var e *Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, context.DeadlineExceeded):
		return ExitTimeout
	}
	return ExitRemote
}

func hint(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}
