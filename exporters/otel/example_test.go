package otel_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	gotel "github.com/gdiag/gdiag/exporters/otel"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

func ExampleNewObserver() {
	rec := tracetest.NewSpanRecorder() // in production: sdktrace.WithBatcher(an OTLP exporter)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	p := pool.New("quotes", pool.WithObserver(gotel.NewObserver(tp)), pool.WithoutRegistry())

	ctx, handler := tp.Tracer("app").Start(context.Background(), "GET /quote")
	_ = p.Go(ctx, pool.Task{Label: "price", Key: "t1", Fn: func(context.Context) error { return nil }})
	_ = p.Stop(context.Background())
	handler.End()

	for _, s := range rec.Ended() {
		fmt.Printf("%s (child of handler: %v)\n", s.Name(), s.Parent().SpanID() == handler.SpanContext().SpanID())
	}
	// Output:
	// pool.task quotes price (child of handler: true)
	// GET /quote (child of handler: false)
}

func ExampleNewProducer() {
	p := pool.New("orders", pool.WithoutRegistry(), pool.WithStatsSampling(1))
	_ = p.Submit(context.Background(), func(context.Context) error { return nil })
	_ = p.Stop(context.Background()) // waits for the task

	producer := gotel.NewProducer(gotel.MetricsOptions{
		Read: func(s *schedstats.Snapshot) {
			s.GOMAXPROCS = 2
			s.Sources.Procs = schedstats.SourceRuntimeMetrics
		},
		Pools: func() []*pool.Pool { return []*pool.Pool{p} },
	})
	// In production: sdkmetric.NewPeriodicReader(an OTLP exporter, sdkmetric.WithProducer(producer)).
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(producer))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if m.Name == "go.processor.limit" {
					fmt.Println(m.Name, m.Unit, d.DataPoints[0].Value)
				}
			case metricdata.Histogram[float64]:
				fmt.Println(m.Name, m.Unit, "histogram of", d.DataPoints[0].Count, "tasks in", len(d.DataPoints[0].Bounds)+1, "buckets")
			}
		}
	}
	// Output:
	// go.processor.limit {thread} 2
	// gdiag.pool.queue_wait s histogram of 1 tasks in 29 buckets
	// gdiag.pool.run s histogram of 1 tasks in 29 buckets
}

func ExampleOTelName() {
	fmt.Println(gotel.OTelName("gdiag_pool_tasks_total"))
	fmt.Println(gotel.OTelName("gdiag_sched_latency_seconds"))
	// Output:
	// gdiag.pool.tasks
	// gdiag.sched.latency
}
