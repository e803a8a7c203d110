package goroutines

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

const help = `Groups the goroutines of a live process, or of a saved dump, by identical
state and stack, largest group first: how many, the state with the shortest
and longest wait ("[chan receive, 3 to 12 minutes]"), the stack (function and
file:line, innermost first) and the go statement that created them. A summary
line gives the totals and the count by state.

The argument is a dump FILE when it names an existing regular file, or "-"
for stdin: a debug=2 goroutine dump (/debug/pprof/goroutine?debug=2, or
--save from this command), or what a crashing program printed, as a
terminal or a log has it: a panic or fatal error at any GOTRACEBACK level,
SIGQUIT output with its registers, go test's timeout panic, go run's
"exit status 2", with log lines before, between and after the goroutines.
Anything else is a TARGET, whose debug=2 dump is fetched.

For a crash, the report opens with its message ("panic: ...", "fatal
error: ...", "SIGQUIT: quit"), the panics before it, the goroutine that
raised it with its whole stack, and what the traceback level hid (the
default, GOTRACEBACK=single, prints only the crashing goroutine). Lines
that belong to no goroutine are skipped and counted; lines that look like
part of a stack but do not parse, and a file cut in the middle of a stack,
are listed as notes at the end.

Filters apply to each goroutine before grouping:
  --state S      the state contains S, ignoring case ("chan" matches chan
                 receive and chan send; "IO wait", "running", "select",
                 "sync.Mutex.Lock", "semacquire", "sleep")
  --pkg P        a stack frame is in package P or below it ("main",
                 "net/http", "github.com/you/svc"); "created by" is not
                 a frame of the stack
  --min-wait D   blocked at least D; the runtime prints whole minutes from
                 one minute on, so a goroutine without a wait time counts as
                 0 and --min-wait 30s keeps those blocked a minute or more
--depth N shows N frames of each stack: those that tell the group apart,
from the first frame outside the runtime and the standard library outwards
(a connection's read loop, not internal/poll.runtime_pollWait).

--diff compares two dumps: two FILEs or TARGETs (--diff A B), or a TARGET at
two moments (--diff TARGET --after 10s). It lists the groups that grew by at
least --grow goroutines (a group absent from the first dump grows by its
size), most growth first, with the counts before and after. A group is the
same in both dumps when its state, stack and creator are. The exit code is 1
when a group grew by --grow or more, 0 when none did. On a busy service,
request-handling groups come and go: raise --grow (say to 20) or narrow with
--pkg to watch for leaks only.

--json prints a Report (one dump) or a Diff (--diff); the fields are
documented on the Go types in cmd/gdiag/internal/goroutines (report.go,
diff.go) and package gdump (Group, Frame, Crash):
  Report {source, crash: Crash, totalGoroutines, totalGroups,
          byState: [{state, count}], matchedGoroutines, matchedGroups,
          groups: [Group], notes}
  Crash  {message, level, shown, panics: [{value, recovered, repanicked}],
          fatal, signal, notes, runtimeStack: [Frame], goroutine, line, exit}
  Group  {state, frames: [Frame], count, minWait, maxWait (nanoseconds),
          createdBy: Frame, ids, innerFramesOmitted, outerFramesOmitted}
  Frame  {func, args, file, line, offset, pc}
  Diff   {before, after, beforeGoroutines, afterGoroutines, grow, grown,
          shrunk, groups: [{before, after, delta, ...Group}]}

Reading is bounded: at most --max-size of input (4G), lines of at most 1 MB,
and distinct stacks that fit in 96 MB; SIGINT or SIGTERM stops it. A file
with no goroutine at all (garbage, empty, or a crash printed with
GOTRACEBACK=none) exits with code 5 and says what was wrong.`

// flags are gdiag goroutines' own flags.
type flags struct {
	Options
	diff     bool
	after    time.Duration
	grow     int
	save     string
	maxSize  size
	maxPause time.Duration
}

