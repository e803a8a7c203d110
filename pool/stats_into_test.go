package pool_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// statsBetween reads p with StatsInto into dst between two Stats that agree,
// so that a pool whose numbers move (a ticking control) still gives a
// value to compare; it fails the test if the pool never holds still.
func statsBetween(t *testing.T, p *pool.Pool, dst *pool.Stats) (want pool.Stats) {
	t.Helper()
	for range 1000 {
		before := p.Stats()
		p.StatsInto(dst)
		if after := p.Stats(); reflect.DeepEqual(before, after) {
			return after
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("pool %q: no two Stats in a row agreed", p.Stats().Name)
	return pool.Stats{}
}

// TestStatsIntoEqualsStats checks that StatsInto gives what Stats gives,
// whether it fills a zero Stats or one that held another pool's snapshot
// (with keys, breakers and controls the new one may not have), for pools
// with and without statistics, keys and overload controls, idle and with
// tasks running and parked.
func TestStatsIntoEqualsStats(t *testing.T) {
	ctx := context.Background()
	gate := make(chan struct{})
	block := func(context.Context) error { <-gate; return nil }
	keyed := pool.New("keyed", pool.WithMaxWorkers(4), pool.WithKeyLimit(1), pool.WithoutRegistry())
	for _, k := range []string{"a", "a", "a", "b"} {
		if err := keyed.Go(ctx, pool.Task{Key: k, Fn: block}); err != nil {
			t.Fatal(err)
		}
	}
	controlled := pool.New("controlled", pool.WithMaxWorkers(8), pool.WithoutRegistry(),
		pool.WithBreaker(pool.BreakerOptions{PerKey: true}),
		pool.WithRateLimit(pool.Rate{PerSecond: 1e6, Burst: 100}),
		pool.WithKeyRateLimit(pool.Rate{PerSecond: 1e6, Burst: 100}),
		pool.WithShedding(pool.ShedOptions{Target: time.Second}),
		pool.WithAdaptiveLimit(pool.AdaptiveOptions{}))
	plain := pool.New("plain", pool.WithMaxWorkers(2), pool.WithoutRegistry(), pool.WithStatsSampling(1))
	nostats := pool.New("nostats", pool.WithMaxWorkers(2), pool.WithoutRegistry(), pool.WithStats(false))
	for _, p := range []*pool.Pool{controlled, plain, nostats} {
		for i := range 50 {
			err := p.Go(ctx, pool.Task{Key: []string{"", "x", "y"}[i%3], Fn: func(context.Context) error {
				if i%7 == 0 {
					return context.DeadlineExceeded
				}
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "the keyed pool to run a and b and park two", func() bool {
		s := keyed.Stats()
		return s.Running == 2 && s.Parked == 2
	})
	pools := []*pool.Pool{keyed, controlled, plain, nostats}
	for _, p := range pools[1:] {
		waitFor(t, p.Stats().Name+" to finish its tasks", func() bool {
			s := p.Stats()
			return s.Completed+s.Failed == 50
		})
	}

	var reused pool.Stats
	for i, p := range append(pools, pools...) { // the second round refills values from another pool
		var fresh pool.Stats
		want := statsBetween(t, p, &fresh)
		if !reflect.DeepEqual(fresh, want) {
			t.Errorf("%s: StatsInto(&Stats{}) = %+v; want Stats() = %+v", p.Stats().Name, fresh, want)
		}
		want = statsBetween(t, p, &reused)
		if !reflect.DeepEqual(reused, want) {
			t.Errorf("%s (round %d): StatsInto into a used Stats = %+v; want Stats() = %+v", p.Stats().Name, i/len(pools), reused, want)
		}
	}
	if s := keyed.Stats(); len(s.Keys) != 2 || s.Parked != 2 {
		t.Errorf("keyed pool: Keys %+v, Parked %d; want keys a and b, 2 parked", s.Keys, s.Parked)
	}
	if s := controlled.Stats(); len(s.Breakers) == 0 || s.Rate.PerSecond == 0 || s.ShedTarget == 0 || !s.Adaptive {
		t.Errorf("controlled pool: Stats() = %+v; want breakers, a rate, a shed target and an adaptive limit", s)
	}
	close(gate)
	for _, p := range pools {
		stop(t, p)
	}
}

// TestStatsIntoReuses checks that StatsInto writes into the histograms it
// is given, allocating nothing for a pool without keys or breakers, and
// that a value whose two histograms share their counts gets them apart.
func TestStatsIntoReuses(t *testing.T) {
	p := pool.New("reuse", pool.WithMaxWorkers(2), pool.WithoutRegistry(), pool.WithStatsSampling(1))
	defer stop(t, p)
	for range 20 {
		if err := p.Submit(context.Background(), func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	var s pool.Stats
	p.StatsInto(&s)
	counts, bounds := &s.QueueWait.Counts[0], &s.RunTime.Bounds[0]
	if allocs := testing.AllocsPerRun(100, func() { p.StatsInto(&s) }); allocs != 0 {
		t.Errorf("StatsInto into a used Stats: %v allocations; want 0", allocs)
	}
	if &s.QueueWait.Counts[0] != counts || &s.RunTime.Bounds[0] != bounds {
		t.Error("StatsInto replaced the histogram slices it was given; want them reused")
	}

	// The comparison below needs a pool at rest: both reads must see the same counts.
	waitFor(t, "all tasks done", func() bool {
		s := p.Stats()
		return s.Completed == 20 && s.Running == 0 && s.Queued == 0 && s.Idle == s.Workers
	})
	shared := pool.Stats{}
	shared.QueueWait.Counts = make([]uint64, 64)
	shared.QueueWait.Bounds = make([]time.Duration, 64)
	shared.RunTime = shared.QueueWait
	p.StatsInto(&shared)
	if &shared.QueueWait.Counts[0] == &shared.RunTime.Counts[0] {
		t.Error("StatsInto left the two histograms sharing their counts")
	}
	if want := p.Stats(); !reflect.DeepEqual(shared, want) {
		t.Errorf("StatsInto into histograms sharing counts = %+v; want %+v", shared, want)
	}
}
