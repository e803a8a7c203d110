package pool_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/pool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitFor polls cond with a generous deadline; it never asserts speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func stop(t *testing.T, p *pool.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop() = %v; want nil", err)
	}
}

// reconcile checks the documented identity after Stop has returned nil.
func reconcile(t *testing.T, s pool.Stats) {
	t.Helper()
	if got := s.Completed + s.Failed + s.Panicked + s.Canceled; got != s.Submitted || s.Queued != 0 || s.Parked != 0 || s.Running != 0 {
		t.Fatalf("outcomes %d (c=%d f=%d p=%d x=%d), queued %d, parked %d, running %d; want %d outcomes, nothing queued, parked or running",
			got, s.Completed, s.Failed, s.Panicked, s.Canceled, s.Queued, s.Parked, s.Running, s.Submitted)
	}
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		opt  pool.Option
	}{
		{"max 0", pool.WithMaxWorkers(0)},
		{"min negative", pool.WithMinWorkers(-1)},
		{"min above max", pool.WithMinWorkers(100)},
		{"queue negative", pool.WithQueueSize(-1)},
		{"idle timeout 0", pool.WithIdleTimeout(0)},
		{"key limit negative", pool.WithKeyLimit(-1)},
		{"sampling 0", pool.WithStatsSampling(0)},
		{"rate negative", pool.WithRateLimit(pool.Rate{PerSecond: -1})},
		{"key rate NaN", pool.WithKeyRateLimit(pool.Rate{PerSecond: math.NaN()})},
		{"adaptive min above max", pool.WithAdaptiveLimit(pool.AdaptiveOptions{Min: 5})},
		{"shed target negative", pool.WithShedding(pool.ShedOptions{Target: -1})},
		{"breaker ratio above 1", pool.WithBreaker(pool.BreakerOptions{FailureRatio: 1.5})},
		{"breaker probes negative", pool.WithBreaker(pool.BreakerOptions{Probes: -1})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "pool: ") {
					t.Fatalf("New(%s) panic = %v; want a \"pool: ...\" message", tt.name, r)
				}
			}()
			pool.New("bad", pool.WithMaxWorkers(4), tt.opt, pool.WithoutRegistry())
		})
	}
}

func TestOutcomesAreCounted(t *testing.T) {
	p := pool.New("outcomes", pool.WithMaxWorkers(3), pool.WithStatsSampling(1), pool.WithoutRegistry())
	ctx := context.Background()
	errBoom := errors.New("boom")
	tasks := []func(context.Context) error{
		func(context.Context) error { return nil },
		func(context.Context) error { return nil },
		func(context.Context) error { return errBoom },
		func(context.Context) error { panic("oops") },
	}
	for _, fn := range tasks {
		if err := p.Submit(ctx, fn); err != nil {
			t.Fatalf("Submit() = %v; want nil", err)
		}
	}
	stop(t, p)
	s := p.Stats()
	for _, c := range []struct {
		name      string
		got, want uint64
	}{
		{"Submitted", s.Submitted, 4}, {"Completed", s.Completed, 2}, {"Failed", s.Failed, 1},
		{"Panicked", s.Panicked, 1}, {"Canceled", s.Canceled, 0}, {"Rejected", s.Rejected, 0},
		{"RunTime.Count", s.RunTime.Count, 4}, {"QueueWait.Count", s.QueueWait.Count, 4},
	} {
		if c.got != c.want {
			t.Errorf("Stats().%s = %d; want %d", c.name, c.got, c.want)
		}
	}
	reconcile(t, s)
}

func TestStatsSampling(t *testing.T) {
	tests := []struct {
		every, tasks int
		want         uint64
	}{{1, 40, 40}, {8, 80, 10}, {8, 7, 0}, {3, 30, 10}}
	for _, tt := range tests {
		p := pool.New("sampling", pool.WithStatsSampling(tt.every), pool.WithoutRegistry())
		for range tt.tasks {
			_ = p.Submit(context.Background(), func(context.Context) error { return nil })
		}
		stop(t, p)
		s := p.Stats()
		if s.RunTime.Count != tt.want || s.QueueWait.Count != tt.want || s.Completed != uint64(tt.tasks) {
			t.Errorf("WithStatsSampling(%d) after %d tasks: RunTime.Count %d QueueWait.Count %d Completed %d; want %d %d %d",
				tt.every, tt.tasks, s.RunTime.Count, s.QueueWait.Count, s.Completed, tt.want, tt.want, tt.tasks)
		}
	}
}

