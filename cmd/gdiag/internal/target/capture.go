package target

import (
	"context"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// Profile fetches the named pprof profile ("cpu", "heap", "goroutine",
// "wall", ...). d is the capture time for cpu, wall and delta profiles
// (zero for a point-in-time profile); debug 0 is the proto form.
func (t *Target) Profile(ctx context.Context, name string, d time.Duration, debug int) (io.ReadCloser, error) {
	q := url.Values{}
	if debug != 0 {
		q.Set("debug", strconv.Itoa(debug))
	}
	if t.Kind == KindAgent {
		return t.Agent.Profile(ctx, name, d, debug)
	}
	switch name {
	case "wall":
		return nil, t.RequireAgent("the wall-clock (fgprof) profile", "")
	case "cpu":
		name = "profile"
	}
	if d > 0 {
		d = wholeSeconds(d)
		q.Set("seconds", strconv.Itoa(int(d/time.Second)))
	}
	return t.fetch(ctx, name, q, d)
}

// GoroutineDump fetches the goroutine dump in the debug=2 text form.
func (t *Target) GoroutineDump(ctx context.Context) (io.ReadCloser, error) {
	return t.GoroutineDumpPause(ctx, 0)
}

// GoroutineDumpPause is GoroutineDump allowing an agent to stop the
// target's world for up to maxPause (0: the agent's own budget); the
// agent refuses a dump it estimates would take longer. A pprof target
// has no such bound.
func (t *Target) GoroutineDumpPause(ctx context.Context, maxPause time.Duration) (io.ReadCloser, error) {
	if t.Kind == KindAgent {
		return t.Agent.StackDump(ctx, maxPause)
	}
	return t.Profile(ctx, "goroutine", 0, 2)
}

// Trace captures an execution trace of length d.
func (t *Target) Trace(ctx context.Context, d time.Duration) (io.ReadCloser, error) {
	if t.Kind == KindAgent {
		return t.Agent.Trace(ctx, d)
	}
	d = wholeSeconds(d)
	q := url.Values{"seconds": {strconv.Itoa(int(d / time.Second))}}
	return t.fetch(ctx, "trace", q, d)
}

// Flight dumps the agent's flight recorder: the last seconds of execution trace.
func (t *Target) Flight(ctx context.Context) (io.ReadCloser, error) {
	if err := t.RequireAgent("the flight recorder", "gdiag trace "+t.Spec+" --duration 5s traces from now on"); err != nil {
		return nil, err
	}
	return t.Agent.Flight(ctx)
}

// CheckDuration refuses a capture duration that is not above zero.
func CheckDuration(flagName string, d time.Duration) error {
	if d <= 0 {
		return cli.Usagef("--%s must be above zero, such as 5s", flagName)
	}
	return nil
}

// wholeSeconds rounds d up to whole seconds: net/http/pprof reads seconds
// as an integer and falls back to 30 s on anything else.
func wholeSeconds(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}
