package doctor

import (
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/schedstats"
)

// Observation is everything doctor gathered about a process over its
// window, already decoded. Analyze reads only this, so the rules can be
// tested (and fuzzed) on synthetic observations. Any part may be missing.
type Observation struct {
	Agent      bool          // the target runs the gdiag agent
	GOMAXPROCS int           // 0 when unknown (pprof targets)
	Elapsed    time.Duration // how long the window lasted

	History   []schedstats.Snapshot // the sampler's snapshots in the window, oldest first
	Censuses  []Census              // goroutine censuses, oldest first (start, end)
	PoolPolls []PoolPoll            // /v1/pools read about once a second

	CPU    *CPUProfile // nil when no CPU profile could be taken
	Mutex  *Contention // mutex profile over the window
	Block  *Contention // block profile over the window, lock waits only
	Allocs *Allocs     // allocs profile over the window
	Mem    []MemStats  // runtime.MemStats read at the start and the end

	// ThreadsCreated are the threadcreate profile's totals (pprof targets).
	ThreadsCreated []int

	// GOMAXPROCSFrom says where GOMAXPROCS came from when the agent did
	// not give it ("a 7s trace", ...); empty when
	// unknown or from the agent.
	GOMAXPROCSFrom string
	// NoTrace is true when the target refused doctor's execution trace
	// (some servers do not register /debug/pprof/trace).
	NoTrace bool
	// OS are the kernel's readings of the target's process, about once a
	// second (targets on this host); OSMissing says why there are none.
	OS        []OSReading
	OSMissing string
	// MemoryLimit is GOMEMLIMIT in bytes (0: none set) when
	// MemoryLimitFrom names where it was read; unknown otherwise.
	MemoryLimit     float64
	MemoryLimitFrom string
	// Leaks is the goroutineleak profile at the end of the window: the
	// goroutines the runtime proved blocked forever. nil when the target
	// cannot give it (LeakMissing says why).
	Leaks       *LeakProfile
	LeakMissing string
	// Preemption is what the preemption-delay rule reads besides the
	// history: the target's async preemption setting and a trace's
	// stop-the-world pauses; nil when not gathered.
	Preemption *Preemption
}

// Census is a goroutine census: the goroutines grouped by state, stack
// and creation site (gdump.GroupGoroutines), as the agent sends them or as
// doctor groups a pprof target's dump.
type Census struct {
	Time   time.Time
	Total  int
	Groups []gdump.Group
}

// groupKey identifies a group across censuses: its state and stack.
func groupKey(g gdump.Group) string {
	var b strings.Builder
	b.WriteString(g.State)
	for _, f := range g.Frames {
		b.WriteByte(0)
		b.WriteString(frameString(f))
	}
	return b.String()
}

// PoolPoll is one reading of the agent's pools.
type PoolPoll struct {
	Time  time.Time
	Pools []apiv1.Pool
}

// CPUProfile is what doctor keeps of a CPU profile.
type CPUProfile struct {
	Duration  time.Duration
	Seconds   float64 // CPU time sampled
	GCSeconds float64 // of which in the garbage collector
	Top       []Func  // hottest functions, by flat time
	App       []Func  // hottest application functions (first non-standard-library frame)
}

// Contention is a mutex or block profile's change over the window.
type Contention struct {
	Seconds float64 // delay, idle-worker parking excluded
	Events  float64
	Empty   bool   // no samples at all: the profile rate is probably 0
	Top     []Func // by delay, attributed to the first frame outside sync and runtime
}

// Allocs is the allocs profile's change over the window.
type Allocs struct {
	Bytes float64
	Top   []Func
}

// MemStats is the part of runtime.MemStats doctor reads, from the text
// heap profile (debug=1).
type MemStats struct {
	Time          time.Time
	TotalAlloc    uint64
	HeapAlloc     uint64
	NextGC        uint64
	NumGC         uint64
	GCCPUFraction float64  // since the process started
	PauseNs       []uint64 // the runtime's ring of the last 256 GC pauses
}

// censusFromDump groups a parsed debug=2 goroutine dump.
func censusFromDump(at time.Time, gs []gdump.Goroutine) Census {
	return Census{Time: at, Total: len(gs), Groups: gdump.GroupGoroutines(gs)}
}

// frameString prints a frame as a report's stacks show it:
// "pkg.fn (file.go:12)".
func frameString(f gdump.Frame) string {
	if f.File == "" {
		return f.Func
	}
	return f.Func + " (" + path.Base(f.File) + ":" + strconv.Itoa(f.Line) + ")"
}

// frameStrings prints a stack's frames, innermost first.
func frameStrings(fs []gdump.Frame) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = frameString(f)
	}
	return out
}

// funcOf returns the function name of a frame string.
func funcOf(frame string) string {
	fn, _, _ := strings.Cut(frame, " (")
	return fn
}

// pkgOf returns the package path of a qualified function name:
// "github.com/a/b.(*T).M" → "github.com/a/b".
func pkgOf(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}

// isStd reports whether fn belongs to the standard library (its package
// path's first element has no dot) and is not package main.
func isStd(fn string) bool {
	p := pkgOf(fn)
	if p == "main" {
		return false
	}
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".")
}

// isPlumbing reports whether fn is runtime or locking machinery, which a
// profile's leaf frames are full of but which names no culprit.
func isPlumbing(fn string) bool {
	switch p := pkgOf(fn); {
	case p == "runtime", p == "sync", p == "sync/atomic", strings.HasPrefix(p, "internal/"), strings.HasPrefix(p, "runtime/"):
		return true
	}
	return false
}

// culprit picks the frame to name in a title: the first application frame,
// else the first frame that is not runtime plumbing, else the first.
func culprit(funcs []string) string {
	for _, f := range funcs {
		if !isStd(f) {
			return f
		}
	}
	for _, f := range funcs {
		if !isPlumbing(f) {
			return f
		}
	}
	if len(funcs) > 0 {
		return funcs[0]
	}
	return ""
}
