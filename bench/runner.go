package bench

import (
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// Runner runs copies of the one task it was built with. A Runner is used by
// one goroutine: Submit any number of times, then Wait once.
type Runner interface {
	// Submit hands one copy of the task to the library, blocking while the
	// library is full (every library is used in its blocking mode).
	Submit() error
	// Wait blocks until every submitted task has finished and releases the
	// library's goroutines. Submit must not be called after Wait.
	Wait()
}

// Mode is how a Runner bounds the tasks waiting for a worker and what
// Submit does when that bound is reached.
type Mode int

const (
	// Default uses each library's defaults: the gdiag pool's 1024-slot
	// queue, pond's unbounded queue, a channel buffered to 1024; Submit
	// blocks when full.
	Default Mode = iota
	// Bounded lets as many tasks wait as there are workers, and Submit
	// blocks when they are all taken: the setting of a user who wants
	// backpressure.
	Bounded
	// FailFast uses the default queue bound, and Submit is refused at once
	// when it is full (ErrOverloaded, ErrQueueFull, TryGo false); the Runner
	// then yields and tries again, so that every task runs.
	FailFast
)

// Modes lists every Mode, in the order of benchmark names.
var Modes = []Mode{Bounded, Default, FailFast}

// String returns the value of the queue= key in benchmark names.
func (m Mode) String() string {
	switch m {
	case Bounded:
		return "workers"
	case FailFast:
		return "failfast"
	}
	return "default"
}

// defaultQueue is the queue bound of Default and FailFast where a library
// takes one: the gdiag pool's default.
const defaultQueue = 1024

// queueBound returns the number of waiting tasks a Runner in mode m allows
// with workers workers.
func queueBound(m Mode, workers int) int {
	if m == Bounded {
		return workers
	}
	return defaultQueue
}

// Library names one way of running tasks and builds Runners for it.
type Library struct {
	// Name is the value of the lib= key in benchmark names.
	Name string
	// New returns a Runner that runs task on at most workers goroutines, in
	// mode m. Libraries without a queue (ants, conc, errgroup) block or
	// refuse when every worker is busy whatever the mode; conc has no way
	// to refuse, so it blocks under FailFast too. Libraries without a bound
	// (plain go) ignore workers and m.
	New func(workers int, m Mode, task func()) Runner
}

// retry submits with try until it is accepted, yielding while the library
// is full (full reports that try's error means so).
func retry(try func() error, full func(error) bool) error {
	for {
		err := try()
		if err == nil || !full(err) {
			return err
		}
		runtime.Gosched()
	}
}

// Libraries returns every compared library, gdiag's configurations first.
func Libraries() []Library {
	libs := gdiagLibraries()
	return append(libs,
		Library{Name: "ants", New: newAnts},
		Library{Name: "pond", New: newPond},
		Library{Name: "conc", New: newConc},
		Library{Name: "errgroup", New: newErrgroup},
		Library{Name: "chan", New: newChan},
		Library{Name: "go", New: newGo},
	)
}

// LibraryByName returns the library called name and whether it exists.
func LibraryByName(name string) (Library, bool) {
	for _, l := range Libraries() {
		if l.Name == name {
			return l, true
		}
	}
	return Library{}, false
}

// antsRunner follows ants' documented idiom: a WaitGroup around Submit,
// because ants has no call that waits for submitted tasks.
type antsRunner struct {
	p        *ants.Pool
	wg       sync.WaitGroup
	task     func()
	failFast bool
}

// newAnts has no queue: Submit blocks while every worker is busy, or under
// FailFast (ants.WithNonblocking) returns ErrPoolOverload.
func newAnts(workers int, m Mode, task func()) Runner {
	p, err := ants.NewPool(workers, ants.WithNonblocking(m == FailFast))
	if err != nil {
		panic("bench: ants.NewPool: " + err.Error())
	}
	r := &antsRunner{p: p, failFast: m == FailFast}
	r.task = func() { task(); r.wg.Done() }
	return r
}

func (r *antsRunner) Submit() error {
	r.wg.Add(1)
	err := r.p.Submit(r.task)
	if r.failFast {
		err = retry(func() error { return err }, func(e error) bool {
			if !errors.Is(e, ants.ErrPoolOverload) {
				return false
			}
			err = r.p.Submit(r.task)
			return true
		})
	}
	if err != nil {
		r.wg.Done()
		return err
	}
	return nil
}

func (r *antsRunner) Wait() {
	r.wg.Wait()
	// ReleaseTimeout also waits for ants' purge and ticktock goroutines,
	// so that leak checks see a clean process.
	_ = r.p.ReleaseTimeout(10 * time.Second)
}

type pondRunner struct {
	p        pond.Pool
	task     func()
	failFast bool
}

// newPond uses Go, not Submit, because Submit allocates a future per task
// that no other library pays for. Default is pond's own default, an
// unbounded queue; Bounded and FailFast set pond.WithQueueSize, and
// FailFast pond.WithNonBlocking.
func newPond(workers int, m Mode, task func()) Runner {
	var opts []pond.Option
	if m != Default {
		opts = append(opts, pond.WithQueueSize(queueBound(m, workers)), pond.WithNonBlocking(m == FailFast))
	}
	return &pondRunner{p: pond.NewPool(workers, opts...), task: task, failFast: m == FailFast}
}

func (r *pondRunner) Submit() error {
	if !r.failFast {
		return r.p.Go(r.task)
	}
	return retry(func() error { return r.p.Go(r.task) }, func(err error) bool { return errors.Is(err, pond.ErrQueueFull) })
}
func (r *pondRunner) Wait() { r.p.StopAndWait() }

type concRunner struct {
	p    *concpool.Pool
	task func()
}

func newConc(workers int, _ Mode, task func()) Runner {
	return &concRunner{p: concpool.New().WithMaxGoroutines(workers), task: task}
}

func (r *concRunner) Submit() error { r.p.Go(r.task); return nil }
func (r *concRunner) Wait()         { r.p.Wait() }

type errgroupRunner struct {
	g        errgroup.Group
	task     func() error
	failFast bool
}

// newErrgroup blocks in Go while workers tasks run, or under FailFast uses
// TryGo.
func newErrgroup(workers int, m Mode, task func()) Runner {
	r := &errgroupRunner{task: func() error { task(); return nil }, failFast: m == FailFast}
	r.g.SetLimit(workers)
	return r
}

// retryTry calls try, which reports whether the library took the task,
// until it does, yielding in between.
func retryTry(try func() bool) {
	for !try() {
		runtime.Gosched()
	}
}

func (r *errgroupRunner) Submit() error {
	if r.failFast {
		retryTry(func() bool { return r.g.TryGo(r.task) })
	} else {
		r.g.Go(r.task)
	}
	return nil
}

func (r *errgroupRunner) Wait() { _ = r.g.Wait() }

type chanRunner struct {
	p        *ChanPool
	task     func()
	failFast bool
}

// newChan buffers the channel to the mode's queue bound, as the gdiag pool
// is given: workers under Bounded, 1024 otherwise.
func newChan(workers int, m Mode, task func()) Runner {
	return &chanRunner{p: NewChanPool(workers, queueBound(m, workers)), task: task, failFast: m == FailFast}
}

func (r *chanRunner) Submit() error {
	if r.failFast {
		retryTry(func() bool { return r.p.TryGo(r.task) })
	} else {
		r.p.Go(r.task)
	}
	return nil
}

func (r *chanRunner) Wait() { r.p.Close() }

// goRunner is the unbounded reference: one goroutine per task.
type goRunner struct {
	wg   sync.WaitGroup
	task func()
}

func newGo(_ int, _ Mode, task func()) Runner {
	r := &goRunner{}
	r.task = func() { task(); r.wg.Done() }
	return r
}

func (r *goRunner) Submit() error {
	r.wg.Add(1)
	go r.task()
	return nil
}

func (r *goRunner) Wait() { r.wg.Wait() }
