package pool

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTopKeys checks the bounded insertion against a full sort.
func TestTopKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, MaxStatsKeys - 1, MaxStatsKeys, MaxStatsKeys + 1, 200} {
		var all []KeyStats
		top := top[KeyStats]{first: busier}
		for i := range n {
			k := KeyStats{Key: fmt.Sprintf("key-%03d", rng.IntN(1000)*1000+i), Running: rng.IntN(4)}
			all = append(all, k)
			top.add(k)
		}
		slices.SortFunc(all, func(a, b KeyStats) int {
			if busier(a, b) {
				return -1
			}
			return 1
		})
		want := all[:min(n, MaxStatsKeys)]
		if got := top.list(); !slices.Equal(got, want) {
			t.Errorf("top %d of %d keys = %+v; want %+v", MaxStatsKeys, n, got, want)
		}
	}
}

// TestBusiestKeysParkedOnly covers a key whose tasks are all parked: for a
// moment after a release, before a worker takes the unparked task, a key
// may have tasks held back and none running.
func TestBusiestKeysParkedOnly(t *testing.T) {
	parked := func(n int) *deque {
		d := new(deque)
		for range n {
			d.pushBack(new(taskRec))
		}
		return d
	}
	p := &Pool{
		inflight: map[string]*int{"a": ptr(2), "b": ptr(2), "gone": ptr(0)},
		parked:   map[string]*deque{"a": parked(1), "z": parked(3)},
	}
	want := []KeyStats{{Key: "a", Running: 2, Parked: 1}, {Key: "b", Running: 2}, {Key: "z", Parked: 3}}
	if got := p.busiestKeys(); !slices.Equal(got, want) {
		t.Errorf("busiestKeys() = %+v; want %+v", got, want)
	}
	if got := (&Pool{}).busiestKeys(); got != nil {
		t.Errorf("busiestKeys() with no keys = %+v; want nil", got)
	}
}

// TestInflightKeysBounded: keys whose tasks have ended are pruned, so the
// per-key map stays bounded however many distinct keys pass through.
func TestInflightKeysBounded(t *testing.T) {
	p := New("keys", WithMaxWorkers(2), WithoutRegistry())
	ctx := context.Background()
	for i := range 10_000 {
		if err := p.Go(ctx, Task{Key: fmt.Sprint("k", i), Fn: func(context.Context) error { return nil }}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	n, limit := len(p.inflight), p.maxKeys()
	p.mu.Unlock()
	if n > limit {
		t.Errorf("len(inflight) after 10,000 distinct keys = %d; want at most %d", n, limit)
	}
	if s := p.Stats(); s.Keys != nil {
		t.Errorf("Stats().Keys after Stop = %+v; want nil", s.Keys)
	}
}

func ptr(n int) *int { return &n }
