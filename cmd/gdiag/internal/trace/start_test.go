package tracecmd

import (
	"bytes"
	"io"
	"net"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdiag/gdiag/gdump"
	xtrace "golang.org/x/exp/trace"
)

func TestStackReason(t *testing.T) {
	for want, frames := range map[string][]string{
		"chan receive":          {"runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1", "main.f"},
		"chan send":             {"runtime.gopark", "runtime.chansend", "runtime.chansend1", "main.f"},
		"select":                {"runtime.gopark", "runtime.selectgo", "main.f"},
		"forever":               {"runtime.gopark", "runtime.block", "main.f"},
		"network":               {"runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait", "internal/poll.(*pollDesc).wait"},
		"sleep":                 {"runtime.gopark", "time.Sleep", "main.f"},
		"sync":                  {"runtime.gopark", "runtime.goparkunlock", "runtime.semacquire1", "sync.runtime_SemacquireMutex", "sync.(*Mutex).lockSlow"},
		"sync.(*Cond).Wait":     {"runtime.gopark", "runtime.goparkunlock", "sync.runtime_notifyListWait", "sync.(*Cond).Wait"},
		"system goroutine wait": {"runtime.gopark", "runtime.goparkunlock", "runtime.bgsweep", "runtime.gcenable.gowrap1"},
		"":                      {"runtime.gopark", "main.customPark"},
	} {
		if got := stackReason(frames); got != want {
			t.Errorf("stackReason(%v) = %q; want %q", frames, got, want)
		}
	}
	if got := stackReason(nil); got != "" {
		t.Errorf("stackReason(nil) = %q; want \"\"", got)
	}
}

func TestDumpReason(t *testing.T) {
	for state, want := range map[string]string{
		"chan receive": "chan receive", "chan receive (nil chan)": "chan receive", "chan send": "chan send",
		"select": "select", "select (no cases)": "forever", "IO wait": "network", "sleep": "sleep",
		"sync.Mutex.Lock": "sync", "semacquire": "sync", "sync.WaitGroup.Wait": "sync", "sync.Cond.Wait": "sync.(*Cond).Wait",
		"GC worker (idle)": "system goroutine wait", "finalizer wait": "system goroutine wait",
		"running": "", "runnable": "", "syscall": "",
	} {
		if got := dumpReason(state); got != want {
			t.Errorf("dumpReason(%q) = %q; want %q", state, got, want)
		}
	}
}

// blockedBeforeTrace parks goroutines in every common way, then traces
// 100 ms with runtime/trace: each wait is under way when the trace begins.
func blockedBeforeTrace(t *testing.T) []byte {
	t.Helper()
	var mu sync.Mutex
	mu.Lock()
	ch, stop := make(chan int), make(chan struct{})
	var wg, never sync.WaitGroup
	never.Add(1)
	cond := sync.NewCond(&sync.Mutex{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 8)
	for _, f := range []func(){
		func() { started <- struct{}{}; <-ch },
		func() {
			started <- struct{}{}
			select {
			case <-ch:
			case <-stop:
			}
		},
		func() { started <- struct{}{}; mu.Lock(); defer mu.Unlock() },
		func() { started <- struct{}{}; never.Wait() },
		func() { cond.L.Lock(); started <- struct{}{}; cond.Wait(); cond.L.Unlock() },
		func() { started <- struct{}{}; ln.Accept() },
	} {
		wg.Go(f)
	}
	for range 6 {
		<-started
	}
	waitParked(t, ".blockedBeforeTrace.func", 6)
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	trace.Stop()
	close(ch)
	close(stop)
	mu.Unlock()
	never.Done()
	cond.L.Lock()
	cond.Broadcast()
	cond.L.Unlock()
	ln.Close()
	wg.Wait()
	return buf.Bytes()
}

// waitParked waits until n goroutines running a function named with
// prefix are parked (waiting), as a goroutine dump shows them.
func waitParked(t *testing.T, prefix string, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var buf bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&buf, 2)
		parked := 0
		gdump.Scan(&buf, gdump.Options{}, func(g *gdump.Goroutine) error {
			status, _ := gdump.SplitState(g.State)
			for _, f := range g.Frames {
				if strings.Contains(f.Func, prefix) && status == "waiting" {
					parked++
					break
				}
			}
			return nil
		})
		if parked >= n {
			return
		}
	}
	t.Fatalf("fewer than %d goroutines in %s parked within a minute", n, prefix)
}

