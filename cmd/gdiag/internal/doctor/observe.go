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
}

// Census is a goroutine census: the goroutines grouped by state and stack.
type Census struct {
	Time   time.Time
	Total  int
	Groups []Group
}

// Group is goroutines with the same state and stack.
type Group struct {
	State  string   // wait reason ("chan receive") or status ("running")
	Frames []string // "pkg.fn (file.go:12)", innermost first
	Count  int
}

// key identifies a group across censuses.
func (g Group) key() string { return g.State + "\x00" + strings.Join(g.Frames, "\x00") }

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

// censusFromAPI converts the agent's census.
func censusFromAPI(c apiv1.Census) Census {
	out := Census{Time: c.Time, Total: c.Goroutines}
	for _, g := range c.Groups {
		st := g.State
		if g.WaitReason != "" {
			st = g.WaitReason
		}
		fr := make([]string, len(g.Stack))
		for i, f := range g.Stack {
			fr[i] = frameString(f.Func, f.File, f.Line)
		}
		out.Groups = append(out.Groups, Group{State: st, Frames: fr, Count: g.Count})
	}
	return out
}

// censusFromDump groups a parsed debug=2 goroutine dump.
func censusFromDump(at time.Time, gs []gdump.Goroutine) Census {
	out := Census{Time: at, Total: len(gs)}
	for _, g := range gdump.GroupGoroutines(gs) {
		fr := make([]string, len(g.Frames))
		for i, f := range g.Frames {
			fr[i] = frameString(f.Func, f.File, f.Line)
		}
		out.Groups = append(out.Groups, Group{State: g.State, Frames: fr, Count: g.Count})
	}
	return out
}

func frameString(fn, file string, line int) string {
	if file == "" {
		return fn
	}
	return fn + " (" + path.Base(file) + ":" + strconv.Itoa(line) + ")"
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

func groupFuncs(g Group) []string {
	out := make([]string, len(g.Frames))
	for i, f := range g.Frames {
		out[i] = funcOf(f)
	}
	return out
}
