package pool_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// stormTasks is the number of submissions TestStorm makes, read from
// GDIAG_STORM_TASKS. The default keeps the test to seconds under -race on a
// busy 2-core machine and still meets every fault; the full storm is
//
//	GDIAG_STORM_TASKS=10000000 go test -run TestStorm -count=1 -v ./pool
func stormTasks(t *testing.T) int {
	s := os.Getenv("GDIAG_STORM_TASKS")
	if s == "" {
		return 200_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1000 {
		t.Fatalf("GDIAG_STORM_TASKS=%q; want an integer of at least 1000", s)
	}
	return n
}

// stormEpochs is how many pools the storm goes through, each with its own
// configuration, resized while in use and stopped mid-storm.
const stormEpochs = 64

// stall is how long the storm may make no progress before the watchdog
// fails it with every goroutine's stack. A wedge never recovers; a loaded
// machine pauses for far less.
const stall = 60 * time.Second

// stormObserver panics now and then in TaskStart and TaskEnd, and counts
// what it sees.
type stormObserver struct {
	starts, startPanics, endPanics atomic.Int64
}

func (o *stormObserver) TaskStart(ctx context.Context, t pool.TaskInfo) context.Context {
	o.starts.Add(1)
	if t.Label == "start-panics" {
		o.startPanics.Add(1)
		panic("storm: TaskStart")
	}
	return ctx
}

func (o *stormObserver) TaskEnd(_ context.Context, t pool.TaskInfo, _ pool.TaskResult) {
	if t.Label == "end-panics" {
		o.endPanics.Add(1)
		panic("storm: TaskEnd")
	}
}

// The kinds of task the storm submits, with their weight in 1000.
const (
	kindOK          = iota
	kindError       // returns an error
	kindPanic       // panics
	kindGoexit      // calls runtime.Goexit
	kindTimeout     // waits for its own Timeout
	kindCanceled    // its ctx is canceled before it is submitted
	kindCancelLater // its ctx is canceled right after it is submitted
	kindStartPanic  // TaskStart panics (with an observer)
	kindEndPanic    // TaskEnd panics (with an observer)
	numKinds
)

var kindWeights = [numKinds]int{kindOK: 925, kindError: 30, kindPanic: 5, kindGoexit: 5, kindTimeout: 10,
	kindCanceled: 5, kindCancelLater: 10, kindStartPanic: 5, kindEndPanic: 5}

func pickKind(rng *rand.Rand) int {
	n := rng.IntN(1000)
	for k, w := range kindWeights {
		if n < w {
			return k
		}
		n -= w
	}
	return kindOK
}

// TestStorm submits stormTasks tasks with random faults from many
// goroutines through every way to submit, into pools of random shape (queue
// 0 included, fail-fast or blocking, key limits, an observer whose hooks
// panic, a panic handler that panics), resizes them while in use, stops
// each mid-storm with a short deadline, and checks that every submission is
// accounted for exactly once, every future resolves, every group returns,
// and nothing wedges.
func TestStorm(t *testing.T) {
	total := stormTasks(t)
	perEpoch := max(total/stormEpochs, 100)
	var progress atomic.Int64
	done := make(chan struct{})
	defer close(done)
	go watchdog(done, &progress)

	var sum pool.Stats
	var kinds [numKinds]int64
	start := time.Now()
	for epoch := range stormEpochs {
		s, k := stormEpoch(t, epoch, perEpoch, &progress)
		sum.Submitted += s.Submitted
		sum.Rejected += s.Rejected
		sum.Completed += s.Completed
		sum.Failed += s.Failed
		sum.Panicked += s.Panicked
		sum.Canceled += s.Canceled
		sum.HookPanics += s.HookPanics
		sum.Refused.ShedWait += s.Refused.ShedWait + s.Refused.ShedKey
		sum.Refused.RateLimited += s.Refused.RateLimited
		sum.Refused.BreakerOpen += s.Refused.BreakerOpen
		sum.BreakerOpens += s.BreakerOpens
		for i := range kinds {
			kinds[i] += k[i]
		}
		if t.Failed() {
			return
		}
	}
	elapsed := time.Since(start)
	n := sum.Submitted + sum.Rejected
	t.Logf("%d submissions in %v (%.0f/s): submitted %d completed %d failed %d panicked %d canceled %d rejected %d hook panics %d",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
		sum.Submitted, sum.Completed, sum.Failed, sum.Panicked, sum.Canceled, sum.Rejected, sum.HookPanics)
	for k, c := range kinds {
		if c == 0 {
			t.Errorf("task kind %d never submitted; want every fault exercised", k)
		}
	}
	t.Logf("overload controls: shed %d, rate limited %d, breaker open %d (opened %d times)",
		sum.Refused.ShedWait, sum.Refused.RateLimited, sum.Refused.BreakerOpen, sum.BreakerOpens)
	if sum.BreakerOpens == 0 || sum.Refused.BreakerOpen == 0 {
		t.Errorf("storm: breakers opened %d times and refused %d tasks; want both exercised", sum.BreakerOpens, sum.Refused.BreakerOpen)
	}
	if sum.Panicked == 0 || sum.Failed == 0 || sum.Canceled == 0 || sum.Rejected == 0 || sum.HookPanics == 0 {
		t.Errorf("storm totals %+v; want every outcome, rejections and hook panics", sum)
	}
}

// stormEpoch runs one pool through its share of the storm and reconciles it.
func stormEpoch(t *testing.T, epoch, attempts int, progress *atomic.Int64) (pool.Stats, [numKinds]int64) {
	rng := rand.New(rand.NewPCG(uint64(epoch), 7))
	maxW := []int{1, 2, 3, 8}[rng.IntN(4)]
	queue := []int{0, 0, 1, 4, 64}[rng.IntN(5)]
	opts := []pool.Option{pool.WithoutRegistry(), pool.WithMaxWorkers(maxW), pool.WithMinWorkers(rng.IntN(maxW + 1)),
		pool.WithQueueSize(queue), pool.WithKeyLimit(rng.IntN(3)), pool.WithStatsSampling(1 + rng.IntN(16)),
		pool.WithIdleTimeout(time.Duration(1+rng.IntN(1000)) * time.Microsecond)}
	failFast := epoch%4 == 3
	if failFast {
		opts = append(opts, pool.WithFailFast())
	}
	obs := &stormObserver{}
	observed := epoch%2 == 1
	if observed {
		opts = append(opts, pool.WithObserver(obs))
	}
	controls := epoch%3 == 2
	if controls { // every overload control at once, on time scales the storm reaches
		opts = append(opts,
			pool.WithAdaptiveLimit(pool.AdaptiveOptions{Interval: time.Millisecond}),
			pool.WithShedding(pool.ShedOptions{Target: 50 * time.Microsecond, Interval: time.Millisecond}),
			pool.WithBreaker(pool.BreakerOptions{PerKey: epoch%2 == 0, MinRequests: 5, FailureRatio: 0.05,
				Window: 10 * time.Millisecond, OpenFor: time.Millisecond}),
			pool.WithKeyRateLimit(pool.Rate{PerSecond: 1e5, Burst: 100}))
	}
	var handlerPanics atomic.Int64
	opts = append(opts, pool.WithPanicHandler(func(pe *pool.PanicError) {
		if handlerPanics.Add(1)%2 == 0 {
			panic("storm: panic handler")
		}
	}))
	p := pool.New(fmt.Sprint("storm-", epoch), opts...)
	desc := fmt.Sprintf("epoch %d (max %d, queue %d, fail-fast %v, observed %v, controls %v)", epoch, maxW, queue, failFast, observed, controls)

	const submitters = 8
	stopAt := attempts*4/5 + rng.IntN(attempts/5) // the last fifth or less is refused
	var (
		attempted, accepted, refused, ran atomic.Int64
		kinds                             [numKinds]atomic.Int64
		stopOnce                          sync.Once
		stopErr                           = make(chan error, 1)
		wg                                sync.WaitGroup
		futuresMu                         sync.Mutex
		futures                           []*pool.Future[int]
	)
	chaos := make(chan struct{})
	var chaosWG sync.WaitGroup
	chaosWG.Go(func() { // resizes the pool while it is in use
		crng := rand.New(rand.NewPCG(uint64(epoch), 8))
		for {
			select {
			case <-chaos:
				return
			default:
			}
			hi := 1 + crng.IntN(8)
			_ = p.Resize(crng.IntN(hi+1), hi)
			progress.Add(1)
			for range 200 {
				runtime.Gosched()
			}
		}
	})
	errTask := errors.New("storm: task error")
	for s := range submitters {
		wg.Go(func() {
			srng := rand.New(rand.NewPCG(uint64(epoch), uint64(s)))
			g, _ := p.Group(context.Background())
			for {
				n := attempted.Add(1)
				if n > int64(attempts) {
					break
				}
				progress.Add(1)
				if n == int64(stopAt) {
					deadline := time.Duration(srng.IntN(2000)) * time.Microsecond
					stopOnce.Do(func() {
						go func() {
							ctx, cancel := context.WithTimeout(context.Background(), deadline)
							defer cancel()
							stopErr <- p.Stop(ctx)
						}()
					})
				}
				kind := pickKind(srng)
				if !observed && (kind == kindStartPanic || kind == kindEndPanic) {
					kind = kindOK
				}
				kinds[kind].Add(1)
				ctx, cancel := context.Background(), context.CancelFunc(func() {})
				if kind == kindCanceled || kind == kindCancelLater {
					ctx, cancel = context.WithCancel(ctx)
				}
				if kind == kindCanceled {
					cancel()
				}
				task := pool.Task{Priority: pool.Priority(srng.IntN(3) - 1), Key: []string{"", "", "a", "b", "c"}[srng.IntN(5)]}
				switch kind {
				case kindStartPanic:
					task.Label = "start-panics"
				case kindEndPanic:
					task.Label = "end-panics"
				case kindTimeout:
					task.Timeout = time.Duration(1+srng.IntN(100)) * time.Microsecond
				}
				task.Fn = func(ctx context.Context) error {
					ran.Add(1)
					progress.Add(1)
					switch kind {
					case kindError:
						return errTask
					case kindPanic:
						panic("storm: task panic")
					case kindGoexit:
						runtime.Goexit()
					case kindTimeout:
						<-ctx.Done()
						return ctx.Err()
					}
					return nil
				}
				var err error
				switch via := srng.IntN(8); {
				case via == 0 && task.Label == "" && task.Timeout == 0:
					err = p.Submit(ctx, task.Fn)
				case via == 1 && task.Label == "" && task.Timeout == 0:
					var f *pool.Future[int]
					f, err = pool.SubmitValue(ctx, p, func(ctx context.Context) (int, error) { return 1, task.Fn(ctx) })
					if err == nil {
						futuresMu.Lock()
						futures = append(futures, f)
						futuresMu.Unlock()
					}
				case via == 2:
					g.Go(task) // runs with the group's context; Wait must return
					cancel()
					continue
				default:
					err = p.Go(ctx, task)
				}
				cancel() // kindCancelLater: just after submission, likely before the task starts
				if err != nil {
					control := errors.Is(err, pool.ErrShed) || errors.Is(err, pool.ErrRateLimited) || errors.Is(err, pool.ErrBreakerOpen)
					if !errors.Is(err, pool.ErrStopped) && !errors.Is(err, pool.ErrOverloaded) && !errors.Is(err, context.Canceled) && !control {
						t.Errorf("%s: submit = %v; want nil, ErrStopped, ErrOverloaded, context.Canceled or a control's refusal", desc, err)
					}
					if control && !controls {
						t.Errorf("%s: submit = %v without overload controls", desc, err)
					}
					if errors.Is(err, pool.ErrOverloaded) && !errors.Is(err, pool.ErrShed) && !failFast {
						t.Errorf("%s: submit = ErrOverloaded without WithFailFast", desc)
					}
					refused.Add(1)
				} else {
					accepted.Add(1)
				}
			}
			_ = g.Wait() // must return: every group task ends or is refused
		})
	}
	wg.Wait()
	close(chaos)
	chaosWG.Wait()
	if err := <-stopErr; err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%s: Stop(short) = %v; want nil or DeadlineExceeded", desc, err)
	}
	if err := p.Stop(context.Background()); err != nil { // waits for tasks the short Stop left running
		t.Errorf("%s: Stop() = %v; want nil", desc, err)
	}
	for _, f := range futures {
		select {
		case <-f.Done():
		default:
			t.Errorf("%s: a future is unresolved after Stop returned", desc)
		}
	}
	s := p.Stats()
	outcomes := s.Completed + s.Failed + s.Panicked + s.Canceled
	if outcomes != s.Submitted || s.Queued != 0 || s.Parked != 0 || s.Running != 0 || s.Workers != 0 || s.Keys != nil {
		t.Errorf("%s: after Stop: submitted %d, outcomes %d (c=%d f=%d p=%d x=%d), queued %d parked %d running %d workers %d keys %v; want outcomes = submitted and nothing left",
			desc, s.Submitted, outcomes, s.Completed, s.Failed, s.Panicked, s.Canceled, s.Queued, s.Parked, s.Running, s.Workers, s.Keys)
	}
	if got := s.Refused.Sum(); got != s.Rejected {
		t.Errorf("%s: refusals by reason %+v add up to %d; want Rejected %d", desc, s.Refused, got, s.Rejected)
	}
	if got := s.Submitted + s.Rejected; got != uint64(attempts) {
		t.Errorf("%s: Submitted+Rejected = %d; want %d attempts", desc, got, attempts)
	}
	if s.Submitted < uint64(accepted.Load()) || s.Rejected < uint64(refused.Load()) {
		t.Errorf("%s: Stats() submitted %d rejected %d; callers saw at least %d accepted, %d refused",
			desc, s.Submitted, s.Rejected, accepted.Load(), refused.Load())
	}
	// Every task that ended Completed, Failed or Panicked ran, except those
	// whose TaskStart panicked.
	if got, want := s.Completed+s.Failed+s.Panicked, uint64(ran.Load()+obs.startPanics.Load()); got != want {
		t.Errorf("%s: Completed+Failed+Panicked = %d; want %d (tasks run %d + TaskStart panics %d)",
			desc, got, want, ran.Load(), obs.startPanics.Load())
	}
	if want := uint64(obs.startPanics.Load() + obs.endPanics.Load() + handlerPanics.Load()/2); s.HookPanics != want {
		t.Errorf("%s: HookPanics = %d; want %d", desc, s.HookPanics, want)
	}
	var k [numKinds]int64
	for i := range k {
		k[i] = kinds[i].Load()
	}
	return s, k
}

// watchdog fails the test with every goroutine's stack if progress stops
// for stall: a wedged pool hangs, and a hang must end in a report.
func watchdog(done <-chan struct{}, progress *atomic.Int64) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last, since := progress.Load(), time.Now()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		if n := progress.Load(); n != last {
			last, since = n, time.Now()
			continue
		}
		if time.Since(since) > stall {
			buf := make([]byte, 64<<20)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "storm: no progress for %v; every goroutine:\n%s\n", stall, buf)
			panic("storm: wedged")
		}
	}
}
