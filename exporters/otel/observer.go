package otel

import (
	"context"
	"sync"
	"sync/atomic"
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
	spanName func(pool.TaskInfo) string // nil: defaultSpanName, cached in names

	names sync.Map // nameKey → string: default span names, at most maxNames
	nname atomic.Int32
}

// nameKey identifies a default span name.
type nameKey struct{ pool, label string }

// maxNames bounds the cache of default span names: pool names and task
// labels come from code, but nothing stops a program from making labels
// up, and then names are built for each task.
const maxNames = 4096

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
	o := &Observer{tracer: tp.Tracer(scope)}
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

// name returns the task's span name, from the cache for the default names.
func (o *Observer) name(t pool.TaskInfo) string {
	if o.spanName != nil {
		return o.spanName(t)
	}
	k := nameKey{t.Pool, t.Label}
	if n, ok := o.names.Load(k); ok {
		return n.(string)
	}
	n := defaultSpanName(t)
	if o.nname.Load() < maxNames {
		if _, loaded := o.names.LoadOrStore(k, n); !loaded {
			o.nname.Add(1)
		}
	}
	return n
}

// TaskStart starts the task's span as a child of the span in ctx (the
// submitter's) and returns a context holding it, so that the task's own spans
// nest under it. The span starts when the pool accepted the task, not when
// it began to run: the gap before the first child span is the queue wait,
// which is also recorded as the gdiag.pool.queue_wait attribute in seconds.
//
// The span starts with its name and start time only, so that an unsampled
// span costs nothing more; its attributes are set in one call when it
// ends, and only if it is recording. Samplers therefore see no attributes.
func (o *Observer) TaskStart(ctx context.Context, t pool.TaskInfo) context.Context {
	ctx, _ = o.start(ctx, t)
	return ctx
}

// TaskEnd ends the task's span with its attributes and outcome. A failed
// task's span gets status Error with the error's message; a panicked task's
// span also gets an exception event whose exception.stacktrace is the
// panic's stack.
//
// A canceled task never started, so it has no span yet: TaskEnd then records
// a span of its own, from submission to now, under the submitter's span,
// with outcome "canceled" and status Unset. A canceled task is the caller
// giving up, not a fault of the task, and marking it Error would inflate
// error rates on every abandoned request.
func (o *Observer) TaskEnd(ctx context.Context, t pool.TaskInfo, r pool.TaskResult) {
	var span trace.Span
	if r.Outcome == pool.Canceled {
		_, span = o.start(ctx, t)
	} else {
		span = trace.SpanFromContext(ctx)
	}
	if !span.IsRecording() {
		span.End()
		return
	}
	setAttributes(span, t, r)
	switch r.Outcome {
	case pool.Canceled:
		if r.Err != nil {
			span.AddEvent("canceled", trace.WithAttributes(attribute.String("exception.message", r.Err.Error())))
		}
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

// start starts a task span at the time the pool accepted the task, or,
// without that time, now.
func (o *Observer) start(ctx context.Context, t pool.TaskInfo) (context.Context, trace.Span) {
	if t.Submitted.IsZero() || !t.Submitted.Before(time.Now()) {
		return o.tracer.Start(ctx, o.name(t), kindInternal...)
	}
	b := startBufs.Get().(*startBuf)
	b[0] = trace.WithTimestamp(t.Submitted)
	ctx, span := o.tracer.Start(ctx, o.name(t), b[:]...)
	b[0] = nil
	startBufs.Put(b)
	return ctx, span
}

// kindInternal is the start option of a span without a start time, made
// once: a task span is internal to the process. Tracers read their options
// during Start and keep none of them, so the slice is shared.
var kindInternal = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}

// startBuf holds the start option of one span; the slice that Tracer.Start
// receives escapes, so buffers are reused rather than made for each task.
type startBuf [1]trace.SpanStartOption

var startBufs = sync.Pool{New: func() any { return new(startBuf) }}

// attrBuf holds the attributes of one span end; the slice that
// Span.SetAttributes receives escapes, so buffers are reused.
type attrBuf [6]attribute.KeyValue

var attrBufs = sync.Pool{New: func() any { return new(attrBuf) }}

// setAttributes sets a task span's attributes in one call: the pool, the
// priority, the key and label when set, the queue wait when the task ran,
// and the outcome.
func setAttributes(span trace.Span, t pool.TaskInfo, r pool.TaskResult) {
	b := attrBufs.Get().(*attrBuf)
	a := append(b[:0], attrPoolName.String(t.Pool), attrPriority.String(t.Priority.String()))
	if r.Outcome != pool.Canceled {
		a = append(a, attrQueueWait.Float64(t.QueueWait.Seconds()))
	}
	if t.Key != "" {
		a = append(a, attrKey.String(t.Key))
	}
	if t.Label != "" {
		a = append(a, attrLabel.String(t.Label))
	}
	a = append(a, attrOutcome.String(r.Outcome.String()))
	span.SetAttributes(a...)
	*b = attrBuf{} // drop the strings before the buffer waits in the pool
	attrBufs.Put(b)
}

func errMessage(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
