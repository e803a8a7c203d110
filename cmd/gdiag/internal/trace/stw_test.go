package tracecmd

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	xtrace "golang.org/x/exp/trace"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// synth builds trace events by hand, for the cases a real trace cannot be
// made to show on demand (a thread the host deschedules).
type synth struct {
	t   *testing.T
	evs []xtrace.Event
}

func (s *synth) add(ev xtrace.Event, err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
	s.evs = append(s.evs, ev)
}

func stack(funcs ...string) xtrace.Stack {
	var fs []xtrace.StackFrame
	for i, f := range funcs {
		fs = append(fs, xtrace.StackFrame{PC: uint64(i + 1), Func: f, File: "/src/x.go", Line: uint64(10 + i)})
	}
	return xtrace.MakeStack(fs)
}

// goTo moves goroutine g from one state to another at time at (ms).
func (s *synth) goTo(at int, g xtrace.GoID, from, to xtrace.GoState, reason string, st xtrace.Stack) {
	tr := xtrace.MakeGoStateTransition(g, from, to)
	tr.Reason, tr.Stack = reason, st
	s.add(xtrace.MakeEvent(xtrace.EventConfig[xtrace.StateTransition]{Time: ms(at), Kind: xtrace.EventStateTransition, Goroutine: g, Stack: st, Details: tr}))
}

func (s *synth) stw(at int, g xtrace.GoID, kind xtrace.EventKind) {
	r := xtrace.Range{Name: "stop-the-world (GC mark termination)", Scope: xtrace.MakeResourceID(g)}
	s.add(xtrace.MakeEvent(xtrace.EventConfig[xtrace.Range]{Time: ms(at), Kind: kind, Goroutine: g, Details: r}))
}

func (s *synth) sample(at int, g xtrace.GoID, st xtrace.Stack) {
	s.add(xtrace.MakeEvent(xtrace.EventConfig[xtrace.StackSample]{Time: ms(at), Kind: xtrace.EventStackSample, Goroutine: g, Stack: st}))
}

func ms(n int) xtrace.Time { return xtrace.Time(int64(n) * int64(time.Millisecond)) }

func (s *synth) run() []STWEvent {
	w := newSTWTracker()
	for _, ev := range s.evs {
		w.event(ev)
	}
	return w.finish()
}

