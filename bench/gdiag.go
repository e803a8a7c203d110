package bench

import (
	"context"
	"errors"

	"github.com/gdiag/gdiag/pool"
)

// gdiagLibraries returns the gdiag pool with statistics on (its default),
// off, and with statistics on and a key on every task (three keys in turn,
// no key limit).
func gdiagLibraries() []Library {
	return []Library{
		{Name: "gdiag", New: newGdiag(true, false)},
		{Name: "gdiag-nostats", New: newGdiag(false, false)},
		{Name: "gdiag-keyed", New: newGdiag(true, true)},
	}
}

type gdiagRunner struct {
	p        *pool.Pool
	task     func(context.Context) error
	keyed    bool
	n        int
	failFast bool
}

var keys = [...]string{"tenant-a", "tenant-b", "tenant-c"}

// newGdiag builds the pool with the mode's queue bound: WithQueueSize(workers)
// under Bounded, the default (1024) otherwise, WithFailFast under FailFast.
func newGdiag(stats, keyed bool) func(int, Mode, func()) Runner {
	return func(workers int, m Mode, task func()) Runner {
		opts := []pool.Option{pool.WithMaxWorkers(workers), pool.WithStats(stats), pool.WithQueueSize(queueBound(m, workers))}
		if m == FailFast {
			opts = append(opts, pool.WithFailFast())
		}
		return &gdiagRunner{
			p:        pool.New("bench", opts...),
			task:     func(context.Context) error { task(); return nil },
			keyed:    keyed,
			failFast: m == FailFast,
		}
	}
}

func (r *gdiagRunner) submit() error {
	if r.keyed {
		r.n++
		return r.p.Go(context.Background(), pool.Task{Fn: r.task, Key: keys[r.n%len(keys)]})
	}
	return r.p.Submit(context.Background(), r.task)
}

func (r *gdiagRunner) Submit() error {
	if !r.failFast {
		return r.submit()
	}
	return retry(r.submit, func(err error) bool { return errors.Is(err, pool.ErrOverloaded) })
}

// Wait drains the pool: Stop returns once every queued task has run.
func (r *gdiagRunner) Wait() { _ = r.p.Stop(context.Background()) }
