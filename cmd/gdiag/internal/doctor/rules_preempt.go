package doctor

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	tracecmd "github.com/gdiag/gdiag/cmd/gdiag/internal/trace"
	"github.com/gdiag/gdiag/schedstats"
)

// onCPUSamples is how many CPU samples of the goroutine the world waited
// for, during the wait, show that it was running (about one per 10ms of
// CPU): one alone may be the moment its thread came back on a CPU.
const onCPUSamples = 2

// stopping is what the histograms say of the time to stop the world over
// the window.
type stopping struct {
	known       bool    // the history has stopping times
	long        int     // pauses whose time to stop certainly exceeded the limit
	longPauses  int     // pauses that certainly exceeded the limit
	worstLo     float64 // the longest time to stop: lower bound,
	worstHi     float64 // and upper bound of its bucket
	trend       []float64
	pauseWorstH float64
}

// stoppingTimes reads the time to stop the world from the history's
// stopping histograms, counting as pauseEvidence does: non-GC pauses of
// the first intervals, which may be doctor's own, are left out.
func stoppingTimes(h []schedstats.Snapshot, limit float64) stopping {
	var s stopping
	for i := 1; i < len(h); i++ {
		d := schedstats.Diff(h[i-1], h[i])
		own := i <= ownPauseIntervals && len(h) > ownPauseIntervals+2
		if d.GCStopping.Count()+d.OtherStopping.Count() > 0 || len(h[i].GCStopping.Counts) > 0 {
			s.known = true
		}
		lo, hi := longestPause(d.GCStopping)
		_, phi := longestPause(d.GCPauses)
		s.long += countAbove(d.GCStopping, limit)
		s.longPauses += countAbove(d.GCPauses, limit)
		if !own {
			olo, ohi := longestPause(d.OtherStopping)
			_, ophi := longestPause(d.OtherPauses)
			lo, hi, phi = math.Max(lo, olo), math.Max(hi, ohi), math.Max(phi, ophi)
			s.long += countAbove(d.OtherStopping, limit)
			s.longPauses += countAbove(d.OtherPauses, limit)
		}
		s.worstLo, s.worstHi = math.Max(s.worstLo, lo), math.Max(s.worstHi, hi)
		s.pauseWorstH = math.Max(s.pauseWorstH, phi)
		s.trend = append(s.trend, hi)
	}
	return s
}

// waitedFor sums, by function, the trace's long pauses whose time to
// stop exceeded limit, by what the goroutine the world waited for was
// doing: running on a CPU (its samples show it), off the CPU (the trace
// has samples, none of it), or unknown.
type waitedFor struct {
	onCPU, offCPU, unknown []tracecmd.STWEvent
}

func classify(evs []tracecmd.STWEvent, limit float64) waitedFor {
	var w waitedFor
	for _, e := range evs {
		if e.Delayer == nil || float64(e.StoppingNanos)/1e9 <= limit {
			continue
		}
		switch s := e.Delayer.Samples; {
		case s >= onCPUSamples:
			w.onCPU = append(w.onCPU, e)
		case s == 0:
			w.offCPU = append(w.offCPU, e)
		default:
			w.unknown = append(w.unknown, e)
		}
	}
	return w
}

// byFunction ranks the functions of the goroutines pauses waited for by
// the time the world spent stopping for them.
func byFunction(evs []tracecmd.STWEvent) []Func {
	sum := map[string]float64{}
	total := 0.0
	for _, e := range evs {
		secs := float64(e.StoppingNanos) / 1e9
		sum[e.Delayer.Function] += secs
		total += secs
	}
	out := topFuncs(sum, total, "seconds", topN)
	for i := range out {
		out[i].Name = cmp.Or(out[i].Name, "(unknown)")
	}
	return out
}