// TestSTWTrackerSynthetic: the world waits for the goroutine that stops
// last; its CPU samples during the wait tell a goroutine that would not
// yield from one whose thread was off the CPU.
func TestSTWTrackerSynthetic(t *testing.T) {
	spin := stack("main.spin", "main.worker")
	atCall := stack("time.Now", "main.worker")
	const asker, busy, other = 1, 7, 9
	// base: goroutines busy and other run; asker stops the world at 10ms,
	// other stops at 11ms, busy at 110ms; the world restarts at 112ms.
	base := func(s *synth, samples bool) {
		s.goTo(0, asker, xtrace.GoUndetermined, xtrace.GoRunning, "", stack("main.main"))
		s.goTo(0, busy, xtrace.GoUndetermined, xtrace.GoRunning, "", stack("main.worker"))
		s.goTo(0, other, xtrace.GoUndetermined, xtrace.GoRunning, "", stack("main.serve"))
		s.stw(10, asker, xtrace.EventRangeBegin)
		s.goTo(11, other, xtrace.GoRunning, xtrace.GoRunnable, "", stack("main.serve"))
		if samples {
			for at := 20; at < 110; at += 10 {
				s.sample(at, busy, spin)
			}
		}
		s.goTo(110, busy, xtrace.GoRunning, xtrace.GoRunnable, "", atCall)
		s.stw(112, asker, xtrace.EventRangeEnd)
	}
	t.Run("would not yield", func(t *testing.T) {
		s := &synth{t: t}
		base(s, true)
		evs := s.run()
		if len(evs) != 1 {
			t.Fatalf("events = %+v; want one", evs)
		}
		e := evs[0]
		if e.Reason != "GC mark termination" || e.TotalNanos != int64(102*time.Millisecond) || e.StoppingNanos != int64(100*time.Millisecond) || e.Partial {
			t.Errorf("event = %+v; want GC mark termination, 102ms total, 100ms to stop", e)
		}
		d := e.Delayer
		if d == nil || d.Goroutine != busy || d.Function != "main.spin" || d.FunctionFrom != "samples during the stop" || d.Samples != 9 || d.StoppedAs != "preempted" || d.StartFunction != "main.worker" {
			t.Fatalf("delayer = %+v; want goroutine 7 in main.spin (from 9 samples), preempted, started in main.worker", d)
		}
		if !slices.Equal(d.Stack, []string{"time.Now (x.go:10)", "main.worker (x.go:11)"}) {
			t.Errorf("delayer stack = %q", d.Stack)
		}
	})
	t.Run("descheduled", func(t *testing.T) {
		s := &synth{t: t}
		s.sample(1, other, stack("main.serve")) // the profile runs before and after, with no sample of busy in the wait
		base(s, false)
		s.sample(120, other, stack("main.serve"))
		d := s.run()[0].Delayer
		if d == nil || d.Samples != 0 || d.Function != "main.worker" {
			t.Errorf("delayer = %+v; want goroutine 7 with 0 samples, named from its stack", d)
		}
	})
	t.Run("profile started after the pause", func(t *testing.T) {
		s := &synth{t: t}
		base(s, false)
		s.sample(200, other, stack("main.serve"))
		s.sample(210, busy, spin)
		d := s.run()[0].Delayer
		if d == nil || d.Samples != -1 {
			t.Errorf("delayer = %+v; want Samples -1: no profile ran during the pause", d)
		}
		if d == nil || d.Function != "main.spin" || d.FunctionFrom != "samples of the goroutine" {
			t.Errorf("delayer = %+v; want main.spin, from the goroutine's samples elsewhere in the trace", d)
		}
	})
	t.Run("profile ended before the pause", func(t *testing.T) {
		s := &synth{t: t}
		s.sample(1, other, stack("main.serve"))
		s.sample(5, other, stack("main.serve"))
		base(s, false)
		if d := s.run()[0].Delayer; d == nil || d.Samples != -1 {
			t.Errorf("delayer = %+v; want Samples -1", d)
		}
	})
	t.Run("no CPU samples in the trace", func(t *testing.T) {
		s := &synth{t: t}
		base(s, false)
		if d := s.run()[0].Delayer; d == nil || d.Samples != -1 {
			t.Errorf("delayer = %+v; want Samples -1: the trace cannot tell", d)
		}
	})
	t.Run("nothing to wait for", func(t *testing.T) {
		s := &synth{t: t}
		s.goTo(0, asker, xtrace.GoUndetermined, xtrace.GoRunning, "", stack("main.main"))
		s.goTo(0, busy, xtrace.GoUndetermined, xtrace.GoWaiting, "chan receive", stack("main.worker"))
		s.stw(10, asker, xtrace.EventRangeBegin)
		s.stw(11, asker, xtrace.EventRangeEnd)
		if e := s.run()[0]; e.Delayer != nil || e.StoppingNanos != 0 || e.TotalNanos != int64(time.Millisecond) {
			t.Errorf("event = %+v; want 1ms, nothing waited for", e)
		}
	})
	t.Run("trace ends inside", func(t *testing.T) {
		s := &synth{t: t}
		s.goTo(0, asker, xtrace.GoUndetermined, xtrace.GoRunning, "", stack("main.main"))
		s.goTo(0, busy, xtrace.GoUndetermined, xtrace.GoRunning, "", stack("main.worker"))
		s.stw(10, asker, xtrace.EventRangeBegin)
		s.goTo(30, busy, xtrace.GoRunning, xtrace.GoWaiting, "sync", stack("sync.(*Mutex).Lock", "main.worker"))
		e := s.run()[0]
		if !e.Partial || e.TotalNanos != int64(20*time.Millisecond) || e.Delayer == nil || e.Delayer.StoppedAs != "blocked (sync)" {
			t.Errorf("event = %+v; want a partial 20ms pause waiting for goroutine 7, blocked (sync)", e)
		}
	})
	t.Run("longest kept", func(t *testing.T) {
		s := &synth{t: t}
		s.goTo(0, asker, xtrace.GoUndetermined, xtrace.GoRunning, "", stack("main.main"))
		for i := range 2*maxSTWEvents + 3 {
			s.stw(10*i, asker, xtrace.EventRangeBegin)
			s.stw(10*i+1+i%5, asker, xtrace.EventRangeEnd)
		}
		evs := s.run()
		if len(evs) != maxSTWEvents || evs[0].TotalNanos != int64(5*time.Millisecond) || evs[len(evs)-1].TotalNanos < evs[0].TotalNanos/5 {
			t.Errorf("kept %d events, first %v, last %v; want %d, longest first", len(evs), evs[0].TotalNanos, evs[len(evs)-1].TotalNanos, maxSTWEvents)
		}
	})
}

