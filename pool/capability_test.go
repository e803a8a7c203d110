package pool_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/pool"
)

type ctxKey struct{}

func TestTaskContext(t *testing.T) {
	p := pool.New("ctx", pool.WithoutRegistry())
	defer stop(t, p)
	parent := context.WithValue(context.Background(), ctxKey{}, "trace-1")

	f, err := pool.SubmitValue(parent, p, func(ctx context.Context) (string, error) {
		v, _ := ctx.Value(ctxKey{}).(string)
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := f.Get(context.Background()); v != "trace-1" || err != nil {
		t.Fatalf("task ctx.Value = %q, %v; want \"trace-1\", nil", v, err)
	}

	// A per-task timeout bounds the task's context and counts as Failed.
	done := make(chan error, 1)
	err = p.Go(parent, pool.Task{Timeout: 10 * time.Millisecond, Fn: func(ctx context.Context) error {
		<-ctx.Done()
		done <- ctx.Err()
		return ctx.Err()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("task ctx.Err() with Timeout = %v; want DeadlineExceeded", err)
	}
	waitFor(t, "the timed-out task to be counted", func() bool { return p.Stats().Failed == 1 })
}

func TestCanceledBeforeStartIsNotRun(t *testing.T) {
	p := pool.New("cancel", pool.WithMaxWorkers(1), pool.WithoutRegistry())
	fn, started, release := blocker()
	_ = p.Submit(context.Background(), fn)
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	f, err := pool.SubmitValue(ctx, p, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	release()
	if _, err := f.Get(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Future.Get() of a task canceled while queued = %v; want context.Canceled", err)
	}
	stop(t, p)
	if s := p.Stats(); ran.Load() || s.Canceled != 1 || s.Completed != 1 {
		t.Fatalf("ran=%v canceled=%d completed=%d; want false 1 1", ran.Load(), s.Canceled, s.Completed)
	}
	if err := p.Submit(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit(canceled ctx) = %v; want context.Canceled", err)
	}
}

func TestPanicBecomesError(t *testing.T) {
	var got []*pool.PanicError
	var mu sync.Mutex
	p := pool.New("panic", pool.WithMaxWorkers(1), pool.WithoutRegistry(),
		pool.WithPanicHandler(func(pe *pool.PanicError) { mu.Lock(); got = append(got, pe); mu.Unlock() }))
	errSentinel := errors.New("sentinel")
	f, _ := pool.SubmitValue(context.Background(), p, func(context.Context) (int, error) { panic(errSentinel) })
	_, err := f.Get(context.Background())
	var pe *pool.PanicError
	if !errors.As(err, &pe) || !errors.Is(err, errSentinel) || !strings.Contains(string(pe.Stack), "capability_test.go") {
		t.Fatalf("Future.Get() of panicking task = %v; want *PanicError wrapping the value, with a stack", err)
	}
	// The single worker survives: later tasks still run.
	for i := range 5 {
		f, _ := pool.SubmitValue(context.Background(), p, func(context.Context) (int, error) { return i, nil })
		if v, err := f.Get(context.Background()); v != i || err != nil {
			t.Fatalf("task after panic = %d, %v; want %d, nil", v, err, i)
		}
	}
	stop(t, p)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Value != errSentinel || got[0].Pool != "panic" {
		t.Fatalf("panic handler saw %v; want one PanicError from pool \"panic\"", got)
	}
	if s := p.Stats(); s.Panicked != 1 || s.Completed != 5 {
		t.Fatalf("Stats() = panicked %d completed %d; want 1 5", s.Panicked, s.Completed)
	}
}

func TestPriorityOrder(t *testing.T) {
	p := pool.New("prio", pool.WithMaxWorkers(1), pool.WithoutRegistry())
	fn, started, release := blocker()
	_ = p.Submit(context.Background(), fn)
	<-started
	var mu sync.Mutex
	var order []pool.Priority
	prios := []pool.Priority{pool.Low, pool.Normal, pool.High, pool.Low, pool.High, pool.Normal, pool.High}
	for _, pr := range prios {
		err := p.Go(context.Background(), pool.Task{Priority: pr, Fn: func(context.Context) error {
			mu.Lock()
			order = append(order, pr)
			mu.Unlock()
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	release()
	stop(t, p)
	want := []pool.Priority{pool.High, pool.High, pool.High, pool.Normal, pool.Normal, pool.Low, pool.Low}
	if !slices.Equal(order, want) {
		t.Fatalf("run order = %v; want %v", order, want)
	}
}

func TestKeyLimit(t *testing.T) {
	p := pool.New("keys", pool.WithMaxWorkers(4), pool.WithKeyLimit(1), pool.WithoutRegistry())
	var inA, maxA atomic.Int64
	gate := make(chan struct{})
	ctx := context.Background()
	for range 3 {
		err := p.Go(ctx, pool.Task{Key: "tenant-a", Fn: func(context.Context) error {
			n := inA.Add(1)
			for m := maxA.Load(); n > m && !maxA.CompareAndSwap(m, n); m = maxA.Load() {
			}
			<-gate
			inA.Add(-1)
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// While tenant-a holds one worker and waits for the others, tenant-b runs.
	for i := range 10 {
		f, err := pool.SubmitValue(ctx, p, func(context.Context) (int, error) { return i, nil })
		if err != nil {
			t.Fatal(err)
		}
		if v, err := f.Get(ctx); v != i || err != nil {
			t.Fatalf("other key's task = %d, %v; want %d, nil", v, err, i)
		}
	}
	// The last future resolves just before its worker is uncounted.
	waitFor(t, "tenant-b's tasks to end", func() bool { return p.Stats().Running == 1 })
	if s := p.Stats(); s.Running != 1 || s.Queued != 0 || s.Parked != 2 {
		t.Errorf("Stats() with tenant-a at its limit = running %d queued %d parked %d; want 1 0 2", s.Running, s.Queued, s.Parked)
	}
	close(gate)
	stop(t, p)
	if got := maxA.Load(); got != 1 {
		t.Fatalf("max concurrent tenant-a tasks = %d; want 1", got)
	}
	reconcile(t, p.Stats())
}

func TestGroupFirstErrorCancelsRest(t *testing.T) {
	p := pool.New("group", pool.WithMaxWorkers(4), pool.WithoutRegistry())
	defer stop(t, p)
	g, gctx := p.Group(context.Background())
	errFirst := errors.New("first")
	var canceled atomic.Int64
	for range 3 {
		g.Go(pool.Task{Fn: func(ctx context.Context) error {
			<-ctx.Done()
			canceled.Add(1)
			return ctx.Err()
		}})
	}
	g.Go(pool.Task{Fn: func(context.Context) error { return errFirst }})
	if err := g.Wait(); !errors.Is(err, errFirst) {
		t.Fatalf("Group.Wait() = %v; want %v", err, errFirst)
	}
	// Each other task either saw the cancellation or was never run.
	if got := canceled.Load() + int64(p.Stats().Canceled); gctx.Err() == nil || got != 3 {
		t.Fatalf("group ctx err = %v, canceled tasks = %d; want canceled, 3", gctx.Err(), got)
	}

	g2, _ := p.Group(context.Background())
	var n atomic.Int64
	for range 50 {
		g2.Go(pool.Task{Priority: pool.High, Fn: func(context.Context) error { n.Add(1); return nil }})
	}
	if err := g2.Wait(); err != nil || n.Load() != 50 {
		t.Fatalf("Group.Wait() = %v after %d tasks; want nil after 50", err, n.Load())
	}
}

func TestFutureGetHonoursCtx(t *testing.T) {
	p := pool.New("future", pool.WithoutRegistry())
	fn, started, release := blocker()
	f, _ := pool.SubmitValue(context.Background(), p, func(ctx context.Context) (int, error) { return 7, fn(ctx) })
	<-started
	short, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := f.Get(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Future.Get(short) = %v; want DeadlineExceeded", err)
	}
	release()
	<-f.Done()
	if v, err := f.Get(context.Background()); v != 7 || err != nil {
		t.Fatalf("Future.Get() = %d, %v; want 7, nil", v, err)
	}
	stop(t, p)
}

type recorder struct {
	mu     sync.Mutex
	events []string
}

type spanKey struct{}

func (r *recorder) TaskStart(ctx context.Context, t pool.TaskInfo) context.Context {
	r.add("start " + t.Label + " " + t.Pool + " " + t.Key + " " + t.Priority.String())
	return context.WithValue(ctx, spanKey{}, "span-"+t.Label)
}
func (r *recorder) TaskEnd(ctx context.Context, t pool.TaskInfo, res pool.TaskResult) {
	span, _ := ctx.Value(spanKey{}).(string)
	r.add("end " + t.Label + " " + span + " " + res.Outcome.String())
}
func (r *recorder) add(s string) { r.mu.Lock(); r.events = append(r.events, s); r.mu.Unlock() }

func TestObserver(t *testing.T) {
	rec := &recorder{}
	p := pool.New("obs", pool.WithMaxWorkers(1), pool.WithObserver(rec), pool.WithoutRegistry())
	seen := make(chan string, 1)
	err := p.Go(context.Background(), pool.Task{Label: "checkout", Key: "k", Priority: pool.High, Fn: func(ctx context.Context) error {
		s, _ := ctx.Value(spanKey{}).(string)
		seen <- s
		return errors.New("declined")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if s := <-seen; s != "span-checkout" {
		t.Fatalf("task ctx value from TaskStart = %q; want \"span-checkout\"", s)
	}
	stop(t, p)
	want := []string{"start checkout obs k high", "end checkout span-checkout failed"}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if !slices.Equal(rec.events, want) {
		t.Fatalf("observer events = %q; want %q", rec.events, want)
	}
}

func TestAdaptiveSizing(t *testing.T) {
	p := pool.New("adaptive", pool.WithMinWorkers(1), pool.WithMaxWorkers(4),
		pool.WithIdleTimeout(20*time.Millisecond), pool.WithoutRegistry())
	if s := p.Stats(); s.Workers != 1 {
		t.Fatalf("Stats() after New = workers %d; want 1", s.Workers)
	}
	waitFor(t, "the minimum worker to go idle", func() bool { return p.Stats().Idle == 1 })
	fn, started, release := blocker()
	for range 6 {
		_ = p.Submit(context.Background(), fn)
	}
	for range 4 {
		<-started
	}
	if s := p.Stats(); s.Workers != 4 || s.Running != 4 || s.Queued != 2 {
		t.Fatalf("Stats() under backlog = workers %d running %d queued %d; want 4 4 2", s.Workers, s.Running, s.Queued)
	}
	release()
	waitFor(t, "idle workers to retire down to the minimum", func() bool {
		s := p.Stats()
		return s.Workers == 1 && s.Queued == 0
	})
	stop(t, p)
	reconcile(t, p.Stats())
}

func TestResize(t *testing.T) {
	p := pool.New("resize", pool.WithMaxWorkers(1), pool.WithoutRegistry())
	fn, started, release := blocker()
	for range 4 {
		_ = p.Submit(context.Background(), fn)
	}
	<-started
	if err := p.Resize(0, 3); err != nil {
		t.Fatalf("Resize(0, 3) = %v; want nil", err)
	}
	<-started
	<-started
	if s := p.Stats(); s.Running != 3 || s.MaxWorkers != 3 || s.Queued != 1 {
		t.Fatalf("Stats() after Resize(0, 3) = running %d max %d queued %d; want 3 3 1", s.Running, s.MaxWorkers, s.Queued)
	}
	if err := p.Resize(2, 1); err == nil {
		t.Fatal("Resize(2, 1) = nil; want an error")
	}
	if err := p.Resize(2, 2); err != nil {
		t.Fatalf("Resize(2, 2) = %v; want nil", err)
	}
	release()
	waitFor(t, "workers to settle at 2", func() bool { s := p.Stats(); return s.Workers == 2 && s.Idle == 2 })
	stop(t, p)
	if err := p.Resize(1, 1); !errors.Is(err, pool.ErrStopped) {
		t.Fatalf("Resize() after Stop = %v; want ErrStopped", err)
	}
	reconcile(t, p.Stats())
}
