package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	otelexp "github.com/gdiag/gdiag/exporters/otel"
	"github.com/gdiag/gdiag/pool"
)

// telemetry is the OpenTelemetry side of the demo. Without an endpoint its
// tracer provider is a no-op, there is no observer, and shutdown does nothing.
type telemetry struct {
	tp       trace.TracerProvider
	observer pool.Observer
	shutdown func(context.Context) error
}

// startOTel exports traces and metrics over OTLP/HTTP to c.otlpEndpoint:
// a span per pool task (children of the /work handler's span) and the
// scheduler and pool metrics every c.otlpInterval.
func startOTel(ctx context.Context, c config, log *slog.Logger) (telemetry, error) {
	if c.otlpEndpoint == "" {
		return telemetry{tp: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}, nil
	}
	res := resource.NewSchemaless(attribute.String("service.name", "gdiag-demo"))
	texp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(c.otlpEndpoint), otlptracehttp.WithInsecure())
	if err != nil {
		return telemetry{}, fmt.Errorf("otlp trace exporter: %w", err)
	}
	mexp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(c.otlpEndpoint), otlpmetrichttp.WithInsecure())
	if err != nil {
		return telemetry{}, errors.Join(fmt.Errorf("otlp metric exporter: %w", err), texp.Shutdown(ctx))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(texp, sdktrace.WithBatchTimeout(c.otlpInterval)), sdktrace.WithResource(res))
	metrics := otelexp.NewProducer(otelexp.MetricsOptions{})
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(mexp, sdkmetric.WithInterval(c.otlpInterval), sdkmetric.WithProducer(metrics))),
		sdkmetric.WithResource(res))
	log.Info("opentelemetry export on", "endpoint", c.otlpEndpoint, "interval", c.otlpInterval)
	return telemetry{
		tp:       tp,
		observer: otelexp.NewObserver(tp),
		// Shutdown flushes: the spans still batched and a last metric export.
		shutdown: func(ctx context.Context) error {
			return errors.Join(tp.Shutdown(ctx), mp.Shutdown(ctx))
		},
	}, nil
}
