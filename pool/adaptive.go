package pool

import (
	"math"
	"time"
)

// AdaptiveOptions configures WithAdaptiveLimit. The zero value of each
// field is its default.
type AdaptiveOptions struct {
	// Min is the lowest the limit goes (default 1). New panics if it is
	// negative or above the maximum number of workers.
	Min int
	// Interval is how often the limit may move (default 100 ms). The
	// limit moves once at least 64 tasks (16 while it grows fast) have
	// ended since it last moved and an Interval has passed, or after ten
	// Intervals with at least 4.
	// New panics if it is negative.
	Interval time.Duration
}

// WithAdaptiveLimit lets the number of workers allowed to run tasks (the
// limit, Stats.Limit) move between o.Min and the maximum number of workers
// from what the pool measures, so that when the service the tasks use is
// saturated the pool stops adding concurrency that only adds latency, and
// grows back when it recovers. The limit starts at 4 (or o.Min) and grows
// fast while nothing queues. The algorithm, its parameters and the
// reasons for them are in the package documentation ("Adaptive limit").
// It is meant to be used with WithShedding: tasks the limit holds back
// wait in the queue, and shedding keeps that wait short. Every task is
// timed (the controller needs each run time), which costs about two clock
// reads and a short lock per task.
func WithAdaptiveLimit(o AdaptiveOptions) Option {
	return func(c *config) { c.adaptive = &o }
}

// Tuning of the adaptive limit; the package documentation gives the
// reasoning.
const (
	adaptiveSamples = 64   // run times an interval needs before it may close
	adaptiveGrow    = 1.1  // multiplicative increase while the service does not queue
	adaptiveCut     = 0.9  // multiplicative decrease while it does
	adaptiveSmooth  = 0.25 // weight of the newest interval's median run time
	adaptiveProof   = 0.8  // a series of cuts down to this share of the limit ...
	adaptiveGain    = 0.9  // ... that left the run time above this share of what it was ...
	adaptiveLoss    = 0.85 // ... and the throughput below this share proves a slowdown
	adaptiveProbe   = 30   // intervals of a binding limit without a cut before a probing cut
	adaptiveProbeHi = 5    // the same while the run time is adaptiveRise times the baseline
	adaptiveRise    = 3.0  // a run time this far above the baseline, the limit holding: maybe a slowdown
	adaptiveStart   = 4    // the first limit (at least Min)
)

// adaptive is the controller behind WithAdaptiveLimit. Its state is guarded
// by p.mu: it moves in Pool.tick and is read by Resize and Stats.
type adaptive struct {
	min      int
	interval int64   // ns
	limit    float64 // the limit, before rounding down
	run      float64 // smoothed median run time, ns
	base     float64 // the run time of a task that does not queue inside the service, ns
	med      float64 // the last interval's median run time, ns
	tput     float64 // the last interval's throughput, tasks per second
	peak     float64 // recent throughput at its best: the highest of the last two intervals', decaying 10% an interval
	cutFrom  float64 // the limit before the current series of cuts; 0 outside one
	cutRun   float64 // the run time then (the last two intervals' medians)
	cutTput  float64 // the recent peak throughput then
	starting bool    // growing fast after a slowdown, until something queues
	calm     int     // intervals since the limit was last cut while it bound
}

func newAdaptive(o AdaptiveOptions, maxWorkers int) *adaptive {
	iv := o.Interval
	if iv == 0 {
		iv = 100 * time.Millisecond
	}
	// Start low and grow fast, as TCP's slow start does: the first run
	// times then come from a service that does not queue, the baseline the
	// controller needs. Starting at the maximum under load would take a
	// queued run time for the baseline.
	return &adaptive{min: max(o.Min, 1), interval: int64(iv), limit: float64(min(max(o.Min, adaptiveStart), maxWorkers)), starting: true}
}

// samples returns how many run times the next interval needs: a quarter
// of the usual while the limit grows fast, so that a slow start takes a few
// hundred tasks rather than a few thousand. Guarded by p.mu.
func (a *adaptive) samples() int {
	if a.starting {
		return adaptiveSamples / 4
	}
	return adaptiveSamples
}

// bound clamps the limit to [min, ceil] and returns it as a worker count.
func (a *adaptive) bound(ceil int) int {
	a.limit = min(max(a.limit, float64(a.min)), float64(ceil))
	return int(a.limit)
}

