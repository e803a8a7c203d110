package profile

import (
	"context"
	"flag"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// Names lists the profiles gdiag profile captures, in the order its usage
// line shows them.
var Names = []string{"cpu", "heap", "allocs", "mutex", "block", "goroutine", "goroutineleak", "threadcreate", "wall"}

// DefaultCaptureDuration is how long cpu and wall profiles run unless
// --duration says otherwise.
const DefaultCaptureDuration = 5 * time.Second

// Result is gdiag profile's --json output (and gdiag analyze's for a
// profile file, with File set instead of Saved and Target).
type Result struct {
	Profile string `json:"profile,omitempty"` // cpu, heap, ...; empty for a file
	Target  string `json:"target,omitempty"`
	Saved   string `json:"saved,omitempty"` // where the profile was written
	File    string `json:"file,omitempty"`  // the file analyzed
	// Delta is true for a delta profile: what happened during --duration
	// only, as net/http/pprof computes it (?seconds=) or, for the agent,
	// gdiag as the difference of two profiles taken --duration apart.
	Delta  bool   `json:"delta,omitempty"`
	WebURL string `json:"webURL,omitempty"` // with --web: pprof's web UI
	Top    Top    `json:"top"`
	// Empty says why the profile has no samples (mutex or block profiling
	// off in the target, no GC during a heap delta), and what to do.
	Empty *Empty `json:"empty,omitempty"`
}

// options are gdiag profile's own flags.
type options struct {
	name     string
	duration time.Duration
	out      string
	top      int
	web      bool
	http     string
	// enableRate switches the mutex or block rate on for the capture
	// (an agent operation; see rate.go).
	enableRate bool
}

// Command returns the profile command.
func Command() cli.Command {
	return cli.Command{
		Name:    "profile",
		Args:    strings.Join(Names, "|") + " TARGET",
		Summary: "capture a pprof profile, save it and print the top functions",
		Help: `Captures a profile from TARGET, saves it as pprof's gzipped proto (--out, by
default ./<pid-or-host>-<profile>-<time>.pb.gz, readable by go tool pprof),
and prints the functions that account for most of it, like go tool pprof
-top: flat is the value where the function itself was running (or
allocating, or waiting), cum includes the functions it called.

The value summed depends on the profile: cpu time on CPU; heap bytes in use
now (inuse_space); allocs bytes allocated (alloc_space); mutex and block
time waited (delay); goroutine and threadcreate counts; goroutineleak the
goroutines the runtime proved blocked forever on unreachable channels or
locks (Go 1.26+ programs built with GOEXPERIMENT=goroutineleakprofile);
wall wall-clock time (fgprof: on CPU and off it; the gdiag agent only, not
net/http/pprof).

--duration is the capture time of cpu and wall (default 5s). For heap,
allocs, mutex and block a duration above zero gives a delta profile: what
happened during that time only (the default 0 is everything since the
process started). goroutine, goroutineleak and threadcreate are always
point-in-time.
--timeout applies on top of the duration.

--enable-rate (mutex and block, with the gdiag agent): a process that samples
no mutex or block events (the runtime's default) gives an empty profile; the
agent then switches the rate on for --duration (default 5s), takes the profile
and restores the rate, logging both. Operations like this need the agent's
owner-only socket or its token TCP listener.

--web serves pprof's web UI (flame graph, graph, source) for the saved
profile on a loopback address until Ctrl-C; it never opens a browser.

The saved file opens on the sample type shown (pprof's default for it is
set to that type), so that go tool pprof and gdiag analyze show the same
figures. A profile with no samples says why when gdiag can tell: the mutex
profile's sampling period of 0, or a block profile empty since the process
started, mean profiling is off in the target, and how to turn it on.

--json prints {"profile", "target", "saved", "delta", "webURL", "top":
{"sampleType", "unit", "total", "samples", "durationNanos", "omitted",
"functions": [{"function", "flat", "flatPct", "sumPct", "cum", "cumPct"}]},
"empty": {"reason", "hint"} (only without samples)}, values in the
profile's unit (nanoseconds, bytes or a count).

A cpu profile that is already running in the target (another gdiag, or
continuous profiling) makes the agent refuse with "already running": exit 6.`,
		Examples: []string{
			"gdiag profile cpu 1234",
			"gdiag profile heap 1234 --top 30",
			"gdiag profile allocs 1234 --duration 30s",
			"gdiag profile cpu http://localhost:6060 --duration 10s --out cpu.pb.gz",
			"gdiag profile wall 1234 --web",
			"gdiag profile mutex 1234 --json | jq '.top.functions[0]'",
			"gdiag profile block 1234 --enable-rate --duration 10s",
		},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			o := &options{}
			fs.DurationVar(&o.duration, "duration", 0, "capture time: default 5s for cpu and wall; for heap, allocs, mutex, block above zero means a delta profile over that time")
			fs.StringVar(&o.out, "out", "", "where to save the profile (default ./<pid-or-host>-<profile>-<time>.pb.gz)")
			fs.IntVar(&o.top, "top", 15, "how many functions to print (0 for all)")
			fs.BoolVar(&o.web, "web", false, "serve pprof's web UI for the profile on loopback until Ctrl-C")
			fs.StringVar(&o.http, "http", "127.0.0.1:0", "loopback address for --web")
			fs.BoolVar(&o.enableRate, "enable-rate", false, "mutex and block: have the agent switch the sampling rate on for the capture and restore it after")
			return func(ctx context.Context, env *cli.Env, args []string) error {
				durationSet := false
				fs.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
				if err := o.check(args, durationSet); err != nil {
					return err
				}
				return run(ctx, env, o, args[1])
			}
		},
	}
}

