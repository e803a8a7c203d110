package tracecmd

import (
	"cmp"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	xtrace "golang.org/x/exp/trace"

	"github.com/gdiag/gdiag/gdump"
)

// STWEvent is one stop-the-world pause of a trace, with the goroutine the
// world waited for. A pause has two parts: stopping (from the request to
// stop until every goroutine that was running has stopped; they stop only
// at a safe point) and the work done with the world stopped.
type STWEvent struct {
	Reason     string `json:"reason"`     // the runtime's: "GC mark termination", "goroutine profile", ...
	StartNanos int64  `json:"startNanos"` // since the trace's first event
	TotalNanos int64  `json:"totalNanos"` // from the request to stop until the world started again
	// StoppingNanos is the time from the request until the last goroutine
	// running at that moment stopped; 0 when none was running but the
	// goroutine that asked.
	StoppingNanos int64 `json:"stoppingNanos"`
	// Partial marks a pause the trace ends inside: its times are lower
	// bounds.
	Partial bool `json:"partial,omitempty"`
	// Delayer is the goroutine that stopped last, nil when none had to.
	Delayer *Delayer `json:"delayer,omitempty"`
}

// Delayer is the goroutine the world waited for while it stopped.
type Delayer struct {
	Goroutine     int64  `json:"goroutine"`
	StartFunction string `json:"startFunction,omitempty"`
	// Function is what the goroutine was running while the world waited,
	// and FunctionFrom how it was found: "samples during the stop", the
	// application function most CPU samples of it fell in during the
	// stopping time (see Samples); else "samples of the goroutine", the
	// one most of its samples anywhere in the trace fell in; else "stack
	// at the stop", the first application frame of its stack when it
	// stopped. That stack shows where it reached a safe point, which is
	// after the loop that delayed it when that loop made no calls.
	Function     string `json:"function,omitempty"`
	FunctionFrom string `json:"functionFrom,omitempty"`
	// Stack is the goroutine's stack when it stopped, innermost first, as
	// "pkg.fn (file.go:12)".
	Stack []string `json:"stack,omitempty"`
	// StoppedAs is how it stopped: "preempted", "blocked (chan receive)",
	// "syscall", "exited", ...
	StoppedAs string `json:"stoppedAs"`
	// Samples counts the CPU profile samples of the goroutine during the
	// stopping time: a goroutine that kept the world waiting while it ran
	// has some (about one per 10ms of CPU), one whose thread the host
	// descheduled has none. It is -1, unknown, when it has none and no CPU
	// profile was seen running then: the trace's CPU samples, from any
	// goroutine, begin after the stopping time or end before it.
	Samples int `json:"samples"`
	// SampleStack is the stack of one of the samples in Function.
	SampleStack []string `json:"sampleStack,omitempty"`
}

// maxSTWEvents bounds the pauses kept: the longest ones.
const maxSTWEvents = 256

// StopTheWorld reads an execution trace and returns its stop-the-world
// pauses, longest first (at most 256), each with the goroutine the world
// waited for. Like Summarize it turns a parser panic into an error.
func StopTheWorld(r io.Reader) ([]STWEvent, error) {
	w := newSTWTracker()
	if err := eachEvent(r, w.event); err != nil {
		return nil, err
	}
	return w.finish(), nil
}

// eachEvent reads the trace in r to its end and hands every event to f.
// The parser panics on some malformed input: that is an error too.
func eachEvent(r io.Reader, f func(xtrace.Event)) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed trace (the parser failed: %v)", p)
		}
	}()
	tr, err := xtrace.NewReader(r)
	if err != nil {
		return err
	}
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		f(ev)
	}
}

// stwTracker follows the goroutines running on Ps and the stop-the-world
// ranges of a trace.
type stwTracker struct {
	first, last xtrace.Time
	started     bool
	running     map[xtrace.GoID]bool   // goroutines in GoRunning
	starts      map[xtrace.GoID]string // start functions
	firstSample xtrace.Time            // the CPU samples' span: a CPU profile ran
	lastSample  xtrace.Time            // from about the first to the last
	samples     bool                   // the trace has CPU samples
	byGo        map[xtrace.GoID]*tally // every goroutine's samples by function
	open        *openSTW
	done        []STWEvent
}

// openSTW is a pause in progress.
type openSTW struct {
	reason    string
	begin     xtrace.Time
	asker     xtrace.GoID
	waiting   map[xtrace.GoID]*waited // running at the request, not yet stopped
	last      *waited                 // the latest to stop
	lastAt    xtrace.Time
	allKnown  bool // the request was seen, not only an active range
	rangeName string
}

// waited is a goroutine the world waits for.
type waited struct {
	id        xtrace.GoID
	samples   int
	during    tally // its samples while the world waits
	stack     xtrace.Stack
	stoppedAs string
}

