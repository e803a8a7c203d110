package pool_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// saturable is a service with a knee: a fixed number of CPU slots that
// each request holds for its CPU time, then a dependency call that holds
// none. Past slots·(cpu+dep)/cpu requests in flight, requests queue for a
// slot: latency grows with concurrency and throughput does not.
type saturable struct {
	slots    chan struct{}
	cpu, dep time.Duration
	slow     atomic.Int64 // the dependency's slowdown factor
	inflight atomic.Int64
	peak     atomic.Int64
}

func newSaturable(slots int, cpu, dep time.Duration) *saturable {
	s := &saturable{slots: make(chan struct{}, slots), cpu: cpu, dep: dep}
	s.slow.Store(1)
	return s
}

func (s *saturable) serve(rng *rand.Rand) func(context.Context) error {
	cpu := time.Duration(rng.ExpFloat64() * float64(s.cpu))
	dep := time.Duration(rng.ExpFloat64() * float64(s.dep))
	return func(context.Context) error {
		n := s.inflight.Add(1)
		for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
		}
		defer s.inflight.Add(-1)
		s.slots <- struct{}{}
		time.Sleep(cpu)
		<-s.slots
		time.Sleep(dep * time.Duration(s.slow.Load()))
		return nil
	}
}

// load offers tasks to p at rate per second (Poisson arrivals) for d.
func load(p *pool.Pool, s *saturable, rate float64, d time.Duration, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for time.Now().Before(end) {
		serve := s.serve(rng)
		ctx, cancel := context.WithTimeout(context.Background(), 250*time.Millisecond)
		fn := func(ctx context.Context) error { defer cancel(); return serve(ctx) }
		wg.Go(func() {
			if err := p.Submit(ctx, fn); err != nil {
				cancel()
			}
		})
		time.Sleep(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
	}
	wg.Wait()
}

// limits samples p's limit every 100 ms until stop is closed.
func limits(p *pool.Pool, stop <-chan struct{}) <-chan []int {
	out := make(chan []int, 1)
	go func() {
		var ls []int
		for {
			select {
			case <-stop:
				out <- ls
				return
			case <-time.After(100 * time.Millisecond):
				ls = append(ls, p.Stats().Limit)
			}
		}
	}()
	return out
}

func mean(v []int) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(max(len(v), 1))
}

// TestAdaptiveLimitFindsTheKnee runs a service with 4 CPU slots, 5 ms of
// CPU and 10 ms of dependency per request (its knee is at about 12
// requests in flight, 800 a second) at twice its capacity, then with its
// dependency five times slower at 70% of the capacity: the limit must come
// down near the knee under overload, and rise above it when the work is
// slow but the CPU is not saturated.
func TestAdaptiveLimitFindsTheKnee(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc := newSaturable(4, 5*time.Millisecond, 10*time.Millisecond)
		p := pool.New("adaptive", pool.WithoutRegistry(), pool.WithMaxWorkers(64),
			pool.WithAdaptiveLimit(pool.AdaptiveOptions{Min: 2}), pool.WithShedding(pool.ShedOptions{}))
		done := make(chan struct{})
		got := limits(p, done)
		load(p, svc, 1600, 10*time.Second, 1)
		close(done)
		over := <-got
		if m := mean(over[len(over)/2:]); m < 8 || m > 24 {
			t.Errorf("mean limit over the second half of an overload = %.1f; want near the knee (8 to 24)", m)
		}
		done = make(chan struct{})
		got = limits(p, done)
		svc.slow.Store(5)
		load(p, svc, 560, 10*time.Second, 2)
		close(done)
		slow := <-got
		// 560/s × (5 + 50) ms = 31 requests in flight are needed.
		if m := mean(slow[len(slow)/2:]); m < 25 {
			t.Errorf("mean limit over the second half of a dependency slowdown = %.1f; want at least 25 (31 needed, CPU at 70%%)", m)
		}
		st := p.Stats()
		if !st.Adaptive || st.MaxWorkers != 64 || st.Limit < 2 || st.Limit > 64 {
			t.Errorf("Stats() adaptive %v, max %d, limit %d; want adaptive, 64, limit in [2, 64]", st.Adaptive, st.MaxWorkers, st.Limit)
		}
		if pk := svc.peak.Load(); pk > 64 {
			t.Errorf("peak tasks in flight = %d; want at most the 64 workers", pk)
		}
		for _, l := range append(over, slow...) {
			if l < 2 || l > 64 {
				t.Fatalf("limit %d out of [Min 2, max 64]", l)
			}
		}
		stop(t, p)
		if s := p.Stats(); s.Refused.Sum() != s.Rejected || s.Completed+s.Failed+s.Panicked+s.Canceled != s.Submitted {
			t.Errorf("counters do not reconcile: %+v", s)
		}
	})
}

// TestAdaptiveLimitRespectsResize checks that Resize bounds the adaptive
// limit, and that the limit is held under the new maximum at once.
func TestAdaptiveLimitRespectsResize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New("resize", pool.WithoutRegistry(), pool.WithMaxWorkers(32), pool.WithAdaptiveLimit(pool.AdaptiveOptions{}))
		if s := p.Stats(); s.Limit != 4 || s.MaxWorkers != 32 {
			t.Errorf("initial limit %d of max %d; want 4 of 32", s.Limit, s.MaxWorkers)
		}
		if err := p.Resize(0, 8); err != nil {
			t.Fatal(err)
		}
		var running, peak atomic.Int64
		for range 100 {
			_ = p.Submit(context.Background(), func(context.Context) error {
				n := running.Add(1)
				for q := peak.Load(); n > q && !peak.CompareAndSwap(q, n); q = peak.Load() {
				}
				time.Sleep(time.Millisecond)
				running.Add(-1)
				return nil
			})
		}
		stop(t, p)
		if s := p.Stats(); s.Limit > 8 || s.MaxWorkers != 8 || peak.Load() > 8 {
			t.Errorf("after Resize(0, 8): limit %d, max %d, peak running %d; want all at most 8", s.Limit, s.MaxWorkers, peak.Load())
		}
	})
}