// preempt names a preemption delay: stop-the-world pauses dominated by
// the time to stop, the world waiting for a goroutine that kept running
// without reaching a safe point. The histograms say that the time to stop
// dominated (at least stwMinPauses stops over 50ms, at least half of the
// pauses over 50ms); a trace says which goroutine the world waited for and
// whether it was running (its CPU samples) or its thread was off the CPU,
// which a busy host, not the program, causes. Without a trace that shows
// it running, the finding needs asynchronous preemption known to be off.
// pprof targets have no histograms: for them the trace alone decides.
func (a *analysis) preempt() {
	o, limit := a.o, a.th.PauseMax.Seconds()
	p := o.Preemption
	if p == nil {
		p = &Preemption{}
	}
	var st stopping
	if len(o.History) >= 2 {
		st = stoppingTimes(o.History, limit)
	}
	w := classify(p.STW, limit)
	switch {
	case st.known:
		a.check("time to stop the world (stopping against total pause times)")
		if st.long < stwMinPauses || 2*st.long < st.longPauses {
			return
		}
	case p.STW != nil:
		a.check("time to stop the world (" + p.TraceFrom + ")")
		defer func() {
			if len(w.onCPU) > 0 && len(w.onCPU) < stwMinPauses {
				a.notChecked(fmt.Sprintf("preemption delay: %s showed %s waiting over %v for a goroutine that kept running, fewer than the %d the rule needs without stop-the-world histograms",
					p.TraceFrom, plural(len(w.onCPU), "pause"), a.th.PauseMax, stwMinPauses))
			}
		}()
		st.long, st.longPauses = len(w.onCPU)+len(w.offCPU)+len(w.unknown), len(longTotal(p.STW, limit))
		for _, e := range p.STW {
			if float64(e.StoppingNanos)/1e9 > limit {
				st.worstLo = math.Max(st.worstLo, float64(e.StoppingNanos)/1e9)
			}
		}
		st.worstHi = st.worstLo
		if len(w.onCPU) < stwMinPauses || 2*st.long < st.longPauses {
			return
		}
	default:
		a.notChecked("preemption delay: needs the agent's stop-the-world stopping times or an execution trace")
		return
	}
	off := p.AsyncPreemptOff != nil && *p.AsyncPreemptOff
	evs := w.onCPU
	switch {
	case len(w.onCPU) > 0:
	case off && len(w.unknown)+len(w.offCPU) > 0:
		evs = append(w.unknown, w.offCPU...)
	case off:
		evs = nil
	case len(w.offCPU) > 0:
		a.notChecked(fmt.Sprintf("preemption delay: the world took long to stop %d times, but the goroutines it waited for were off the CPU (no CPU samples): the host was busy, not a goroutine that would not yield", st.long))
		return
	default:
		a.notChecked(fmt.Sprintf("preemption delay: the world took long to stop %d times, but no trace with CPU samples showed what it waited for (%s)", st.long, cmp.Or(p.TraceFrom, "no trace")))
		return
	}
	a.add(a.preemptFinding(st, p, evs, off))
}

// longTotal returns the pauses of evs longer than limit.
func longTotal(evs []tracecmd.STWEvent, limit float64) []tracecmd.STWEvent {
	var out []tracecmd.STWEvent
	for _, e := range evs {
		if float64(e.TotalNanos)/1e9 > limit {
			out = append(out, e)
		}
	}
	return out
}

// howFound says how the trace named the function a goroutine ran.
var howFound = map[string]string{
	"samples during the stop":  "its CPU samples while the world waited",
	"samples of the goroutine": "where its CPU samples fall in the trace; none fell in the wait",
	"stack at the stop":        "its stack when it stopped, which is where it reached a safe point",
}