// tally counts CPU samples by culprit function.
type tally struct {
	byFunc  map[string]int          // samples by culprit function
	stackOf map[string]xtrace.Stack // a sample's stack for each culprit
}

// add counts a sample.
func (t *tally) add(st xtrace.Stack) {
	fn := culprit(stackFuncs(st))
	if fn == "" {
		return // C code (cgo, the race detector) or the runtime alone
	}
	if t.byFunc == nil {
		t.byFunc, t.stackOf = map[string]int{}, map[string]xtrace.Stack{}
	}
	t.byFunc[fn]++
	t.stackOf[fn] = st
}

// hottest is the culprit function most samples fell in; ties go to the
// first in name order, so that the result does not depend on map order.
func (t *tally) hottest() (string, xtrace.Stack) {
	best, n := "", 0
	for fn, c := range t.byFunc {
		if c > n || c == n && fn < best {
			best, n = fn, c
		}
	}
	return best, t.stackOf[best]
}

func newSTWTracker() *stwTracker {
	return &stwTracker{running: map[xtrace.GoID]bool{}, starts: map[xtrace.GoID]string{}, byGo: map[xtrace.GoID]*tally{}}
}

func (w *stwTracker) event(ev xtrace.Event) {
	if ev.Kind() == xtrace.EventSync {
		return
	}
	t := ev.Time()
	if !w.started {
		w.first, w.started = t, true
	}
	w.last = max(w.last, t)
	switch ev.Kind() {
	case xtrace.EventStateTransition:
		if st := ev.StateTransition(); st.Resource.Kind == xtrace.ResourceGoroutine {
			if st.Stack == xtrace.NoStack && ev.Goroutine() == st.Resource.Goroutine() {
				st.Stack = ev.Stack() // a goroutine's own transition: its stack is the event's
			}
			w.transition(st, t)
		}
	case xtrace.EventStackSample:
		if !w.samples {
			w.firstSample, w.samples = t, true
		}
		w.lastSample = t
		id := ev.Goroutine()
		if id == xtrace.NoGoroutine {
			break
		}
		if w.byGo[id] == nil {
			w.byGo[id] = &tally{}
		}
		w.byGo[id].add(ev.Stack())
		if o := w.open; o != nil {
			if g := o.waiting[id]; g != nil {
				g.samples++
				g.during.add(ev.Stack())
			}
		}
	case xtrace.EventRangeBegin, xtrace.EventRangeActive:
		if r := ev.Range(); strings.HasPrefix(r.Name, "stop-the-world") && w.open == nil {
			w.begin(r.Name, ev, t)
		}
	case xtrace.EventRangeEnd:
		if o := w.open; o != nil && ev.Range().Name == o.rangeName {
			w.end(t, false)
		}
	}
}

// begin opens a pause: every goroutine running at the request, but the
// one that asked, must stop before the world is stopped. A range already
// active when the trace began has no known request: its running set is
// what the trace knows so far, and it is kept as partial.
func (w *stwTracker) begin(name string, ev xtrace.Event, t xtrace.Time) {
	reason := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(name, "stop-the-world"), " ("), ")")
	o := &openSTW{reason: reason, rangeName: name, begin: t, asker: ev.Goroutine(),
		waiting: map[xtrace.GoID]*waited{}, allKnown: ev.Kind() == xtrace.EventRangeBegin}
	for id := range w.running {
		if id != o.asker {
			o.waiting[id] = &waited{id: id}
		}
	}
	w.open = o
}

func (w *stwTracker) transition(st xtrace.StateTransition, t xtrace.Time) {
	id := st.Resource.Goroutine()
	from, to := st.Goroutine()
	if _, ok := w.starts[id]; !ok || w.starts[id] == "" {
		w.starts[id] = startFunction(st, from, to)
	}
	switch {
	case to == xtrace.GoRunning:
		w.running[id] = true
	case from == xtrace.GoRunning:
		delete(w.running, id)
	}
	o := w.open
	if o == nil || from != xtrace.GoRunning || to == xtrace.GoRunning {
		return
	}
	g := o.waiting[id]
	if g == nil {
		return
	}
	delete(o.waiting, id)
	g.stack = st.Stack
	g.stoppedAs = stoppedAs(to, st.Reason)
	if o.last == nil || t >= o.lastAt {
		o.last, o.lastAt = g, t
	}
}

// stoppedAs says how a goroutine left the running state.
func stoppedAs(to xtrace.GoState, reason string) string {
	switch to {
	case xtrace.GoRunnable:
		if reason == "" {
			return "preempted"
		}
		return reason
	case xtrace.GoWaiting:
		if reason == "" {
			return "blocked"
		}
		return "blocked (" + reason + ")"
	case xtrace.GoSyscall:
		return "syscall"
	case xtrace.GoNotExist:
		return "exited"
	}
	return to.String()
}

