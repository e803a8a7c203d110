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
