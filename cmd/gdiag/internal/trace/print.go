package tracecmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// show writes s as text, or as JSON with --json.
func show(env *cli.Env, s Summary) error {
	if env.JSON {
		return env.PrintJSON(s)
	}
	w := env.Stdout
	what := "trace"
	switch {
	case s.Flight:
		what = "flight recorder trace of " + s.Target
	case s.Target != "":
		what = "trace of " + s.Target
	case s.File != "":
		what = s.File
	}
	fmt.Fprintf(w, "%s: %v, %d events, %d goroutines\n", what, dur(s.DurationNanos), s.Events, s.Goroutines)
	if s.Saved != "" {
		fmt.Fprintf(w, "saved to %s (go tool trace %s)\n", s.Saved, s.Saved)
	}
	l := s.SchedLatency
	fmt.Fprintf(w, "\nscheduling latency (runnable to running, %d times): p50 %v  p90 %v  p99 %v  max %v\n",
		l.Count, dur(l.P50), dur(l.P90), dur(l.P99), dur(l.Max))
	printWaits(env, s)
	g := s.GC
	fmt.Fprintf(w, "\nGC: %d mark phases, longest %v, mark assist %v; stop-the-world: %d pauses, longest %v, total %v\n",
		g.Cycles, dur(g.LongestNanos), dur(g.AssistNanos), g.STW, dur(g.STWLongestNanos), dur(g.STWTotalNanos))
	printSTW(env, s)
	if len(s.TopRunnable) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\ngoroutines by time runnable (ready, waiting for a CPU), by start function:")
	tw := env.Table()
	fmt.Fprintln(tw, "  RUNNABLE\tGOROUTINES\tMAX LATENCY\tSTART FUNCTION")
	for _, gr := range s.TopRunnable {
		fmt.Fprintf(tw, "  %v\t%d\t%v\t%s\n", dur(gr.RunnableNanos), gr.Goroutines, dur(gr.MaxLatency), gr.Function)
	}
	return tw.Flush()
}

func printWaits(env *cli.Env, s Summary) {
	w := env.Stdout
	if len(s.Waits) == 0 {
		fmt.Fprintln(w, "\nno goroutine waited during the trace")
		return
	}
	var total int64
	for _, wt := range s.Waits {
		total += wt.TotalNanos
	}
	fmt.Fprintln(w, "\ntime waiting, summed over goroutines:")
	tw := env.Table()
	fmt.Fprintln(tw, "  TIME\tSHARE\tWAITS\tCATEGORY\tREASONS")
	for _, wt := range s.Waits {
		share := 0.0
		if total > 0 {
			share = float64(wt.TotalNanos) / float64(total) * 100
		}
		reasons := wt.Reasons
		if len(reasons) > 3 {
			reasons = append(reasons[:3:3], "...")
		}
		fmt.Fprintf(tw, "  %v\t%.1f%%\t%d\t%s\t%s\n", dur(wt.TotalNanos), share, wt.Count, wt.Category, strings.Join(reasons, ", "))
	}
	tw.Flush()
	if b := s.BeforeTrace; b.Waits > 0 {
		fmt.Fprintf(w, "  %d waits were under way when the trace began: named from the trace's stacks %d, from goroutine dumps %d, the runtime's own (in no dump) %d, unknown %d\n",
			b.Waits, b.FromStack, b.FromDump, b.Runtime, b.Unknown)
	}
}

// dur rounds a duration in nanoseconds to three significant figures or so.
func dur(ns int64) time.Duration {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	case d >= time.Microsecond:
		return d.Round(100 * time.Nanosecond)
	}
	return d
}
