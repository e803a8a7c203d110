package tracecmd

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/profile"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// DefaultDuration is how long gdiag trace captures unless --duration says.
const DefaultDuration = 5 * time.Second

// maxTraceBytes bounds what gdiag reads from a target or a file.
const maxTraceBytes = 4 << 30

// Command returns the trace command.
func Command() cli.Command {
	return cli.Command{
		Name:    "trace",
		Args:    "TARGET",
		Summary: "capture an execution trace (or dump the flight recorder) and summarise it",
		Help: `Captures an execution trace of TARGET for --duration (default 5s), or with
--flight dumps the agent's flight recorder (the last seconds before now, no
waiting), saves it for go tool trace (--out, by default
./<pid-or-host>-trace-<time>.out) and prints a summary:

  scheduling latency  time from runnable to running: p50, p90, p99, max
  waiting             time goroutines spent blocked, summed over goroutines,
                      by category (channel, select, mutex/sync, network/IO,
                      syscall, sleep, GC assist/wait, ...) with the runtime's
                      reasons in each
  GC                  mark phases and stop-the-world pauses: count, longest
  runnable            goroutines grouped by start function, by time spent
                      runnable (ready but waiting for a CPU)
  stop-the-world      the longest pauses: total, time to stop (until every
                      running goroutine stopped) and the goroutine the world
                      waited for, with the function it ran (from CPU samples
                      when a CPU profile ran during the trace, else its stack)

--timeout applies on top of the duration. A trace that is already running
in the target makes the agent refuse with "already running" (exit 6).

--json prints {"target", "saved", "flight", "durationNanos", "events",
"goroutines", "schedLatency": {"count", "p50Nanos", "p90Nanos", "p99Nanos",
"maxNanos"}, "waits": [{"category", "totalNanos", "count", "reasons"}],
"gc": {"cycles", "longestNanos", "assistNanos", "stw", "stwLongestNanos",
"stwTotalNanos"}, "topRunnable": [{"function", "goroutines",
"runnableNanos", "maxLatencyNanos"}], "longestSTW": [{"reason", "startNanos",
"totalNanos", "stoppingNanos", "partial", "delayer": {"goroutine",
"startFunction", "function", "stack", "stoppedAs", "samples" (-1: the trace
has no CPU samples), "sampleStack"}}]}.`,
		Examples: []string{
			"gdiag trace 1234",
			"gdiag trace 1234 --duration 2s --out slow.trace",
			"gdiag trace 1234 --flight",
			"gdiag trace http://localhost:6060 --json | jq .schedLatency",
		},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			d := fs.Duration("duration", DefaultDuration, "how long to trace")
			flight := fs.Bool("flight", false, "dump the agent's flight recorder instead of tracing from now")
			out := fs.String("out", "", "where to save the trace (default ./<pid-or-host>-trace-<time>.out)")
			return func(ctx context.Context, env *cli.Env, args []string) error {
				durationSet := false
				fs.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
				switch {
				case len(args) != 1:
					return cli.Usagef("want one TARGET, such as: gdiag trace 1234")
				case *flight && durationSet:
					return cli.Usagef("--flight dumps what the recorder already holds and takes no --duration")
				}
				if err := target.CheckDuration("duration", *d); err != nil {
					return err
				}
				return run(ctx, env, args[0], *d, *flight, *out)
			}
		},
	}
}

func run(ctx context.Context, env *cli.Env, spec string, d time.Duration, flight bool, out string) error {
	t, err := target.Open(ctx, env, spec)
	if err != nil {
		return err
	}
	// The agent streams the trace while it runs, so the wait is in the
	// reading as much as in the request.
	stop := func() {}
	var body io.ReadCloser
	if flight {
		body, err = t.Flight(ctx)
	} else {
		stop = profile.Progress(env.Stderr, "tracing", d)
		body, err = t.Trace(ctx, d)
	}
	if err != nil {
		stop()
		return err
	}
	data, err := io.ReadAll(io.LimitReader(body, maxTraceBytes))
	body.Close()
	stop()
	if err != nil {
		return err
	}
	path, err := profile.Save(out, profile.BaseName(t, "trace"), ".out", data)
	if err != nil {
		return err
	}
	s, err := Summarize(bytes.NewReader(data))
	if err != nil {
		return cli.Errorf(cli.ExitRemote, "try go tool trace "+path+"; a Go older than 1.22 writes a format gdiag reads only partly",
			"%s sent a trace gdiag cannot read (saved to %s): %v", t, path, err)
	}
	s.Target, s.Saved, s.Flight = t.String(), path, flight
	return show(env, s)
}

// Analyze prints the summary of a saved trace file (read from r, named
// name) for gdiag analyze, or its Summary with --json. A file that is not
// a trace is a cli.Input error (exit code 5).
func Analyze(env *cli.Env, name string, r io.Reader) error {
	s, err := Summarize(io.LimitReader(r, maxTraceBytes))
	if err != nil {
		return cli.Input(name, fmt.Errorf("not a Go execution trace: %w", err))
	}
	s.File = name
	return show(env, s)
}
