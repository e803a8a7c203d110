package pool_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/gdiag/gdiag/pool"
)

// BenchmarkSubmit measures the per-task overhead of Submit plus execution of
// an empty task, with statistics on and off.
//
//	go test -run '^$' -bench BenchmarkSubmit -benchmem ./pool
func BenchmarkSubmit(b *testing.B) {
	for _, workers := range []int{2, 1000} {
		for _, stats := range []bool{true, false} {
			b.Run(fmt.Sprintf("workers=%d/stats=%v", workers, stats), func(b *testing.B) {
				p := pool.New("bench", pool.WithMaxWorkers(workers), pool.WithQueueSize(1024),
					pool.WithStats(stats), pool.WithoutRegistry())
				ctx := context.Background()
				var wg sync.WaitGroup
				task := func(context.Context) error { wg.Done(); return nil }
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					wg.Add(1)
					if err := p.Submit(ctx, task); err != nil {
						b.Fatal(err)
					}
				}
				wg.Wait()
				b.StopTimer()
				if err := p.Stop(ctx); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkGo measures Go with a priority and a label.
func BenchmarkGo(b *testing.B) {
	p := pool.New("bench", pool.WithMaxWorkers(2), pool.WithoutRegistry())
	ctx := context.Background()
	var wg sync.WaitGroup
	task := pool.Task{Fn: func(context.Context) error { wg.Done(); return nil }, Priority: pool.High, Label: "bench"}
	b.ReportAllocs()
	for range b.N {
		wg.Add(1)
		if err := p.Go(ctx, task); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	b.StopTimer()
	_ = p.Stop(ctx)
}

// BenchmarkGoKeyed measures Go with a task key, without and with a key
// limit: every keyed task is counted per key while it runs (for
// Stats.Keys), which costs a map lookup when it starts (the task keeps a
// pointer to its key's count for its end).
//
//	go test -run '^$' -bench BenchmarkGoKeyed -benchmem ./pool
func BenchmarkGoKeyed(b *testing.B) {
	for _, limit := range []int{0, 4} {
		b.Run(fmt.Sprintf("limit=%d", limit), func(b *testing.B) {
			p := pool.New("bench", pool.WithMaxWorkers(2), pool.WithKeyLimit(limit), pool.WithoutRegistry())
			ctx := context.Background()
			var wg sync.WaitGroup
			keys := [...]string{"tenant-a", "tenant-b", "tenant-c"}
			fn := func(context.Context) error { wg.Done(); return nil }
			b.ReportAllocs()
			for i := range b.N {
				wg.Add(1)
				if err := p.Go(ctx, pool.Task{Fn: fn, Key: keys[i%len(keys)]}); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			b.StopTimer()
			_ = p.Stop(ctx)
		})
	}
}

// BenchmarkStats measures a Stats call while tasks with the given number of
// distinct keys are running (one task per key).
//
//	go test -run '^$' -bench BenchmarkStats -benchmem ./pool
func BenchmarkStats(b *testing.B) {
	for _, keys := range []int{0, 10, 1000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			p := pool.New("bench", pool.WithMaxWorkers(max(keys, 1)), pool.WithoutRegistry())
			ctx := context.Background()
			gate := make(chan struct{})
			var started sync.WaitGroup
			for i := range keys {
				started.Add(1)
				fn := func(context.Context) error { started.Done(); <-gate; return nil }
				if err := p.Go(ctx, pool.Task{Fn: fn, Key: fmt.Sprint("key-", i)}); err != nil {
					b.Fatal(err)
				}
			}
			started.Wait()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				_ = p.Stats()
			}
			b.StopTimer()
			close(gate)
			_ = p.Stop(ctx)
		})
	}
}

func TestSubmitDoesNotAllocate(t *testing.T) {
	for _, stats := range []bool{true, false} {
		p := pool.New("allocs", pool.WithMaxWorkers(2), pool.WithStats(stats), pool.WithoutRegistry())
		ctx := context.Background()
		var wg sync.WaitGroup
		task := func(context.Context) error { wg.Done(); return nil }
		labelled := pool.Task{Fn: task, Priority: pool.High, Key: "k", Label: "warm"}
		submit := func() {
			wg.Add(2)
			_ = p.Submit(ctx, task)
			_ = p.Go(ctx, labelled)
			wg.Wait()
		}
		submit() // warm the free list, workers and the label cache
		if got := testing.AllocsPerRun(1000, submit); got != 0 {
			t.Errorf("allocations per Submit+Go (stats=%v) = %v; want 0", stats, got)
		}
		stop(t, p)
	}
}

// TestControlledSubmitDoesNotAllocate checks that the overload controls
// keep submitting allocation-free once warm: a rate limit that has
// tokens, shedding, a breaker per key and the adaptive limit.
func TestControlledSubmitDoesNotAllocate(t *testing.T) {
	p := pool.New("allocs-controlled", pool.WithMaxWorkers(2), pool.WithoutRegistry(),
		pool.WithRateLimit(pool.Rate{PerSecond: 1e9, Burst: 1 << 20}), pool.WithKeyRateLimit(pool.Rate{PerSecond: 1e9, Burst: 1 << 20}),
		pool.WithShedding(pool.ShedOptions{}), pool.WithBreaker(pool.BreakerOptions{PerKey: true}),
		pool.WithAdaptiveLimit(pool.AdaptiveOptions{}))
	ctx := context.Background()
	var wg sync.WaitGroup
	task := pool.Task{Fn: func(context.Context) error { wg.Done(); return nil }, Key: "k"}
	submit := func() {
		wg.Add(2)
		_ = p.Go(ctx, task)
		_ = p.Submit(ctx, task.Fn)
		wg.Wait()
	}
	for range 1000 {
		submit() // warm the free lists, the key's bucket, breaker and count
	}
	if got := testing.AllocsPerRun(1000, submit); got > 0.01 {
		t.Errorf("allocations per Go+Submit with every control = %v; want 0", got)
	}
	stop(t, p)
}
