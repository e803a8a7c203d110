package pool_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// The overload tests run in testing/synctest bubbles: the pool reads
// time.Now and sets timers, which follow the bubble's fake clock, so rates
// and durations are measured exactly whatever the load on the machine.

// within reports whether got is within frac of want.
func within(got, want, frac float64) bool { return math.Abs(got-want) <= frac*want }

// drive submits a no-op task every gap from one goroutine for d, and
// returns how many were accepted and refused (by ErrRateLimited).
func drive(t *testing.T, p *pool.Pool, key string, gap, d time.Duration) (accepted, limited int) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		err := p.Go(context.Background(), pool.Task{Key: key, Fn: func(context.Context) error { return nil }})
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, pool.ErrRateLimited):
			limited++
		default:
			t.Fatalf("Go() = %v; want nil or ErrRateLimited", err)
		}
		if gap > 0 {
			time.Sleep(gap)
		}
	}
	return accepted, limited
}

func TestRateLimitWithinFivePercent(t *testing.T) {
	for _, failFast := range []bool{false, true} {
		t.Run(map[bool]string{false: "blocking", true: "fail-fast"}[failFast], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opts := []pool.Option{pool.WithoutRegistry(), pool.WithMaxWorkers(4), pool.WithRateLimit(pool.Rate{PerSecond: 100, Burst: 10})}
				gap := time.Duration(0) // a blocking submitter waits for its token
				if failFast {
					opts = append(opts, pool.WithFailFast())
					gap = time.Millisecond // a fail-fast one tries 1000 times a second
				}
				p := pool.New("rate", opts...)
				accepted, limited := drive(t, p, "", gap, 20*time.Second)
				stop(t, p)
				want := 100*20 + 10.0 // the rate over the run, plus the full bucket at the start
				if !within(float64(accepted), want, 0.05) {
					t.Errorf("accepted %d tasks in 20 s at 100/s with a burst of 10; want %.0f ± 5%%", accepted, want)
				}
				s := p.Stats()
				if s.Refused.RateLimited != uint64(limited) || s.Rejected != uint64(limited) {
					t.Errorf("Stats() RateLimited = %d, Rejected = %d; want %d", s.Refused.RateLimited, s.Rejected, limited)
				}
				if failFast && limited == 0 {
					t.Error("no ErrRateLimited under WithFailFast; want the excess refused")
				}
				if !failFast && limited != 0 {
					t.Errorf("%d ErrRateLimited for a blocking submitter without a deadline; want 0", limited)
				}
				if s.Rate != (pool.Rate{PerSecond: 100, Burst: 10}) {
					t.Errorf("Stats().Rate = %+v; want {100 10}", s.Rate)
				}
			})
		})
	}
}

func TestSetRateAtRunTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New("setrate", pool.WithoutRegistry(), pool.WithMaxWorkers(2), pool.WithFailFast())
		free, _ := drive(t, p, "", time.Millisecond, time.Second)
		if free != 1000 {
			t.Errorf("without a rate limit accepted %d of 1000; want all", free)
		}
		if err := p.SetRate(pool.Rate{PerSecond: 50, Burst: 1}); err != nil {
			t.Fatal(err)
		}
		slow, _ := drive(t, p, "", time.Millisecond, 10*time.Second)
		if err := p.SetRate(pool.Rate{PerSecond: 200, Burst: 1}); err != nil {
			t.Fatal(err)
		}
		fast, _ := drive(t, p, "", time.Millisecond, 10*time.Second)
		if err := p.SetRate(pool.Rate{}); err != nil {
			t.Fatal(err)
		}
		after, _ := drive(t, p, "", time.Millisecond, time.Second)
		if !within(float64(slow), 500, 0.05) || !within(float64(fast), 2000, 0.05) || after != 1000 {
			t.Errorf("accepted %d at 50/s and %d at 200/s over 10 s each, %d of 1000 after removing the limit; want 500, 2000 (± 5%%) and 1000",
				slow, fast, after)
		}
		if err := p.SetRate(pool.Rate{PerSecond: -1}); err == nil {
			t.Error("SetRate(-1/s) = nil; want an error")
		}
		if err := p.SetKeyRate(pool.Rate{PerSecond: math.Inf(1)}); err == nil {
			t.Error("SetKeyRate(+Inf/s) = nil; want an error")
		}
		stop(t, p)
	})
}

func TestKeyRateLimitPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New("keyrate", pool.WithoutRegistry(), pool.WithMaxWorkers(4), pool.WithFailFast(),
			pool.WithKeyRateLimit(pool.Rate{PerSecond: 20, Burst: 1}))
		done := make(chan [2]int)
		for _, key := range []string{"a", "b"} {
			go func() {
				a, l := drive(t, p, key, time.Millisecond, 10*time.Second)
				done <- [2]int{a, l}
			}()
		}
		unkeyed, _ := drive(t, p, "", time.Millisecond, 10*time.Second)
		for range 2 {
			if got := <-done; !within(float64(got[0]), 200, 0.05) {
				t.Errorf("a key accepted %d tasks in 10 s at 20/s; want 200 ± 5%%", got[0])
			}
		}
		if unkeyed != 10000 {
			t.Errorf("tasks without a key: accepted %d of 10000; want all (the key rate does not apply)", unkeyed)
		}
		if err := p.SetKeyRate(pool.Rate{PerSecond: 100, Burst: 1}); err != nil {
			t.Fatal(err)
		}
		if a, _ := drive(t, p, "a", time.Millisecond, 10*time.Second); !within(float64(a), 1000, 0.05) {
			t.Errorf("after SetKeyRate(100/s) a key accepted %d in 10 s; want 1000 ± 5%%", a)
		}
		if s := p.Stats(); s.KeyRate != (pool.Rate{PerSecond: 100, Burst: 1}) {
			t.Errorf("Stats().KeyRate = %+v; want {100 1}", s.KeyRate)
		}
		stop(t, p)
	})
}

// TestRateLimitDeadline checks that a blocking submitter whose token would
// come after its deadline is refused at once, and that a submitter whose
// ctx ends while it waits gets ctx.Err() and gives its token back.
func TestRateLimitDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New("deadline", pool.WithoutRegistry(), pool.WithMaxWorkers(1), pool.WithRateLimit(pool.Rate{PerSecond: 1, Burst: 1}))
		nop := func(context.Context) error { return nil }
		if err := p.Submit(context.Background(), nop); err != nil {
			t.Fatalf("first Submit = %v; want nil (the bucket starts full)", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		err := p.Submit(ctx, nop)
		cancel()
		if !errors.Is(err, pool.ErrRateLimited) || time.Since(start) != 0 {
			t.Errorf("Submit with 100 ms left for a token due in 1 s = %v after %v; want ErrRateLimited at once", err, time.Since(start))
		}
		ctx, cancel = context.WithCancel(context.Background())
		go func() { time.Sleep(300 * time.Millisecond); cancel() }()
		if err := p.Submit(ctx, nop); !errors.Is(err, context.Canceled) {
			t.Errorf("Submit canceled while waiting for a token = %v; want context.Canceled", err)
		}
		// The canceled submitter gave its token back: the next one is due
		// 1 s after the first, not 2 s.
		start = time.Now()
		if err := p.Submit(context.Background(), nop); err != nil || time.Since(start) != 700*time.Millisecond {
			t.Errorf("next Submit = %v after %v; want nil after 700ms", err, time.Since(start))
		}
		stop(t, p)
		if r := p.Stats().Refused; r.RateLimited != 1 || r.Canceled != 1 {
			t.Errorf("Refused = %+v; want one RateLimited and one Canceled", r)
		}
	})
}
