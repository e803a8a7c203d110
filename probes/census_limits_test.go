package probes

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/schedstats"
	"go.uber.org/goleak"
)

// deepBlocked parks a goroutine under depth frames of a long name, so
// that each goroutine prints a few kilobytes in a debug=2 dump.
func deepBlockedWithAVeryLongFunctionNameToFillTheDumpQuickly(depth int, ready *sync.WaitGroup, stop chan struct{}) {
	if depth > 0 {
		deepBlockedWithAVeryLongFunctionNameToFillTheDumpQuickly(depth-1, ready, stop)
		return
	}
	ready.Done()
	<-stop
}

// TestStackDumpNotCut: runtime/pprof's debug=2 writer stops at 64 MiB, so
// that a dump of a process with many goroutines ends in the middle (issue:
// gdiag goroutines on 1M goroutines failed). The agent's dump holds every
// goroutine.
func TestStackDumpNotCut(t *testing.T) {
	if testing.Short() {
		t.Skip("dumps more than 64 MiB of stacks")
	}
	const n, depth = 14000, 48
	stop := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(n)
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			deepBlockedWithAVeryLongFunctionNameToFillTheDumpQuickly(depth, &ready, stop)
		}()
	}
	ready.Wait()
	defer func() { close(stop); done.Wait() }()

	h := newAPI(source{}, time.Minute, nil, nil, context.Background())
	rec := get(t, h, "/v1/profile/goroutine?debug=2&max_pause=1m")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET goroutine?debug=2 = %d %s", rec.Code, rec.Body.String())
	}
	body := rec.Body.Bytes()
	if got := bytes.Count(body, []byte("deepBlockedWithAVeryLongFunctionNameToFillTheDumpQuickly(0x")); got < n*(depth+1) {
		t.Errorf("dump of %d MiB holds %d of the %d frames of the parked goroutines; want all (no cut)", len(body)>>20, got, n*(depth+1))
	}
	if len(body) <= 64<<20 {
		t.Errorf("dump of %d bytes; the test needs more than 64 MiB to show that there is no cut", len(body))
	}
}

// TestStackDumpSmallProcessDeepStacks: fewer than a thousand goroutines
// teach the cost estimate nothing, so the first buffer comes from the
// initial guess; stacks larger than the guess must still fit on the
// retry. They once did not, and the census stopped the world again and
// again until its client gave up.
func TestStackDumpSmallProcessDeepStacks(t *testing.T) {
	dumpCost.mu.Lock()
	ns, bytesPer, measured := dumpCost.nsPerG, dumpCost.bytesPerG, dumpCost.measurement
	dumpCost.nsPerG, dumpCost.bytesPerG, dumpCost.measurement = 0, 0, false
	dumpCost.mu.Unlock()
	defer func() {
		dumpCost.mu.Lock()
		dumpCost.nsPerG, dumpCost.bytesPerG, dumpCost.measurement = ns, bytesPer, measured
		dumpCost.mu.Unlock()
	}()
	const n, depth = 300, 48
	stop := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(n)
	for range n {
		done.Add(1)
		go func() {
			defer done.Done()
			deepBlockedWithAVeryLongFunctionNameToFillTheDumpQuickly(depth, &ready, stop)
		}()
	}
	ready.Wait()
	defer func() { close(stop); done.Wait() }()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	d, err := stackDump(ctx, time.Minute)
	if err != nil {
		t.Fatalf("stackDump of %d goroutines %d frames deep: %v; want the dump", n, depth, err)
	}
	defer d.release()
	if min := n * initialBytesPerGoroutine * 2; len(d.b) < min {
		t.Fatalf("dump of %d bytes; the test needs stacks larger than the initial estimate (%d bytes)", len(d.b), min)
	}
	if got := bytes.Count(d.b, []byte("deepBlockedWithAVeryLongFunctionNameToFillTheDumpQuickly(0x")); got < n*(depth+1) {
		t.Errorf("dump holds %d of the %d frames of the parked goroutines; want all", got, n*(depth+1))
	}
}

// TestCensusOneAtATime: a second census while one runs is refused at
// once (409), never stacked behind it: two would stop the world twice.
func TestCensusOneAtATime(t *testing.T) {
	defer goleak.VerifyNone(t)
	d, err := stackDump(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := census(context.Background(), apiv1.CensusFilter{}, 0); !errors.Is(err, errDumpBusy) {
		t.Errorf("census during another dump = %v; want errDumpBusy", err)
	}
	h := newAPI(source{census: census}, time.Minute, nil, nil, context.Background())
	for _, target := range []string{"/v1/goroutines", "/v1/profile/goroutine?debug=2"} {
		if rec := get(t, h, target); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "already running") {
			t.Errorf("GET %s during another dump = %d %s; want 409 already running", target, rec.Code, rec.Body.String())
		}
	}
	d.release()
	if _, err := census(context.Background(), apiv1.CensusFilter{}, 0); err != nil {
		t.Errorf("census after the other ended = %v", err)
	}
}

