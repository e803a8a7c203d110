package analyze

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/schedstats"
)

// SchedSummary is the --json form of a schedtrace analysis.
type SchedSummary struct {
	File       string  `json:"file"`
	Kind       Kind    `json:"kind"` // "schedtrace"
	Records    int     `json:"records"`
	Span       string  `json:"span"` // Go duration from the first record to the last
	GOMAXPROCS int     `json:"gomaxprocs"`
	Threads    MinMax  `json:"threads"`
	IdleProcs  MinMax  `json:"idleProcs"`
	Runnable   MinMax  `json:"runnable"`       // global plus local run queues
	PerP       MinMax  `json:"runnablePerP"`   // runnable divided by GOMAXPROCS
	Backlog    float64 `json:"backlogPercent"` // share of records with runnable per P above the threshold
	Threshold  float64 `json:"threshold"`      // schedstats.Thresholds' default RunqueuePerP
	Malformed  int     `json:"malformedLines"`
	// Phases are the stretches of the log in one state (backlog, busy,
	// spare), in time order.
	Phases []Phase `json:"phases"`
	// BacklogSeconds is the time in backlog phases.
	BacklogSeconds float64 `json:"backlogSeconds"`
	Verdict        string  `json:"verdict"`
	// Problem is true when the verdict names one (a backlog phase, or
	// thread growth): gdiag analyze then exits 1.
	Problem bool `json:"problem"`
}

// MinMax summarises one figure over the records.
type MinMax struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	Max  float64 `json:"max"`
}

func (m *MinMax) add(v float64, n int) {
	if n == 0 || v < m.Min {
		m.Min = v
	}
	if n == 0 || v > m.Max {
		m.Max = v
	}
	m.Mean += (v - m.Mean) / float64(n+1)
}

func analyzeSchedtrace(env *cli.Env, name string, r io.Reader) error {
	recs, err := schedstats.ParseSchedtrace(r)
	var perr *schedstats.ParseError
	malformed := 0
	if err != nil && !errors.As(err, &perr) {
		return cli.Input(name, err)
	}
	if err != nil {
		malformed = countJoined(err)
	}
	if len(recs) == 0 {
		return cli.Input(name, errors.New("no SCHED lines could be read"))
	}
	s := summarise(recs)
	s.File, s.Malformed = name, malformed
	var err2 error
	if env.JSON {
		err2 = env.PrintJSON(s)
	} else {
		printSched(env, s)
	}
	if err2 == nil && s.Problem {
		return cli.Findings
	}
	return err2
}

func countJoined(err error) int {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return len(j.Unwrap())
	}
	return 1
}

func summarise(recs []schedstats.TraceRecord) SchedSummary {
	th := runqueuePerP
	s := SchedSummary{Kind: Schedtrace, Records: len(recs), Threshold: th}
	s.Span = (recs[len(recs)-1].Uptime - recs[0].Uptime).String()
	over := 0
	perPs := make([]float64, len(recs))
	for i, r := range recs {
		run := r.RunQueue
		for _, q := range r.LocalRunQueues {
			run += q
		}
		perP := float64(run) / float64(max(r.GOMAXPROCS, 1))
		perPs[i] = perP
		s.GOMAXPROCS = r.GOMAXPROCS
		s.Threads.add(float64(r.Threads), i)
		s.IdleProcs.add(float64(r.IdleProcs), i)
		s.Runnable.add(float64(run), i)
		s.PerP.add(perP, i)
		if perP > th {
			over++
		}
	}
	s.Backlog = 100 * float64(over) / float64(len(recs))
	s.Phases = phases(recs, perPs, th)
	for _, p := range s.Phases {
		if p.State == stateBacklog {
			s.BacklogSeconds += p.Seconds
		}
	}
	s.Verdict, s.Problem = verdict(s)
	return s
}

