// Command pool imitates pool overload and starvation: each request fans
// out two calls to a slow downstream (an export service answering in about
// 20 ms) through a pool named "export" sized for an older, smaller traffic
// (2 workers, a queue of 16, fail-fast). The pool is offered about 400
// tasks a second and can run about 100, so most submissions are rejected
// with pool.ErrOverloaded and the accepted ones wait in a full queue for
// about 150 ms. Nine tasks in ten belong to one tenant ("tenant-bulk"),
// and since the pool has no WithKeyLimit that tenant holds the workers
// nearly all the time, starving the others.
//
// gdiag doctor should name pool overload on the pool "export" (rejections
// and queue wait); the request pool itself stays healthy.
//
//	go run ./examples/incidents/pool [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
	"github.com/gdiag/gdiag/pool"
)

const (
	exportWorkers = 2
	exportQueue   = 16
	exportCalls   = 2                     // downstream calls per request
	downstream    = 20 * time.Millisecond // the downstream's answer time
)

func main() {
	var exports *pool.Pool
	harness.Main(harness.Program{
		Name: "pool",
		Start: func(ctx context.Context, wg *sync.WaitGroup) error {
			exports = pool.New("export", pool.WithMaxWorkers(exportWorkers),
				pool.WithQueueSize(exportQueue), pool.WithFailFast())
			wg.Go(func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = exports.Stop(sctx) // the queue holds at most 16 tasks of 20 ms
			})
			return nil
		},
		Handle: func(ctx context.Context, seq uint64) error { return handle(ctx, exports, seq) },
	})
}

// handle serves a request: its own work, then the downstream calls,
// submitted without waiting for them. A rejected call is dropped, as a
// best-effort export would be; the rejections are what the pool counts.
func handle(ctx context.Context, exports *pool.Pool, seq uint64) error {
	if err := harness.Work(ctx); err != nil {
		return err
	}
	tenant := "tenant-bulk"
	if seq%10 == 0 {
		tenant = "tenant-small"
	}
	for range exportCalls {
		err := exports.Go(ctx, pool.Task{Key: tenant, Label: "export", Fn: callDownstream})
		if err != nil && !errors.Is(err, pool.ErrOverloaded) {
			return err
		}
	}
	return nil
}

// callDownstream waits for the slow downstream, or for ctx to end.
func callDownstream(ctx context.Context) error {
	t := time.NewTimer(downstream)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
