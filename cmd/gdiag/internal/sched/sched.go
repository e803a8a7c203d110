package sched

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gdiag/gdiag/apiv1"
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
	// OS is the kernel's view of the process (GET /v1/os), when the
	// agent serves it.
	OS *apiv1.OS `json:"os,omitempty"`
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
a sparkline of recent samples. When the agent runs on Linux it also shows
what the kernel says of the process (CPU (OS): CPU used against GOMAXPROCS
and the cgroup's quota, and the run delay, time its threads waited runnable
for a CPU; THROTTLED: the cgroup's throttled periods; HOST: the machine's
busy and stolen shares and load), which tells a process starved of CPU from
one that saturates its own. Press q or Ctrl-C to quit. Needs the gdiag
agent.

--once prints one plain-text frame and exits; so does gdiag sched when its
standard output is not a terminal (a pipe, a file, a CI log), saying so on
stderr: --count N then prints N plain frames, --interval apart. --json
prints one JSON object per line and exits (--count N for N objects,
--interval apart):
  {"target": "1234",
   "snapshot": {the agent's snapshot (schedstats.Snapshot): "gomaxprocs", ...},
   "derived": {"windowSeconds", "schedLatency": {"count","p50","p90","p99","max"},
     "goroutinesCreatedPerSec", "msCreatedPerSec", "mutexWaitPerSec",
     "pauseWindowSeconds", "gcPauses": {...}, "otherPauses": {...},
     "gcStopping": {...}, "otherStopping": {...}},
   "os": {"gomaxprocs", "sample": {the kernel's reading}, "rates": {"seconds",
     "cpu", "runDelay", "quota", "periods", "throttled", "throttledTime",
     "hostCPUs", "hostBusy", "hostSteal", "load1", ...}} (when served)}
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
			fs.IntVar(&o.count, "count", 0, "stop after this many frames or JSON objects (default: --json 1; on a terminal the live view until q, else 1 frame)")
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
	if err := t.RequireAgent("gdiag sched", "gdiag doctor "+t.Spec+" watches the process through its profiles, and gdiag trace "+t.Spec+" shows scheduling latency"); err != nil {
		return err
	}
	name := t.String()
	if t.PID != 0 {
		name = strconv.Itoa(t.PID)
	}
	// Without a terminal (a pipe, a file, a CI log) a view that redraws
	// forever is of no use and never ends: one frame, as --once, unless
	// --count asks for a stream.
	notTTY := !isTerminal(env.Stdout)
	if notTTY && !env.JSON && !o.once && o.count == 0 {
		fmt.Fprintln(env.Stderr, "gdiag sched: standard output is not a terminal: printing one frame (--count N prints N frames, --interval apart)")
		o.once = true
	}
	// A frame or a JSON report needs the last minute; the live view keeps
	// as much as it can show.
	last := maxHistory
	if o.once || env.JSON {
		last = onceHistory
	}
	src := &agentSource{t: t}
	h, err := src.history(ctx, last)
	if err != nil {
		return err
	}
	switch {
	case env.JSON:
		return printJSON(ctx, env, src, h, name, o)
	case o.once:
		width := 80
		if f, ok := env.Stdout.(*os.File); ok && !notTTY {
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

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
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
		if err := enc.Encode(Report{Target: name, Snapshot: cur, Derived: h.derive(), OS: h.osView()}); err != nil {
			return err
		}
	}
	return nil
}

// source is where snapshots come from: the agent, or a test's fake.
type source interface {
	snapshot(ctx context.Context) (schedstats.Snapshot, error)
}

// agentSource reads snapshots from a target's agent, and with each the
// kernel's view of the process when the agent serves it.
type agentSource struct {
	t    *target.Target
	mu   sync.Mutex
	os   *apiv1.OS
	noOS bool // the agent does not serve /v1/os
}

func (a *agentSource) snapshot(ctx context.Context) (schedstats.Snapshot, error) {
	s, err := a.t.Agent.Snapshot(ctx)
	if err == nil {
		a.refreshOS(ctx)
	}
	return s, err
}

// refreshOS reads /v1/os. An agent without it (older, or not on Linux)
// answers 404 once and is not asked again; any other failure keeps the
// previous view, as the snapshot matters more.
func (a *agentSource) refreshOS(ctx context.Context) {
	a.mu.Lock()
	skip := a.noOS
	a.mu.Unlock()
	if skip {
		return
	}
	v, err := a.t.Agent.OS(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	var se *apiv1.StatusError
	switch {
	case errors.As(err, &se) && se.StatusCode == http.StatusNotFound:
		a.noOS, a.os = true, nil
	case err == nil:
		a.os = &v
	}
}

func (a *agentSource) latestOS() *apiv1.OS {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.os
}

// history reads the agent's history and then its latest snapshot, so that
// the first frame has both sparklines and the newest figures.
func (a *agentSource) history(ctx context.Context, last int) (*history, error) {
	hs, err := a.t.Agent.History(ctx, last)
	if err != nil {
		return nil, err
	}
	h := &history{os: a.latestOS}
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