// preemptFinding builds the finding from the stopping times, the pauses
// of the trace that name the goroutine (evs), and the target's GODEBUG.
func (a *analysis) preemptFinding(st stopping, p *Preemption, evs []tracecmd.STWEvent, off bool) Finding {
	limit := a.th.PauseMax.Seconds()
	ev := []schedstats.Evidence{
		{Name: "stopping_max", Value: finite(st.worstHi), Unit: "seconds", AtMost: st.worstHi != st.worstLo, Trend: finiteAll(st.trend)},
		{Name: "long_stops", Value: float64(st.long), Unit: "pauses"},
		{Name: "long_pauses", Value: float64(st.longPauses), Unit: "pauses"},
	}
	if st.pauseWorstH > 0 {
		ev = append(ev, schedstats.Evidence{Name: "pause_max", Value: st.pauseWorstH, Unit: "seconds", AtMost: true})
	}
	if p.AsyncPreemptOff != nil {
		v := 0.0
		if off {
			v = 1
		}
		ev = append(ev, schedstats.Evidence{Name: "asyncpreemptoff", Value: v})
	}
	// A pause's stopping time and total time may land in two intervals,
	// so the counts can differ by one at the edges: never say fewer
	// pauses than stops.
	summary := fmt.Sprintf("Stopping the world took over %v %d times in the window (of %d pauses over %v): every goroutine waited while one kept running without reaching a safe point.",
		a.th.PauseMax, st.long, max(st.long, st.longPauses), a.th.PauseMax)
	title := "Preemption delay: stopping the world took up to at least " + atLeast(st.worstLo, time.Millisecond).String()
	var funcs []Func
	var stacks []Stack
	name := ""
	if len(evs) > 0 {
		funcs = byFunction(evs)
		name = funcs[0].Name
		named := slices.DeleteFunc(slices.Clone(evs), func(e tracecmd.STWEvent) bool { return e.Delayer.Function != name })
		top := slices.MaxFunc(named, func(x, y tracecmd.STWEvent) int { return cmp.Compare(x.StoppingNanos, y.StoppingNanos) })
		how := cmp.Or(howFound[top.Delayer.FunctionFrom], "the trace")
		longest := math.Max(st.worstLo, float64(slices.MaxFunc(evs, func(x, y tracecmd.STWEvent) int { return cmp.Compare(x.StoppingNanos, y.StoppingNanos) }).StoppingNanos)/1e9)
		title = fmt.Sprintf("Preemption delay: the world waited for %s, up to at least %v", name, atLeast(longest, time.Millisecond))
		summary += fmt.Sprintf(" In %s, %s waited for goroutine %d running %s (from %s).", p.TraceFrom, plural(len(evs), "pause"), top.Delayer.Goroutine, name, how)
		frames := top.Delayer.SampleStack
		if len(frames) == 0 {
			frames = top.Delayer.Stack
		}
		stacks = []Stack{{Count: goroutines(evs, name), State: fmt.Sprintf("running while the world waited, %d pauses", len(evs)), Frames: frames}}
		ev = append(ev, schedstats.Evidence{Name: "trace_stopping_max", Value: float64(top.StoppingNanos) / 1e9, Unit: "seconds"})
	}
	if c := a.o.CPU; c != nil && c.Seconds > 0 {
		switch i := slices.IndexFunc(c.Top, func(fn Func) bool { return fn.Name == name }); {
		case name != "" && i >= 0:
			ev = append(ev, schedstats.Evidence{Name: "cpu_profile_share", Value: c.Top[i].Percent / 100, Unit: "fraction"})
			summary += fmt.Sprintf(" It has %.0f%% of the CPU profile's samples.", c.Top[i].Percent)
		case name == "" && len(c.App) > 0:
			funcs = c.App
			summary += fmt.Sprintf(" No trace named the goroutine; the CPU profile's hottest function, %s (%.0f%%), is a likely one.", c.App[0].Name, c.App[0].Percent)
		}
	}
	switch {
	case off:
		summary += fmt.Sprintf(" Asynchronous preemption is off in the target (GODEBUG asyncpreemptoff, from %s): a goroutine stops only at a function call.", p.GODEBUGFrom)
		summary += " Split the loop into shorter pieces, add a function call inside it, or drop asyncpreemptoff."
	case p.AsyncPreemptOff != nil:
		summary += fmt.Sprintf(" Asynchronous preemption is on (from %s), so the goroutine was in code that cannot be preempted, such as a long copy or a runtime call on a large input.", p.GODEBUGFrom)
		summary += " Split that work into smaller pieces."
	default:
		summary += " Whether asynchronous preemption is off in the target could not be read (GODEBUG asyncpreemptoff)."
		summary += " Split the loop into shorter pieces or add a function call inside it; if GODEBUG has asyncpreemptoff=1, drop it."
	}
	sev, score := grade(st.worstLo, limit)
	next := []string{"gdiag sched " + a.target, "gdiag trace " + a.target + " --duration 5s"}
	if len(funcs) > 0 {
		next = append(next, "gdiag profile cpu "+a.target+" --duration 10s")
	}
	return Finding{Finding: schedstats.Finding{Cause: schedstats.CausePreemptionDelay, Severity: sev, Evidence: ev, Summary: summary},
		Score: score, Title: title, Functions: funcs, Stacks: stacks, Next: next}
}

