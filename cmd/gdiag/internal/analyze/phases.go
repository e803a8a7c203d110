package analyze

import (
	"cmp"
	"slices"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// Phase is a stretch of a schedtrace log in one state, so that thirty
// seconds of saturation in an hour-long log read as such rather than
// vanish in the log's averages.
type Phase struct {
	// State is "backlog" (runnable goroutines per P above the threshold:
	// the process wanted more CPU than it had), "busy" (every P running,
	// no backlog) or "spare" (some P idle).
	State   string  `json:"state"`
	Start   string  `json:"start"`   // uptime of the phase's first record, a Go duration
	End     string  `json:"end"`     // uptime of the next phase's first record, or of the last record
	Seconds float64 `json:"seconds"` // End minus Start
	Records int     `json:"records"`
	PerP    MinMax  `json:"runnablePerP"`
	Idle    MinMax  `json:"idleProcs"`
	Threads MinMax  `json:"threads"`

	start, end time.Duration
}

// Phase states.
const (
	stateBacklog = "backlog"
	stateBusy    = "busy"
	stateSpare   = "spare"
)

// smoothing is the window, in records, over which a record's state is the
// most common one: a single record over the threshold is a blip, not a
// phase. minPhase is the fewest records a phase has; shorter runs join
// the phase before them.
const (
	smoothing = 5
	minPhase  = 3
)

// state classifies one record.
func state(r schedstats.TraceRecord, perP, th float64) string {
	switch {
	case perP > th:
		return stateBacklog
	case r.IdleProcs == 0:
		return stateBusy
	}
	return stateSpare
}

// phases splits recs into phases: each record takes the most common state
// in a window of smoothing records around it (its own on a tie), runs of
// one state are phases, and runs shorter than minPhase join the one
// before (the first joins the next).
func phases(recs []schedstats.TraceRecord, perP []float64, th float64) []Phase {
	raw := make([]string, len(recs))
	for i, r := range recs {
		raw[i] = state(r, perP[i], th)
	}
	smooth := make([]string, len(recs))
	for i := range recs {
		count := map[string]int{}
		best := raw[i]
		for j := max(0, i-smoothing/2); j <= min(len(recs)-1, i+smoothing/2); j++ {
			count[raw[j]]++
			if count[raw[j]] > count[best] {
				best = raw[j]
			}
		}
		smooth[i] = best
	}
	// Runs of one state, as [first, last] record indexes.
	type run struct {
		state       string
		first, last int
	}
	var runs []run
	for i, s := range smooth {
		if n := len(runs); n > 0 && runs[n-1].state == s {
			runs[n-1].last = i
			continue
		}
		runs = append(runs, run{s, i, i})
	}
	var merged []run
	for _, r := range runs {
		n := len(merged)
		switch {
		case n > 0 && (r.last-r.first+1 < minPhase || merged[n-1].state == r.state):
			merged[n-1].last = r.last
		case n == 1 && merged[0].last-merged[0].first+1 < minPhase:
			merged[0] = run{r.state, merged[0].first, r.last}
		default:
			merged = append(merged, r)
		}
	}
	out := make([]Phase, 0, len(merged))
	for i, r := range merged {
		p := Phase{State: r.state, Records: r.last - r.first + 1, start: recs[r.first].Uptime, end: recs[r.last].Uptime}
		if i+1 < len(merged) {
			p.end = recs[merged[i+1].first].Uptime
		}
		for k := r.first; k <= r.last; k++ {
			n := k - r.first
			p.PerP.add(perP[k], n)
			p.Idle.add(float64(recs[k].IdleProcs), n)
			p.Threads.add(float64(recs[k].Threads), n)
		}
		p.Start, p.End, p.Seconds = p.start.String(), p.end.String(), (p.end - p.start).Seconds()
		out = append(out, p)
	}
	return out
}

// maxPrinted is how many phases the text output lists; --json has all.
const maxPrinted = 20

// printed picks the phases to list: all when they are few, else the
// backlog phases and then the longest, up to maxPrinted, in time order.
func printed(ps []Phase) []Phase {
	if len(ps) <= maxPrinted {
		return ps
	}
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if ba, bb := ps[a].State == stateBacklog, ps[b].State == stateBacklog; ba != bb {
			if ba {
				return -1
			}
			return 1
		}
		return cmp.Compare(ps[b].Seconds, ps[a].Seconds)
	})
	idx = idx[:maxPrinted]
	slices.Sort(idx)
	out := make([]Phase, len(idx))
	for i, k := range idx {
		out[i] = ps[k]
	}
	return out
}
