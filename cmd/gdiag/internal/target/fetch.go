package target

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
		return nil, t.status(resp, path)
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

// status turns a pprof target's error answer into a cli.Error.
func (t *Target) status(resp *http.Response, path string) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := strings.TrimSpace(string(b))
	if msg == "" || len(msg) > 200 {
		msg = http.StatusText(resp.StatusCode)
	}
	var hint string
	if resp.StatusCode == http.StatusNotFound {
		hint = "is net/http/pprof registered at " + t.base + "? gdiag needs its /debug/pprof/ handlers"
	}
	return &cli.Error{Code: cli.ExitRemote, Err: fmt.Errorf("%s answered %s for %s: %s", t, strconv.Itoa(resp.StatusCode), path, msg), Hint: hint}
}
