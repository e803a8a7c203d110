package otel

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gdiag/gdiag/pool"
)

// scope is the instrumentation scope of every tracer and meter this package
// creates, so back ends can tell gdiag's telemetry from the application's.
const scope = "github.com/gdiag/gdiag/exporters/otel"

// The attribute keys of task spans. The outcome key is shared with the
// gdiag.pool.tasks metric.
const (
	attrPoolName  = attribute.Key("gdiag.pool.name")
	attrQueueWait = attribute.Key("gdiag.pool.queue_wait")
	attrPriority  = attribute.Key("gdiag.pool.priority")
	attrKey       = attribute.Key("gdiag.pool.key")
	attrLabel     = attribute.Key("gdiag.task.label")
	attrOutcome   = attribute.Key("gdiag.task.outcome")
	attrStack     = attribute.Key("exception.stacktrace")
)

// Observer is a pool.Observer that makes one span per pool task. Create it
// with NewObserver and install it with pool.WithObserver; the zero value is
// not usable. Its methods are safe for concurrent use.
type Observer struct {
	tracer   trace.Tracer
	spanName func(pool.TaskInfo) string
}

// ObserverOption configures an Observer at construction.
type ObserverOption func(*Observer)

// WithSpanName sets the function that names task spans. The default names
// a span "pool.task <pool>", or "pool.task <pool> <label>" when the task has
// a label. NewObserver panics if f is nil.
func WithSpanName(f func(pool.TaskInfo) string) ObserverOption {
	if f == nil {
		panic("otel: nil span name function")
	}
	return func(o *Observer) { o.spanName = f }
}

// NewObserver returns an Observer that records task spans with tracers from
// tp. A nil tp panics: pass a no-op provider to disable tracing.
func NewObserver(tp trace.TracerProvider, opts ...ObserverOption) *Observer {
	if tp == nil {
		panic("otel: nil TracerProvider")
	}
	o := &Observer{tracer: tp.Tracer(scope), spanName: defaultSpanName}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

func defaultSpanName(t pool.TaskInfo) string {
	if t.Label != "" {
		return "pool.task " + t.Pool + " " + t.Label
	}
	return "pool.task " + t.Pool
}

// TaskStart starts the task's span as a child of the span in ctx (the
// submitter's) and returns a context holding it, so that the task's own spans
// nest under it. The span starts when the pool accepted the task, not when
// it began to run: the gap before the first child span is the queue wait,
// which is also recorded as the gdiag.pool.queue_wait attribute in seconds.
func (o *Observer) TaskStart(ctx context.Context, t pool.TaskInfo) context.Context {
	ctx, _ = o.tracer.Start(ctx, o.spanName(t), startOptions(t, true)...)
	return ctx
}

// TaskEnd ends the task's span with its outcome. A failed task's span gets
// status Error with the error's message; a panicked task's span also gets
// an exception event whose exception.stacktrace is the panic's stack.
//
// A canceled task never started, so it has no span yet: TaskEnd then records
// a span of its own, from submission to now, under the submitter's span,
// with outcome "canceled" and status Unset. A canceled task is the caller
// giving up, not a fault of the task, and marking it Error would inflate
// error rates on every abandoned request.
func (o *Observer) TaskEnd(ctx context.Context, t pool.TaskInfo, r pool.TaskResult) {
	if r.Outcome == pool.Canceled {
		_, span := o.tracer.Start(ctx, o.spanName(t), startOptions(t, false)...)
		if span.IsRecording() {
			span.SetAttributes(attrOutcome.String(r.Outcome.String()))
			if r.Err != nil {
				span.AddEvent("canceled", trace.WithAttributes(attribute.String("exception.message", r.Err.Error())))
			}
		}
		span.End()
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		span.End()
		return
	}
	span.SetAttributes(attrOutcome.String(r.Outcome.String()))
	switch r.Outcome {
	case pool.Panicked:
		if r.Panic != nil {
			// The stack of the panicking goroutine, captured by the pool at
			// recover time; WithStackTrace would give this TaskEnd's stack.
			span.RecordError(r.Panic, trace.WithAttributes(attrStack.String(string(r.Panic.Stack))))
		}
		span.SetStatus(codes.Error, errMessage(r.Err))
	case pool.Failed:
		span.SetStatus(codes.Error, errMessage(r.Err))
	}
	span.End()
}

// startOptions gives the span its start time and the task's attributes at
// creation, where the SDK stores them in one go and samplers can see them.
func startOptions(t pool.TaskInfo, started bool) []trace.SpanStartOption {
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, attrPoolName.String(t.Pool), attrPriority.String(t.Priority.String()))
	if started {
		attrs = append(attrs, attrQueueWait.Float64(t.QueueWait.Seconds()))
	}
	if t.Key != "" {
		attrs = append(attrs, attrKey.String(t.Key))
	}
	if t.Label != "" {
		attrs = append(attrs, attrLabel.String(t.Label))
	}
	opts := make([]trace.SpanStartOption, 0, 3)
	opts = append(opts, trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	if !t.Submitted.IsZero() && t.Submitted.Before(time.Now()) {
		opts = append(opts, trace.WithTimestamp(t.Submitted))
	}
	return opts
}

func errMessage(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
