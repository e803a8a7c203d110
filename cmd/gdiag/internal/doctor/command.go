package doctor

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// Window limits: long enough to see a trend, short enough to wait for.
const (
	DefaultWindow = 20 * time.Second
	MaxWindow     = 2 * time.Minute
)

// Command returns the doctor command.
func Command() cli.Command {
	return cli.Command{
		Name:    "doctor",
		Args:    "TARGET",
		Summary: "watch a process for a while and name what is wrong, with evidence",
		Help: `Watches the process for --window (default 20s, at most 2m) and combines the
agent's scheduler history, a goroutine census at the start and the end,
the pools, a CPU profile (half the window, at most 10s) and the changes in
the mutex, block, allocs and heap profiles. It prints the causes it finds,
most important first, each with its evidence (figures with their trend as
a sparkline), the stacks or functions involved and the next commands to
run. With findings, the agent's flight recorder (the last seconds of
execution trace) is saved to --out-dir for gdiag analyze: by default
$XDG_CACHE_HOME/gdiag/doctor (~/.cache/gdiag/doctor), where doctor keeps
the newest 20 traces, at most 256 MiB in all, and removes older ones.

For a process on this host it also reads what the kernel says: CPU time,
the time its threads waited for a CPU, its cgroup's CPU quota and
throttling, the host's load, and its open sockets.

Causes: goroutine-leak-proven, goroutine-leak, goroutine-leak-static,
connection-growth, cpu-starved, cpu-saturation, mutex-contention,
gc-pressure, thread-growth, pool-overload, pool-shedding, pool-breaker,
stw-pauses, preemption-delay (pauses spent waiting for a goroutine that
would not stop, named from a trace taken while the CPU profile runs). Each
rule, its threshold and its reasoning is in the package documentation
(cmd/gdiag/internal/doctor/doc.go).

A pprof-only target (http://HOST:PORT) gets what its profiles allow; the
report lists what could not be checked. A process that exits mid-window
ends the watch: the report covers what was gathered and says so.

Exit code 0: no findings; 1: findings; 3: the target could not be reached,
gave nothing to read, or exited before anything could be concluded; 4:
interrupted or timed out.

--json prints the Report (fields target, pid, window, findings[] with
cause, title, severity, score, summary, evidence[] {name, value, unit,
atMost, trend}, stacks[] {count, growth, state, frames}, functions[] {name,
flat, percent, unit}, pool, next[]; notChecked[], errors[], trace). A finding is
a schedstats.Finding with doctor's additions; evidence with atMost true is
an upper bound of the figure (a histogram quantile, printed "≤").`,
		Examples: []string{
			"gdiag doctor 1234",
			"gdiag doctor 1234 --window 30s --json | jq -r '.findings[].cause'",
			"gdiag doctor http://localhost:6060 --window 10s",
		},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			window := fs.Duration("window", DefaultWindow, "how long to watch the process (at most 2m)")
			outDir := fs.String("out-dir", defaultTraceDir(), "directory for the flight-recorder traces saved when there are findings (the newest 20, at most 256 MiB, are kept)")
			return func(ctx context.Context, env *cli.Env, args []string) error {
				switch {
				case len(args) != 1:
					return cli.Usagef("doctor takes one TARGET (gdiag ps lists them)")
				case *window <= 0:
					return cli.Usagef("--window must be above zero, such as 20s")
				case *window > MaxWindow:
					return cli.Usagef("--window must be at most %v", MaxWindow)
				}
				return run(ctx, env, args[0], *window, *outDir)
			}
		},
	}
}

