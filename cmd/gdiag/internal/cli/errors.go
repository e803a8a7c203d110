package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/gdiag/gdiag/apiv1"
)

// Exit codes; see the package documentation.
const (
	ExitOK          = 0
	ExitFindings    = 1
	ExitUsage       = 2
	ExitTarget      = 3
	ExitTimeout     = 4
	ExitInput       = 5
	ExitRemote      = 6
	ExitUnreachable = 7
	ExitRefused     = 8
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

// ExitCode maps err to the process exit code: an *Error's own code, else
// the code of the apiv1 client's error (see the package documentation).
func ExitCode(err error) int {
	var e *Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ExitTimeout
	case errors.Is(err, apiv1.ErrUntrusted), errors.Is(err, apiv1.ErrUnauthorized):
		return ExitRefused
	case errors.Is(err, apiv1.ErrUnreachable):
		return ExitUnreachable
	case errors.Is(err, apiv1.ErrNoProcess), errors.Is(err, apiv1.ErrNoAgent):
		return ExitTarget
	case errors.Is(err, apiv1.ErrNeedToken), errors.Is(err, apiv1.ErrBadTarget):
		return ExitUsage
	}
	return ExitRemote
}

// hint says what to do next: an *Error's own hint, else the one for the
// apiv1 client's error, else the agent's.
func hint(err error) string {
	var e *Error
	var se *apiv1.StatusError
	switch {
	case errors.As(err, &e):
		return e.Hint
	case errors.Is(err, context.DeadlineExceeded):
		return "the process may be stopped, deadlocked or overloaded; raise --timeout to wait longer"
	case errors.Is(err, apiv1.ErrUntrusted):
		return "gdiag sends nothing to an endpoint another user could have planted: check who owns the directory or socket named, and remove it if it is not yours"
	case errors.Is(err, apiv1.ErrUnauthorized):
		return "pass the agent's token with --token or $GDIAG_TOKEN; for your own processes, gdiag ps shows the discovery file that holds it"
	case errors.Is(err, apiv1.ErrUnreachable):
		return "is the process still running? gdiag ps lists the live agents"
	case errors.As(err, &se):
		return se.Body.Hint
	}
	return ""
}
