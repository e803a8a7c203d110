package apiv1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// maxJSON bounds a JSON body read from an agent: a census of 100,000
// groups fits, a runaway or hostile answer does not.
const maxJSON = 256 << 20

// ClientOptions configure NewClient. The zero value looks for discovery
// files in DiscoveryDirs, sends no token of its own and bounds a request
// by its ctx only.
type ClientOptions struct {
	// Dir is the directory of discovery files; empty means DiscoveryDirs.
	Dir string
	// Token is the bearer token of a TCP agent, or of an agent mounted
	// at an http(s) URL behind a token; empty means the token in the
	// agent's discovery file, if a trusted one names it. It is never sent
	// over a unix socket, where the peer check stands for it.
	Token string
	// Timeout bounds each request, on top of the capture time of a
	// profile or trace; zero means only ctx bounds it.
	Timeout time.Duration
}

// Client reads one agent's /v1/ API. It is safe for concurrent use and
// holds no connection between requests, so it needs no closing.
type Client struct {
	name    string // what the caller gave, for messages
	pid     int    // 0 when unknown
	base    string // URL prefix of /v1/
	token   string
	timeout time.Duration
	hc      *http.Client
}

// CensusFilter keeps part of a goroutine census (Client.Goroutines, the
// query of GET /v1/goroutines). The zero value keeps everything.
type CensusFilter struct {
	// MinWait keeps goroutines blocked at least this long; the runtime
	// counts waits in whole minutes.
	MinWait time.Duration
	// State keeps goroutines whose status ("running", "waiting",
	// "syscall") or wait reason ("chan receive") equals it.
	State string
	// MaxGroups keeps the largest groups only; 0 keeps all.
	MaxGroups int
	// MaxPause is the longest stop of the world the census may cause;
	// the agent refuses one it estimates would take longer. 0 means the
	// agent's own budget (one second unless configured).
	MaxPause time.Duration
}

// PID returns the agent's process id when the target named it or a
// discovery file gave it, else 0.
func (c *Client) PID() int { return c.pid }

// String names the agent as the caller gave it, with its PID when that
// adds something: "127.0.0.1:6061 (pid 1234)".
func (c *Client) String() string {
	if c.pid != 0 && c.name != strconv.Itoa(c.pid) {
		return fmt.Sprintf("%s (pid %d)", c.name, c.pid)
	}
	return c.name
}

// Info returns GET /v1/info.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var v Info
	return v, c.getJSON(ctx, "info", nil, &v)
}

// Snapshot returns the latest sample, GET /v1/snapshot.
func (c *Client) Snapshot(ctx context.Context) (schedstats.Snapshot, error) {
	var v Snapshot
	err := c.getJSON(ctx, "snapshot", nil, &v)
	return v.Snapshot, err
}

// History returns the sampler's window, GET /v1/history: its newest last
// snapshots, or all of them when last is 0.
func (c *Client) History(ctx context.Context, last int) (History, error) {
	var q url.Values
	if last > 0 {
		q = url.Values{"last": {strconv.Itoa(last)}}
	}
	var v History
	return v, c.getJSON(ctx, "history", q, &v)
}

// Findings returns what the detectors find in the history, most severe
// first, GET /v1/findings.
func (c *Client) Findings(ctx context.Context) ([]schedstats.Finding, error) {
	var v Findings
	err := c.getJSON(ctx, "findings", nil, &v)
	return v.Findings, err
}

func (c *Client) Goroutines(ctx context.Context, f CensusFilter) (Goroutines, error) {
	q := url.Values{}
	if f.MinWait > 0 {
		q.Set("min_wait", f.MinWait.String())
	}
	if f.State != "" {
		q.Set("state", f.State)
	}
	if f.MaxGroups > 0 {
		q.Set("max_groups", strconv.Itoa(f.MaxGroups))
	}
	if f.MaxPause > 0 {
		q.Set("max_pause", f.MaxPause.String())
	}
	var v Goroutines
	return v, c.getJSON(ctx, "goroutines", q, &v)
}

// Pools returns the statistics of the pools the process registered,
// GET /v1/pools.
func (c *Client) Pools(ctx context.Context) ([]Pool, error) {
	var v Pools
	err := c.getJSON(ctx, "pools", nil, &v)
	return v.Pools, err
}

// Profile captures the named profile ("cpu", "heap", "goroutine", or one
// the agent added, such as "wall"; Info lists them), GET
// /v1/profile/{name}. d is the capture time of a CPU or delta profile,
// zero for a point-in-time one; debug 0 asks for the gzipped protobuf
// form. The caller reads and closes the body; the request's deadline
// covers d plus ClientOptions.Timeout.
func (c *Client) Profile(ctx context.Context, name string, d time.Duration, debug int) (io.ReadCloser, error) {
	q := url.Values{}
	if d > 0 {
		q.Set("duration", d.String())
	}
	if debug != 0 {
		q.Set("debug", strconv.Itoa(debug))
	}
	return c.open(ctx, "profile/"+url.PathEscape(name), q, d)
}

