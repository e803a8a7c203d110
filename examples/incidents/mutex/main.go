// Command mutex imitates lock contention: a process-wide cache guarded by
// one sync.Mutex, with the expensive computation done while holding the
// lock ("compute and store under the lock, it's simpler"). Every request
// takes the lock, and so do 16 background refreshers (refreshCache) that
// recompute entries in a loop, so goroutines queue on the mutex: the
// runtime's cumulative mutex wait (/sync/mutex/wait/total:seconds) grows by
// many seconds per second, and the mutex and block profiles point at
// (*cache).get and refreshCache.
//
// Contention profiles are empty unless the program turns them on; this one
// calls runtime.SetMutexProfileFraction(5) and runtime.SetBlockProfileRate
// at start. A real service must do the same (a fraction of 5 to 100 and a
// rate of 10µs to 1ms cost little) for gdiag profile mutex|block, and
// gdiag doctor, to show who holds and who waits.
//
// gdiag doctor should name mutex contention.
//
//	go run ./examples/incidents/mutex [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

const (
	refreshers    = 16     // background goroutines fighting for the lock
	refreshRounds = 1000   // SHA-256 rounds per refresh, done under the lock (about 0.3 ms)
	mutexFraction = 5      // report one contention event in 5 to the mutex profile
	blockRate     = 10_000 // ns: sample about one blocking event per 10 µs blocked
)

// cache is the shared state; mu is held during the whole computation.
type cache struct {
	mu      sync.Mutex
	entries map[uint64][32]byte
}

func main() {
	c := &cache{entries: make(map[uint64][32]byte)}
	harness.Main(harness.Program{
		Name:   "mutex",
		Handle: func(ctx context.Context, seq uint64) error { return c.get(ctx, seq) },
		Start: func(ctx context.Context, wg *sync.WaitGroup) error {
			runtime.SetMutexProfileFraction(mutexFraction)
			runtime.SetBlockProfileRate(blockRate)
			for i := range refreshers {
				wg.Go(func() { c.refreshCache(ctx, uint64(i)) })
			}
			return nil
		},
	})
}

// get serves a request: it computes the response under the cache's lock,
// which is the bug (the lock should cover only the map access).
func (c *cache) get(ctx context.Context, seq uint64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := harness.Work(ctx); err != nil {
		return err
	}
	c.entries[seq%1024] = harness.Burn(1)
	return nil
}

// refreshCache recomputes one entry after another, each under the lock,
// until ctx ends; the short pause between refreshes is too short to let
// the requests through.
func (c *cache) refreshCache(ctx context.Context, key uint64) {
	for ctx.Err() == nil {
		c.mu.Lock()
		c.entries[key] = harness.Burn(refreshRounds)
		c.mu.Unlock()
		time.Sleep(50 * time.Microsecond)
	}
}
