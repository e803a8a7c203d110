package pool_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// patience bounds how long a test waits for something that must happen, so
// that a wedged pool fails the test instead of hanging it. It is long enough
// for a loaded 2-core machine; nothing here is timed against it.
const patience = 20 * time.Second

// The four ways to submit, each blocking while the pool is full.
var submitters = []struct {
	name string
	do   func(ctx context.Context, p *pool.Pool, fn func(context.Context) error) error
}{
	{"Submit", func(ctx context.Context, p *pool.Pool, fn func(context.Context) error) error {
		return p.Submit(ctx, fn)
	}},
	{"Go", func(ctx context.Context, p *pool.Pool, fn func(context.Context) error) error {
		return p.Go(ctx, pool.Task{Fn: fn, Key: "k"})
	}},
	{"SubmitValue", func(ctx context.Context, p *pool.Pool, fn func(context.Context) error) error {
		_, err := pool.SubmitValue(ctx, p, func(ctx context.Context) (int, error) { return 0, fn(ctx) })
		return err
	}},
	{"Group.Go", func(ctx context.Context, p *pool.Pool, fn func(context.Context) error) error {
		g, _ := p.Group(ctx)
		g.Go(pool.Task{Fn: fn})
		return nil // the group's error comes from Wait; acceptance is what is tested
	}},
}

// TestQueueZeroWakesBlockedSubmitter: without a queue and without fail-fast,
// a blocked submission must be accepted once a worker goes idle, not wait
// for its ctx to end.
func TestQueueZeroWakesBlockedSubmitter(t *testing.T) {
	for _, sub := range submitters {
		t.Run(sub.name, func(t *testing.T) {
			p := pool.New("q0", pool.WithMaxWorkers(1), pool.WithQueueSize(0), pool.WithoutRegistry())
			fn, started, release := blocker()
			if err := p.Submit(context.Background(), fn); err != nil {
				t.Fatal(err)
			}
			<-started
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			var ran atomic.Bool
			done := make(chan error, 1)
			go func() {
				done <- sub.do(ctx, p, func(context.Context) error { ran.Store(true); return nil })
			}()
			waitFor(t, "the submitter to block", func() bool { return p.Stats().Rejected == 0 && blockedSubmitters() > 0 })
			release() // the only worker goes idle: room for the blocked task
			if err := <-done; err != nil {
				t.Fatalf("%s blocked on a full queue-0 pool, after a worker went idle = %v; want nil", sub.name, err)
			}
			stop(t, p)
			if !ran.Load() {
				t.Fatalf("the task accepted after the wake-up did not run")
			}
			reconcile(t, p.Stats())
		})
	}
}

// blockedSubmitters counts goroutines blocked waiting for room in a pool.
func blockedSubmitters() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("pool.(*Pool).waitRoom(")) {
			n++
		}
	}
	return n
}

// TestKeyHeldTasksDoNotBlockOtherKeys: when tasks held back by a key limit
// fill the queue, a submitter of another key is accepted as soon as a worker
// is idle, even behind a blocked submitter of the limited key.
func TestKeyHeldTasksDoNotBlockOtherKeys(t *testing.T) {
	p := pool.New("keyheld", pool.WithMaxWorkers(2), pool.WithQueueSize(1), pool.WithKeyLimit(1), pool.WithoutRegistry())
	holdA, startedA, releaseA := blocker()
	holdC, startedC, releaseC := blocker()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	submitKeyed(t, p, holdA, "a", 1) // runs on worker 1
	<-startedA
	submitKeyed(t, p, holdA, "a", 1) // held by the key limit: fills the queue
	submitKeyed(t, p, holdC, "c", 1) // runs on worker 2
	<-startedC
	if s := p.Stats(); s.Parked != 1 || s.Queued != 0 || s.Running != 2 {
		t.Fatalf("Stats() = parked %d queued %d running %d; want 1 0 2", s.Parked, s.Queued, s.Running)
	}
	blockedA := make(chan error, 1)
	go func() { blockedA <- p.Go(ctx, pool.Task{Fn: holdA, Key: "a"}) }()
	waitFor(t, "the key-a submitter to block", func() bool { return blockedSubmitters() == 1 })
	var ranB atomic.Bool
	blockedB := make(chan error, 1)
	go func() {
		blockedB <- p.Go(ctx, pool.Task{Key: "b", Fn: func(context.Context) error { ranB.Store(true); return nil }})
	}()
	waitFor(t, "the key-b submitter to block", func() bool { return blockedSubmitters() == 2 })
	releaseC() // worker 2 goes idle: room for b, not for a
	if err := <-blockedB; err != nil {
		t.Fatalf("Go(key b) with a worker idle and key a at its limit = %v; want nil", err)
	}
	waitFor(t, "the key-b task to run", ranB.Load)
	select {
	case err := <-blockedA:
		t.Fatalf("Go(key a) returned %v while key a is at its limit and the queue is full; want it to block", err)
	default:
	}
	releaseA()
	if err := <-blockedA; err != nil {
		t.Fatalf("Go(key a) after its key freed = %v; want nil", err)
	}
	stop(t, p)
	reconcile(t, p.Stats())
}