// TestBeforeTraceFromStacks checks that waits under way when a Go 1.26
// trace begins are named from the stacks the trace gives them, not left
// as "unknown (waiting since the trace began)". The runtime reports a few
// such goroutines without a stack (one it meets while the generation
// runs, such as a runtime goroutine woken during the trace): only those
// may stay unknown.
func TestBeforeTraceFromStacks(t *testing.T) {
	data := blockedBeforeTrace(t)
	s, err := Summarize(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := s.BeforeTrace
	if n := stackless(t, data); b.Waits < 6 || b.FromStack < 6 || b.Unknown != n || b.FromStack+b.Unknown != b.Waits {
		t.Errorf("BeforeTrace = %+v; want every wait (at least 6) named from its stack but the %d the trace gives none", b, n)
	}
	cats := map[string]bool{}
	for _, w := range s.Waits {
		cats[w.Category] = true
	}
	for _, want := range []string{catChan, catSelect, catSync, catNet} {
		if !cats[want] {
			t.Errorf("Waits = %+v; want %q", s.Waits, want)
		}
	}
}

// stackless counts the goroutines a trace reports waiting at its start
// without a stack.
func stackless(t *testing.T, data []byte) int {
	tr, err := xtrace.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind() != xtrace.EventStateTransition {
			continue
		}
		st := ev.StateTransition()
		if st.Resource.Kind != xtrace.ResourceGoroutine {
			continue
		}
		if from, to := st.Goroutine(); from == xtrace.GoUndetermined && to == xtrace.GoWaiting && len(stackFuncs(st.Stack)) == 0 {
			n++
		}
	}
}

// TestBeforeTraceFromDumps reads a real trace of Debian's Prometheus
// 2.42 (Go 1.19: no stacks for the goroutines waiting at the start) with
// the goroutine dumps taken just before and just after it, as gdiag trace
// takes them: without the dumps 93% of the waiting time is unknown, with
// them none of it.
func TestBeforeTraceFromDumps(t *testing.T) {
	data, err := os.ReadFile("testdata/prometheus.trace")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if share := waitShare(s, catBefore); share < 0.5 || s.BeforeTrace.Unknown != s.BeforeTrace.Waits {
		t.Errorf("without dumps: unknown share %.2f, BeforeTrace %+v; want most waits unknown (what a trace of Go 1.19 alone can say)", share, s.BeforeTrace)
	}

	z, err := read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	z.nameFromDumps(dumpFile(t, "testdata/prometheus-before.txt"), dumpFile(t, "testdata/prometheus-after.txt"))
	s = z.summary()
	b := s.BeforeTrace
	if share := waitShare(s, catBefore); share > 0.05 || b.FromDump < b.Waits/2 || b.Runtime == 0 || b.FromDump+b.Runtime+b.Unknown != b.Waits {
		t.Errorf("with dumps: unknown share %.2f, BeforeTrace %+v; want under 5%% unknown, most named from the dumps, the runtime's own counted", share, b)
	}
	t.Logf("Prometheus 2.42, 3 s: %+v; unknown share %.1f%%", b, 100*waitShare(s, catBefore))
}

func dumpFile(t *testing.T, name string) *dumped {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := readDump(f)
	if d == nil {
		t.Fatalf("readDump(%s) = nil", name)
	}
	return d
}

// waitShare is category cat's share of all waiting time in s.
func waitShare(s Summary, cat string) float64 {
	var all, in int64
	for _, w := range s.Waits {
		all += w.TotalNanos
		if w.Category == cat {
			in += w.TotalNanos
		}
	}
	if all == 0 {
		return 0
	}
	return float64(in) / float64(all)
}
