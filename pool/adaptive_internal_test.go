package pool

import (
	"testing"
	"time"
)

// steadyInterval is one interval of a service whose tasks run for run
// whatever the concurrency (no queue inside it), at limit tasks in flight.
func steadyInterval(limit int, run time.Duration) *measured {
	tput := float64(limit) / run.Seconds()
	span := max(100*time.Millisecond, time.Duration(float64(adaptiveSamples)/tput*float64(time.Second)))
	n := int(tput * span.Seconds())
	m := &measured{span: int64(span), n: n, run: int64(n) * int64(run), nruns: min(n, adaptiveSamples)}
	for i := range m.nruns {
		m.runs[i] = int64(run)
	}
	return m
}

// TestAdaptiveSlowdownAtSmallLimit: a limit of 8 settled at a 15 ms run
// time whose dependency then slows to 55 ms sits between alpha and beta
// (about 5.8 tasks seemingly queued of 8), so no cut comes to prove the
// slowdown. The early probe must find it within a few intervals, not the
// 30 binding intervals (13 s here) of the ordinary probe.
func TestAdaptiveSlowdownAtSmallLimit(t *testing.T) {
	a := newAdaptive(AdaptiveOptions{Min: 2}, 64)
	ms := float64(time.Millisecond)
	a.limit, a.base, a.run, a.med, a.tput, a.peak, a.starting = 8, 15*ms, 15*ms, 15*ms, 8/0.015, 8/0.015, false
	var trace []int
	for i := range 15 {
		trace = append(trace, a.update(steadyInterval(int(a.limit), 55*time.Millisecond), true, 64))
		if a.limit >= 16 {
			t.Logf("limit %v: above 16 after %d intervals", trace, i+1)
			return
		}
	}
	t.Errorf("limit %v over 15 intervals of a fivefold slowdown; want it above 16 (31 tasks in flight are needed)", trace)
}
