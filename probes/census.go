package probes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/gdump"
)

// notWaiting are the goroutine statuses the runtime prints as such; any
// other bracketed state is a wait reason of a waiting goroutine.
var notWaiting = map[string]bool{
	"idle": true, "runnable": true, "running": true, "syscall": true,
	"dead": true, "copystack": true, "preempted": true,
}

// matchesState reports whether a dump's bracketed state ("chan receive",
// "running", "select (leaked)") has the status or wait reason want. A wait
// reason belongs to the status "waiting".
func matchesState(s, want string) bool {
	if s == want {
		return true
	}
	base, _, _ := strings.Cut(s, " (") // "(scan)", "(leaked)", "(durable)"
	if base == want {
		return true
	}
	return want == "waiting" && !notWaiting[base]
}

// census dumps every goroutine's stack (see stackDump: one stop of the
// world, bounded by maxPause), then groups the dump with gdump and keeps
// what f asks for (the runtime counts waits in whole minutes, so any
// MinWait up to a minute keeps the goroutines waiting one minute or more).
// Parsing stops when ctx ends, as when the client has gone. It is safe to
// call concurrently; a second census while one runs gets errDumpBusy.
func census(ctx context.Context, f apiv1.CensusFilter, maxPause time.Duration) (apiv1.Census, error) {
	dump, err := stackDump(ctx, maxPause)
	if err != nil {
		return apiv1.Census{}, err
	}
	defer dump.release()
	c := apiv1.Census{Time: time.Now()}
	var gr gdump.Grouper
	minWait := f.MinWait.Truncate(time.Minute)
	_, err = gdump.Scan(bytes.NewReader(dump.b), gdump.Options{}, func(g *gdump.Goroutine) error {
		c.Goroutines++
		if c.Goroutines%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if g.Wait < minWait || f.State != "" && !matchesState(g.State, f.State) {
			return nil
		}
		c.Matched++
		return gr.Add(g)
	})
	if err != nil {
		return apiv1.Census{}, fmt.Errorf("probes: census: %w", err)
	}
	groups := gr.Groups()
	if f.MaxGroups > 0 && len(groups) > f.MaxGroups {
		c.Omitted = len(groups) - f.MaxGroups
		groups = groups[:f.MaxGroups]
	}
	for i := range groups {
		// The first goroutine's arguments and PC offsets say nothing
		// about the others in its group.
		groups[i].Frames = bareFrames(groups[i].Frames)
		groups[i].CreatedBy.Args, groups[i].CreatedBy.Offset = "", 0
	}
	c.Groups = groups
	return c, nil
}

func bareFrames(fs []gdump.Frame) []gdump.Frame {
	out := make([]gdump.Frame, len(fs))
	for i, f := range fs {
		out[i] = gdump.Frame{Func: f.Func, File: f.File, Line: f.Line}
	}
	return out
}

// Errors of stackDump.
var (
	// errDumpBusy: another census or full dump is in progress. Two at once
	// would stop the world twice as long for the same answer.
	errDumpBusy = errors.New("a goroutine census or full dump is already running in this process; retry when it ends")
	// errOverBudget is wrapped by a *pauseError.
	errOverBudget = errors.New("over the pause budget")
)

// pauseError refuses a dump whose stop of the world would exceed the
// budget the request allows.
type pauseError struct {
	goroutines int
	estimate   time.Duration
	budget     time.Duration
}

func (e *pauseError) Error() string {
	return fmt.Sprintf("a full stack dump of %d goroutines would stop this process for about %v, %v for the budget of %v",
		e.goroutines, e.estimate.Round(time.Millisecond), errOverBudget, e.budget)
}

func (e *pauseError) Unwrap() error { return errOverBudget }

