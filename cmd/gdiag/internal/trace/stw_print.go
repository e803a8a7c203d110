package tracecmd

import (
	"fmt"
	"strings"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/gdump"
)

// printSTW lists the longest stop-the-world pauses of a summary, each with
// its time to stop and the goroutine the world waited for.
func printSTW(env *cli.Env, s Summary) {
	if len(s.LongestSTW) == 0 {
		return
	}
	w := env.Stdout
	fmt.Fprintln(w, "\nlongest stop-the-world pauses (TO STOP: until every running goroutine stopped; the world waited for the goroutine named):")
	tw := env.Table()
	fmt.Fprintln(tw, "  TOTAL\tTO STOP\tAT\tREASON\tWAITED FOR")
	for _, e := range s.LongestSTW {
		total := dur(e.TotalNanos).String()
		if e.Partial {
			total = "≥" + total
		}
		fmt.Fprintf(tw, "  %s\t%v\t+%v\t%s\t%s\n", total, dur(e.StoppingNanos), dur(e.StartNanos), e.Reason, delayerText(e))
	}
	tw.Flush()
}

// delayerText describes the goroutine a pause waited for: "goroutine 25
// (main.worker) in main.spin, preempted; 12 CPU samples while the world
// waited".
func delayerText(e STWEvent) string {
	d := e.Delayer
	if d == nil {
		return "nothing: no other goroutine was running"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "goroutine %d", d.Goroutine)
	// A start function of the standard library (sync.(*WaitGroup).Go's,
	// net/http's) says little; the program's own says what the goroutine is.
	if d.StartFunction != "" && d.StartFunction != d.Function && !(gdump.Frame{Func: d.StartFunction}).IsStd() {
		fmt.Fprintf(&b, " (%s)", d.StartFunction)
	}
	if d.Function != "" {
		fmt.Fprintf(&b, " in %s", d.Function)
		if d.FunctionFrom == "samples of the goroutine" {
			b.WriteString(" (where its CPU samples fall)")
		}
	}
	fmt.Fprintf(&b, ", %s", d.StoppedAs)
	switch {
	case d.Samples > 0:
		fmt.Fprintf(&b, "; %d CPU samples while the world waited", d.Samples)
	case d.Samples == 0:
		b.WriteString("; off CPU while the world waited (descheduled?)")
	}
	return b.String()
}
