package pool_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// Workers that can still start count as room, so a pool without a queue
// accepts as many tasks as it has workers, and no more.
func TestQueueSizeZeroAcceptsUpToMaxWorkers(t *testing.T) {
	p := pool.New("nowait", pool.WithMaxWorkers(3), pool.WithQueueSize(0), pool.WithFailFast(), pool.WithoutRegistry())
	fn, started, release := blocker()
	ctx := context.Background()
	for i := range 3 {
		if err := p.Submit(ctx, fn); err != nil {
			t.Fatalf("Submit(#%d) = %v; want nil (a worker can start)", i+1, err)
		}
	}
	if err := p.Submit(ctx, fn); !errors.Is(err, pool.ErrOverloaded) {
		t.Fatalf("Submit(#4) = %v; want ErrOverloaded", err)
	}
	for range 3 {
		<-started
	}
	if s := p.Stats(); s.Workers != 3 || s.Running != 3 || s.Queued != 0 {
		t.Fatalf("Stats() = workers %d running %d queued %d; want 3 3 0", s.Workers, s.Running, s.Queued)
	}
	release()
	stop(t, p)
	reconcile(t, p.Stats())
}

// Blocked submitters are woken one at a time; each passes the turn on, so
// all of them get in once room appears.
func TestEveryBlockedSubmitterGetsIn(t *testing.T) {
	p := pool.New("blocked", pool.WithMaxWorkers(1), pool.WithQueueSize(2), pool.WithoutRegistry())
	fn, started, release := blocker()
	ctx := context.Background()
	for range 3 {
		if err := p.Submit(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	<-started
	const blocked = 6
	done := make(chan error, blocked)
	for range blocked {
		go func() { done <- p.Submit(ctx, fn) }()
	}
	select {
	case err := <-done:
		t.Fatalf("Submit(full) returned %v before room appeared; want it to block", err)
	case <-time.After(20 * time.Millisecond):
	}
	release()
	for range blocked {
		if err := <-done; err != nil {
			t.Fatalf("blocked Submit() = %v; want nil", err)
		}
	}
	stop(t, p)
	s := p.Stats()
	if s.Submitted != 3+blocked || s.Completed != 3+blocked {
		t.Fatalf("Stats() = submitted %d completed %d; want %d %d", s.Submitted, s.Completed, 3+blocked, 3+blocked)
	}
	reconcile(t, s)
}

// Lowering the minimum lets idle workers retire after the idle timeout
// even though no task arrives to wake them.
func TestResizeLowerMinimumRetiresIdleWorkers(t *testing.T) {
	p := pool.New("lowmin", pool.WithMinWorkers(3), pool.WithMaxWorkers(3),
		pool.WithIdleTimeout(10*time.Millisecond), pool.WithoutRegistry())
	waitFor(t, "the minimum workers to go idle", func() bool { return p.Stats().Idle == 3 })
	if err := p.Resize(1, 3); err != nil {
		t.Fatalf("Resize(1, 3) = %v; want nil", err)
	}
	waitFor(t, "idle workers to retire down to 1", func() bool {
		s := p.Stats()
		return s.Workers == 1 && s.Idle == 1
	})
	stop(t, p)
}
