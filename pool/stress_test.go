package pool_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// TestStress pushes more than 10^6 tiny tasks with random errors, panics,
// timeouts, cancellations and priorities from many goroutines, stops the
// pool while they are still submitting, and checks that every submission is
// accounted for exactly once.
func TestStress(t *testing.T) {
	const (
		submitters = 16
		perSub     = 70_000 // 16 × 70,000 = 1,120,000 submissions
		stopAt     = 1_080_000
	)
	p := pool.New("stress", pool.WithMaxWorkers(4), pool.WithQueueSize(256), pool.WithKeyLimit(2),
		pool.WithoutRegistry(), pool.WithIdleTimeout(time.Millisecond))
	errTask := errors.New("task error")
	var (
		ran, accepted, refused, attempts atomic.Int64
		stopOnce                         sync.Once
		stopErr                          = make(chan error, 1)
		wg                               sync.WaitGroup
	)
	keys := []string{"", "", "a", "b"}
	for s := range submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s), 42))
			for range perSub {
				if attempts.Add(1) == stopAt {
					stopOnce.Do(func() {
						go func() {
							ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
							defer cancel()
							stopErr <- p.Stop(ctx)
						}()
					})
				}
				ctx := context.Background()
				var cancel context.CancelFunc
				kind := rng.IntN(1000)
				if kind < 20 { // canceled before or soon after submission
					ctx, cancel = context.WithCancel(ctx)
					if kind < 10 {
						cancel()
					}
				}
				task := pool.Task{
					Priority: pool.Priority(rng.IntN(3) - 1),
					Key:      keys[rng.IntN(len(keys))],
					Fn: func(ctx context.Context) error {
						ran.Add(1)
						switch {
						case kind == 999:
							panic("stress panic")
						case kind >= 950:
							return errTask
						case kind >= 940:
							<-ctx.Done() // bounded by Timeout below
							return ctx.Err()
						}
						return nil
					},
				}
				if kind >= 940 && kind < 950 {
					task.Timeout = time.Microsecond
				}
				if err := p.Go(ctx, task); err != nil {
					if !errors.Is(err, pool.ErrStopped) && !errors.Is(err, context.Canceled) {
						t.Errorf("Go() = %v; want nil, ErrStopped or context.Canceled", err)
					}
					refused.Add(1)
				} else {
					accepted.Add(1)
				}
				if cancel != nil {
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	if err := <-stopErr; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop(1ms) = %v; want nil or DeadlineExceeded", err)
	}
	stop(t, p) // waits for tasks still running after the first Stop gave up
	s := p.Stats()
	reconcile(t, s)
	if s.Keys != nil {
		t.Fatalf("Stats().Keys after Stop = %+v; want nil (every keyed task released)", s.Keys)
	}
	if got := s.Submitted + s.Rejected; got != submitters*perSub {
		t.Fatalf("Submitted+Rejected = %d; want %d", got, submitters*perSub)
	}
	if s.Submitted != uint64(accepted.Load()) || s.Rejected != uint64(refused.Load()) {
		t.Fatalf("Stats() submitted %d rejected %d; callers saw %d accepted %d refused", s.Submitted, s.Rejected, accepted.Load(), refused.Load())
	}
	if got := s.Completed + s.Failed + s.Panicked; got != uint64(ran.Load()) {
		t.Fatalf("Completed+Failed+Panicked = %d; want %d tasks that ran", got, ran.Load())
	}
	if s.Submitted < 1_000_000 || s.Panicked == 0 || s.Failed == 0 || s.Canceled == 0 || s.Rejected == 0 {
		t.Fatalf("Stats() = %+v; want ≥10^6 submitted and every outcome exercised", s)
	}
	t.Logf("submitted %d completed %d failed %d panicked %d canceled %d rejected %d",
		s.Submitted, s.Completed, s.Failed, s.Panicked, s.Canceled, s.Rejected)
}
