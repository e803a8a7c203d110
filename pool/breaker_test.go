package pool_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gdiag/gdiag/pool"
)

var errDown = errors.New("dependency down")

// run submits one task with key that returns err, waits for it to end, and
// returns the submit error.
func run(p *pool.Pool, key string, err error) error {
	done := make(chan struct{})
	serr := p.Go(context.Background(), pool.Task{Key: key, Fn: func(context.Context) error { defer close(done); return err }})
	if serr == nil {
		<-done
		synctest.Wait() // the worker reports the end to the breaker after the task returns
	}
	return serr
}

// breakerOf returns the state of the breaker for key in p's Stats.
func breakerOf(p *pool.Pool, key string) pool.BreakerState {
	for _, b := range p.Stats().Breakers {
		if b.Key == key {
			return b.State
		}
	}
	return pool.BreakerClosed
}

func TestBreakerStateMachine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New("breaker", pool.WithoutRegistry(), pool.WithMaxWorkers(2),
			pool.WithBreaker(pool.BreakerOptions{FailureRatio: 0.5, MinRequests: 10, OpenFor: time.Second, Probes: 2}))
		defer stop(t, p)
		// Closed: 4 successes and 5 failures are below MinRequests.
		for i := range 9 {
			if err := run(p, "", map[bool]error{true: errDown}[i%2 == 0]); err != nil {
				t.Fatalf("task %d refused with %v while closed", i, err)
			}
		}
		if st := breakerOf(p, ""); st != pool.BreakerClosed {
			t.Fatalf("after 9 outcomes (MinRequests 10) state = %v; want closed", st)
		}
		// The tenth outcome, a failure, makes 6 of 10: open.
		if err := run(p, "", errDown); err != nil {
			t.Fatal(err)
		}
		if st := breakerOf(p, ""); st != pool.BreakerOpen {
			t.Fatalf("after 6 failures in 10 state = %v; want open", st)
		}
		if err := run(p, "", nil); !errors.Is(err, pool.ErrBreakerOpen) {
			t.Fatalf("Go while open = %v; want ErrBreakerOpen", err)
		}
		// After OpenFor: half-open, two probes pass, a third is refused.
		time.Sleep(time.Second)
		release := make(chan struct{})
		probe := func(ctx context.Context) error { <-release; return nil }
		for i := range 2 {
			if err := p.Go(context.Background(), pool.Task{Fn: probe}); err != nil {
				t.Fatalf("probe %d refused with %v", i, err)
			}
		}
		if st := breakerOf(p, ""); st != pool.BreakerHalfOpen {
			t.Errorf("with probes running state = %v; want half-open", st)
		}
		if err := p.Go(context.Background(), pool.Task{Fn: probe}); !errors.Is(err, pool.ErrBreakerOpen) {
			t.Errorf("third task while half-open with 2 probes = %v; want ErrBreakerOpen", err)
		}
		close(release)
		synctest.Wait()
		if st := breakerOf(p, ""); st != pool.BreakerClosed {
			t.Fatalf("after both probes succeeded state = %v; want closed", st)
		}
		// Open again, then a failing probe opens it at once.
		for range 10 {
			_ = run(p, "", errDown)
		}
		time.Sleep(time.Second)
		if err := run(p, "", errDown); err != nil {
			t.Fatalf("probe refused: %v", err)
		}
		if st := breakerOf(p, ""); st != pool.BreakerOpen {
			t.Errorf("after a failed probe state = %v; want open", st)
		}
		s := p.Stats()
		if s.BreakerOpens != 3 || s.Breakers[0].Opened != 3 {
			t.Errorf("BreakerOpens = %d, Breakers[0].Opened = %d; want 3", s.BreakerOpens, s.Breakers[0].Opened)
		}
		if s.Refused.BreakerOpen != 2 {
			t.Errorf("Refused.BreakerOpen = %d; want 2", s.Refused.BreakerOpen)
		}
	})
}

func TestBreakerPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New("perkey", pool.WithoutRegistry(), pool.WithMaxWorkers(2),
			pool.WithBreaker(pool.BreakerOptions{MinRequests: 5, PerKey: true}))
		defer stop(t, p)
		for range 5 {
			_ = run(p, "bad", errDown)
			_ = run(p, "good", nil)
		}
		if err := run(p, "bad", nil); !errors.Is(err, pool.ErrBreakerOpen) {
			t.Errorf("Go(bad) after 5 failures = %v; want ErrBreakerOpen", err)
		}
		if err := run(p, "good", nil); err != nil {
			t.Errorf("Go(good) = %v; want nil: one key's breaker must not cut off another", err)
		}
		if err := run(p, "", nil); err != nil {
			t.Errorf("Go(no key) = %v; want nil: tasks without a key use the pool's breaker", err)
		}
		s := p.Stats()
		if len(s.Breakers) < 2 || s.Breakers[0].Key != "" || s.Breakers[1].Key != "bad" || s.Breakers[1].State != pool.BreakerOpen {
			t.Errorf("Stats().Breakers = %+v; want the pool's, then the open key first", s.Breakers)
		}
		b, err := json.Marshal(s.Breakers[1])
		if err != nil || !strings.Contains(string(b), `"state":"open"`) {
			t.Errorf("json.Marshal(BreakerStats) = %s, %v; want the state by name", b, err)
		}
		var back pool.BreakerStats
		if err := json.Unmarshal(b, &back); err != nil || back != s.Breakers[1] {
			t.Errorf("json round trip = %+v, %v; want %+v", back, err, s.Breakers[1])
		}
	})
}

// TestBreakerIgnoresUnrunAndClassifies checks that tasks canceled before
// they ran and errors the classifier accepts do not count as failures.
func TestBreakerIgnoresUnrunAndClassifies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errNotFound := errors.New("not found")
		p := pool.New("classify", pool.WithoutRegistry(), pool.WithMaxWorkers(1),
			pool.WithBreaker(pool.BreakerOptions{MinRequests: 4, IsFailure: func(err error) bool { return !errors.Is(err, errNotFound) }}))
		defer stop(t, p)
		for range 10 {
			if err := run(p, "", errNotFound); err != nil {
				t.Fatalf("Go = %v after errors the classifier accepts; want nil", err)
			}
		}
		// Tasks canceled in the queue never ran: no verdict either way.
		block := make(chan struct{})
		if err := p.Submit(context.Background(), func(context.Context) error { <-block; return nil }); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		for range 10 {
			if err := p.Submit(ctx, func(context.Context) error { return errDown }); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		close(block)
		synctest.Wait()
		if b := p.Stats().Breakers[0]; b.State != pool.BreakerClosed || b.Failures != 0 || b.Requests != 11 {
			t.Errorf("breaker %+v; want closed with 11 outcomes and no failure", b)
		}
	})
}