// TestCensusPauseBudget: a census whose estimated stop of the world is
// over the budget is refused with the estimate and how to allow it; the
// request may allow a longer pause.
func TestCensusPauseBudget(t *testing.T) {
	defer goleak.VerifyNone(t)
	dumpCost.mu.Lock()
	savedNs, savedBytes, savedOK := dumpCost.nsPerG, dumpCost.bytesPerG, dumpCost.measurement
	dumpCost.nsPerG, dumpCost.bytesPerG, dumpCost.measurement = float64(time.Second), 512, true
	dumpCost.mu.Unlock()
	defer func() {
		dumpCost.mu.Lock()
		dumpCost.nsPerG, dumpCost.bytesPerG, dumpCost.measurement = savedNs, savedBytes, savedOK
		dumpCost.mu.Unlock()
	}()
	n := runtime.NumGoroutine() // at a second each: over the budget
	_, err := census(context.Background(), apiv1.CensusFilter{}, 0)
	var pe *pauseError
	if !errors.As(err, &pe) || pe.goroutines < n/2 || pe.budget != DefaultMaxCensusPause {
		t.Fatalf("census at an estimated second per goroutine = %v; want a pauseError over the default budget", err)
	}
	h := newAPI(source{census: census}, time.Minute, nil, nil, context.Background())
	rec := get(t, h, "/v1/goroutines")
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "max_pause=") {
		t.Errorf("GET /v1/goroutines over budget = %d %s; want 409 with a max_pause hint", rec.Code, rec.Body.String())
	}
	if rec := get(t, h, "/v1/goroutines?max_pause=2h"); rec.Code != http.StatusBadRequest {
		t.Errorf("max_pause=2h = %d; want 400 (at most %v)", rec.Code, maxCensusPause)
	}
	if _, err := census(context.Background(), apiv1.CensusFilter{}, time.Hour); err != nil {
		t.Errorf("census allowing an hour = %v; want it to run", err)
	}
}

// TestCensusClientGone: a census whose client has left does not stop the
// world, and leaves the way free for the next.
func TestCensusClientGone(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := census(ctx, apiv1.CensusFilter{}, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("census for a client gone = %v; want context.Canceled", err)
	}
	if dumpBusy.Load() {
		t.Error("a cancelled census left the dump lock held")
	}
}

// TestExpensiveRequestsLimited: 100 callers of /v1/history at once (which
// took 1.08 GB before) get at most maxExpensive answers in progress; the
// others wait their turn and are all served, while cheap endpoints answer
// at once. A caller that waits longer than the bound is told to retry
// (503).
func TestExpensiveRequestsLimited(t *testing.T) {
	defer goleak.VerifyNone(t)
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	src := source{
		latest: func() (schedstats.Snapshot, bool) { return fakeSnapshot(), true },
		history: func() []schedstats.Snapshot {
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			<-release
			inFlight.Add(-1)
			return nil
		},
	}
	h := newAPI(src, time.Minute, nil, nil, context.Background())
	const callers = 100
	codes := make(chan int, callers)
	var wg sync.WaitGroup
	call := func() {
		defer wg.Done()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/history", nil))
		codes <- rec.Code
	}
	for range callers {
		wg.Add(1)
		go call()
	}
	for peak.Load() < maxExpensive {
		runtime.Gosched()
	}
	if rec := get(t, h, "/v1/snapshot"); rec.Code != http.StatusOK {
		t.Errorf("GET /v1/snapshot while the limit is reached = %d; want 200", rec.Code)
	}
	if len(codes) != 0 {
		t.Errorf("%d callers answered while every slot was held; want them waiting", len(codes))
	}
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a caller got %d; want 200 once a slot freed", c)
		}
	}
	if p := peak.Load(); p != maxExpensive {
		t.Errorf("peak of %d history requests in progress; want %d", p, maxExpensive)
	}

	// With every slot held beyond the wait bound: 503.
	hold := make(chan struct{})
	src.history = func() []schedstats.Snapshot { <-hold; return nil }
	h = newAPI(src, time.Minute, nil, nil, context.Background())
	h.heavyWait = 50 * time.Millisecond
	var holders sync.WaitGroup
	for range maxExpensive {
		holders.Add(1)
		go func() {
			defer holders.Done()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v1/history", nil))
		}()
	}
	for len(h.heavy) < maxExpensive {
		runtime.Gosched()
	}
	if rec := get(t, h, "/v1/history"); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("GET /v1/history with every slot held past the wait = %d; want 503 with Retry-After", rec.Code)
	}
	close(hold)
	holders.Wait()
}
