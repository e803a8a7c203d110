package pool

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRingOrder pushes and pops on one goroutine through every segment
// size and checks that tasks come out in order, that len follows, and
// that an emptied ring reports so.
func TestRingOrder(t *testing.T) {
	var q ring
	var out taskRec
	if q.pop(&out) || q.readable() || q.len() != 0 {
		t.Fatalf("new ring: pop, readable, len = %v, %v, %d; want false, false, 0", q.pop(&out), q.readable(), q.len())
	}
	next := int64(0)
	for round, n := range []int{3, 100, 1, 1000, 17} {
		for i := range n {
			q.push(&taskRec{timeout: int64(round*10000 + i), key: "k"}, 256)
		}
		if got := q.len(); got != n {
			t.Fatalf("round %d: len = %d; want %d", round, got, n)
		}
		for i := range n {
			if !q.pop(&out) {
				t.Fatalf("round %d: pop %d = false; want a task", round, i)
			}
			next = int64(round*10000 + i)
			if out.timeout != next || out.key != "k" {
				t.Fatalf("round %d: pop = %d %q; want %d \"k\"", round, out.timeout, out.key, next)
			}
		}
		if q.pop(&out) || q.readable() {
			t.Fatalf("round %d: ring not empty after popping every task", round)
		}
	}
	if s := q.head.Load(); s != q.tail.Load() || len(s.slots) > 256 {
		t.Errorf("after draining: head %p tail %p, %d slots; want one segment of at most 256 slots", s, q.tail.Load(), len(s.slots))
	}
}

// TestRingConcurrent runs producers and consumers at once (under -race in
// CI) and checks that every task comes out exactly once and that each
// consumer sees each producer's tasks in the order they were pushed.
func TestRingConcurrent(t *testing.T) {
	const producers, consumers, per = 4, 4, 20000
	var q ring
	var wg sync.WaitGroup
	var done atomic.Int64
	seen := make([][]int64, consumers) // per consumer: the last sequence number seen from each producer
	counts := make([][]int, consumers)
	for p := range producers {
		wg.Go(func() {
			for i := range per {
				q.push(&taskRec{submitted: int64(p), timeout: int64(i)}, 64) // small limit: segments close and follow often
				if i%512 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	var cwg sync.WaitGroup
	for c := range consumers {
		seen[c] = make([]int64, producers)
		counts[c] = make([]int, producers)
		for i := range seen[c] {
			seen[c][i] = -1
		}
		cwg.Go(func() {
			var r taskRec
			for done.Load() < producers*per {
				if !q.pop(&r) {
					runtime.Gosched()
					continue
				}
				done.Add(1)
				p, i := r.submitted, r.timeout
				if i <= seen[c][p] {
					t.Errorf("consumer %d: producer %d's task %d after %d", c, p, i, seen[c][p])
				}
				seen[c][p] = i
				counts[c][p]++
			}
		})
	}
	wg.Wait()
	cwg.Wait()
	for p := range producers {
		n := 0
		for c := range consumers {
			n += counts[c][p]
		}
		if n != per {
			t.Errorf("producer %d: %d tasks popped; want %d", p, n, per)
		}
	}
	if q.len() != 0 {
		t.Errorf("len after draining = %d; want 0", q.len())
	}
}
