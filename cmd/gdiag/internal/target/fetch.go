package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// fetch GETs path below a pprof target's /debug/pprof ("heap",
// "goroutine") and returns the body of a 2xx answer. The request, body
// included, must end within the --timeout plus extra (the capture time).
// The caller closes the body.
func (t *Target) fetch(ctx context.Context, path string, q url.Values, extra time.Duration) (io.ReadCloser, error) {
	u := t.base + "/" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout+extra)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, cli.Usagef("bad request %s: %v", u, err)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		cancel()
		return nil, t.wrap(err, path)
	}
	if resp.StatusCode >= 300 {
		defer cancel()
		defer resp.Body.Close()
		return nil, t.status(ctx, resp, path)
	}
	return &body{ReadCloser: resp.Body, cancel: cancel, t: t, path: path}, nil
}

// body ends the request's deadline when closed and turns a deadline hit
// while reading into the same clear timeout error.
type body struct {
	io.ReadCloser
	cancel func()
	t      *Target
	path   string
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.t.wrap(err, b.path)
	}
	return n, err
}

func (b *body) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// wrap turns a pprof target's transport error into a cli.Error with a
// next step.
func (t *Target) wrap(err error, path string) error {
	var ce *cli.Error
	switch {
	case errors.As(err, &ce):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return cli.Errorf(cli.ExitTimeout, "the process may be stopped, deadlocked or overloaded; raise --timeout to wait longer",
			"%s did not answer %s within %v", t, path, t.timeout)
	case errors.Is(err, context.Canceled):
		return &cli.Error{Code: cli.ExitTimeout, Err: fmt.Errorf("interrupted while reading %s from %s", path, t)}
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
		return cli.Errorf(cli.ExitUnreachable, "is the process still running, with net/http/pprof at that address?",
			"cannot connect to %s: %v", t, err)
	}
	return cli.Errorf(cli.ExitUnreachable, "is the process still running, with net/http/pprof at that address?",
		"reading %s from %s: %v", path, t, err)
}

// status turns a pprof target's error answer into a cli.Error that keeps
// the target's own words ("Could not enable CPU profiling: cpu profiling
// already in use") and, for a 404, says which part of net/http/pprof is
// missing.
func (t *Target) status(ctx context.Context, resp *http.Response, path string) error {
	msg := errorText(resp.Body)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	err := fmt.Errorf("%s answered %d for /debug/pprof/%s: %s", t, resp.StatusCode, path, msg)
	if resp.StatusCode != http.StatusNotFound {
		return &cli.Error{Code: cli.ExitRemote, Err: err}
	}
	if !t.servesIndex(ctx) {
		return &cli.Error{Code: cli.ExitRemote, Err: err,
			Hint: "nothing answers at " + t.base + "/: is net/http/pprof registered there? gdiag needs its /debug/pprof/ handlers"}
	}
	name, _, _ := strings.Cut(path, "?")
	var hint string
	switch name {
	case "trace":
		hint = "the service registers net/http/pprof's other handlers but not /debug/pprof/trace (etcd 3.4 is one such): capture a trace with runtime/trace in the service, or add the gdiag agent and run gdiag trace PID"
	case "profile":
		hint = "the service registers net/http/pprof's other handlers but not /debug/pprof/profile, the CPU profile: add the gdiag agent and run gdiag profile cpu PID"
	default:
		hint = "the service serves net/http/pprof, but its Go runtime has no " + name + " profile (" + t.base + "/ lists those it has)"
	}
	return &cli.Error{Code: cli.ExitRemote, Err: err, Hint: hint}
}

// errorText is the first line of an error answer's body, cut to 200
// characters.
func errorText(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, 4<<10))
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	line = strings.TrimSpace(line)
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return strings.ToValidUTF8(line, "?")
}

// servesIndex reports whether the pprof index page answers 200.
func (t *Target) servesIndex(ctx context.Context) bool {
	code, err := t.get(ctx, "/")
	return err == nil && code == http.StatusOK
}

// Recorder counts what is read through it and keeps the first error
// other than io.EOF, so that a transfer that failed or timed out can be
// told from content a parser refused.
type Recorder struct {
	R   io.Reader
	N   int64 // bytes read
	Err error // the first error of R other than io.EOF
}

func (r *Recorder) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	r.N += int64(n)
	if err != nil && err != io.EOF && r.Err == nil {
		r.Err = err
	}
	return n, err
}