func TestStatsOffKeepsCountersDropsHistograms(t *testing.T) {
	p := pool.New("nostats", pool.WithStats(false), pool.WithoutRegistry())
	for range 10 {
		if err := p.Submit(context.Background(), func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	stop(t, p)
	s := p.Stats()
	if s.Completed != 10 || s.RunTime.Count != 0 || s.QueueWait.Count != 0 {
		t.Fatalf("Stats() = completed %d, run count %d, wait count %d; want 10, 0, 0", s.Completed, s.RunTime.Count, s.QueueWait.Count)
	}
}

// blocker returns a task that blocks until release is called, and a channel
// that receives once per started task.
func blocker() (fn func(context.Context) error, started chan struct{}, release func()) {
	gate := make(chan struct{})
	started = make(chan struct{}, 1000)
	var once sync.Once
	return func(context.Context) error {
		started <- struct{}{}
		<-gate
		return nil
	}, started, func() { once.Do(func() { close(gate) }) }
}

func TestFailFastOverload(t *testing.T) {
	p := pool.New("failfast", pool.WithMaxWorkers(1), pool.WithQueueSize(2), pool.WithFailFast(), pool.WithoutRegistry())
	fn, started, release := blocker()
	ctx := context.Background()
	if err := p.Submit(ctx, fn); err != nil {
		t.Fatal(err)
	}
	<-started
	for i := range 2 {
		if err := p.Submit(ctx, fn); err != nil {
			t.Fatalf("Submit(#%d) = %v; want nil (queue has room)", i+2, err)
		}
	}
	if err := p.Submit(ctx, fn); !errors.Is(err, pool.ErrOverloaded) {
		t.Fatalf("Submit(full queue) = %v; want ErrOverloaded", err)
	}
	if s := p.Stats(); s.Rejected != 1 || s.Submitted != 3 || s.Queued != 2 || s.Running != 1 {
		t.Fatalf("Stats() = rejected %d submitted %d queued %d running %d; want 1 3 2 1", s.Rejected, s.Submitted, s.Queued, s.Running)
	}
	release()
	stop(t, p)
	reconcile(t, p.Stats())
}

func TestBlockingSubmitWaitsForRoom(t *testing.T) {
	p := pool.New("block", pool.WithMaxWorkers(1), pool.WithQueueSize(1), pool.WithoutRegistry())
	fn, started, release := blocker()
	ctx := context.Background()
	_ = p.Submit(ctx, fn)
	<-started
	_ = p.Submit(ctx, fn) // fills the queue

	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := p.Submit(short, fn); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Submit(full, short ctx) = %v; want context.DeadlineExceeded", err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Submit(ctx, fn) }()
	select {
	case err := <-done:
		t.Fatalf("Submit(full) returned %v before room appeared; want it to block", err)
	case <-time.After(20 * time.Millisecond):
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("Submit(after room) = %v; want nil", err)
	}
	stop(t, p)
	if s := p.Stats(); s.Submitted != 3 || s.Rejected != 1 {
		t.Fatalf("Stats() = submitted %d rejected %d; want 3 1", s.Submitted, s.Rejected)
	}
}

func TestStopWakesBlockedSubmitters(t *testing.T) {
	p := pool.New("stopwake", pool.WithMaxWorkers(1), pool.WithQueueSize(0), pool.WithoutRegistry())
	fn, started, release := blocker()
	ctx := context.Background()
	_ = p.Submit(ctx, fn)
	<-started
	done := make(chan error, 1)
	go func() { done <- p.Submit(ctx, fn) }()
	stopped := make(chan error, 1)
	go func() { stopped <- p.Stop(ctx) }()
	if err := <-done; !errors.Is(err, pool.ErrStopped) {
		t.Fatalf("blocked Submit() after Stop = %v; want ErrStopped", err)
	}
	release()
	if err := <-stopped; err != nil {
		t.Fatalf("Stop() = %v; want nil", err)
	}
	if err := p.Submit(ctx, fn); !errors.Is(err, pool.ErrStopped) {
		t.Fatalf("Submit() after Stop = %v; want ErrStopped", err)
	}
	reconcile(t, p.Stats())
}

func TestStopRunsAcceptedTasks(t *testing.T) {
	p := pool.New("drain", pool.WithMaxWorkers(2), pool.WithoutRegistry())
	var ran atomic.Int64
	for range 100 {
		_ = p.Submit(context.Background(), func(context.Context) error {
			time.Sleep(100 * time.Microsecond)
			ran.Add(1)
			return nil
		})
	}
	stop(t, p)
	if got := ran.Load(); got != 100 {
		t.Fatalf("tasks run before Stop returned = %d; want 100", got)
	}
	reconcile(t, p.Stats())
}

func TestStopDeadlineDropsQueued(t *testing.T) {
	p := pool.New("drop", pool.WithMaxWorkers(1), pool.WithoutRegistry())
	fn, started, release := blocker()
	ctx := context.Background()
	_ = p.Submit(ctx, fn)
	<-started
	g, _ := p.Group(ctx)
	for range 3 {
		g.Go(pool.Task{Fn: fn})
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	err := p.Stop(short)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "3 queued tasks dropped") {
		t.Fatalf("Stop(short) = %v; want DeadlineExceeded saying 3 queued tasks dropped", err)
	}
	if err := g.Wait(); !errors.Is(err, pool.ErrStopped) {
		t.Fatalf("Group.Wait() after drop = %v; want ErrStopped", err)
	}
	release()
	stop(t, p)
	s := p.Stats()
	if s.Canceled != 3 || s.Completed != 1 {
		t.Fatalf("Stats() = canceled %d completed %d; want 3 1", s.Canceled, s.Completed)
	}
	reconcile(t, s)
}

func TestStatsMarshalJSON(t *testing.T) {
	p := pool.New("json", pool.WithoutRegistry())
	_ = p.Submit(context.Background(), func(context.Context) error { return nil })
	stop(t, p)
	b, err := json.Marshal(p.Stats())
	if err != nil {
		t.Fatalf("json.Marshal(Stats) = %v", err)
	}
	var back pool.Stats
	if err := json.Unmarshal(b, &back); err != nil || back.Name != "json" || back.Completed != 1 || len(back.RunTime.Counts) != len(back.RunTime.Bounds)+1 {
		t.Fatalf("round trip = %+v, %v; want name json, 1 completed, len(Counts) = len(Bounds)+1", back, err)
	}
}

func TestRegistry(t *testing.T) {
	a := pool.New("reg-a")
	b := pool.New("reg-b", pool.WithoutRegistry())
	has := func(p *pool.Pool) bool {
		for _, q := range pool.Registered() {
			if q == p {
				return true
			}
		}
		return false
	}
	if !has(a) || has(b) {
		t.Fatalf("Registered() has a=%v b=%v; want true false", has(a), has(b))
	}
	stop(t, a)
	stop(t, b)
	if has(a) {
		t.Fatal("Registered() still has a after Stop; want it removed")
	}
}