var copied atomic.Int64

// copyLoop copies a large buffer again and again until stop. A copy is one
// runtime.memmove, which cannot be preempted (a stop-the-world request
// waits for the copy in progress); the call to copiedOne after each copy
// is where the goroutine stops (it calls nop, so it is no leaf and its
// prologue checks for preemption). Without that call the preemption
// signals would nearly always land in memmove, and a request could wait
// seconds.
//
//go:noinline
func copyLoop(dst, src []byte, stop *atomic.Bool) {
	for !stop.Load() {
		copy(dst, src)
		copiedOne()
	}
}

//go:noinline
func copiedOne() { copied.Add(1); nop() }

//go:noinline
func nop() {}

// TestSTWRealTrace traces collections while a goroutine copies a large
// buffer, with the CPU profiler on, and checks that the pauses waited for
// that goroutine and name copyLoop, and that gdiag analyze prints them.
func TestSTWRealTrace(t *testing.T) {
	src, dst := make([]byte, 16<<20), make([]byte, 16<<20)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var prof, buf bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		t.Skipf("a CPU profile is already running in this test binary: %v", err)
	}
	if err := trace.Start(&buf); err != nil {
		pprof.StopCPUProfile()
		t.Fatal(err)
	}
	wg.Go(func() { copyLoop(dst, src, &stop) })
	for copied.Load() == 0 {
		runtime.Gosched() // until the copier is running
	}
	for range 3 {
		runtime.GC()
	}
	stop.Store(true)
	wg.Wait()
	trace.Stop()
	pprof.StopCPUProfile()

	evs, err := StopTheWorld(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	waited := 0
	// Under the race detector most samples fall in its C code, which names
	// nothing, so the function may come from the stack at the stop: the
	// call after the copy.
	for _, e := range evs {
		if d := e.Delayer; d != nil && (strings.HasSuffix(d.Function, ".copyLoop") || strings.HasSuffix(d.Function, ".copiedOne")) &&
			slices.ContainsFunc(d.Stack, func(f string) bool { return strings.Contains(f, ".copyLoop (") }) {
			waited++
			if e.StoppingNanos > e.TotalNanos || e.StoppingNanos <= 0 {
				t.Errorf("pause %+v: stopping time outside (0, total]", e)
			}
		}
	}
	// Six collection pauses; the copier runs through most of them (it may
	// be runnable, waiting behind a mark worker, when one begins).
	if waited == 0 {
		for _, e := range evs {
			t.Logf("%+v %+v", e, e.Delayer)
		}
		t.Errorf("no pause waited for copyLoop")
	}
	var out, errs bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &errs}
	if err := Analyze(env, "x.trace", bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	sum, err := Summarize(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.LongestSTW) != min(topSTW, len(evs)) || sum.LongestSTW[0].TotalNanos != evs[0].TotalNanos {
		t.Errorf("Summary.LongestSTW = %+v; want the %d longest of %+v", sum.LongestSTW, topSTW, evs)
	}
	if !strings.Contains(out.String(), "longest stop-the-world pauses") {
		t.Errorf("gdiag analyze output lacks the pause table:\n%s", out.String())
	}
	for _, e := range sum.LongestSTW {
		if !strings.Contains(out.String(), delayerText(e)) {
			t.Errorf("gdiag analyze output lacks %q:\n%s", delayerText(e), out.String())
		}
	}
}
