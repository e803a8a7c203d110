// Command cpu imitates CPU saturation: more CPU-bound goroutines than
// GOMAXPROCS, all the time, as when a service hashes, compresses or
// (de)serialises on an unbounded number of goroutines, or a tight retry
// loop spins. Here 4×GOMAXPROCS goroutines spin on SHA-256 (hashPasswords),
// so runnable goroutines queue behind them on every P and the request load
// waits to be scheduled: the run-queue backlog per P and the scheduling
// latency rise, and requests slow down although each needs only a
// millisecond of CPU.
//
// gdiag doctor should name CPU saturation, with hashPasswords among the
// hottest functions of the CPU profile.
//
//	go run ./examples/incidents/cpu [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"context"
	"runtime"
	"sync"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

// spinnersPerP is how many spinning goroutines the fault runs per P: more
// than one per P is what makes runnable goroutines queue.
const spinnersPerP = 4

func main() {
	harness.Main(harness.Program{Name: "cpu", Start: start})
}

func start(ctx context.Context, wg *sync.WaitGroup) error {
	for range spinnersPerP * runtime.GOMAXPROCS(0) {
		wg.Go(func() { hashPasswords(ctx) })
	}
	return nil
}

// hashPasswords burns CPU until ctx ends. The scheduler preempts it every
// 10 ms or so, which is what lets the load run at all.
func hashPasswords(ctx context.Context) {
	for ctx.Err() == nil {
		harness.Burn(1000)
	}
}
