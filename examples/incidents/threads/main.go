// Command threads imitates thread growth from blocking system calls: a
// periodic job (flushFiles) fsyncs one file per tenant, each from its own
// goroutine, on a slow disk. A goroutine blocked in a system call holds
// its OS thread, so the runtime starts another thread to keep running Go
// code; and since the Go runtime never gives idle threads back, the
// thread count ratchets up to the largest batch ever blocked at once.
// Here the number of tenants grows by 40 every 2 seconds, up to 480, and
// each "fsync" is a raw nanosleep system call of one second
// (blockingSyscall), the calls of a batch started a millisecond apart. The
// process grows by about 20 threads a second to about 500, while the
// goroutine count, between batches, stays where it was. Hung NFS mounts,
// blocking cgo calls (the cgo DNS resolver, C libraries) and file I/O on
// overloaded disks behave the same way.
//
// gdiag doctor should name thread growth. The program stays far below
// debug.SetMaxThreads (10,000 by default), past which the runtime
// crashes the process.
//
// It needs Linux (raw nanosleep); elsewhere it exits with an error.
//
//	go run ./examples/incidents/threads [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"context"
	"sync"
	"time"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

const (
	batchStep  = 40               // tenants added per batch
	maxBatch   = 480              // largest batch, so threads stay near 500
	batchEvery = 2 * time.Second  // the job's period
	fsyncTime  = time.Second      // how long each blocked call lasts
	fsyncGap   = time.Millisecond // between two starts within a batch
)

func main() {
	harness.Main(harness.Program{Name: "threads", Start: start})
}

func start(ctx context.Context, wg *sync.WaitGroup) error {
	if err := checkSyscall(); err != nil {
		return err
	}
	wg.Go(func() { flushFiles(ctx) })
	return nil
}

// flushFiles runs a batch every batchEvery, one more step of tenants each
// time, and waits for each batch before the next.
func flushFiles(ctx context.Context) {
	tick := time.NewTicker(batchEvery)
	defer tick.Stop()
	for n := batchStep; ; n = min(n+batchStep, maxBatch) {
		var batch sync.WaitGroup
		for range n {
			batch.Go(func() { blockingSyscall(fsyncTime) })
			// Staggered starts: all calls still overlap, but the
			// goroutines do not queue for a P all at once, so the
			// fault is thread growth alone, not scheduling latency.
			time.Sleep(fsyncGap)
		}
		batch.Wait()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
