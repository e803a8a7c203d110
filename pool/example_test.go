package pool_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gdiag/gdiag/pool"
)

func Example() {
	p := pool.New("orders", pool.WithMaxWorkers(4), pool.WithQueueSize(100), pool.WithoutRegistry())
	for i := range 10 {
		_ = p.Submit(context.Background(), func(context.Context) error {
			if i%5 == 0 {
				return errors.New("declined")
			}
			return nil
		})
	}
	_ = p.Stop(context.Background())
	s := p.Stats()
	fmt.Printf("submitted=%d completed=%d failed=%d\n", s.Submitted, s.Completed, s.Failed)
	// Output: submitted=10 completed=8 failed=2
}

func ExamplePool_Go() {
	p := pool.New("gateway", pool.WithMaxWorkers(2), pool.WithKeyLimit(1), pool.WithoutRegistry())
	defer p.Stop(context.Background())
	f, _ := pool.SubmitValue(context.Background(), p, func(ctx context.Context) (string, error) {
		_, hasDeadline := ctx.Deadline()
		return fmt.Sprint("deadline=", hasDeadline), nil
	})
	v, _ := f.Get(context.Background())
	fmt.Println("future:", v)

	done := make(chan struct{})
	_ = p.Go(context.Background(), pool.Task{
		Priority: pool.High,
		Key:      "tenant-a",
		Label:    "checkout",
		Timeout:  time.Second,
		Fn: func(ctx context.Context) error {
			_, hasDeadline := ctx.Deadline()
			fmt.Println("task: deadline =", hasDeadline)
			close(done)
			return nil
		},
	})
	<-done
	// Output:
	// future: deadline=false
	// task: deadline = true
}

func ExamplePool_Submit_failFast() {
	p := pool.New("tight", pool.WithMaxWorkers(1), pool.WithQueueSize(0), pool.WithFailFast(), pool.WithoutRegistry())
	release := make(chan struct{})
	_ = p.Submit(context.Background(), func(context.Context) error { <-release; return nil })
	err := p.Submit(context.Background(), func(context.Context) error { return nil })
	fmt.Println(errors.Is(err, pool.ErrOverloaded))
	close(release)
	_ = p.Stop(context.Background())
	err = p.Submit(context.Background(), func(context.Context) error { return nil })
	fmt.Println(errors.Is(err, pool.ErrStopped))
	// Output:
	// true
	// true
}

func ExamplePool_Group() {
	p := pool.New("fanout", pool.WithoutRegistry())
	defer p.Stop(context.Background())
	g, _ := p.Group(context.Background())
	for _, name := range []string{"prices", "limits", "positions"} {
		g.Go(pool.Task{Label: name, Fn: func(ctx context.Context) error {
			if name == "limits" {
				return fmt.Errorf("load %s: unavailable", name)
			}
			return nil
		}})
	}
	fmt.Println(g.Wait())
	// Output: load limits: unavailable
}

func ExampleHistogram_Quantile() {
	h := pool.Histogram{
		Bounds: []time.Duration{time.Millisecond, 2 * time.Millisecond, 4 * time.Millisecond},
		Counts: []uint64{50, 30, 20, 0},
		Count:  100,
	}
	// The median is at most 1ms and the p90 at most 4ms: the upper bounds
	// of the buckets that hold them.
	fmt.Println(h.Quantile(0.5), h.Quantile(0.9))
	// Output: 1ms 4ms
}

func ExampleRegistered() {
	p := pool.New("registered-example")
	for _, q := range pool.Registered() {
		if q == p {
			fmt.Println("found", q.Stats().Name)
		}
	}
	_ = p.Stop(context.Background())
	fmt.Println(len(pool.Registered()))
	// Output:
	// found registered-example
	// 0
}

// spanLogger stands in for a tracer: it puts a "span" in the task's context
// at start and reads it back at the end.
type spanLogger struct{}

type spanCtxKey struct{}

func (spanLogger) TaskStart(ctx context.Context, t pool.TaskInfo) context.Context {
	return context.WithValue(ctx, spanCtxKey{}, t.Pool+"/"+t.Label)
}

