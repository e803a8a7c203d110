// Command storms stops the world often for reasons of its own, none of
// them a goroutine that will not yield: a metrics goroutine calls
// runtime.ReadMemStats in a loop, and a tuner flips GOMAXPROCS between 1
// and 2 every 10ms. Each stop is short; the stops are many.
package main

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/testdata/preempt/internal/service"
)

var heapAlloc atomic.Uint64

func main() {
	service.Main("storms", func(ctx context.Context) {
		var wg sync.WaitGroup
		wg.Go(func() {
			var ms runtime.MemStats
			for ctx.Err() == nil {
				runtime.ReadMemStats(&ms)
				heapAlloc.Store(ms.HeapAlloc)
			}
		})
		wg.Go(func() {
			defer runtime.GOMAXPROCS(2)
			n := 0
			service.Every(ctx, 10*time.Millisecond, func() { n++; runtime.GOMAXPROCS(1 + n%2) })
		})
		wg.Wait()
	})
}