// Defaults and bounds of the stop-the-world pause of a dump.
const (
	// DefaultMaxCensusPause is the longest stop of the world a census or
	// full dump may cause unless the request allows more (max_pause).
	DefaultMaxCensusPause = time.Second
	// maxCensusPause bounds what a request may allow.
	maxCensusPause = time.Minute
	// initialNsPerGoroutine estimates the pause per goroutine before this
	// process has measured one: 6 to 10 µs measured for a parked
	// goroutine's stack on a busy 2-core VM (BenchmarkStackDumpPause: 0.6
	// to 1.0 s per 100,000), the upper figure to be safe.
	initialNsPerGoroutine = 10000
	// initialBytesPerGoroutine sizes the first buffer; a short stack
	// prints about 140 bytes, a server's handler a few kilobytes.
	initialBytesPerGoroutine = 512
)

// dumpBusy lets one full dump run at a time per process.
var dumpBusy atomic.Bool

// dumpCost is what the last dump of this process measured, to estimate
// the next one's pause and size.
var dumpCost struct {
	mu          sync.Mutex
	nsPerG      float64
	bytesPerG   float64
	measurement bool
}

// stackDump is runtime.Stack(buf, true), the text of every goroutine's
// stack with its state and wait time, for a census or a debug=2 dump.
// runtime.Stack stops the world for the whole dump, so stackDump
//
//   - refuses, with errDumpBusy, while another dump runs in the process;
//   - estimates the pause from the goroutine count and what the last
//     dump measured, and refuses with a *pauseError when it exceeds
//     maxPause (0 means DefaultMaxCensusPause);
//   - sizes its buffer from the count so that one stop of the world
//     suffices (each retry with a larger buffer is another full stop);
//   - does nothing once ctx has ended.
//
// Unlike pprof's debug=2 writer it does not cut the dump at 64 MiB. The
// caller must call release on the result.
func stackDump(ctx context.Context, maxPause time.Duration) (*fullDump, error) {
	if maxPause <= 0 {
		maxPause = DefaultMaxCensusPause
	}
	if !dumpBusy.CompareAndSwap(false, true) {
		return nil, errDumpBusy
	}
	d := &fullDump{}
	grown := 0 // the size a retry needs, learned from the dump that did not fit
	for {
		if err := ctx.Err(); err != nil {
			dumpBusy.Store(false)
			return nil, err
		}
		n := runtime.NumGoroutine()
		nsPerG, bytesPerG := dumpEstimates()
		if est := time.Duration(float64(n) * nsPerG); est > maxPause {
			dumpBusy.Store(false)
			return nil, &pauseError{goroutines: n, estimate: est, budget: maxPause}
		}
		size := max(int(float64(n)*bytesPerG*1.25)+64<<10, grown)
		if cap(d.b) < size {
			d.b = make([]byte, size)
		}
		d.b = d.b[:cap(d.b)]
		start := time.Now()
		k := runtime.Stack(d.b, true)
		took := time.Since(start)
		if k < len(d.b) {
			d.b = d.b[:k]
			recordDump(n, k, took)
			return d, nil
		}
		// More goroutines than counted, or larger stacks than estimated:
		// retry with room to spare. The retry's size must not depend on
		// recordDump, which ignores small dumps: a dump that never fits
		// would stop the world again and again until ctx ends.
		recordDump(n, 2*k, took)
		grown = 2 * k
		d.b = nil
	}
}

// fullDump is a dump in progress; release lets the next one run.
type fullDump struct {
	b    []byte
	once sync.Once
}

func (d *fullDump) release() { d.once.Do(func() { dumpBusy.Store(false) }) }

func dumpEstimates() (nsPerG, bytesPerG float64) {
	dumpCost.mu.Lock()
	defer dumpCost.mu.Unlock()
	if !dumpCost.measurement {
		return initialNsPerGoroutine, initialBytesPerGoroutine
	}
	return dumpCost.nsPerG, dumpCost.bytesPerG
}

// recordDump keeps what a dump of n goroutines cost. A dump of fewer
// than a thousand goroutines measures mostly fixed costs, so it teaches
// nothing about a large one.
func recordDump(n, bytes int, took time.Duration) {
	dumpCost.mu.Lock()
	defer dumpCost.mu.Unlock()
	if n < 1000 {
		return
	}
	dumpCost.nsPerG = max(float64(took.Nanoseconds())/float64(n), 100)
	dumpCost.bytesPerG = max(float64(bytes)/float64(n), 100)
	dumpCost.measurement = true
}
