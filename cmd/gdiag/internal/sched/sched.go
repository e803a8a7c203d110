package sched

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
	"github.com/gdiag/gdiag/schedstats"
	"golang.org/x/term"
)

// Limits of --interval: faster than 10ms only burns the target's CPU, and
// a view refreshing less than hourly is not live.
const (
	minInterval = 10 * time.Millisecond
	maxInterval = time.Hour
)

// Report is one --json object: the latest snapshot as the agent sent it
// (histogram bounds in seconds, infinite ones as "+Inf"/"-Inf") and the
// figures gdiag derives from the history.
type Report struct {
	Target   string              `json:"target"`
	Snapshot schedstats.Snapshot `json:"snapshot"`
	Derived  Derived             `json:"derived"`
}

// options are sched's own flags.
type options struct {
	interval time.Duration
	once     bool
	count    int
}

// Command returns the sched command.
func Command() cli.Command {
	return cli.Command{
		Name:    "sched",
		Args:    "TARGET",
		Summary: "live view of the Go scheduler: Ps, threads, run queues, goroutines, latency, pauses",
		Help: `Shows the process's scheduler like top, refreshing in place every --interval:
GOMAXPROCS and busy/idle Ps, threads (total/idle/spinning), the global run
queue (and per-P queues when the service is built with -tags gdiag_deep),
goroutines by state, scheduling latency p50/p90/p99/max over the last sample
interval, stop-the-world pauses (GC and other) over the history with, on
a " to stop" row under each, the time the runtime took to stop the world
(the first part of each pause; "most of the pause" means a goroutine would
not yield, see gdiag doctor's preemption-delay), and mutex wait, each with
a sparkline of recent samples. Press q or Ctrl-C to quit.
Needs the gdiag agent.

--once prints one plain-text frame and exits. --json prints one JSON object
per line and exits (--count N for N objects, --interval apart):
  {"target": "1234",
   "snapshot": {the agent's snapshot (schedstats.Snapshot): "gomaxprocs", ...},
   "derived": {"windowSeconds", "schedLatency": {"count","p50","p90","p99","max"},
     "goroutinesCreatedPerSec", "msCreatedPerSec", "mutexWaitPerSec",
     "pauseWindowSeconds", "gcPauses": {...}, "otherPauses": {...},
     "gcStopping": {...}, "otherStopping": {...}}}
Durations and percentiles are in seconds; a window of 0 means since start.
The agent samples once a second by default: a faster --interval redraws
the same snapshot.`,
		Examples: []string{
			"gdiag sched 1234",
			"gdiag sched 1234 --interval 200ms",
			"gdiag sched 1234 --once",
			"gdiag sched 127.0.0.1:6061 --token $TOKEN --json --count 10 | jq .derived.schedLatency.p99",
		},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			var o options
			fs.DurationVar(&o.interval, "interval", time.Second, "time between refreshes (and between --json objects)")
			fs.BoolVar(&o.once, "once", false, "print one plain-text frame and exit")
			fs.IntVar(&o.count, "count", 0, "stop after this many frames or JSON objects (default: --json 1, the live view until q)")
			return func(ctx context.Context, env *cli.Env, args []string) error {
				return run(ctx, env, args, o)
			}
		},
	}
}

func run(ctx context.Context, env *cli.Env, args []string, o options) error {
	if len(args) > 1 {
		return cli.Usagef("sched takes one TARGET; got %d arguments", len(args))
	}
	// Open says what a missing TARGET should be.
	t, err := target.Open(ctx, env, strings.Join(args, ""))
	if err != nil {
		return err
	}
	switch {
	case o.interval < minInterval || o.interval > maxInterval:
		return cli.Usagef("--interval %v is out of range: give %v to %v", o.interval, minInterval, maxInterval)
	case o.count < 0:
		return cli.Usagef("--count must be 0 or more")
	case o.once && o.count > 1:
		return cli.Usagef("--once prints one frame; drop it to print --count %d", o.count)
	}
	if err := t.RequireAgent("gdiag sched"); err != nil {
		return err
	}
	src := &agentSource{t: t}
	h, err := src.history(ctx)
	if err != nil {
		return err
	}
	name := t.String()
	if t.PID != 0 {
		name = strconv.Itoa(t.PID)
	}
	switch {
	case env.JSON:
		return printJSON(ctx, env, src, h, name, o)
	case o.once:
		width := 80
		if f, ok := env.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
				width = w
			}
		}
		lines := frame(h, frameOpts{Target: name, Width: width})
		_, err := env.Stdout.Write([]byte(strings.Join(lines, "\n") + "\n"))
		return err
	}
	return live(ctx, newScreen(env.Stdout, os.Stdin), src, h, name, o)
}

// printJSON prints o.count (at least one) Reports, one per line.
func printJSON(ctx context.Context, env *cli.Env, src source, h *history, name string, o options) error {
	enc := json.NewEncoder(env.Stdout)
	tick := time.NewTicker(o.interval)
	defer tick.Stop()
	for i := 0; i < max(o.count, 1); i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			s, err := src.snapshot(ctx)
			if err != nil {
				return err
			}
			h.add(s)
		}
		cur, _ := h.latest()
		if err := enc.Encode(Report{Target: name, Snapshot: cur, Derived: h.derive()}); err != nil {
			return err
		}
	}
	return nil
}

// source is where snapshots come from: the agent, or a test's fake.
type source interface {
	snapshot(ctx context.Context) (schedstats.Snapshot, error)
}

// agentSource reads snapshots from a target's agent.
type agentSource struct{ t *target.Target }

func (a *agentSource) snapshot(ctx context.Context) (schedstats.Snapshot, error) {
	return a.t.Agent.Snapshot(ctx)
}

// history reads the agent's history and then its latest snapshot, so that
// the first frame has both sparklines and the newest figures.
func (a *agentSource) history(ctx context.Context) (*history, error) {
	hs, err := a.t.Agent.History(ctx)
	if err != nil {
		return nil, err
	}
	h := &history{}
	for _, s := range hs.Snapshots[max(0, len(hs.Snapshots)-maxHistory):] {
		h.add(s)
	}
	s, err := a.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	h.add(s)
	return h, nil
}
