package otel_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/gdiag/gdiag/internal/cputime"
)

func BenchmarkZZ(b *testing.B) {
	attrs6 := []attribute.KeyValue{
		attribute.String("gdiag.pool.name", "bench"), attribute.String("gdiag.pool.priority", "normal"),
		attribute.Float64("gdiag.pool.queue_wait", 1e-6), attribute.String("gdiag.pool.key", "t1"),
		attribute.String("gdiag.task.label", "noop"), attribute.String("gdiag.task.outcome", "completed")}
	for _, bc := range []struct {
		name  string
		ts    bool
		attrs int
	}{{"bare", false, 0}, {"ts", true, 0}, {"a1", false, 1}, {"a2", false, 2}, {"a3", false, 3}, {"a6", false, 6}, {"ts-a6", true, 6}} {
		b.Run(bc.name, func(b *testing.B) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discard{}))
			defer tp.Shutdown(context.Background())
			tracer := tp.Tracer("bench")
			ctx, parent := tracer.Start(context.Background(), "request")
			defer parent.End()
			b.ReportAllocs()
			start := cputime.Process()
			for b.Loop() {
				var s trace.Span
				if bc.ts {
					_, s = tracer.Start(ctx, "pool.task bench noop", trace.WithTimestamp(time.Now()))
				} else {
					_, s = tracer.Start(ctx, "pool.task bench noop")
				}
				if bc.attrs > 0 {
					s.SetAttributes(attrs6[:bc.attrs]...)
				}
				s.End()
			}
			b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
