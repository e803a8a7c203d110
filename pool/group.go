package pool

import (
	"context"
	"sync"
)

// Group is a set of tasks run on a pool that is waited for together, like
// errgroup.Group: the first task error (or submit error) cancels the
// group's context and is returned by Wait. Create it with Pool.Group; the
// zero value is not usable. Methods are safe for concurrent use, but Go
// must not be called after Wait has returned.
type Group struct {
	p      *Pool
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	once   sync.Once
	err    error
}

// Group returns a new group whose tasks run on p, and the context derived
// from ctx that they receive; it is canceled by the first error or when
// Wait returns.
func (p *Pool) Group(ctx context.Context) (*Group, context.Context) {
	gctx, cancel := context.WithCancelCause(ctx)
	g := &Group{p: p, ctx: gctx, cancel: cancel}
	return g, gctx
}

// Go submits t to the pool with the group's context. If the pool refuses
// it (stopped, overloaded, or the group's context ended), that error
// becomes the group's error. A panic in t.Fn becomes a *PanicError returned
// by Wait. Go takes a Task, as Pool.Go does, so that a group's tasks can
// carry a priority, key, label or timeout; Pool.Submit is the shorthand for
// a bare function. Go panics if t.Fn is nil.
func (g *Group) Go(t Task) {
	if t.Fn == nil {
		panic("pool: nil task")
	}
	g.wg.Add(1)
	if err := g.p.submit(g.ctx, t, g); err != nil {
		g.complete(err)
	}
}

func (g *Group) complete(err error) {
	if err != nil {
		g.once.Do(func() {
			g.err = err
			g.cancel(err)
		})
	}
	g.wg.Done()
}

// Wait blocks until every task given to Go has ended (run, or counted as
// canceled) and returns the first error, if any.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.cancel(context.Canceled)
	return g.err
}

// Future holds the result of a task submitted with SubmitValue. The zero
// value is not usable.
type Future[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// SubmitValue submits fn to p (Normal priority) and returns a Future for
// its result. The error is the submit error, as from Pool.Submit.
func SubmitValue[T any](ctx context.Context, p *Pool, fn func(context.Context) (T, error)) (*Future[T], error) {
	if fn == nil {
		panic("pool: nil task")
	}
	f := &Future[T]{done: make(chan struct{})}
	task := func(ctx context.Context) error {
		v, err := fn(ctx)
		f.val = v
		return err
	}
	if err := p.submit(ctx, Task{Fn: task}, f); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *Future[T]) complete(err error) {
	f.err = err
	close(f.done)
}

// Done returns a channel closed when the result is ready.
func (f *Future[T]) Done() <-chan struct{} { return f.done }

// Get waits for the task and returns its value and error (a *PanicError if
// it panicked, the context's error if it was canceled before it ran), or
// the zero value and ctx.Err() if ctx ends first.
func (f *Future[T]) Get(ctx context.Context) (T, error) {
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