// Command returns the goroutines command.
func Command() cli.Command {
	return cli.Command{
		Name:    "goroutines",
		Args:    "TARGET|FILE [FILE]",
		Summary: "group goroutines by stack, live or from a dump; --diff finds growing groups",
		Help:    help,
		Examples: []string{
			"gdiag goroutines 1234",
			"gdiag goroutines 1234 --state 'chan receive' --min-wait 5m --top 5",
			"gdiag goroutines 1234 --pkg github.com/you/svc --depth 8",
			"gdiag goroutines 1234 --save before.txt",
			"gdiag goroutines crash.log",
			"go test ./... 2>&1 | gdiag goroutines - --depth 6",
			"curl -s localhost:6060/debug/pprof/goroutine?debug=2 | gdiag goroutines -",
			"gdiag goroutines --diff before.txt after.txt --grow 10",
			"gdiag goroutines --diff 1234 --after 30s --pkg github.com/you/svc",
			"gdiag goroutines 1234 --json | jq '.groups[0]'",
		},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			f := &flags{}
			fs.StringVar(&f.State, "state", "", "keep goroutines whose state contains this, ignoring case (\"chan receive\", \"IO wait\", \"running\")")
			fs.StringVar(&f.Pkg, "pkg", "", "keep goroutines with a stack frame in this package or below it (import path prefix)")
			fs.DurationVar(&f.MinWait, "min-wait", 0, "keep goroutines blocked at least this long, such as 5m (no wait time counts as 0)")
			fs.IntVar(&f.Top, "top", 0, "show only the N largest groups (0: all)")
			fs.IntVar(&f.Depth, "depth", 0, "show only the first N frames of each stack (0: all)")
			fs.BoolVar(&f.diff, "diff", false, "compare two dumps (FILE FILE, TARGET TARGET, or TARGET with --after) and list the groups that grew")
			fs.DurationVar(&f.after, "after", 10*time.Second, "with --diff and one TARGET: take the second dump this long after the first")
			fs.IntVar(&f.grow, "grow", 1, "with --diff: exit 1 when a group grew by at least this many goroutines")
			fs.StringVar(&f.save, "save", "", "also write the target's raw debug=2 dump to this file, for gdiag goroutines FILE or gdiag analyze later")
			f.maxSize = DefaultMaxSize
			fs.Var(&f.maxSize, "max-size", "read at most this much of a dump (a file, stdin or a target's answer), such as 512M or 8G")
			fs.DurationVar(&f.maxPause, "max-pause", 0, "let the agent stop the target's world this long for the dump (0: the agent's budget, 1s by default; about 1s per 100,000 goroutines)")
			return func(ctx context.Context, env *cli.Env, args []string) error {
				if err := f.check(fs); err != nil {
					return err
				}
				if f.diff {
					return runDiff(ctx, env, f, args)
				}
				return runOne(ctx, env, f, args)
			}
		},
	}
}

// check refuses flag values and combinations that make no sense.
func (f *flags) check(fs *flag.FlagSet) error {
	switch {
	case f.Top < 0 || f.Depth < 0:
		return cli.Usagef("--top and --depth must be 0 (all) or above")
	case f.MinWait < 0:
		return cli.Usagef("--min-wait must not be negative")
	case f.grow < 1:
		return cli.Usagef("--grow must be 1 or more")
	case f.diff && f.save != "":
		return cli.Usagef("--save works without --diff: save each dump first, then compare the files")
	}
	var err error
	fs.Visit(func(fl *flag.Flag) {
		if !f.diff && (fl.Name == "after" || fl.Name == "grow") {
			err = cli.Usagef("--%s goes with --diff", fl.Name)
		}
	})
	return err
}

func runOne(ctx context.Context, env *cli.Env, f *flags, args []string) error {
	if len(args) != 1 {
		return cli.Usagef("give one TARGET or FILE (two with --diff)")
	}
	l, err := load(ctx, env, args[0], f.save, f.Options, int64(f.maxSize), f.maxPause)
	if l != nil {
		l.source = sourceName(args[0])
	}
	return show(env, l, err, f.Options)
}

func runDiff(ctx context.Context, env *cli.Env, f *flags, args []string) error {
	var a, b *loaded
	var err error
	max := int64(f.maxSize)
	switch len(args) {
	case 1:
		if isFile(args[0]) {
			return cli.Usagef("--diff with one argument takes two dumps of a TARGET --after apart; give two FILEs to compare files")
		}
		if err := target.CheckDuration("after", f.after); err != nil {
			return err
		}
		if a, err = load(ctx, env, args[0], "", f.Options, max, f.maxPause); err != nil {
			return err
		}
		if err := sleep(ctx, f.after); err != nil {
			return err
		}
		if b, err = load(ctx, env, args[0], "", f.Options, max, f.maxPause); err != nil {
			return err
		}
		a.source, b.source = args[0]+" at t0", fmt.Sprintf("%s at t0+%v", args[0], f.after)
	case 2:
		if a, err = load(ctx, env, args[0], "", f.Options, max, f.maxPause); err != nil {
			return err
		}
		if b, err = load(ctx, env, args[1], "", f.Options, max, f.maxPause); err != nil {
			return err
		}
		a.source, b.source = sourceName(args[0]), sourceName(args[1])
	default:
		return cli.Usagef("--diff takes two dumps (FILE FILE), or one TARGET and --after")
	}
	d := newDiff(a.source, b.source, a.dump.Count, b.dump.Count, a.c.groups(), b.c.groups(), f.Options, f.grow)
	if env.JSON {
		err = env.PrintJSON(d)
	} else {
		err = d.WriteText(env.Stdout, f.Options)
	}
	if err == nil && d.Grown > 0 {
		err = cli.Findings
	}
	return err
}

// sleep waits d, or returns an interrupted error when ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return &cli.Error{Code: cli.ExitTimeout, Err: fmt.Errorf("interrupted while waiting --after %v for the second dump", d)}
	}
}

func sourceName(arg string) string {
	if arg == "-" {
		return "stdin"
	}
	return arg
}
