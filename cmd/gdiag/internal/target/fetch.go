package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// Fetch GETs path below the target's root ("info", "profile/heap" for an
// agent; "heap", "goroutine" for pprof) and returns the body of a 2xx
// answer. The request, body included, must end within the --timeout plus
// extra (the capture time). The caller closes the body.
func (t *Target) Fetch(ctx context.Context, path string, q url.Values, extra time.Duration) (io.ReadCloser, error) {
	u := t.base + "/" + path
	if t.Kind == KindAgent {
		u = t.base + "/v1/" + path
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout+extra)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		cancel()
		return nil, cli.Usagef("bad request %s: %v", u, err)
	}
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
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

// wrap turns a transport error into a cli.Error with a next step.
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
		return cli.Errorf(cli.ExitTarget, "is the process still running? gdiag ps lists the live agents",
			"cannot connect to %s: %v", t, err)
	}
	return cli.Errorf(cli.ExitTarget, "is the process still running? gdiag ps lists the live agents",
		"reading %s from %s: %v", path, t, err)
}

// status turns an error answer into a cli.Error, keeping the agent's hint.
func (t *Target) status(resp *http.Response, path string) error {
	var e apiv1.Error
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		e.Error = http.StatusText(resp.StatusCode)
	}
	code := cli.ExitRemote
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		code = cli.ExitTarget
		e.Hint = "pass the agent's token with --token or $GDIAG_TOKEN; for your own processes, gdiag ps shows the discovery file that holds it"
	case resp.StatusCode == http.StatusNotFound && t.Kind == KindPprof:
		e.Hint = "is net/http/pprof registered at " + t.base + "? gdiag needs its /debug/pprof/ handlers"
	}
	return &cli.Error{Code: code, Err: fmt.Errorf("%s answered %s for %s: %s", t, strconv.Itoa(resp.StatusCode), path, e.Error), Hint: e.Hint}
}
