package analyze

import (
	"errors"
	"fmt"
	"io"

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
	Verdict    string  `json:"verdict"`
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
	if env.JSON {
		return env.PrintJSON(s)
	}
	printSched(env, s)
	return nil
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
	for i, r := range recs {
		run := r.RunQueue
		for _, q := range r.LocalRunQueues {
			run += q
		}
		perP := float64(run) / float64(max(r.GOMAXPROCS, 1))
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
	s.Verdict = verdict(s)
	return s
}

func verdict(s SchedSummary) string {
	switch {
	case s.Backlog >= 50:
		return fmt.Sprintf("run-queue backlog: runnable goroutines per P above %.0f in %.0f%% of the records (mean %.1f, max %.1f); the process needs more CPU than GOMAXPROCS=%d gives it", s.Threshold, s.Backlog, s.PerP.Mean, s.PerP.Max, s.GOMAXPROCS)
	case s.Threads.Max >= 2*s.Threads.Min && s.Threads.Max-s.Threads.Min >= 20:
		return fmt.Sprintf("thread growth: threads went from %.0f to %.0f; look for blocking syscalls or cgo calls", s.Threads.Min, s.Threads.Max)
	case s.Backlog > 0:
		return fmt.Sprintf("occasional backlog: runnable per P above %.0f in %.0f%% of the records", s.Threshold, s.Backlog)
	}
	return "no run-queue backlog"
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
	if s.Malformed > 0 {
		fmt.Fprintf(w, "%d malformed lines skipped\n", s.Malformed)
	}
	fmt.Fprintf(w, "verdict: %s\n", s.Verdict)
}

// runqueuePerP is schedstats.Thresholds' default RunqueuePerP, the backlog
// per P the live detector also uses.
const runqueuePerP = 2.0