func (spanLogger) TaskEnd(ctx context.Context, t pool.TaskInfo, r pool.TaskResult) {
	fmt.Printf("span %v ended: %v (%v)\n", ctx.Value(spanCtxKey{}), r.Outcome, r.Err)
}

func ExampleObserver() {
	p := pool.New("traced", pool.WithMaxWorkers(1), pool.WithObserver(spanLogger{}), pool.WithoutRegistry())
	_ = p.Go(context.Background(), pool.Task{Label: "settle", Fn: func(ctx context.Context) error {
		fmt.Println("task runs in span", ctx.Value(spanCtxKey{}))
		return errors.New("insufficient funds")
	}})
	_ = p.Stop(context.Background())
	// Output:
	// task runs in span traced/settle
	// span traced/settle ended: failed (insufficient funds)
}

// Stats.Keys shows which keys hold the workers: here tenant-a has reached
// its limit of 2 and a third task of it waits, while tenant-b runs one.
func ExampleStats_keys() {
	p := pool.New("tenants", pool.WithMaxWorkers(4), pool.WithKeyLimit(2), pool.WithoutRegistry())
	release, started := make(chan struct{}), make(chan struct{}, 4)
	task := func(context.Context) error { started <- struct{}{}; <-release; return nil }
	for _, key := range []string{"tenant-a", "tenant-b", "tenant-a", "tenant-a", ""} {
		_ = p.Go(context.Background(), pool.Task{Fn: task, Key: key})
	}
	for range 4 { // the keyless task starts after a worker set the third tenant-a task aside
		<-started
	}
	for _, k := range p.Stats().Keys {
		fmt.Printf("%s running=%d parked=%d\n", k.Key, k.Running, k.Parked)
	}
	close(release)
	_ = p.Stop(context.Background())
	// Output:
	// tenant-a running=2 parked=1
	// tenant-b running=1 parked=0
}

// A breaker per key cuts off a failing tenant alone, and every refusal is
// counted by reason.
func ExampleWithBreaker() {
	p := pool.New("payments", pool.WithMaxWorkers(2), pool.WithoutRegistry(),
		pool.WithBreaker(pool.BreakerOptions{MinRequests: 3, PerKey: true, OpenFor: time.Minute}))
	defer p.Stop(context.Background())
	charge := func(tenant string, err error) error {
		f := make(chan struct{})
		serr := p.Go(context.Background(), pool.Task{Key: tenant, Fn: func(context.Context) error { defer close(f); return err }})
		if serr == nil {
			<-f
		}
		return serr
	}
	declined := errors.New("card processor down")
	for range 3 {
		_ = charge("a", declined)
	}
	// The outcome reaches the breaker just after the task returns.
	for p.Stats().BreakerOpens == 0 {
		time.Sleep(time.Millisecond)
	}
	fmt.Println("a:", charge("a", nil))
	fmt.Println("b:", charge("b", nil))
	s := p.Stats()
	fmt.Println("breaker of a:", s.Breakers[1].Key, s.Breakers[1].State, "refused:", s.Refused.BreakerOpen)
	// Output:
	// a: pool: breaker open
	// b: <nil>
	// breaker of a: a open refused: 1
}

// A caller that reads a pool often keeps one Stats and lets StatsInto
// refill it, reusing its histograms' memory.
func ExamplePool_StatsInto() {
	p := pool.New("thumbnails", pool.WithMaxWorkers(2), pool.WithoutRegistry())
	var s pool.Stats
	for round := 1; round <= 2; round++ {
		for range 3 {
			_ = p.Submit(context.Background(), func(context.Context) error { return nil })
		}
		p.StatsInto(&s)
		fmt.Printf("round %d: submitted=%d buckets=%d\n", round, s.Submitted, len(s.RunTime.Counts))
	}
	_ = p.Stop(context.Background())
	p.StatsInto(&s)
	fmt.Printf("stopped=%t completed=%d\n", s.Stopped, s.Completed)
	// Output:
	// round 1: submitted=3 buckets=29
	// round 2: submitted=6 buckets=29
	// stopped=true completed=6
}
