package apiv1

import (
	"errors"
	"fmt"
	"net/http"
)

// Errors of NewClient and of a Client's requests, for errors.Is. The
// error returned wraps one of them with what was asked and why.
var (
	// ErrNoProcess: no process has the PID asked for.
	ErrNoProcess = errors.New("no such process")
	// ErrNoAgent: the process runs no agent, or none that left a
	// discovery file in a trusted directory.
	ErrNoAgent = errors.New("no gdiag agent")
	// ErrUntrusted: a discovery file or directory that another user could
	// have written, or a socket whose peer is another user or another
	// process than the one asked for. Nothing was sent.
	ErrUntrusted = errors.New("not trusted")
	// ErrUnreachable: the agent's socket or port refused the connection,
	// or is gone.
	ErrUnreachable = errors.New("agent unreachable")
	// ErrNeedToken: a TCP agent needs a bearer token and none was given
	// or found in a trusted discovery file.
	ErrNeedToken = errors.New("a token is needed")
	// ErrUnauthorized: the agent refused the token (401 or 403).
	ErrUnauthorized = errors.New("token refused")
	// ErrBadTarget: NewClient's target is none of the forms it knows.
	ErrBadTarget = errors.New("not a PID, socket path, HOST:PORT or http(s) URL")
)

// StatusError is an answer of 400 or more from the agent, with the body
// it sent. It wraps ErrUnauthorized for 401 and 403.
type StatusError struct {
	StatusCode int
	Body       Error // the agent's message and hint; Body.Error is the HTTP status text when the body was not JSON
}

// Error returns "agent answered 404: no such endpoint".
func (e *StatusError) Error() string {
	return fmt.Sprintf("agent answered %d: %s", e.StatusCode, e.Body.Error)
}

// Unwrap returns ErrUnauthorized for 401 and 403, else nil.
func (e *StatusError) Unwrap() error {
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		return ErrUnauthorized
	}
	return nil
}
