// Command procs4 runs two workers that, every 400ms, each count the
// primes below 600,000 by trial division: integer arithmetic and
// branches, no calls. Started with GODEBUG=asyncpreemptoff=1 and
// GOMAXPROCS=4 by the test.
package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/testdata/preempt/internal/service"
)

var found atomic.Int64

func main() {
	service.Main("procs4", func(ctx context.Context) {
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				service.Every(ctx, 400*time.Millisecond, func() { found.Store(primes(600_000 + w)) })
			})
		}
		wg.Wait()
	})
}

// primes counts the primes below n by trial division.
//
//go:noinline
func primes(n int) int64 {
	var count int64
	for c := 2; c < n; c++ {
		prime := true
		for d := 2; d*d <= c; d++ {
			if c%d == 0 {
				prime = false
				break
			}
		}
		if prime {
			count++
		}
	}
	return count
}
