package bench

import (
	"context"

	"github.com/gdiag/gdiag/pool"
)

// gdiagLibraries returns the gdiag pool with statistics on (its default) and off.
func gdiagLibraries() []Library {
	return []Library{
		{Name: "gdiag", New: newGdiag(true)},
		{Name: "gdiag-nostats", New: newGdiag(false)},
	}
}

type gdiagRunner struct {
	p    *pool.Pool
	task func(context.Context) error
}

func newGdiag(stats bool) func(int, func()) Runner {
	return func(workers int, task func()) Runner {
		return &gdiagRunner{
			p:    pool.New("bench", pool.WithMaxWorkers(workers), pool.WithStats(stats)),
			task: func(context.Context) error { task(); return nil },
		}
	}
}

func (r *gdiagRunner) Submit() error { return r.p.Submit(context.Background(), r.task) }

// Wait drains the pool: Stop returns once every queued task has run.
func (r *gdiagRunner) Wait() { _ = r.p.Stop(context.Background()) }
