package otel_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	gotel "github.com/gdiag/gdiag/exporters/otel"
	"github.com/gdiag/gdiag/internal/cputime"
	"github.com/gdiag/gdiag/pool"
)

// discard is a span exporter that drops everything, so the benchmarks
// measure making spans, not shipping them.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkSpan measures, side by side with the same SDK configuration (a
// TracerProvider that samples every span and batches them into a
// discarding exporter) and under a submitter's span:
//
//   - lib=bare: one span started and ended, nothing more;
//   - lib=observer: an empty task through a 2-worker pool with the span
//     observer;
//   - lib=task-span: the same task through the same pool without the
//     observer, making itself the span the observer would (the same start
//     time and six attributes, set in one call): what the observer's data
//     costs written by hand;
//   - lib=pool: the task without any span, for the pool's own share.
//
// Besides wall-clock time, cpu-ns/op is the CPU time of the whole process
// per task, the workers' and the garbage collector's included.
func BenchmarkSpan(b *testing.B) {
	defer goleak.VerifyNone(b, goleak.IgnoreCurrent())
	b.Run("lib=bare", func(b *testing.B) {
		spanLoop(b, func(ctx context.Context, tracer trace.Tracer) {
			_, span := tracer.Start(ctx, "pool.task bench noop")
			span.End()
		})
	})
	b.Run("lib=bare-attrs", func(b *testing.B) {
		spanLoop(b, func(ctx context.Context, tracer trace.Tracer) {
			_, span := tracer.Start(ctx, "pool.task bench noop", trace.WithTimestamp(time.Now()))
			span.SetAttributes(taskAttrs()...)
			span.End()
		})
	})
	for _, bc := range []struct {
		name     string
		observe  bool
		taskSpan bool
	}{{"lib=observer", true, false}, {"lib=task-span", false, true}, {"lib=pool", false, false}} {
		b.Run(bc.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
			defer tp.Shutdown(context.Background())
			opts := []pool.Option{pool.WithMaxWorkers(2), pool.WithoutRegistry()}
			if bc.observe {
				opts = append(opts, pool.WithObserver(gotel.NewObserver(tp)))
			}
			p := pool.New("bench", opts...)
			defer p.Stop(context.Background())
			tracer := tp.Tracer("bench")
			ctx, span := tracer.Start(context.Background(), "request")
			defer span.End()
			var wg sync.WaitGroup
			fn := func(context.Context) error { wg.Done(); return nil }
			if bc.taskSpan {
				fn = func(ctx context.Context) error {
					_, s := tracer.Start(ctx, "pool.task bench noop", trace.WithTimestamp(time.Now()))
					s.SetAttributes(taskAttrs()...)
					s.End()
					wg.Done()
					return nil
				}
			}
			task := pool.Task{Label: "noop", Key: "t1", Fn: fn}
			b.ReportAllocs()
			b.ResetTimer()
			start := cputime.Process()
			for range b.N {
				wg.Add(1)
				if err := p.Go(ctx, task); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// taskAttrs returns the six attributes the observer gives a completed task
// span, for the benchmarks that make that span by hand.
func taskAttrs() []attribute.KeyValue {
	return []attribute.KeyValue{
		attribute.String("gdiag.pool.name", "bench"), attribute.String("gdiag.pool.priority", "normal"),
		attribute.Float64("gdiag.pool.queue_wait", 1e-6), attribute.String("gdiag.pool.key", "t1"),
		attribute.String("gdiag.task.label", "noop"), attribute.String("gdiag.task.outcome", "completed"),
	}
}

// BenchmarkSpanSDK measures what the SDK of BenchmarkSpan charges for the
// parts of a task span, with no pool: a span started with the submission
// time or without (ts), and given the first n of the observer's six
// attributes in one call. It shows what a task span with fewer
// attributes, or without its start time, would cost.
func BenchmarkSpanSDK(b *testing.B) {
	all := taskAttrs()
	for _, ts := range []bool{false, true} {
		for _, n := range []int{0, 1, 3, 6} {
			b.Run(fmt.Sprintf("ts=%t/attrs=%d", ts, n), func(b *testing.B) {
				attrs := all[:n]
				spanLoop(b, func(ctx context.Context, tracer trace.Tracer) {
					var span trace.Span
					if ts {
						_, span = tracer.Start(ctx, "pool.task bench noop", trace.WithTimestamp(time.Now()))
					} else {
						_, span = tracer.Start(ctx, "pool.task bench noop")
					}
					if n > 0 {
						span.SetAttributes(attrs...)
					}
					span.End()
				})
			})
		}
	}
}

// spanLoop calls span b.N times under a submitter's span, with the SDK
// configuration of BenchmarkSpan, and reports allocations and the CPU
// time of the whole process per call (cpu-ns/op).
func spanLoop(b *testing.B, span func(ctx context.Context, tracer trace.Tracer)) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
	defer tp.Shutdown(context.Background())
	tracer := tp.Tracer("bench")
	ctx, parent := tracer.Start(context.Background(), "request")
	defer parent.End()
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		span(ctx, tracer)
	}
	b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
}
