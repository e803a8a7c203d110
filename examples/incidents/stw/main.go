// Command stw imitates long stop-the-world pauses: a service holds many
// idle goroutines (one per open connection, here 10,000 parked in
// readLoop) and a watchdog (dumpStacks) writes the stacks of all
// goroutines to its log every 2 seconds with runtime.Stack(buf, true), as
// some "debug on slow request" or deadlock-detector code does.
// runtime.Stack with all=true stops the world for the whole dump, which
// costs roughly 10 to 50 µs per goroutine: 10,000 goroutines stop the
// world for 100 to 500 ms each time, during which no goroutine runs and
// every request in flight stalls at once.
//
// The pauses appear in the runtime's /sched/pauses/total/other:seconds
// histogram (the snapshots' otherPauses), not in the GC pauses. gdiag
// doctor should name long stop-the-world pauses. goroutine profiles
// (pprof's debug=1 and debug=0) do not stop the world for so long.
//
//	go run ./examples/incidents/stw [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

const (
	connections = 10_000          // parked goroutines
	dumpEvery   = 2 * time.Second // the watchdog's period
	dumpBuffer  = 32 << 20        // room for every stack: about 350 bytes per goroutine
)

func main() {
	harness.Main(harness.Program{Name: "stw", Start: start})
}

func start(ctx context.Context, wg *sync.WaitGroup) error {
	for i := range connections {
		wg.Go(func() { readLoop(ctx, i) })
	}
	wg.Go(func() { dumpStacks(ctx) })
	return nil
}

// readLoop stands for a connection's reader waiting for a message that
// does not come; a few frames deep, as real ones are.
func readLoop(ctx context.Context, id int) {
	if id%2 == 0 {
		frame(ctx, 3)
		return
	}
	frame(ctx, 6)
}

// frame recurses depth times, then waits for ctx.
//
//go:noinline
func frame(ctx context.Context, depth int) {
	if depth > 0 {
		frame(ctx, depth-1)
		return
	}
	<-ctx.Done()
}

// dumped is the size of the last dump, the watchdog's "log".
var dumped atomic.Int64

// dumpStacks dumps all stacks every dumpEvery until ctx ends.
func dumpStacks(ctx context.Context) {
	buf := make([]byte, dumpBuffer)
	tick := time.NewTicker(dumpEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		dumped.Store(int64(runtime.Stack(buf, true)))
	}
}
