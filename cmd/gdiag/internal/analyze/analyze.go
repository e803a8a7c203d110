package analyze

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"os"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// MaxFile is the largest trace or schedtrace log analyze reads; goroutine
// dumps and profiles are bounded by their readers.
const MaxFile = 1 << 30

// Analyzers are the analyses of the kinds other commands own.
type Analyzers struct {
	// Goroutines reads the dump itself, bounded, and stops when ctx ends.
	Goroutines func(ctx context.Context, env *cli.Env, name string, r io.Reader) error
	// Profile reads the profile itself, bounded as read and inflated.
	Profile func(env *cli.Env, name string, r io.Reader) error
	Trace   func(env *cli.Env, name string, r io.Reader) error
}

// Command returns the analyze command, using a for the delegated kinds.
func Command(a Analyzers) cli.Command {
	return cli.Command{
		Name:    "analyze",
		Args:    "FILE",
		Summary: "analyse a saved goroutine dump, schedtrace log, profile or trace",
		Help: `Reads a saved file (or - for standard input), recognises its kind by content,
and analyses it offline, as the live command for that kind would:
  goroutine dump (debug=2, a crash's or SIGQUIT's
  output, with log lines around it)                 as gdiag goroutines
  GODEBUG=schedtrace=1000[,scheddetail=1] output    run-queue backlog, threads
  pprof profile (.pb.gz)                            as gdiag profile: top functions
  execution trace (runtime/trace, flight recorder)  as gdiag trace: latency, waits,
                                                    the longest stop-the-world pauses
                                                    and the goroutine each waited for
--kind overrides the detection. A truncated or garbage file exits 5 with
what was wrong.

A schedtrace log is cut into phases over time (backlog: runnable goroutines
per P above 2; busy: no P idle; spare: some P idle), so that a stretch of
saturation in a long log is named with its start and length rather than
averaged away. The verdict names the longest backlog phase, or thread
growth; gdiag analyze then exits 1, as gdiag doctor does with findings, and
0 otherwise (blips shorter than three records are no phase). Dumps,
profiles and traces have no verdict: exit 0 once read.

--json prints the analysis of that kind; for a schedtrace log: {"file",
"kind", "records", "span", "gomaxprocs", "threads", "idleProcs", "runnable",
"runnablePerP" (each {"min","mean","max"}), "backlogPercent", "threshold",
"malformedLines", "phases": [{"state", "start", "end", "seconds",
"records", "runnablePerP", "idleProcs", "threads"}], "backlogSeconds",
"verdict", "problem"}.`,
		Examples: []string{
			"gdiag analyze goroutines.txt",
			"GODEBUG=schedtrace=1000 ./server 2> sched.log; gdiag analyze sched.log || echo backlog",
			"gdiag analyze cpu.pb.gz --json",
			"curl -s localhost:6060/debug/pprof/goroutine?debug=2 | gdiag analyze -",
		},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			kind := fs.String("kind", "auto", "file kind: auto, goroutines, schedtrace, profile or trace")
			return func(ctx context.Context, env *cli.Env, args []string) error {
				if len(args) != 1 {
					return cli.Usagef("analyze takes one FILE (or - for standard input)")
				}
				return run(ctx, env, a, args[0], Kind(*kind))
			}
		},
	}
}

// detectSize is how much of a file Detect sees: enough for a crash
// report after a long log.
const detectSize = 1 << 20

func run(ctx context.Context, env *cli.Env, a Analyzers, name string, kind Kind) error {
	f, err := open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, detectSize)
	head, err := br.Peek(detectSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return cli.Input(name, err)
	}
	if len(head) == 0 {
		return cli.Input(name, errors.New("the file is empty"))
	}
	if kind == "auto" {
		if kind = Detect(head); kind == Unknown {
			return cli.Input(name, errors.New("not a goroutine dump, crash output, schedtrace log, pprof profile or execution trace"))
		}
	}
	limited := io.LimitReader(br, MaxFile)
	switch {
	case kind == Schedtrace:
		return analyzeSchedtrace(env, name, limited)
	case kind == Goroutines && a.Goroutines != nil:
		return a.Goroutines(ctx, env, name, br) // bounded by the dump reader itself
	case kind == Trace && a.Trace != nil:
		return a.Trace(env, name, limited)
	case kind == Profile && a.Profile != nil:
		return a.Profile(env, name, br) // bounded, as read and inflated, by the profile reader
	case kind == Goroutines || kind == Trace || kind == Profile:
		return cli.Errorf(cli.ExitInput, "", "%s: analysis of %s files is not built into this gdiag", name, kind)
	}
	return cli.Usagef("unknown --kind %q: use auto, goroutines, schedtrace, profile or trace", kind)
}

func open(name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, cli.Errorf(cli.ExitInput, "check the path", "cannot read %s: %v", name, errors.Unwrap(err))
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, cli.Errorf(cli.ExitInput, "give a file, not a directory", "%s is a directory", name)
	}
	return f, nil
}