// update moves the limit from one interval's measurements and returns the
// new limit. binding says whether the limit held tasks back at the end of
// the interval (tasks waited beyond the spare workers, or every allowed
// worker was busy).
//
// The model is TCP Vegas's (and Netflix concurrency-limits' Vegas limit),
// on task run time instead of round-trip time: with a mean concurrency N
// and a run time R against the run time B of a task that finds no queue
// inside the service, N·(1 − B/R) tasks are queued inside the service
// (waiting for a CPU, a connection, a lock) rather than being served. The
// limit grows while that queue is small and shrinks when it is large, so
// the service runs just past its knee: saturated, with a short queue of
// its own. The package documentation gives the rules and the reasons.
func (a *adaptive) update(m *measured, binding bool, ceil int) int {
	med, ok := m.median()
	if !ok || m.span <= 0 {
		return a.bound(ceil) // too few run times to tell
	}
	conc := float64(m.run) / float64(m.span) // Little's law: throughput × run time
	tput := float64(m.n) * 1e9 / float64(m.span)
	run2, tput2 := med, tput // the last two intervals', unsmoothed, for the slowdown test
	if a.med > 0 {
		run2, tput2 = (med+a.med)/2, (tput+a.tput)/2
	}
	a.med, a.tput = med, tput
	a.peak = max(tput2, a.peak*0.9)
	if a.run == 0 {
		a.run = med
	} else {
		a.run += adaptiveSmooth * (med - a.run)
	}
	if a.base == 0 || a.run < a.base {
		// The lowest smoothed run time seen: the minimum of a noisy
		// series sits below its level, and a baseline too low shows
		// queueing that is not there, in proportion to the concurrency.
		// A baseline too high hides queueing; the probing cuts below
		// bring it down.
		a.base = a.run
	}
	if a.cutFrom > 0 && a.limit <= adaptiveProof*a.cutFrom && run2 >= adaptiveGain*a.cutRun && tput2 <= adaptiveLoss*a.cutTput {
		// A fifth less concurrency cost throughput and did not shorten
		// the run time: the tasks themselves got slower (a slower
		// dependency, bigger requests), they do not queue behind each
		// other, or the cut would have shortened the run time and kept the
		// throughput. That run time is the new baseline, or the limit
		// would keep shrinking for a slowdown that fewer workers cannot
		// cure. Both figures are unsmoothed, so that the test does not see
		// a run time still rising to its level as one that did not fall.
		a.base, a.run, a.cutFrom, a.starting = run2, run2, 0, true
	}
	lg := math.Log10(max(a.limit, 10))
	alpha, beta := 3*lg, 6*lg // Vegas's thresholds in tasks, as in concurrency-limits
	queue := conc * (1 - a.base/a.run)
	if binding && queue <= beta {
		a.calm++
	}
	probe := adaptiveProbe
	if a.run >= adaptiveRise*a.base {
		// Two thirds of the running tasks would be queued inside the
		// service, yet the limit holds: at a small limit beta is a few
		// tasks. A slowdown looks just like that; probe it soon.
		probe = adaptiveProbeHi
	}
	switch {
	case binding && a.calm >= probe:
		// A baseline taken while the service already queued (a run
		// time mistaken for a slowdown) hides the queue it measures. Now
		// and then cut by a quarter, as BBR drains its queue to see the
		// true round-trip time: if the run time falls, the lower one
		// becomes the baseline; if it does not and the throughput falls,
		// the slowdown rule above restores the limit within a few
		// intervals.
		a.calm, a.starting = 0, false
		if a.cutFrom == 0 {
			a.cutFrom, a.cutRun, a.cutTput = a.limit, run2, a.peak
		}
		a.limit *= 0.75
		return a.bound(ceil)
	case queue > beta:
		a.calm, a.starting = 0, false
		if a.cutFrom == 0 {
			a.cutFrom, a.cutRun, a.cutTput = a.limit, run2, a.peak
		}
		// Down to the concurrency that would leave beta tasks queued in
		// the service (what the service runs without queueing, plus
		// beta), by at least adaptiveCut and at most half: one step from
		// far above the knee, small steps near it.
		a.limit = max(min(conc*a.base/a.run+beta, a.limit*adaptiveCut), a.limit/2)
		return a.bound(ceil)
	case !binding:
		// The demand, not the limit, set the concurrency: keep the limit
		// within reach of it (twice the mean, so that bursts pass) rather
		// than let it float at the maximum, from where a sudden overload
		// would take many intervals to come down.
		a.limit = min(a.limit, 2*conc+1)
	case a.starting && queue < alpha:
		// At the start, and after a slowdown whose cuts left the limit
		// far below what the demand needs at the new run time: grow
		// fast, as TCP's slow start does, until the service queues.
		a.limit *= 2
	case queue < alpha:
		a.limit = max(a.limit*adaptiveGrow, a.limit+1)
	default:
		a.starting = false
		return a.bound(ceil) // a hold does not end a series of cuts
	}
	a.cutFrom = 0
	return a.bound(ceil)
}
