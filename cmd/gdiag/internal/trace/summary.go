package tracecmd

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	xtrace "golang.org/x/exp/trace"
)

// Summary is what gdiag trace prints, and its --json output.
type Summary struct {
	Target string `json:"target,omitempty"`
	Saved  string `json:"saved,omitempty"` // where the trace was written
	File   string `json:"file,omitempty"`  // the file analyzed (gdiag analyze)
	Flight bool   `json:"flight,omitempty"`
	// DurationNanos is the time from the first event to the last.
	DurationNanos int64 `json:"durationNanos"`
	Events        int   `json:"events"`
	Goroutines    int   `json:"goroutines"` // goroutines seen in the trace
	// SchedLatency is the time from runnable to running, for the goroutines
	// that became runnable inside the trace.
	SchedLatency Latency `json:"schedLatency"`
	// Waits is the time goroutines spent off CPU and not runnable, summed
	// over goroutines, by category, largest first.
	Waits []Wait `json:"waits"`
	// BeforeTrace counts the waits under way when the trace began, by
	// how they were named; those left unknown are the category
	// "unknown (waiting since the trace began)".
	BeforeTrace BeforeTrace `json:"beforeTrace"`
	GC          GC          `json:"gc"`
	// TopRunnable groups goroutines by start function, by total time
	// runnable (ready, waiting for a P), largest first.
	TopRunnable []StartFunc `json:"topRunnable"`
	// LongestSTW are the longest stop-the-world pauses, longest first, each
	// with its time to stop and the goroutine the world waited for.
	LongestSTW []STWEvent `json:"longestSTW"`
}

// Latency is a distribution of scheduling latencies, in nanoseconds.
type Latency struct {
	Count int   `json:"count"`
	P50   int64 `json:"p50Nanos"`
	P90   int64 `json:"p90Nanos"`
	P99   int64 `json:"p99Nanos"`
	Max   int64 `json:"maxNanos"`
}

// Wait is the time spent in one category of waiting. Reasons are the
// runtime's own words ("chan receive", "sync", ...) in the category, by time.
type Wait struct {
	Category   string   `json:"category"`
	TotalNanos int64    `json:"totalNanos"`
	Count      int      `json:"count"` // number of waits
	Reasons    []string `json:"reasons"`
}

// GC counts garbage collections and stop-the-world pauses in the trace.
type GC struct {
	Cycles          int   `json:"cycles"` // concurrent mark phases
	LongestNanos    int64 `json:"longestNanos"`
	AssistNanos     int64 `json:"assistNanos"` // goroutines' own mark assist work
	STW             int   `json:"stw"`         // stop-the-world pauses
	STWLongestNanos int64 `json:"stwLongestNanos"`
	STWTotalNanos   int64 `json:"stwTotalNanos"`
}

// StartFunc is the goroutines of a trace that share a start function.
type StartFunc struct {
	Function      string `json:"function"`
	Goroutines    int    `json:"goroutines"`
	RunnableNanos int64  `json:"runnableNanos"`
	MaxLatency    int64  `json:"maxLatencyNanos"` // longest single runnable→running
}

// Wait categories: the runtime's block reasons, grouped as people ask
// about them.
const (
	catChan     = "channel"
	catSelect   = "select"
	catSync     = "mutex/sync"
	catNet      = "network/IO"
	catSyscall  = "syscall"
	catSleep    = "sleep"
	catGC       = "GC (assist, waits, stack scans)"
	catRuntime  = "runtime (idle system goroutines)"
	catForever  = "blocked forever"
	catBefore   = "unknown (waiting since the trace began)"
	catOther    = "other"
	reasonNone  = "none given" // a wait inside the trace for which the trace gives no reason
	topRunnable = 10
	topSTW      = 5 // longest stop-the-world pauses in a summary
)

// category maps a block reason (runtime/traceruntime.go's
// traceBlockReasonStrings) to its category.
func category(reason string) string {
	switch reason {
	case "chan receive", "chan send":
		return catChan
	case "select":
		return catSelect
	case "sync", "sync.(*Cond).Wait":
		return catSync
	case "network":
		return catNet
	case "syscall":
		return catSyscall
	case "sleep":
		return catSleep
	case "GC mark assist wait for work", "wait until GC ends", "GC weak to strong wait",
		"preempted": // stopped for the GC to scan its stack

		return catGC
	case "system goroutine wait", "GC background sweeper wait", "wait for debug call":
		return catRuntime
	case "forever":
		return catForever
	case "":
		return catBefore
	}
	return catOther
}

// gstate is what Summarize remembers of one goroutine.
type gstate struct {
	state    xtrace.GoState
	since    xtrace.Time
	reason   string
	latency  bool // since marks a runnable start seen in the trace
	before   bool // the current wait began before the trace
	start    string
	runnable int64
	maxLat   int64
}