// StackDump returns every goroutine's stack in the debug=2 text form, GET
// /v1/profile/goroutine?debug=2, whole however large. The agent stops the
// world for the dump and refuses one it estimates would last longer than
// maxPause (0 means its own budget, one second unless configured); the
// refusal, a *StatusError, says how long it would take.
func (c *Client) StackDump(ctx context.Context, maxPause time.Duration) (io.ReadCloser, error) {
	q := url.Values{"debug": {"2"}}
	if maxPause > 0 {
		q.Set("max_pause", maxPause.String())
	}
	return c.open(ctx, "profile/goroutine", q, maxPause)
}

// Trace captures an execution trace of length d, GET /v1/trace.
func (c *Client) Trace(ctx context.Context, d time.Duration) (io.ReadCloser, error) {
	return c.open(ctx, "trace", url.Values{"duration": {d.String()}}, d)
}

// Flight returns the flight recorder's window, the last seconds of
// execution trace, GET /v1/flight.
func (c *Client) Flight(ctx context.Context) (io.ReadCloser, error) {
	return c.open(ctx, "flight", nil, 0)
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	return c.doJSON(ctx, http.MethodGet, path, q, v)
}

func (c *Client) doJSON(ctx context.Context, method, path string, q url.Values, v any) error {
	body, err := c.do(ctx, method, path, q, 0)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := json.NewDecoder(io.LimitReader(body, maxJSON)).Decode(v); err != nil {
		return c.wrap(path, err)
	}
	return nil
}

// open GETs path below /v1/ and returns the body of a 2xx answer; the
// request, body included, must end within ClientOptions.Timeout plus
// extra.
func (c *Client) open(ctx context.Context, path string, q url.Values, extra time.Duration) (io.ReadCloser, error) {
	return c.do(ctx, http.MethodGet, path, q, extra)
}

// do sends method (GET, or POST for an operation) to path below /v1/.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, extra time.Duration) (io.ReadCloser, error) {
	u := c.base + "/v1/" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	cancel := context.CancelFunc(func() {})
	if c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.timeout+extra)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel()
		return nil, c.wrap(path, err)
	}
	if resp.StatusCode >= 300 {
		defer cancel()
		defer resp.Body.Close()
		se := &StatusError{StatusCode: resp.StatusCode}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if json.Unmarshal(b, &se.Body) != nil || se.Body.Error == "" {
			se.Body = Error{Error: plainError(b, resp.StatusCode)}
		}
		return nil, fmt.Errorf("%s: %s /v1/%s: %w", c, method, path, se)
	}
	return &body{ReadCloser: resp.Body, cancel: cancel, c: c, path: path}, nil
}

// body ends the request's deadline when closed and gives read errors the
// same context as the request's.
type body struct {
	io.ReadCloser
	cancel func()
	c      *Client
	path   string
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.c.wrap(b.path, err)
	}
	return n, err
}

func (b *body) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// wrap says which agent and request an error belongs to, and marks a
// failed connection as ErrUnreachable.
func (c *Client) wrap(path string, err error) error {
	var opErr *net.OpError
	switch {
	case errors.Is(err, ErrUntrusted), errors.Is(err, ErrUnreachable):
	case errors.Is(err, context.DeadlineExceeded):
		if c.timeout > 0 {
			return fmt.Errorf("%s did not answer GET /v1/%s within %v: %w", c, path, c.timeout, err)
		}
		return fmt.Errorf("%s did not answer GET /v1/%s in time: %w", c, path, err)
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT),
		errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Errorf("%s: %w: %w", c, ErrUnreachable, err)
	}
	return fmt.Errorf("%s: GET /v1/%s: %w", c, path, err)
}

// plainError is the first line of a body that is not the agent's JSON (a
// handler in front of it, a proxy), cut to 200 bytes, or the status text
// when the body is empty: "cpu profiling already in use" says more than
// "Internal Server Error".
func plainError(b []byte, code int) string {
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	line = strings.ToValidUTF8(strings.TrimSpace(line), "?")
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	if line == "" || strings.HasPrefix(line, "<") { // empty, or an HTML error page
		return http.StatusText(code)
	}
	return line
}

// OS returns what the kernel says about the agent's process (CPU used,
// run delay, cgroup quota and throttling, host load), GET /v1/os. The
// first request to an agent without a sampler takes a second.
func (c *Client) OS(ctx context.Context) (OS, error) {
	var v OS
	return v, c.getJSON(ctx, "os", nil, &v)
}