// verdict names what the log shows, and whether that is a problem. A
// backlog phase is one: the process wanted more CPU than it had for a
// stretch of time, however short the stretch is against the whole log.
func verdict(s SchedSummary) (string, bool) {
	var backlog []Phase
	for _, p := range s.Phases {
		if p.State == stateBacklog {
			backlog = append(backlog, p)
		}
	}
	switch {
	case len(backlog) == 1 && backlog[0].Records == s.Records:
		return fmt.Sprintf("run-queue backlog throughout: runnable goroutines per P above %.0f (mean %.1f, max %.1f); the process needs more CPU than GOMAXPROCS=%d gives it", s.Threshold, s.PerP.Mean, s.PerP.Max, s.GOMAXPROCS), true
	case len(backlog) > 0:
		long := slices.MaxFunc(backlog, func(a, b Phase) int { return cmp.Compare(a.Seconds, b.Seconds) })
		what := fmt.Sprintf("for %s, from %s to %s of a %s log", seconds(long.Seconds), long.Start, long.End, s.Span)
		if len(backlog) > 1 {
			what = fmt.Sprintf("in %d phases, %s in all of a %s log; the longest %s, from %s to %s", len(backlog), seconds(s.BacklogSeconds), s.Span, seconds(long.Seconds), long.Start, long.End)
		}
		return fmt.Sprintf("run-queue backlog %s: runnable goroutines per P mean %.1f, max %.0f (above %.0f); the process needed more CPU than GOMAXPROCS=%d gave it then",
			what, long.PerP.Mean, long.PerP.Max, s.Threshold, s.GOMAXPROCS), true
	case s.Threads.Max >= 2*s.Threads.Min && s.Threads.Max-s.Threads.Min >= 20:
		return fmt.Sprintf("thread growth: threads went from %.0f to %.0f; look for blocking syscalls or cgo calls", s.Threads.Min, s.Threads.Max), true
	case s.Backlog > 0:
		return fmt.Sprintf("no run-queue backlog phase: runnable per P above %.0f in %.0f%% of the records, in blips shorter than %d records", s.Threshold, s.Backlog, minPhase), false
	}
	return "no run-queue backlog", false
}

func seconds(v float64) string {
	return time.Duration(v * float64(time.Second)).Round(time.Millisecond).String()
}

func printSched(env *cli.Env, s SchedSummary) {
	w := env.Stdout
	fmt.Fprintf(w, "%s: schedtrace, %d records over %s, GOMAXPROCS %d\n", s.File, s.Records, s.Span, s.GOMAXPROCS)
	tw := env.Table()
	fmt.Fprintln(tw, "\tmin\tmean\tmax")
	for _, row := range []struct {
		name string
		m    MinMax
	}{{"threads", s.Threads}, {"idle Ps", s.IdleProcs}, {"runnable", s.Runnable}, {"runnable per P", s.PerP}} {
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.0f\n", row.name, row.m.Min, row.m.Mean, row.m.Max)
	}
	tw.Flush()
	printPhases(env, s)
	if s.Malformed > 0 {
		fmt.Fprintf(w, "%d malformed lines skipped\n", s.Malformed)
	}
	fmt.Fprintf(w, "verdict: %s\n", s.Verdict)
}

func printPhases(env *cli.Env, s SchedSummary) {
	w := env.Stdout
	show := printed(s.Phases)
	fmt.Fprintf(w, "\nphases (backlog: runnable per P above %.0f; busy: no P idle; spare: some P idle; each record takes the state of most of the %d around it):\n", s.Threshold, smoothing)
	tw := env.Table()
	fmt.Fprintln(tw, "  FROM\tTO\tFOR\tSTATE\tRUNNABLE/P mean\tmax\tIDLE Ps mean\tTHREADS")
	for _, p := range show {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%.1f\t%.0f\t%.1f\t%.0f-%.0f\n", round(p.start), round(p.end), seconds(p.Seconds), p.State, p.PerP.Mean, p.PerP.Max, p.Idle.Mean, p.Threads.Min, p.Threads.Max)
	}
	tw.Flush()
	if n := len(s.Phases) - len(show); n > 0 {
		fmt.Fprintf(w, "  (%d shorter phases not shown; --json lists all)\n", n)
	}
}

func round(d time.Duration) time.Duration {
	if d >= time.Minute {
		return d.Round(time.Second)
	}
	return d.Round(100 * time.Millisecond)
}

// runqueuePerP is schedstats.Thresholds' default RunqueuePerP, the backlog
// per P the live detector also uses.
const runqueuePerP = 2.0
