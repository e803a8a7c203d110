package pool

import (
	"context"
	"fmt"
	"time"
)

// Priority orders queued tasks: under backlog a worker always takes the
// oldest task of the highest non-empty priority. The zero value is Normal.
type Priority int8

// The priority levels, lowest first.
const (
	Low    Priority = -1
	Normal Priority = 0
	High   Priority = 1
)

// numPriorities is the number of priority levels.
const numPriorities = 3

// String returns "low", "normal" or "high".
func (p Priority) String() string {
	switch p {
	case Low:
		return "low"
	case Normal:
		return "normal"
	case High:
		return "high"
	}
	return fmt.Sprintf("priority(%d)", int8(p))
}

// level maps a priority to its queue index; out-of-range values clamp.
func (p Priority) level() int {
	return int(min(max(p, Low), High) - Low)
}

// Task describes one unit of work for Pool.Go. It is passed by value so
// submitting it allocates nothing. The zero value of every field except Fn
// is the default: Normal priority, no key, no label, no timeout.
type Task struct {
	// Fn is the work. It must not be nil.
	Fn func(context.Context) error
	// Priority orders the task under backlog.
	Priority Priority
	// Key groups tasks for WithKeyLimit (a tenant, an endpoint). Empty
	// means the task is not subject to the key limit.
	Key string
	// Label names the task in pprof labels (task=<Label>) and for observers.
	Label string
	// Timeout, when positive, bounds the task's context from its start.
	Timeout time.Duration
}

// Outcome is how a task ended. Every accepted task ends with exactly one.
type Outcome uint8

// The outcomes of a task.
const (
	Completed Outcome = iota // Fn returned nil
	Failed                   // Fn returned an error (its own timeout included)
	Panicked                 // Fn panicked
	Canceled                 // never run: its context ended first, or Stop dropped it
)

// String returns the outcome's lowercase name.
func (o Outcome) String() string {
	switch o {
	case Completed:
		return "completed"
	case Failed:
		return "failed"
	case Panicked:
		return "panicked"
	case Canceled:
		return "canceled"
	}
	return fmt.Sprintf("outcome(%d)", uint8(o))
}

// TaskInfo describes a task to an Observer.
type TaskInfo struct {
	Pool      string
	Priority  Priority
	Key       string
	Label     string
	Submitted time.Time     // when the pool accepted the task
	QueueWait time.Duration // from acceptance to start
}

// TaskResult describes how a task ended.
type TaskResult struct {
	Outcome Outcome
	RunTime time.Duration
	Err     error       // the task's error, ctx.Err() when canceled, or the *PanicError
	Panic   *PanicError // non-nil when Outcome is Panicked
}

// Observer sees tasks start and end, for tracing and logging. TaskStart
// returns the context given to the task, so a tracer can put a span in it.
// TaskEnd receives that context. A task canceled before it started gets
// TaskEnd (with Outcome Canceled and its submit context) without TaskStart.
// Methods are called on worker goroutines and must be safe for concurrent
// use; they run inside the task's time, so they should be quick.
type Observer interface {
	TaskStart(ctx context.Context, t TaskInfo) context.Context
	TaskEnd(ctx context.Context, t TaskInfo, r TaskResult)
}

// PanicError is the error a panicking task becomes. It carries the panic
// value and the stack of the panicking goroutine.
type PanicError struct {
	Pool  string
	Label string
	Value any
	Stack []byte
}

// Error returns a one-line description; the stack is in Stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("pool %s: task panicked: %v", e.Pool, e.Value)
}

// Unwrap returns the panic value when it is an error, so errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}
