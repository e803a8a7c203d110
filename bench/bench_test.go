package bench_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/bench"
	"github.com/gdiag/gdiag/internal/cputime"
)

// BenchmarkTiny measures the per-task cost of each library: every op is one
// task doing one atomic add. b.N tasks are submitted and all of them have
// finished before the timer stops; the Runner is built before it starts.
// Besides the wall-clock time per task (ns/op) it reports the CPU time of
// the whole process per task (cpu-ns/op), every goroutine's and the
// garbage collector's included: on a shared machine the wall-clock time
// also measures the wait for a core, the CPU time only what was done.
// queue= is the Mode: workers (as many waiting tasks as workers, Submit
// blocks), default, or failfast (refused when full, retried).
func BenchmarkTiny(b *testing.B) {
	for _, m := range bench.Modes {
		for _, workers := range []int{2, 1000} {
			for _, lib := range bench.Libraries() {
				if m != bench.Default && lib.Name == "go" {
					continue // unbounded: the same in every mode
				}
				b.Run(fmt.Sprintf("queue=%s/lib=%s/workers=%d", m, lib.Name, workers), func(b *testing.B) {
					tiny(b, lib, workers, m)
				})
			}
		}
	}
}

func tiny(b *testing.B, lib bench.Library, workers int, m bench.Mode) {
	var n atomic.Int64
	r := lib.New(workers, m, func() { n.Add(1) })
	b.ReportAllocs()
	b.ResetTimer()
	start := cputime.Process()
	for range b.N {
		if err := r.Submit(); err != nil {
			b.Fatal(err)
		}
	}
	r.Wait()
	b.StopTimer()
	b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
	if got := n.Load(); got != int64(b.N) {
		b.Fatalf("%s ran %d tasks; want %d", lib.Name, got, b.N)
	}
}

// BenchmarkSleep10us submits b.N tasks that each sleep 10µs, in batches of
// 1000 on 100 workers, waiting for each batch to finish, as a service
// handling bursts would. ns/op is per task.
func BenchmarkSleep10us(b *testing.B) {
	const workers, batch = 100, 1000
	for _, lib := range bench.Libraries() {
		b.Run(fmt.Sprintf("lib=%s/workers=%d", lib.Name, workers), func(b *testing.B) {
			var n atomic.Int64
			var wg sync.WaitGroup
			r := lib.New(workers, bench.Default, func() {
				time.Sleep(10 * time.Microsecond)
				n.Add(1)
				wg.Done()
			})
			b.ReportAllocs()
			b.ResetTimer()
			for left := b.N; left > 0; left -= batch {
				k := min(batch, left)
				wg.Add(k)
				for range k {
					if err := r.Submit(); err != nil {
						b.Fatal(err)
					}
				}
				wg.Wait()
			}
			r.Wait()
			b.StopTimer()
			if got := n.Load(); got != int64(b.N) {
				b.Fatalf("%s ran %d tasks; want %d", lib.Name, got, b.N)
			}
		})
	}
}
