package bench

import (
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

// Library names one way of running tasks and builds Runners for it.
type Library struct {
	// Name is the value of the lib= key in benchmark names.
	Name string
	// New returns a Runner that runs task on at most workers goroutines.
	// Libraries without a bound (plain go) ignore workers.
	New func(workers int, task func()) Runner
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
	p    *ants.Pool
	wg   sync.WaitGroup
	task func()
}

func newAnts(workers int, task func()) Runner {
	p, err := ants.NewPool(workers)
	if err != nil {
		panic("bench: ants.NewPool: " + err.Error())
	}
	r := &antsRunner{p: p}
	r.task = func() { task(); r.wg.Done() }
	return r
}

func (r *antsRunner) Submit() error {
	r.wg.Add(1)
	if err := r.p.Submit(r.task); err != nil {
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
	p    pond.Pool
	task func()
}

// newPond uses pond's defaults (an unbounded queue): Go, not Submit, because
// Submit allocates a future per task that no other library pays for.
func newPond(workers int, task func()) Runner {
	return &pondRunner{p: pond.NewPool(workers), task: task}
}

func (r *pondRunner) Submit() error { return r.p.Go(r.task) }
func (r *pondRunner) Wait()         { r.p.StopAndWait() }

type concRunner struct {
	p    *concpool.Pool
	task func()
}

func newConc(workers int, task func()) Runner {
	return &concRunner{p: concpool.New().WithMaxGoroutines(workers), task: task}
}

func (r *concRunner) Submit() error { r.p.Go(r.task); return nil }
func (r *concRunner) Wait()         { r.p.Wait() }

type errgroupRunner struct {
	g    errgroup.Group
	task func() error
}

func newErrgroup(workers int, task func()) Runner {
	r := &errgroupRunner{task: func() error { task(); return nil }}
	r.g.SetLimit(workers)
	return r
}

func (r *errgroupRunner) Submit() error { r.g.Go(r.task); return nil }
func (r *errgroupRunner) Wait()         { _ = r.g.Wait() }

type chanRunner struct {
	p    *ChanPool
	task func()
}

func newChan(workers int, task func()) Runner {
	return &chanRunner{p: NewChanPool(workers), task: task}
}

func (r *chanRunner) Submit() error { r.p.Go(r.task); return nil }
func (r *chanRunner) Wait()         { r.p.Close() }

// goRunner is the unbounded reference: one goroutine per task.
type goRunner struct {
	wg   sync.WaitGroup
	task func()
}

func newGo(_ int, task func()) Runner {
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