// stwShare is the sentence the stw-pauses finding adds about which part
// of the pauses dominated, from the history's stopping histograms.
func stwShare(h []schedstats.Snapshot, worst float64) string {
	if len(h) < 2 {
		return ""
	}
	first, last := h[0], h[len(h)-1]
	stop := last.GCStopping.Sub(first.GCStopping)
	other := last.OtherStopping.Sub(first.OtherStopping)
	// The stopping times of both kinds, in one histogram when the layouts
	// agree, which the runtime's do.
	if len(other.Counts) == len(stop.Counts) && slices.Equal(other.Bounds, stop.Bounds) {
		for i, c := range other.Counts {
			stop.Counts[i] += c
		}
	}
	s := schedstats.StoppingShare(worst, stop)
	if s == "" {
		return ""
	}
	return " " + strings.ToUpper(s[:1]) + s[1:] + "."
}

// goroutines counts the distinct goroutines running fn that evs waited for.
func goroutines(evs []tracecmd.STWEvent, fn string) int {
	seen := map[int64]bool{}
	for _, e := range evs {
		if e.Delayer.Function == fn {
			seen[e.Delayer.Goroutine] = true
		}
	}
	return len(seen)
}

// explainPreemption ranks CPU saturation below a preemption delay when
// the process kept fewer than half its Ps busy: goroutines then queued
// runnable, and waited long to run, not for want of CPU but because the
// world was stopping, or a P was held, for a goroutine that would not
// yield.
func (a *analysis) explainPreemption() {
	delay, cpu := a.finding(schedstats.CausePreemptionDelay), a.finding(schedstats.CauseCPUSaturation)
	c := a.o.CPU
	if delay == nil || cpu == nil || c == nil || c.Duration <= 0 || a.o.GOMAXPROCS <= 0 ||
		c.Seconds/c.Duration.Seconds() >= cpuMinBusy*float64(a.o.GOMAXPROCS) {
		return
	}
	demote(cpu, *delay)
}

// delayOverStarved ranks a preemption delay above cpu-starved of the same
// severity when the trace shows the goroutine the world waited for
// running (CPU samples while it waited): that goroutine had a CPU and did
// not yield, so the delay is the program's, whatever the host's load.
// Both findings stay, without a note: starvation is true as well.
func (a *analysis) delayOverStarved() {
	delay, starved := a.finding(schedstats.CausePreemptionDelay), a.finding(schedstats.CauseCPUStarved)
	if delay == nil || starved == nil || starved.Severity != delay.Severity || starved.Score < delay.Score || !delayerRan(a.o.Preemption) {
		return
	}
	starved.Score = scoreBelow(*delay)
}

// delayerRan reports whether the trace shows a goroutine the world waited
// for that was running while it waited.
func delayerRan(p *Preemption) bool {
	return p != nil && slices.ContainsFunc(p.STW, func(e tracecmd.STWEvent) bool {
		return e.Delayer != nil && e.Delayer.Samples > 0
	})
}

// plural writes "1 pause", "2 pauses".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// stwTraceNote is the sentence the stw-pauses finding adds from a trace:
// the longest pause that waited over limit to stop, and the goroutine it
// waited for; "" when the trace has none.
func stwTraceNote(p *Preemption, limit float64) string {
	if p == nil {
		return ""
	}
	for _, e := range p.STW { // longest first
		if d := e.Delayer; d != nil && float64(e.StoppingNanos)/1e9 > limit {
			state := "running"
			if d.Samples == 0 {
				state = "off the CPU"
			}
			return fmt.Sprintf(" In %s, a %v pause (%s) took %v to stop, waiting for goroutine %d %s %s.", p.TraceFrom,
				time.Duration(e.TotalNanos).Round(time.Millisecond), e.Reason, time.Duration(e.StoppingNanos).Round(time.Millisecond), d.Goroutine, state, d.Function)
		}
	}
	return ""
}