// end closes the open pause at t; partial when the trace ended first.
func (w *stwTracker) end(t xtrace.Time, partial bool) {
	o := w.open
	w.open = nil
	e := STWEvent{Reason: o.reason, StartNanos: int64(o.begin.Sub(w.first)), TotalNanos: int64(t.Sub(o.begin)),
		Partial: partial || !o.allKnown}
	if g := o.last; g != nil {
		e.StoppingNanos = int64(o.lastAt.Sub(o.begin))
		e.Delayer = w.delayer(g)
		e.Delayer.Samples = g.samples
	}
	w.done = append(w.done, e)
	if len(w.done) >= 2*maxSTWEvents {
		w.done = longest(w.done, maxSTWEvents)
	}
}

func (w *stwTracker) delayer(g *waited) *Delayer {
	d := &Delayer{Goroutine: int64(g.id), StartFunction: w.starts[g.id], StoppedAs: g.stoppedAs}
	d.Stack = stackStrings(g.stack)
	if fn, st := g.during.hottest(); fn != "" {
		d.Function, d.FunctionFrom, d.SampleStack = fn, "samples during the stop", stackStrings(st)
	}
	if d.Function == "" {
		d.Function, d.FunctionFrom = culprit(stackFuncs(g.stack)), "stack at the stop"
	}
	if d.Function == "" {
		d.Function = d.StartFunction
	}
	return d
}

// finish closes a pause the trace ended in and returns the longest pauses.
func (w *stwTracker) finish() []STWEvent {
	if w.open != nil {
		w.end(w.last, true)
	}
	if w.done == nil {
		return []STWEvent{} // JSON: [], not null
	}
	// No sample of the goroutine says it was off the CPU only if a CPU
	// profile ran then: the samples of the trace must span the stopping
	// time, not end before it (a profile that stopped) or begin after it
	// (one that had not started).
	first, last := int64(w.firstSample.Sub(w.first)), int64(w.lastSample.Sub(w.first))
	for i := range w.done {
		e := &w.done[i]
		d := e.Delayer
		if d == nil {
			continue
		}
		if d.Samples == 0 && (!w.samples || first > e.StartNanos+e.StoppingNanos || last < e.StartNanos) {
			d.Samples = -1
		}
		// Without samples during the stop, the goroutine's samples over
		// the whole trace say what it spends its CPU in.
		if d.FunctionFrom != "samples during the stop" && w.byGo[xtrace.GoID(d.Goroutine)] != nil {
			if fn, st := w.byGo[xtrace.GoID(d.Goroutine)].hottest(); fn != "" {
				d.Function, d.FunctionFrom, d.SampleStack = fn, "samples of the goroutine", stackStrings(st)
			}
		}
	}
	return longest(w.done, maxSTWEvents)
}

// longest sorts evs by total time, longest first (then by start), and
// keeps the first n.
func longest(evs []STWEvent, n int) []STWEvent {
	slices.SortStableFunc(evs, func(a, b STWEvent) int {
		if c := cmp.Compare(b.TotalNanos, a.TotalNanos); c != 0 {
			return c
		}
		return cmp.Compare(a.StartNanos, b.StartNanos)
	})
	return evs[:min(n, len(evs))]
}

// stackStrings prints a stack innermost first as "pkg.fn (file.go:12)".
func stackStrings(s xtrace.Stack) []string {
	var out []string
	for f := range s.Frames() {
		if f.Func == "" {
			continue
		}
		if f.File == "" {
			out = append(out, f.Func)
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s:%d)", f.Func, path.Base(f.File), f.Line))
	}
	return out
}

// stackFuncs lists the named functions of a stack, innermost first.
func stackFuncs(s xtrace.Stack) []string {
	var out []string
	for f := range s.Frames() {
		if f.Func != "" {
			out = append(out, f.Func)
		}
	}
	return out
}

// culprit is the function to name among a stack's, innermost first: the
// first Go function outside the standard library (the code a person can
// change), else the first outside the runtime, else "". C functions (cgo,
// the race detector's), whose names have no package, are never named.
func culprit(funcs []string) string {
	for _, f := range funcs {
		if strings.Contains(f, ".") && !(gdump.Frame{Func: f}).IsStd() {
			return f
		}
	}
	for _, f := range funcs {
		if strings.Contains(f, ".") && !strings.HasPrefix(f, "runtime.") && !strings.HasPrefix(f, "runtime/") && !strings.HasPrefix(f, "internal/") {
			return f
		}
	}
	return ""
}