func run(ctx context.Context, env *cli.Env, spec string, window time.Duration, outDir string) error {
	t, err := target.Open(ctx, env, spec)
	if err != nil {
		return err
	}
	rep := &Report{Target: spec, PID: t.PID, Findings: []Finding{}}
	var info apiv1.Info
	if t.Kind == target.KindAgent {
		if info, err = t.Agent.Info(ctx); err != nil {
			return err
		}
		rep.PID, rep.GoVersion = info.PID, info.GoVersion
		if info.MaxDuration > 0 {
			window = min(window, time.Duration(info.MaxDuration))
		}
	} else {
		rep.NotChecked = append(rep.NotChecked, "flight recorder: needs the gdiag agent")
	}
	c := newCollector(t, window, info)
	if rep.PID == 0 {
		rep.PID = c.osPID
	}
	obs, missing := c.Run(ctx)
	rep.Window = roundWindow(obs.Elapsed).String()
	findings, checked, notChecked := Analyze(obs, spec)
	rep.Findings, rep.Checked = findings, checked
	rep.NotChecked = append(append(rep.NotChecked, missing...), notChecked...)
	interrupted := ctx.Err() != nil
	switch {
	case c.died:
		what := "process exited"
		if t.Kind == target.KindPprof || processAlive(rep.PID) {
			what = "target stopped answering"
		}
		rep.Errors = append(rep.Errors, fmt.Sprintf("%s after %v; the report covers what was gathered until then", what, roundWindow(c.diedAt)))
	case interrupted:
		rep.Errors = append(rep.Errors, fmt.Sprintf("interrupted after %v; the report covers what was gathered until then", roundWindow(obs.Elapsed)))
	case c.hung:
		rep.Errors = append(rep.Errors, fmt.Sprintf("%s stopped answering (requests timed out after --timeout %v); the report covers what was gathered", t, env.Timeout))
	}
	if len(findings) > 0 && !c.died && !c.hung && !interrupted {
		saveFlight(ctx, t, info, rep, outDir)
	}
	rep.NotChecked = dedupe(rep.NotChecked)
	if err := print(env, rep); err != nil {
		return err
	}
	blind := len(findings) == 0 && obs.CPU == nil && len(obs.Mem) == 0 && len(obs.Censuses) == 0 && len(obs.History) == 0
	switch {
	case blind && !c.died && !interrupted:
		// Not one reading succeeded: "no findings" would be a verdict on
		// nothing.
		return cli.Errorf(cli.ExitTarget, "is net/http/pprof (or the gdiag agent) served at "+spec+"? the errors above say what failed",
			"%s gave doctor nothing to read (no profile, no goroutine dump, no snapshot)", t)
	case len(findings) > 0:
		return cli.Findings
	case c.died:
		return cli.Errorf(cli.ExitTarget, "start the process again and rerun doctor", "%s went away before anything could be concluded", t)
	case interrupted:
		return &cli.Error{Code: cli.ExitTimeout, Err: fmt.Errorf("interrupted before the window ended; nothing could be concluded")}
	case c.hung:
		return cli.Errorf(cli.ExitTimeout, "the process may be stopped, deadlocked or overloaded; raise --timeout to wait longer",
			"%s stopped answering; nothing could be concluded", t)
	}
	return nil
}

// dedupe drops repeated lines (a poll that failed several times), keeping
// the first of each in order.
func dedupe(lines []string) []string {
	seen := map[string]bool{}
	out := lines[:0]
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

func roundWindow(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

func print(env *cli.Env, rep *Report) error {
	if env.JSON {
		return env.PrintJSON(rep)
	}
	return Render(env.Stdout, rep)
}

// saveFlight dumps the agent's flight recorder next to the report and
// points the findings at it.
func saveFlight(ctx context.Context, t *target.Target, info apiv1.Info, rep *Report, dir string) {
	if t.Kind != target.KindAgent {
		return // already listed as not checked
	}
	if !hasCap(info, apiv1.CapFlight) {
		rep.NotChecked = append(rep.NotChecked, "flight recorder: the agent has none (probes.Options.Flight)")
		return
	}
	body, err := t.Flight(ctx)
	if err != nil {
		rep.NotChecked = append(rep.NotChecked, "flight recorder: "+err.Error())
		return
	}
	defer body.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		rep.NotChecked = append(rep.NotChecked, "flight recorder: "+err.Error())
		return
	}
	name := filepath.Join(dir, tracePrefix+strconv.Itoa(rep.PID)+"-"+time.Now().Format("20060102-150405.000")+traceSuffix)
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		rep.NotChecked = append(rep.NotChecked, "flight recorder: "+err.Error())
		return
	}
	_, err = io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		rep.NotChecked = append(rep.NotChecked, "flight recorder: "+err.Error())
		return
	}
	if err := pruneTraces(dir, name); err != nil {
		rep.Errors = append(rep.Errors, "removing old doctor traces: "+err.Error())
	}
	rep.Trace = name
	for i := range rep.Findings {
		rep.Findings[i].Next = append(rep.Findings[i].Next, "gdiag analyze "+name)
	}
}

func hasCap(info apiv1.Info, c string) bool {
	for _, x := range info.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}
