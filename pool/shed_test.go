package pool_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// offer submits tasks of the given priority and key every gap for d
// without waiting for them (an open-loop arrival process, as requests
// reach a server), each running for work, and counts what became of them.
type offered struct {
	accepted, shed, other atomic.Int64
	mu                    sync.Mutex
	waits                 []time.Duration // queue waits of the tasks submitted after the first second
}

// p99 returns the 99th percentile of o.waits.
func (o *offered) p99() time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.waits) == 0 {
		return 0
	}
	slices.Sort(o.waits)
	return o.waits[len(o.waits)*99/100]
}

func offer(p *pool.Pool, prio pool.Priority, key string, gap, work, d time.Duration, o *offered, wg *sync.WaitGroup) {
	wg.Go(func() {
		start := time.Now()
		end := start.Add(d)
		for time.Now().Before(end) {
			submitted := time.Now()
			err := p.Go(context.Background(), pool.Task{Priority: prio, Key: key, Fn: func(context.Context) error {
				if submitted.Sub(start) >= time.Second {
					o.mu.Lock()
					o.waits = append(o.waits, time.Since(submitted))
					o.mu.Unlock()
				}
				time.Sleep(work)
				return nil
			}})
			switch {
			case err == nil:
				o.accepted.Add(1)
			case errors.Is(err, pool.ErrShed):
				o.shed.Add(1)
			default:
				o.other.Add(1)
			}
			time.Sleep(gap)
		}
	})
}

func TestShedLowestPriorityFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Two workers, 10 ms tasks: 200 tasks a second. 100/s of High and
		// 300/s of Low arrive: twice what the pool can run.
		p := pool.New("prio", pool.WithoutRegistry(), pool.WithMaxWorkers(2),
			pool.WithShedding(pool.ShedOptions{Target: 20 * time.Millisecond}))
		var high, low offered
		var wg sync.WaitGroup
		offer(p, pool.High, "", 10*time.Millisecond, 10*time.Millisecond, 5*time.Second, &high, &wg)
		offer(p, pool.Low, "", 10*time.Millisecond/3, 10*time.Millisecond, 5*time.Second, &low, &wg)
		wg.Wait()
		stop(t, p)
		s := p.Stats()
		if high.shed.Load() != 0 || high.other.Load() != 0 {
			t.Errorf("High: %d shed, %d refused otherwise of %d; want none: the queue ahead of High stays short",
				high.shed.Load(), high.other.Load(), high.accepted.Load()+high.shed.Load())
		}
		lowShare := float64(low.shed.Load()) / float64(low.accepted.Load()+low.shed.Load())
		if lowShare < 0.5 {
			t.Errorf("Low: %.0f%% shed; want at least half (the pool runs 200/s of 400/s offered)", 100*lowShare)
		}
		if s.Refused.ShedWait != uint64(low.shed.Load()+high.shed.Load()) || s.Refused.Sum() != s.Rejected {
			t.Errorf("Refused = %+v, Rejected %d; want ShedWait = %d", s.Refused, s.Rejected, low.shed.Load())
		}
		// Once shedding has found the queue standing (within the first
		// second), what is admitted waits about the target, not the 5 s a
		// 1024-task queue would hold.
		if q := low.p99(); q > 60*time.Millisecond {
			t.Errorf("p99 queue wait of Low tasks admitted after the first second = %v; want at most a few times the 20 ms target", q)
		}
		if q := high.p99(); q > 20*time.Millisecond {
			t.Errorf("p99 queue wait of High tasks admitted after the first second = %v; want under the 20 ms target", q)
		}
	})
}

func TestShedSparesABurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := pool.New("burst", pool.WithoutRegistry(), pool.WithMaxWorkers(1),
			pool.WithShedding(pool.ShedOptions{Target: 5 * time.Millisecond}))
		// 50 tasks of 10 ms at once into an idle pool: the last waits half
		// a second, but the queue drains: a burst, not a standing queue.
		for i := range 50 {
			if err := p.Submit(context.Background(), func(context.Context) error { time.Sleep(10 * time.Millisecond); return nil }); err != nil {
				t.Fatalf("burst task %d: %v; want every task of a burst into an idle pool accepted", i, err)
			}
		}
		stop(t, p)
		if s := p.Stats(); s.Rejected != 0 || s.Completed != 50 || s.Shedding {
			t.Errorf("Stats() rejected %d completed %d shedding %v; want 0, 50, false", s.Rejected, s.Completed, s.Shedding)
		}
	})
}

// TestShedBoundsAKeysShare checks the fairness a key limit and shedding
// give together: the key limit holds back a flooding tenant's excess, so
// that the others' tasks find a worker, and shedding bounds how much of
// the pool the flooding tenant holds.
func TestShedBoundsAKeysShare(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Four workers, 10 ms tasks: 400 a second. Tenant a offers 1000/s,
		// tenant b 100/s.
		p := pool.New("share", pool.WithoutRegistry(), pool.WithMaxWorkers(4), pool.WithKeyLimit(3),
			pool.WithShedding(pool.ShedOptions{Target: 20 * time.Millisecond}))
		var a, b offered
		var wg sync.WaitGroup
		offer(p, pool.Normal, "a", time.Millisecond, 10*time.Millisecond, 3*time.Second, &a, &wg)
		offer(p, pool.Normal, "b", 10*time.Millisecond, 10*time.Millisecond, 3*time.Second, &b, &wg)
		wg.Wait()
		stop(t, p)
		s := p.Stats()
		if s.Refused.ShedKey == 0 {
			t.Errorf("Refused = %+v; want tenant a shed for its share", s.Refused)
		}
		bShare := float64(b.shed.Load()) / float64(b.accepted.Load()+b.shed.Load())
		if bShare > 0.05 {
			t.Errorf("tenant b: %.1f%% shed; want at most 5%%: a burst from a must not starve b", 100*bShare)
		}
		if a.accepted.Load() < 800 {
			t.Errorf("tenant a: %d accepted in 3 s; want the capacity b leaves (over 800)", a.accepted.Load())
		}
		if q := b.p99(); q > 20*time.Millisecond {
			t.Errorf("tenant b: p99 queue wait after the first second = %v; want under the 20 ms target", q)
		}
	})
}
