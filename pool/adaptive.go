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
	// Interval is how often the limit may move (default 100 ms). An
	// interval lasts until at least 32 tasks have ended in it, and at most
	// ten Intervals. New panics if it is negative.
	Interval time.Duration
}

// WithAdaptiveLimit lets the number of workers allowed to run tasks (the
// limit, Stats.Limit) move between o.Min and the maximum number of workers
// from what the pool measures, so that when the work slows down because
// the service is saturated the pool stops adding concurrency that only
// adds latency, and grows back when it recovers. The algorithm is in the
// package documentation ("Adaptive limit"). Every task is timed (the
// controller needs each run time), which costs about two clock reads per
// task.
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
	adaptiveWarmup  = 4    // intervals before the smoothed run time may set the baseline by being low
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
	updates  int     // intervals measured, up to adaptiveWarmup
	starting bool    // growing fast after a slowdown, until something queues
}

func newAdaptive(o AdaptiveOptions, maxWorkers int) *adaptive {
	iv := o.Interval
	if iv == 0 {
		iv = 100 * time.Millisecond
	}
	return &adaptive{min: max(o.Min, 1), interval: int64(iv), limit: float64(maxWorkers)}
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
	if a.updates < adaptiveWarmup {
		// The first medians are noisy and the smoothing has not settled:
		// a baseline taken from one of them would stay too low for good.
		a.updates++
		a.base = a.run
	} else if a.run < a.base {
		a.base = a.run
	}
	if a.cutFrom > 0 && a.limit <= adaptiveProof*a.cutFrom && run2 >= adaptiveGain*a.cutRun && tput2 <= adaptiveLoss*a.cutTput {
		// A quarter less concurrency cost throughput and did not shorten
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
	switch {
	case queue > beta:
		a.starting = false
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
		a.starting = false
	case a.starting && queue < alpha:
		// After a slowdown the cuts left the limit far below what the
		// demand needs at the new run time: grow fast, as TCP's slow
		// start does, until the service queues.
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
