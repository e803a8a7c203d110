package pool_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/gdiag/gdiag/pool"
)

// submitKeyed submits n blocking tasks with key (empty for none).
func submitKeyed(t *testing.T, p *pool.Pool, fn func(context.Context) error, key string, n int) {
	t.Helper()
	for range n {
		if err := p.Go(context.Background(), pool.Task{Fn: fn, Key: key}); err != nil {
			t.Fatalf("Go(key %q) = %v; want nil", key, err)
		}
	}
}

// waitStarted receives n starts from a blocker's channel.
func waitStarted(started chan struct{}, n int) {
	for range n {
		<-started
	}
}

func TestStatsKeys(t *testing.T) {
	tests := []struct {
		name     string
		limit    int
		starting int // tasks that start at once
		want     []pool.KeyStats
	}{
		{"no limit", 0, 7, []pool.KeyStats{{Key: "a", Running: 3}, {Key: "c", Running: 2}, {Key: "b", Running: 1}}},
		{"limit 2", 2, 6, []pool.KeyStats{{Key: "a", Running: 2, Parked: 1}, {Key: "c", Running: 2}, {Key: "b", Running: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pool.New("keys", pool.WithMaxWorkers(8), pool.WithKeyLimit(tt.limit), pool.WithoutRegistry())
			fn, started, release := blocker()
			if s := p.Stats(); s.Keys != nil {
				t.Fatalf("Stats().Keys of an idle pool = %v; want nil", s.Keys)
			}
			// Under the limit the third "a" task is parked before the
			// later ones start: a worker takes tasks in order and sets it
			// aside on its way to them.
			submitKeyed(t, p, fn, "b", 1)
			submitKeyed(t, p, fn, "a", 3)
			submitKeyed(t, p, fn, "", 1)
			submitKeyed(t, p, fn, "c", 2)
			waitStarted(started, tt.starting)
			if got := p.Stats().Keys; !slices.Equal(got, tt.want) {
				t.Errorf("Stats().Keys while running = %+v; want %+v", got, tt.want)
			}
			release()
			stop(t, p)
			s := p.Stats()
			if s.Keys != nil {
				t.Errorf("Stats().Keys after Stop = %+v; want nil", s.Keys)
			}
			reconcile(t, s)
		})
	}
}

// TestStatsKeysCap runs more keys than Stats lists: the busiest come
// first, ties go by key, and the list stops at MaxStatsKeys.
func TestStatsKeysCap(t *testing.T) {
	const keys = pool.MaxStatsKeys + 5
	p := pool.New("keycap", pool.WithMaxWorkers(keys+2), pool.WithoutRegistry())
	fn, started, release := blocker()
	for i := range keys {
		submitKeyed(t, p, fn, fmt.Sprintf("k%02d", keys-1-i), 1) // submitted in reverse order
	}
	submitKeyed(t, p, fn, "k14", 2) // the last key by name, but the busiest
	waitStarted(started, keys+2)
	got := p.Stats().Keys
	want := []pool.KeyStats{{Key: "k14", Running: 3}}
	for i := range pool.MaxStatsKeys - 1 {
		want = append(want, pool.KeyStats{Key: fmt.Sprintf("k%02d", i), Running: 1})
	}
	if !slices.Equal(got, want) {
		t.Errorf("Stats().Keys with %d keys running = %+v; want %+v", keys, got, want)
	}
	release()
	stop(t, p)
}

// TestStatsKeysNone checks that tasks without a key leave Keys nil, and
// that it marshals so.
func TestStatsKeysNone(t *testing.T) {
	for _, limit := range []int{0, 1} {
		p := pool.New("nokeys", pool.WithMaxWorkers(4), pool.WithKeyLimit(limit), pool.WithoutRegistry())
		fn, started, release := blocker()
		submitKeyed(t, p, fn, "", 6)
		waitStarted(started, 4)
		s := p.Stats()
		if s.Keys != nil || s.Running != 4 {
			t.Errorf("WithKeyLimit(%d): Stats() with keyless tasks = running %d, keys %v; want 4, nil", limit, s.Running, s.Keys)
		}
		b, err := json.Marshal(s)
		var back pool.Stats
		if err != nil || json.Unmarshal(b, &back) != nil || back.Keys != nil {
			t.Errorf("WithKeyLimit(%d): JSON round trip of Keys = %v, %v; want nil", limit, back.Keys, err)
		}
		release()
		stop(t, p)
	}
}

// TestStatsSplitsParkedFromQueued: tasks held back by a key limit are
// Parked, not Queued, and the two together never exceed the queue's
// capacity, even when the tasks arrive faster than workers start (where a
// reader once saw QUEUED 65/64 with half the workers idle).
func TestStatsSplitsParkedFromQueued(t *testing.T) {
	p := pool.New("held", pool.WithMaxWorkers(8), pool.WithQueueSize(2), pool.WithKeyLimit(1),
		pool.WithFailFast(), pool.WithoutRegistry())
	fn, started, release := blocker()
	ctx := context.Background()
	var accepted int
	for range 5 { // before any worker has started: one runs, two are held, two refused
		if err := p.Go(ctx, pool.Task{Fn: fn, Key: "tenant-a"}); err == nil {
			accepted++
		}
	}
	<-started
	s := p.Stats()
	if accepted != 3 || s.Running != 1 || s.Queued != 0 || s.Parked != 2 || s.Rejected != 2 {
		t.Errorf("accepted %d, Stats() = running %d queued %d parked %d rejected %d; want 3 1 0 2 2",
			accepted, s.Running, s.Queued, s.Parked, s.Rejected)
	}
	if s.Queued+s.Parked > s.QueueCapacity {
		t.Errorf("Stats() = queued %d + parked %d > capacity %d", s.Queued, s.Parked, s.QueueCapacity)
	}
	if want := []pool.KeyStats{{Key: "tenant-a", Running: 1, Parked: 2}}; !slices.Equal(s.Keys, want) {
		t.Errorf("Stats().Keys = %+v; want %+v", s.Keys, want)
	}
	// Another key still gets a worker at once: the held tasks wait for
	// their key, not for a worker.
	if err := p.Go(ctx, pool.Task{Fn: fn, Key: "tenant-b"}); err != nil {
		t.Errorf("Go(tenant-b) with workers idle = %v; want nil", err)
	}
	release()
	stop(t, p)
	reconcile(t, p.Stats())
}
