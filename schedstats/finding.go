package schedstats

import (
	"fmt"
	"time"
)

// Severity ranks a Finding. It encodes in JSON as "info", "warning" or
// "critical"; the zero value is Info.
type Severity uint8

// The severities, least severe first.
const (
	Info Severity = iota
	Warning
	Critical
)

// String returns "info", "warning" or "critical".
func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Critical:
		return "critical"
	}
	return "info"
}

// MarshalText encodes the severity as its String form.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity from its String form.
func (s *Severity) UnmarshalText(b []byte) error {
	for c := Info; c <= Critical; c++ {
		if c.String() == string(b) {
			*s = c
			return nil
		}
	}
	return fmt.Errorf("schedstats: unknown severity %q", b)
}

// The causes a Finding names, one name per cause. Detect reports the
// first five; gdiag doctor, which also reads profiles, censuses, pools and
// the kernel's figures, adds the others. The three goroutine-leak causes
// differ in their proof: goroutine-leak is a count that grew steadily,
// goroutine-leak-static a crowd parked on one stack for minutes, and
// goroutine-leak-proven the runtime's own proof. More may be added; a name never changes meaning.
const (
	CauseRunqueueBacklog = "runqueue-backlog"
	CauseSchedLatency    = "sched-latency"
	CauseGoroutineLeak   = "goroutine-leak"
	CauseThreadGrowth    = "thread-growth"
	CauseSTWPauses       = "stw-pauses"
	CauseCPUSaturation   = "cpu-saturation"
	CauseMutexContention = "mutex-contention"
	CauseGCPressure      = "gc-pressure"
	CausePoolOverload    = "pool-overload"
	// CauseCPUStarved: the process wanted CPU the kernel did not give it
	// (its cgroup quota throttled it, or its threads waited runnable
	// behind other processes).
	CauseCPUStarved = "cpu-starved"
	// CauseLeakProven: goroutines the garbage collector found blocked
	// forever on primitives nothing can reach (the goroutineleak profile).
	CauseLeakProven = "goroutine-leak-proven"
	// CauseLeakStatic: many goroutines parked in the same non-IO wait on
	// the same stack for minutes, growing or not: a suspected leak.
	CauseLeakStatic = "goroutine-leak-static"
	// CauseConnectionGrowth: goroutines grew with the process's open
	// connections: load, not a leak.
	CauseConnectionGrowth = "connection-growth"
	// CausePreemptionDelay: stop-the-world pauses dominated by the time
	// to stop, because a goroutine did not reach a safe point.
	CausePreemptionDelay = "preemption-delay"
	// CauseLockStall: goroutines have waited minutes for a sync.Mutex or
	// sync.RWMutex that no waiter got: a deadlock, or a holder that never
	// returns.
	CauseLockStall = "lock-stall"
)

// The causes gdiag doctor names from a pool's overload controls.
const (
	// CausePoolShedding: a pool refused most of the work offered to it
	// because its queue stood (pool.WithShedding).
	CausePoolShedding = "pool-shedding"
	// CausePoolBreaker: a pool's breaker, or a task key's, kept opening
	// (pool.WithBreaker).
	CausePoolBreaker = "pool-breaker"
)

// Finding is one problem seen in a process, with the figures that support
// it: what Detect reports, what the agent serves at /v1/findings, and the
// core of each finding of gdiag doctor.
type Finding struct {
	Cause    string     `json:"cause"` // one of the Cause constants
	Severity Severity   `json:"severity"`
	Summary  string     `json:"summary"` // one or two sentences, for people
	Evidence []Evidence `json:"evidence"`
	Since    time.Time  `json:"since,omitzero"` // first snapshot that shows the problem; zero when unknown
	Until    time.Time  `json:"until,omitzero"` // last snapshot that shows the problem; zero when unknown
}

// Evidence is one figure behind a Finding. Trend, when present, is the
// series the figure was computed from, oldest first.
type Evidence struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"` // "seconds", "goroutines", ...; empty for a pure number
	// AtMost says that Value is an upper bound of the figure, not the
	// figure itself: a histogram quantile or maximum, by the rule of
	// Histogram.Quantile. gdiag prints it as "≤4.2s".
	AtMost bool      `json:"atMost,omitempty"`
	Trend  []float64 `json:"trend,omitempty"` // for an AtMost figure, upper bounds too
}

// Thresholds tunes Detect. Each zero field takes the default shown, so the
// zero value is the default configuration.
type Thresholds struct {
	// RunqueuePerP is the run-queue backlog per P above which a sample
	// counts as backlogged (default 2).
	RunqueuePerP float64
	// RunqueueSamples is how many consecutive backlogged samples make a
	// finding (default 5).
	RunqueueSamples int
	// SchedLatencyP99 is the windowed p99 scheduling latency above which
	// a finding is made (default 10ms).
	SchedLatencyP99 time.Duration
	// SchedLatencyMinEvents is the fewest scheduling events in the window
	// for the p99 to be trusted (default 100).
	SchedLatencyMinEvents uint64
	// LeakMinSamples is the shortest history examined for a leak (default 10).
	LeakMinSamples int
	// LeakMinGrowth and LeakMinRatio set the growth a leak needs: at least
	// max(LeakMinGrowth, LeakMinRatio × first count) goroutines
	// (defaults 100 and 0.5).
	LeakMinGrowth int
	LeakMinRatio  float64
	// LeakMinR2 is the least coefficient of determination of the straight
	// line fitted to the goroutine counts (default 0.8).
	LeakMinR2 float64
	// ThreadGrowth is the rise in threads over the window that makes a
	// finding (default 50), provided the final count also exceeds
	// 2×GOMAXPROCS + ThreadSlack (default 16).
	ThreadGrowth int
	ThreadSlack  int
	// PauseMax is the stop-the-world pause above which a finding is made
	// (default 50ms).
	PauseMax time.Duration
	// CriticalFactor raises a finding from Warning to Critical when its
	// measure reaches CriticalFactor × its threshold (default 4).
	CriticalFactor float64
}

// withDefaults returns th with each zero field set to its default.
func (th Thresholds) withDefaults() Thresholds {
	def := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&th.RunqueuePerP, 2)
	defInt(&th.RunqueueSamples, 5)
	if th.SchedLatencyP99 <= 0 {
		th.SchedLatencyP99 = 10 * time.Millisecond
	}
	if th.SchedLatencyMinEvents == 0 {
		th.SchedLatencyMinEvents = 100
	}
	defInt(&th.LeakMinSamples, 10)
	defInt(&th.LeakMinGrowth, 100)
	def(&th.LeakMinRatio, 0.5)
	def(&th.LeakMinR2, 0.8)
	defInt(&th.ThreadGrowth, 50)
	defInt(&th.ThreadSlack, 16)
	if th.PauseMax <= 0 {
		th.PauseMax = 50 * time.Millisecond
	}
	def(&th.CriticalFactor, 4)
	return th
}

// severity grades a measure against its threshold.
func (th Thresholds) severity(measure, threshold float64) Severity {
	if measure >= th.CriticalFactor*threshold {
		return Critical
	}
	return Warning
}
