// Command staticleak imitates a leak that has stopped growing: at start
// it fans out 1,500 lookups, each to three replicas, and takes the first
// answer (fetchFirst); the two slower replicas' goroutines then block
// forever sending on an unbuffered channel that nobody will read again.
// That leaves 3,000 goroutines parked in "chan send" on the same stack,
// and the count stays flat: a leak detector that looks for growth sees
// nothing.
//
// gdiag doctor should report a leak first. Built with
// GOEXPERIMENT=goroutineleakprofile (Go 1.26+) the runtime proves it
// (goroutine-leak-proven: the channel is unreachable); without the
// experiment, once the goroutines have been parked for a minute, the
// dump's wait times show it (goroutine-leak-static, a suspicion).
//
//	go run ./examples/incidents/staticleak
//	GOEXPERIMENT=goroutineleakprofile go run ./examples/incidents/staticleak
package main

import (
	"context"
	"sync"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

// lookups is how many fan-outs leak at start; each leaks replicas-1
// goroutines.
const (
	lookups  = 1500
	replicas = 3
)

func main() {
	harness.Main(harness.Program{Name: "staticleak", Start: func(context.Context, *sync.WaitGroup) error {
		for i := range lookups {
			fetchFirst(i)
		}
		return nil
	}})
}

// fetchFirst asks every replica and returns the first answer. The bug:
// the channel is unbuffered, so the replicas that answer later block on
// their send forever.
func fetchFirst(key int) int {
	answers := make(chan int)
	for r := range replicas {
		go replica(answers, key, r)
	}
	return <-answers
}

// replica answers a lookup.
func replica(answers chan<- int, key, r int) {
	answers <- key*replicas + r
}
