// Command burst puts a burst of mixed work (fast, slow, failing and
// panicking tasks at three priorities and a few tenants) through a gdiag
// pool with a small queue, then prints the pool's statistics as a table,
// or as JSON with -json.
//
//	go run ./examples/burst [-json] [-tasks 10000] [-workers 32] [-queue 64]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"text/tabwriter"
	"time"

	"github.com/gdiag/gdiag/pool"
)

func main() {
	asJSON := flag.Bool("json", false, "print the statistics as JSON")
	tasks := flag.Int("tasks", 10_000, "number of tasks in the burst")
	workers := flag.Int("workers", 32, "maximum workers")
	queue := flag.Int("queue", 64, "queue size")
	flag.Parse()
	if err := run(os.Stdout, *tasks, *workers, *queue, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "burst:", err)
		os.Exit(1)
	}
}

var errDeclined = errors.New("declined")

func run(w io.Writer, tasks, workers, queue int, asJSON bool) error {
	p := pool.New("burst",
		pool.WithMaxWorkers(workers), pool.WithMinWorkers(2), pool.WithQueueSize(queue),
		pool.WithKeyLimit(max(workers/2, 1)), pool.WithStatsSampling(1),
		pool.WithPanicHandler(func(*pool.PanicError) {}), // counted by the pool; nothing more to do here
	)
	rng := rand.New(rand.NewPCG(1, 2))
	tenants := []string{"tenant-a", "tenant-b", "tenant-c", ""}
	ctx := context.Background()
	start := time.Now()
	for i := range tasks {
		kind := rng.IntN(100)
		t := pool.Task{
			Priority: pool.Priority(rng.IntN(3) - 1),
			Key:      tenants[rng.IntN(len(tenants))],
			Label:    "quote",
			Fn: func(ctx context.Context) error {
				switch {
				case kind < 5: // slow: waits on a "downstream" call
					select {
					case <-time.After(time.Duration(1+kind) * time.Millisecond):
					case <-ctx.Done():
						return ctx.Err()
					}
				case kind < 10:
					return fmt.Errorf("order %d: %w", i, errDeclined)
				case kind == 10:
					panic(fmt.Sprintf("order %d: corrupt book", i))
				}
				return nil
			},
		}
		if kind == 11 {
			t.Label, t.Timeout = "deadline", 500*time.Microsecond
			t.Fn = func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		}
		if err := p.Go(ctx, t); err != nil {
			return fmt.Errorf("submit task %d: %w", i, err)
		}
	}
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.Stop(stopCtx); err != nil {
		return err
	}
	elapsed := time.Since(start)
	s := p.Stats()
	if got := s.Completed + s.Failed + s.Panicked + s.Canceled; got != s.Submitted {
		return fmt.Errorf("counters do not reconcile: %d outcomes for %d submitted", got, s.Submitted)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return printTable(w, s, elapsed)
}

func printTable(w io.Writer, s pool.Stats, elapsed time.Duration) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "pool %q: burst of %d tasks in %v\n", s.Name, s.Submitted+s.Rejected, elapsed.Round(time.Millisecond))
	fmt.Fprintln(tw, "workers (min/max)\tqueue capacity\tkey limit\t")
	fmt.Fprintf(tw, "%d/%d\t%d\t%d\t\n\n", s.MinWorkers, s.MaxWorkers, s.QueueCapacity, s.KeyLimit)
	fmt.Fprintln(tw, "submitted\tcompleted\tfailed\tpanicked\tcanceled\trejected\t")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%d\t\n\n", s.Submitted, s.Completed, s.Failed, s.Panicked, s.Canceled, s.Rejected)
	// Quantiles are the upper bounds of the histogram buckets that hold them.
	fmt.Fprintln(tw, "\tcount\tmean\tp50 ≤\tp90 ≤\tp99 ≤\t")
	for _, h := range []struct {
		name string
		h    pool.Histogram
	}{{"queue wait", s.QueueWait}, {"run time", s.RunTime}} {
		fmt.Fprintf(tw, "%s\t%d\t%v\t%v\t%v\t%v\t\n", h.name, h.h.Count, round(h.h.Mean()),
			round(h.h.Quantile(0.5)), round(h.h.Quantile(0.9)), round(h.h.Quantile(0.99)))
	}
	return tw.Flush()
}

func round(d time.Duration) time.Duration {
	if d > time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Nanosecond)
}