// summarizer accumulates a Summary over the events of one trace.
type summarizer struct {
	first, last xtrace.Time
	events      int
	gs          map[xtrace.GoID]*gstate
	lat         []int64
	waits       map[string]map[string][2]int64 // category → reason → {nanos, count}
	ranges      map[rangeKey]xtrace.Time
	gc          GC
	before      BeforeTrace
	unnamed     []unnamed // waits under way at the start, not named yet
	stw         *stwTracker
}

type rangeKey struct {
	name  string
	scope xtrace.ResourceID
}

// ErrEmpty reports a trace with no events.
var ErrEmpty = errors.New("empty trace: no events")

// Summarize reads an execution trace from r and summarises it. x/exp/trace
// validates the trace as it reads, but it is not written for hostile
// input and may panic on some malformed files (it calls panic on internal
// inconsistencies, such as a string ID it cannot find); Summarize turns
// such a panic into an error, so that a bad file is an error, not a crash.
func Summarize(r io.Reader) (Summary, error) {
	z, err := read(r)
	if err != nil {
		return Summary{}, err
	}
	return z.summary(), nil
}

// read reads a whole trace and accounts what was under way at its end;
// summary then makes the Summary, once the waits that were under way at
// its start have been named as well as can be (nameFromDump).
func read(r io.Reader) (z *summarizer, err error) {
	defer func() {
		if p := recover(); p != nil {
			z, err = nil, fmt.Errorf("malformed trace (the parser failed: %v)", p)
		}
	}()
	z = &summarizer{gs: map[xtrace.GoID]*gstate{}, waits: map[string]map[string][2]int64{}, ranges: map[rangeKey]xtrace.Time{},
		stw: newSTWTracker()}
	if err := eachEvent(r, z.event); err != nil {
		return nil, err
	}
	if z.events == 0 {
		return nil, ErrEmpty
	}
	z.end()
	return z, nil
}

func (z *summarizer) event(ev xtrace.Event) {
	if ev.Kind() == xtrace.EventSync {
		return // generation boundaries: an empty trace has them too
	}
	z.stw.event(ev)
	t := ev.Time()
	if z.events == 0 {
		z.first = t
	}
	z.events++
	z.last = max(z.last, t)
	switch ev.Kind() {
	case xtrace.EventStateTransition:
		st := ev.StateTransition()
		if st.Resource.Kind == xtrace.ResourceGoroutine {
			z.transition(st, t)
		}
	case xtrace.EventRangeBegin, xtrace.EventRangeActive:
		r := ev.Range()
		z.ranges[rangeKey{r.Name, r.Scope}] = t
		if r.Name == "GC concurrent mark phase" {
			z.gc.Cycles++
		} else if strings.HasPrefix(r.Name, "stop-the-world") {
			z.gc.STW++
		}
	case xtrace.EventRangeEnd:
		r := ev.Range()
		k := rangeKey{r.Name, r.Scope}
		if start, ok := z.ranges[k]; ok {
			delete(z.ranges, k)
			z.rangeDone(r.Name, int64(t.Sub(start)))
		}
	}
}

func (z *summarizer) rangeDone(name string, d int64) {
	switch {
	case name == "GC concurrent mark phase":
		z.gc.LongestNanos = max(z.gc.LongestNanos, d)
	case name == "GC mark assist":
		z.gc.AssistNanos += d
	case strings.HasPrefix(name, "stop-the-world"):
		z.gc.STWLongestNanos = max(z.gc.STWLongestNanos, d)
		z.gc.STWTotalNanos += d
	}
}

func (z *summarizer) transition(st xtrace.StateTransition, t xtrace.Time) {
	id := st.Resource.Goroutine()
	from, to := st.Goroutine()
	g := z.gs[id]
	if g == nil {
		g = &gstate{}
		z.gs[id] = g
	}
	if g.start == "" {
		g.start = startFunction(st, from, to)
	}
	if from == to {
		return // a status report at a generation's start, not a change
	}
	d := int64(t.Sub(g.since))
	switch {
	case from == xtrace.GoUndetermined || from == xtrace.GoNotExist:
		d = 0
	case from == xtrace.GoWaiting && g.before && g.reason == "":
		z.unnamed = append(z.unnamed, unnamed{id: id, nanos: d})
	case from == xtrace.GoWaiting:
		z.wait(g.reason, d)
	case from == xtrace.GoSyscall:
		z.wait("syscall", d)
	case from == xtrace.GoRunnable:
		g.runnable += d
		if to == xtrace.GoRunning && g.latency {
			z.lat = append(z.lat, d)
			g.maxLat = max(g.maxLat, d)
		}
	}
	g.state, g.since, g.reason = to, t, st.Reason
	g.latency, g.before = true, false
	if to == xtrace.GoWaiting && g.reason == "" && from != xtrace.GoUndetermined {
		// Traces of Go before 1.22 leave some blocking events without a
		// reason; the stack then names it, or it is "other".
		if g.reason = stackReason(stackFuncs(st.Stack)); g.reason == "" {
			g.reason = reasonNone
		}
	}
	if from == xtrace.GoUndetermined {
		// The trace reports a goroutine's state the first time it meets
		// the goroutine, which may be late in the first generation; the
		// goroutine has been in that state since the trace began at least.
		// Its runnable time is no latency sample: it began before. A wait
		// has no reason here; the stack, when the trace has it, names it.
		g.since, g.reason, g.latency = z.first, "", false
		if to == xtrace.GoWaiting {
			g.before = true
			z.before.Waits++
			if g.reason = stackReason(stackFuncs(st.Stack)); g.reason != "" {
				z.before.FromStack++
			}
		}
	}
}

