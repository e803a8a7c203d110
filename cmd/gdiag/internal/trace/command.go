package tracecmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
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
                      reasons in each. A wait under way when the trace began
                      has no reason in the trace: gdiag names it from the
                      goroutine's stack (traces of Go 1.23 and later carry
                      it), else, for a wait that lasted the whole trace,
                      from goroutine dumps taken just before (for a
                      net/http/pprof target, whose Go may predate those
                      stacks) and just after; each dump pauses the target
                      as gdiag goroutines does. The rest is "unknown
                      (waiting since the trace began)"
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
"beforeTrace": {"waits", "fromStack", "fromDump", "runtime", "unknown"},
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
	var pre *dumped
	if flight {
		body, err = t.Flight(ctx)
	} else {
		pre = dumpWaits(ctx, t, target.KindPprof)
		stop = profile.Progress(env.Stderr, "tracing", d)
		body, err = t.Trace(ctx, d)
	}
	if err != nil {
		stop()
		return err
	}
	defer stop()
	defer body.Close()
	f, path, err := profile.Create(out, profile.BaseName(t, "trace"), ".out")
	if err != nil {
		return err
	}
	// The trace is written to the file as it arrives and summarised on
	// the way, so that a long one is never held in memory whole.
	src := &target.Recorder{R: io.LimitReader(body, maxTraceBytes)}
	tee := io.TeeReader(src, f)
	z, err := read(tee)
	_, cerr := io.Copy(io.Discard, tee) // what the summary left, should it stop early
	if ferr := f.Close(); cerr == nil {
		cerr = ferr
	}
	stop()
	switch {
	case src.Err != nil:
		os.Remove(path)
		return src.Err // the connection failed, timed out or was interrupted
	case cerr != nil:
		return cli.Errorf(cli.ExitUsage, "check the free space, or give --out", "saving to %s: %v", path, cerr)
	case src.N >= maxTraceBytes:
		return cli.Errorf(cli.ExitRemote, "trace for a shorter --duration", "%s sent more than %d GB of trace; the first %d GB are in %s", t, maxTraceBytes>>30, maxTraceBytes>>30, path)
	case err != nil:
		return cli.Errorf(cli.ExitRemote, "try go tool trace "+path+"; a Go older than 1.22 writes a format gdiag reads only partly",
			"%s sent a trace gdiag cannot read (saved to %s): %v", t, path, err)
	}
	var post *dumped
	if z.needsDump() {
		// Goroutines that waited through the whole trace still wait the
		// same way now, unless they moved in the instant since: a dump
		// names their waits, which an old trace does not.
		post = dumpWaits(ctx, t, t.Kind)
	}
	z.nameFromDumps(pre, post)
	s := z.summary()
	s.Target, s.Saved, s.Flight = t.String(), path, flight
	return show(env, s)
}

// dumpWaits reads a goroutine dump of t, when t is of kind; nil if it is
// not or the dump fails (the summary then leaves those waits unknown).
func dumpWaits(ctx context.Context, t *target.Target, kind target.Kind) *dumped {
	if t.Kind != kind {
		return nil
	}
	dump, err := t.GoroutineDump(ctx)
	if err != nil {
		return nil
	}
	defer dump.Close()
	return readDump(dump)
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
