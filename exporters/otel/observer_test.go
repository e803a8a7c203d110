package otel_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	gotel "github.com/gdiag/gdiag/exporters/otel"
	"github.com/gdiag/gdiag/pool"
)

// tracedPool returns a pool observed by a span recorder, and a tracer from
// the same provider to play the submitter.
func tracedPool(t *testing.T, opts ...pool.Option) (*pool.Pool, *tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	opts = append([]pool.Option{pool.WithObserver(gotel.NewObserver(tp)), pool.WithoutRegistry()}, opts...)
	p := pool.New("work", opts...)
	t.Cleanup(func() {
		_ = p.Stop(context.Background())
		_ = tp.Shutdown(context.Background())
	})
	return p, rec, tp
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value)
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

func spanNamed(t *testing.T, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range rec.Ended() {
		if s.Name() == name {
			return s
		}
	}
	t.Fatalf("no ended span named %q among %d", name, len(rec.Ended()))
	return nil
}

func TestObserverParentAndAttributes(t *testing.T) {
	defer goleak.VerifyNone(t)
	p, rec, tp := tracedPool(t)
	ctx, parent := tp.Tracer("test").Start(context.Background(), "handler")
	done := make(chan struct{})
	err := p.Go(ctx, pool.Task{Priority: pool.High, Key: "t1", Label: "price", Fn: func(ctx context.Context) error {
		_, child := tp.Tracer("test").Start(ctx, "inner")
		child.End()
		close(done)
		return nil
	}})
	if err != nil {
		t.Fatalf("Go = %v; want nil", err)
	}
	<-done
	parent.End()
	if err := p.Stop(context.Background()); err != nil {
		t.Fatalf("Stop = %v", err)
	}

	task := spanNamed(t, rec, "pool.task work price")
	if got, want := task.Parent().SpanID(), parent.SpanContext().SpanID(); got != want {
		t.Errorf("task parent = %v; want handler span %v", got, want)
	}
	if got, want := task.SpanContext().TraceID(), parent.SpanContext().TraceID(); got != want {
		t.Errorf("task trace = %v; want %v", got, want)
	}
	inner := spanNamed(t, rec, "inner")
	if got, want := inner.Parent().SpanID(), task.SpanContext().SpanID(); got != want {
		t.Errorf("inner parent = %v; want task span %v", got, want)
	}
	a := attrs(task)
	for k, want := range map[attribute.Key]string{
		"gdiag.pool.name":     "work",
		"gdiag.pool.priority": "high",
		"gdiag.pool.key":      "t1",
		"gdiag.task.label":    "price",
		"gdiag.task.outcome":  "completed",
	} {
		if got := a[k].AsString(); got != want {
			t.Errorf("attribute %s = %q; want %q", k, got, want)
		}
	}
	if v, ok := a["gdiag.pool.queue_wait"]; !ok || v.Type() != attribute.FLOAT64 || v.AsFloat64() < 0 {
		t.Errorf("attribute gdiag.pool.queue_wait = %v (present %v); want a float >= 0", v.String(), ok)
	}
	if task.Status().Code != codes.Unset {
		t.Errorf("status = %v; want Unset", task.Status())
	}
	if task.EndTime().Before(task.StartTime()) {
		t.Errorf("span ends %v before it starts %v", task.EndTime(), task.StartTime())
	}
}

func TestObserverError(t *testing.T) {
	defer goleak.VerifyNone(t)
	p, rec, _ := tracedPool(t)
	if err := p.Submit(context.Background(), func(context.Context) error { return errors.New("quote unavailable") }); err != nil {
		t.Fatal(err)
	}
	_ = p.Stop(context.Background())
	s := spanNamed(t, rec, "pool.task work")
	if s.Status().Code != codes.Error || s.Status().Description != "quote unavailable" {
		t.Errorf("status = %+v; want Error %q", s.Status(), "quote unavailable")
	}
	if got := attrs(s)["gdiag.task.outcome"].AsString(); got != "failed" {
		t.Errorf("outcome = %q; want failed", got)
	}
	if s.Parent().IsValid() {
		t.Errorf("span has parent %v; want a root span (no submitter span)", s.Parent())
	}
}

//go:noinline
func explode() { panic("boom at the counter") }

func TestObserverPanic(t *testing.T) {
	defer goleak.VerifyNone(t)
	p, rec, _ := tracedPool(t)
	if err := p.Submit(context.Background(), func(context.Context) error { explode(); return nil }); err != nil {
		t.Fatal(err)
	}
	_ = p.Stop(context.Background())
	s := spanNamed(t, rec, "pool.task work")
	if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "boom at the counter") {
		t.Errorf("status = %+v; want Error mentioning the panic value", s.Status())
	}
	if got := attrs(s)["gdiag.task.outcome"].AsString(); got != "panicked" {
		t.Errorf("outcome = %q; want panicked", got)
	}
	var found bool
	for _, e := range s.Events() {
		if e.Name != "exception" {
			continue
		}
		found = true
		ea := make(map[attribute.Key]string)
		for _, kv := range e.Attributes {
			ea[kv.Key] = kv.Value.String()
		}
		if ea["exception.type"] == "" {
			t.Errorf("exception event has no exception.type: %v", ea)
		}
		if st := ea["exception.stacktrace"]; !strings.Contains(st, "exporters/otel_test.explode") {
			t.Errorf("exception.stacktrace = %q; want the panicking goroutine's stack (explode)", st)
		}
		if !strings.Contains(ea["exception.message"], "boom at the counter") {
			t.Errorf("exception.message = %q; want the panic value", ea["exception.message"])
		}
	}
	if !found {
		t.Errorf("no exception event among %v", s.Events())
	}
}

func TestObserverCanceled(t *testing.T) {
	defer goleak.VerifyNone(t)
	p, rec, tp := tracedPool(t, pool.WithMaxWorkers(1))
	release := make(chan struct{})
	started := make(chan struct{})
	if err := p.Submit(context.Background(), func(context.Context) error { close(started); <-release; return nil }); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, parent := tp.Tracer("test").Start(context.Background(), "handler")
	ctx, cancel := context.WithCancel(ctx)
	if err := p.Go(ctx, pool.Task{Label: "late", Fn: func(context.Context) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	cancel()
	close(release)
	parent.End()
	_ = p.Stop(context.Background())
	s := spanNamed(t, rec, "pool.task work late")
	if got := attrs(s)["gdiag.task.outcome"].AsString(); got != "canceled" {
		t.Errorf("outcome = %q; want canceled", got)
	}
	if got, want := s.Parent().SpanID(), parent.SpanContext().SpanID(); got != want {
		t.Errorf("canceled span parent = %v; want %v", got, want)
	}
	if s.Status().Code != codes.Unset {
		t.Errorf("status = %v; want Unset for a canceled task", s.Status())
	}
}

func TestWithSpanName(t *testing.T) {
	defer goleak.VerifyNone(t)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	o := gotel.NewObserver(tp, gotel.WithSpanName(func(ti pool.TaskInfo) string { return "job/" + ti.Key }))
	p := pool.New("named", pool.WithObserver(o), pool.WithoutRegistry())
	_ = p.Go(context.Background(), pool.Task{Key: "t3", Fn: func(context.Context) error { return nil }})
	_ = p.Stop(context.Background())
	spanNamed(t, rec, "job/t3")
	_ = tp.Shutdown(context.Background())
}

func TestNewObserverPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"nil provider":  func() { gotel.NewObserver(nil) },
		"nil span name": func() { gotel.WithSpanName(nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		})
	}
}
