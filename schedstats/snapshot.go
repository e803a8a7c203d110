package schedstats

import "time"

// Source names the reader that filled one part of a Snapshot.
// The zero value, SourceNone, means the part was not filled.
type Source uint8

// The sources a Snapshot part can come from.
const (
	SourceNone           Source = iota // not filled
	SourceRuntimeMetrics               // runtime/metrics
	SourceSched                        // the runtime's sched structure, read through a checked mirror
	SourceDeep                         // per-P state, deep mode (built with -tags gdiag_deep)
	SourceSchedtrace                   // a parsed GODEBUG=schedtrace line
)

// String returns the source's short name, as used in JSON and logs.
func (s Source) String() string {
	switch s {
	case SourceRuntimeMetrics:
		return "runtime/metrics"
	case SourceSched:
		return "sched"
	case SourceDeep:
		return "deep"
	case SourceSchedtrace:
		return "schedtrace"
	}
	return "none"
}

// MarshalText encodes the source as its String form.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a source from its String form; unknown names decode as SourceNone.
func (s *Source) UnmarshalText(b []byte) error {
	*s = SourceNone
	for c := SourceRuntimeMetrics; c <= SourceSchedtrace; c++ {
		if c.String() == string(b) {
			*s = c
		}
	}
	return nil
}

// Sources records which reader filled each part of a Snapshot.
type Sources struct {
	Procs      Source `json:"procs"`      // GOMAXPROCS, IdlePs
	Threads    Source `json:"threads"`    // Threads, IdleThreads, SpinningThreads, MsCreated, MsFreed
	RunQueues  Source `json:"runQueues"`  // GlobalRunQueue, LocalRunQueues
	Goroutines Source `json:"goroutines"` // Goroutines, SystemGoroutines, GoroutinesCreated
	Latency    Source `json:"latency"`    // SchedLatency
	Pauses     Source `json:"pauses"`     // GCPauses, OtherPauses, GCStopping, OtherStopping
	Mutex      Source `json:"mutex"`      // MutexWait
}

// GoroutineStates counts goroutines by scheduler state. The runtime
// computes these approximately; Total may differ slightly from the sum.
type GoroutineStates struct {
	Total    int `json:"total"`
	Running  int `json:"running"`
	Runnable int `json:"runnable"`
	Waiting  int `json:"waiting"`
	NotInGo  int `json:"notInGo"` // in a syscall or cgo call
}

// Histogram is a cumulative distribution in the layout of runtime/metrics:
// Counts[i] counts values in [Bounds[i], Bounds[i+1]), in seconds.
// len(Bounds) == len(Counts)+1 when the histogram is filled; the first
// and last bounds may be infinite. The zero value is an empty histogram.
type Histogram struct {
	Bounds []float64 `json:"bounds"`
	Counts []uint64  `json:"counts"`
}

// Snapshot is the scheduler's state at one moment. It is a plain value:
// a reader fills it in place (reusing its slices, so that reading
// allocates nothing) and the caller may copy it with Clone.
type Snapshot struct {
	Time       time.Time `json:"time"`
	GOMAXPROCS int       `json:"gomaxprocs"`
	IdlePs     int       `json:"idlePs"`

	Threads         int    `json:"threads"`         // Ms alive
	IdleThreads     int    `json:"idleThreads"`     // Ms parked waiting for work
	SpinningThreads int    `json:"spinningThreads"` // Ms looking for work
	MsCreated       uint64 `json:"msCreated"`       // Ms ever created
	MsFreed         uint64 `json:"msFreed"`         // Ms ever freed

	GlobalRunQueue int   `json:"globalRunQueue"`
	LocalRunQueues []int `json:"localRunQueues,omitempty"` // per P; nil unless deep mode

	Goroutines        GoroutineStates `json:"goroutines"`
	SystemGoroutines  int             `json:"systemGoroutines"`
	GoroutinesCreated uint64          `json:"goroutinesCreated"`

	SchedLatency Histogram `json:"schedLatency"` // time runnable before running
	GCPauses     Histogram `json:"gcPauses"`     // stop-the-world total time, GC
	OtherPauses  Histogram `json:"otherPauses"`  // stop-the-world total time, other
	// GCStopping and OtherStopping are the first part of each pause in
	// GCPauses and OtherPauses: the time from the request to stop the
	// world until every P had stopped. While it lasts, the goroutines
	// that have not yet reached a safe point still run and every other
	// one waits. A pause whose stopping time is most of its total was
	// spent waiting for a goroutine that would not yield, not in the
	// work the world was stopped for (see the package documentation,
	// "Detectors").
	GCStopping    Histogram     `json:"gcStopping"`
	OtherStopping Histogram     `json:"otherStopping"`
	MutexWait     time.Duration `json:"mutexWait"` // cumulative time blocked on sync.Mutex/RWMutex

	Sources Sources `json:"sources"`
}