// check validates the arguments and fills in the default duration.
func (o *options) check(args []string, durationSet bool) error {
	if len(args) != 2 {
		return cli.Usagef("want a profile name and a TARGET, such as: gdiag profile cpu 1234")
	}
	o.name = args[0]
	if !slices.Contains(Names, o.name) {
		return cli.Usagef("unknown profile %q: want one of %s", o.name, strings.Join(Names, ", "))
	}
	if o.top < 0 {
		return cli.Usagef("--top must be 0 (all) or more")
	}
	if o.web {
		if err := checkLoopback(o.http); err != nil {
			return err
		}
	}
	if o.enableRate {
		return o.checkEnableRate(durationSet)
	}
	switch o.name {
	case "cpu", "wall":
		if !durationSet {
			o.duration = DefaultCaptureDuration
		}
		return target.CheckDuration("duration", o.duration)
	case "goroutine", "goroutineleak", "threadcreate":
		if o.duration != 0 {
			return cli.Usagef("the %s profile is point-in-time and takes no --duration", o.name)
		}
	}
	if o.duration < 0 {
		return cli.Usagef("--duration must not be negative")
	}
	return nil
}

// checkLoopback refuses a --http address other than loopback: the web UI
// has no authentication and shows the program's code.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return cli.Usagef("bad --http %q: want HOST:PORT, such as 127.0.0.1:8080", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return cli.Usagef("--http %s is not a loopback address: the web UI has no authentication, so gdiag serves it on 127.0.0.1 or ::1 only", addr)
	}
	return nil
}

func run(ctx context.Context, env *cli.Env, o *options, spec string) error {
	t, err := target.Open(ctx, env, spec)
	if err != nil {
		return err
	}
	if o.name == "wall" {
		if err := t.RequireAgent("the wall-clock (fgprof) profile", "gdiag profile cpu "+t.Spec+" samples time on CPU, and gdiag trace "+t.Spec+" shows where goroutines wait"); err != nil {
			return err
		}
	}
	capt := capture
	if o.enableRate {
		capt = captureWithRate
	}
	c, err := capt(ctx, env, t, o.name, o.duration)
	if err != nil {
		return err
	}
	top := MakeTop(c.prof, o.name, o.top)
	data, err := withSampleType(c, top.SampleType)
	if err != nil {
		return err
	}
	path, err := Save(o.out, BaseName(t, o.name), ".pb.gz", data)
	if err != nil {
		return err
	}
	res := Result{Profile: o.name, Target: t.String(), Saved: path, Delta: c.delta, Top: top}
	if top.Total == 0 {
		e := explainEmpty(ctx, t, o.name, o.duration)
		res.Empty = &e
	}
	if !o.web {
		return report(env, res)
	}
	ln, err := net.Listen("tcp", o.http)
	if err != nil {
		return cli.Errorf(cli.ExitUsage, "choose another --http address, or 127.0.0.1:0 for any free port", "cannot serve the web UI on %s: %v", o.http, err)
	}
	res.WebURL = "http://" + ln.Addr().String() + "/ui/"
	if err := report(env, res); err != nil {
		ln.Close()
		return err
	}
	if !env.JSON {
		fmt.Fprintf(env.Stdout, "pprof web UI: %s (Ctrl-C to stop)\n", res.WebURL)
	}
	return Serve(ctx, ln, c.prof, path, res.Top.SampleType, env.Stderr)
}

func report(env *cli.Env, res Result) error {
	if env.JSON {
		return env.PrintJSON(res)
	}
	what := res.Profile + " profile"
	if res.Delta {
		what += " (delta)"
	}
	res.Top.Print(env.Stdout, what)
	if e := res.Empty; e != nil {
		fmt.Fprintf(env.Stdout, "why: %s\n", e.Reason)
		if e.Hint != "" {
			fmt.Fprintf(env.Stdout, "to record it: %s\n", e.Hint)
		}
	}
	fmt.Fprintf(env.Stdout, "saved to %s (go tool pprof %s)\n", res.Saved, res.Saved)
	return nil
}
