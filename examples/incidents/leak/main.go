// Command leak imitates the most common goroutine leak: a handler starts a
// helper goroutine that waits for the request to finish (to release a
// connection, stop a timer, flush a span) on a channel the handler closes
// on its way out, but one return path forgets to close it. Here the
// cache-hit path, every second request, returns early, so leakyHandler
// stays blocked on its receive forever: about 100 goroutines a second at
// the default load, each holding its stack and everything it references.
//
// gdiag doctor should name a goroutine leak, grouped by the leaking stack
// (leakyHandler, in state "chan receive"). The leak stops at leakCap
// goroutines, ten minutes at the default rate, so that a forgotten run
// cannot exhaust the machine's memory.
//
//	go run ./examples/incidents/leak [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"context"
	"sync/atomic"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

// leakCap bounds the leak: about 60,000 goroutines of 2 to 8 KiB stack.
const leakCap = 60_000

// leaked counts the goroutines leaked so far.
var leaked atomic.Int64

func main() {
	harness.Main(harness.Program{Name: "leak", Handle: handle})
}

// handle serves one request. Odd requests are "cache hits" and return
// before close(done): that is the bug.
func handle(ctx context.Context, seq uint64) error {
	done := make(chan struct{})
	go leakyHandler(done)
	if seq%2 == 1 && leaked.Load() < leakCap {
		leaked.Add(1)
		return nil // cache hit: the early return forgets close(done)
	}
	defer close(done)
	return harness.Work(ctx)
}

// leakyHandler releases the request's resources once the request is done.
// It is a function of its own so that stacks and the goroutine census
// name it.
func leakyHandler(done <-chan struct{}) {
	<-done
}