// panicky panics in TaskStart, TaskEnd, or neither, depending on the
// task's label.
type panicky struct{}

func (panicky) TaskStart(ctx context.Context, t pool.TaskInfo) context.Context {
	if t.Label == "start" {
		panic("observer start")
	}
	return ctx
}

func (panicky) TaskEnd(_ context.Context, t pool.TaskInfo, _ pool.TaskResult) {
	if t.Label == "end" {
		panic("observer end")
	}
}

// TestPanickingCallbacksAreContained: a panicking Observer or panic handler
// is recovered like a task panic, counted and logged, and never kills the
// process or the worker.
func TestPanickingCallbacksAreContained(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(b)
	}), nil))
	p := pool.New("hooks", pool.WithMaxWorkers(1), pool.WithObserver(panicky{}), pool.WithLogger(logger),
		pool.WithPanicHandler(func(*pool.PanicError) { panic("handler") }), pool.WithoutRegistry())
	ctx := context.Background()
	var ran atomic.Int64
	run := func(context.Context) error { ran.Add(1); return nil }
	g, _ := p.Group(ctx)
	g.Go(pool.Task{Fn: run, Label: "start"})
	var pe *pool.PanicError
	if err := g.Wait(); !errors.As(err, &pe) || pe.Value != "observer start" {
		t.Fatalf("Group.Wait() of a task whose TaskStart panicked = %v; want a *PanicError", err)
	}
	for _, task := range []pool.Task{
		{Fn: run, Label: "start"}, // TaskStart panics: not run, Panicked
		{Fn: run, Label: "end"},   // TaskEnd panics: Completed
		{Fn: func(context.Context) error { panic("task") }, Label: "ok"}, // the handler panics
		{Fn: run, Label: "ok"}, // the worker survived
	} {
		if err := p.Go(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
	stop(t, p)
	s := p.Stats()
	if ran.Load() != 2 || s.Completed != 2 || s.Panicked != 3 || s.HookPanics != 4 {
		t.Fatalf("ran %d, Stats() = completed %d panicked %d hook panics %d; want 2 2 3 4",
			ran.Load(), s.Completed, s.Panicked, s.HookPanics)
	}
	reconcile(t, s)
	logMu.Lock()
	defer logMu.Unlock()
	for _, want := range []string{"observer start", "observer end", "handler"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// TestGoexitTaskIsCounted: a task that calls runtime.Goexit (as t.FailNow
// does) ends as Panicked with ErrGoexit, frees its key and its worker, and
// Stop still returns.
func TestGoexitTaskIsCounted(t *testing.T) {
	for _, observed := range []bool{false, true} {
		opts := []pool.Option{pool.WithMaxWorkers(1), pool.WithKeyLimit(1), pool.WithoutRegistry()}
		if observed {
			opts = append(opts, pool.WithObserver(panicky{}))
		}
		p := pool.New("goexit", opts...)
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		f, err := pool.SubmitValue(ctx, p, func(context.Context) (int, error) { runtime.Goexit(); return 1, nil })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Get(ctx); !errors.Is(err, pool.ErrGoexit) {
			t.Fatalf("Future.Get() of a task that called runtime.Goexit = %v; want ErrGoexit", err)
		}
		exit := pool.Task{Key: "k", Label: "goexit", Timeout: time.Hour, Fn: func(context.Context) error { runtime.Goexit(); return nil }}
		if err := p.Go(ctx, exit); err != nil {
			t.Fatal(err)
		}
		// Needs the key and the worker back.
		f2, err := pool.SubmitValue(ctx, p, func(context.Context) (int, error) { return 2, nil })
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Go(ctx, pool.Task{Key: "k", Fn: func(context.Context) error { return nil }}); err != nil {
			t.Fatal(err)
		}
		if v, err := f2.Get(ctx); v != 2 || err != nil {
			t.Fatalf("Future.Get() after a task called runtime.Goexit = %d, %v; want 2, nil", v, err)
		}
		if err := p.Stop(ctx); err != nil {
			t.Fatalf("Stop() after a task called runtime.Goexit = %v; want nil", err)
		}
		cancel()
		s := p.Stats()
		if s.Panicked != 2 || s.Completed != 2 || s.Keys != nil {
			t.Fatalf("observed=%v: Stats() = panicked %d completed %d keys %v; want 2 2 nil", observed, s.Panicked, s.Completed, s.Keys)
		}
		reconcile(t, s)
	}
}
