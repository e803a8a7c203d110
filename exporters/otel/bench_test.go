package otel_test

import (
	"context"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"

	gotel "github.com/gdiag/gdiag/exporters/otel"
	"github.com/gdiag/gdiag/pool"
)

// discard is a span exporter that drops everything, so the benchmark
// measures making spans, not shipping them.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkObserver runs empty tasks through a 2-worker pool, with and
// without the span observer (a real SDK TracerProvider, always sampling,
// batching into a discarding exporter), under a submitter's span.
func BenchmarkObserver(b *testing.B) {
	defer goleak.VerifyNone(b, goleak.IgnoreCurrent())
	for _, bc := range []struct {
		name    string
		observe bool
	}{{"none", false}, {"spans", true}} {
		b.Run(bc.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
			defer tp.Shutdown(context.Background())
			opts := []pool.Option{pool.WithMaxWorkers(2), pool.WithoutRegistry()}
			if bc.observe {
				opts = append(opts, pool.WithObserver(gotel.NewObserver(tp)))
			}
			p := pool.New("bench", opts...)
			defer p.Stop(context.Background())
			ctx, span := tp.Tracer("bench").Start(context.Background(), "request")
			defer span.End()
			var wg sync.WaitGroup
			task := pool.Task{Label: "noop", Key: "t1", Fn: func(context.Context) error { wg.Done(); return nil }}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				wg.Add(1)
				if err := p.Go(ctx, task); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		})
	}
}