func (z *summarizer) wait(reason string, d int64) {
	cat := category(reason)
	m := z.waits[cat]
	if m == nil {
		m = map[string][2]int64{}
		z.waits[cat] = m
	}
	v := m[reason]
	m[reason] = [2]int64{v[0] + d, v[1] + 1}
}

// startFunction names the goroutine's start function: the new
// goroutine's first frame when it is created, else the outermost frame of
// its own stack.
func startFunction(st xtrace.StateTransition, from, to xtrace.GoState) string {
	var frames []string
	for f := range st.Stack.Frames() {
		if f.Func != "" && f.Func != "runtime.goexit" {
			frames = append(frames, f.Func)
		}
	}
	switch {
	case len(frames) == 0:
		return ""
	case from == xtrace.GoNotExist && to == xtrace.GoRunnable:
		return frames[0]
	}
	return frames[len(frames)-1]
}

// end accounts what is still waiting or runnable at the end of the
// trace, up to the end.
func (z *summarizer) end() {
	for id, g := range z.gs {
		d := int64(z.last.Sub(g.since))
		switch g.state {
		case xtrace.GoWaiting:
			if g.before && g.reason == "" {
				z.unnamed = append(z.unnamed, unnamed{id: id, nanos: d, whole: true})
			} else {
				z.wait(g.reason, d)
			}
		case xtrace.GoSyscall:
			z.wait("syscall", d)
		case xtrace.GoRunnable:
			g.runnable += d
		}
	}
	for k, start := range z.ranges {
		z.rangeDone(k.name, int64(z.last.Sub(start)))
	}
	clear(z.ranges)
}

// summary makes the Summary; waits still unnamed count as unknown.
func (z *summarizer) summary() Summary {
	s := Summary{DurationNanos: int64(z.last.Sub(z.first)), Events: z.events, Goroutines: len(z.gs)}
	for _, u := range z.unnamed {
		z.wait("", u.nanos)
		z.before.Unknown++
	}
	z.unnamed = nil
	s.SchedLatency = latency(z.lat)
	s.Waits = z.waitTable()
	s.BeforeTrace = z.before
	s.GC = z.gc
	s.TopRunnable = z.groups(topRunnable)
	stw := z.stw.finish()
	s.LongestSTW = stw[:min(topSTW, len(stw))]
	return s
}

func latency(lat []int64) Latency {
	if len(lat) == 0 {
		return Latency{}
	}
	slices.Sort(lat)
	q := func(p float64) int64 { return lat[min(int(p*float64(len(lat))), len(lat)-1)] }
	return Latency{Count: len(lat), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: lat[len(lat)-1]}
}

func (z *summarizer) waitTable() []Wait {
	out := []Wait{}
	for cat, reasons := range z.waits {
		w := Wait{Category: cat}
		type rt struct {
			r string
			d int64
		}
		var rs []rt
		for r, v := range reasons {
			w.TotalNanos += v[0]
			w.Count += int(v[1])
			if r == "" {
				r = "unknown"
			}
			rs = append(rs, rt{r, v[0]})
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].d > rs[j].d || rs[i].d == rs[j].d && rs[i].r < rs[j].r })
		for _, r := range rs {
			w.Reasons = append(w.Reasons, r.r)
		}
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].TotalNanos > out[j].TotalNanos || out[i].TotalNanos == out[j].TotalNanos && out[i].Category < out[j].Category
	})
	return out
}

func (z *summarizer) groups(n int) []StartFunc {
	by := map[string]*StartFunc{}
	for _, g := range z.gs {
		name := g.start
		if name == "" {
			name = "(unknown)"
		}
		gr := by[name]
		if gr == nil {
			gr = &StartFunc{Function: name}
			by[name] = gr
		}
		gr.Goroutines++
		gr.RunnableNanos += g.runnable
		gr.MaxLatency = max(gr.MaxLatency, g.maxLat)
	}
	out := make([]StartFunc, 0, len(by))
	for _, g := range by {
		if g.RunnableNanos > 0 {
			out = append(out, *g)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].RunnableNanos > out[j].RunnableNanos || out[i].RunnableNanos == out[j].RunnableNanos && out[i].Function < out[j].Function
	})
	return out[:min(n, len(out))]
}
