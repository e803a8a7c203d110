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

func ExampleRegisterMetrics() {
	reader := sdkmetric.NewManualReader() // in production: a PeriodicReader with an OTLP exporter
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	p := pool.New("orders", pool.WithoutRegistry())
	defer p.Stop(context.Background())

	unregister, err := gotel.RegisterMetrics(mp, gotel.MetricsOptions{
		Read:  func(s *schedstats.Snapshot) { s.GOMAXPROCS, s.Goroutines.Total = 2, 10 },
		Pools: func() []*pool.Pool { return []*pool.Pool{p} },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unregister()

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name == "go.processor.limit" || m.Name == "gdiag.pool.workers" {
			fmt.Println(m.Name, m.Unit)
		}
	}
	// Output:
	// go.processor.limit {thread}
	// gdiag.pool.workers {worker}
}

func ExampleOTelName() {
	fmt.Println(gotel.OTelName("gdiag_pool_tasks_total"))
	fmt.Println(gotel.OTelName("gdiag_sched_latency_seconds"))
	// Output:
	// gdiag.pool.tasks
	// gdiag.sched.latency
}
