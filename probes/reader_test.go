package probes

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
	"go.uber.org/goleak"
)

// spin starts n CPU-bound goroutines and returns their stop function.
func spin(n int) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := 0
			for !done.Load() {
				for i := range 1000 {
					x += i
				}
			}
			_ = x
		}()
	}
	return func() { done.Store(true); wg.Wait() }
}

func TestNewReaderStatus(t *testing.T) {
	st := processReader().Status()
	if mirrorName == "" {
		if !st.Fallback || st.Mode != schedstats.SourceRuntimeMetrics || st.Reason == "" {
			t.Fatalf("Status() = %+v; want a runtime/metrics fallback with a reason", st)
		}
		return
	}
	want := schedstats.SourceSched
	if newDeepReader() != nil {
		want = schedstats.SourceDeep
	}
	if st.Fallback || st.Mode != want || st.Mirror != mirrorName || st.Reason != "" {
		t.Fatalf("Status() = %+v; want mode %v, mirror %q, no fallback", st, want, mirrorName)
	}
}

// TestReaderZeroMirror stands for a linkname to a variable that no longer
// exists: it links and reads zero. The self-check must reject it and the
// Reader must still fill what runtime/metrics offers.
func TestReaderZeroMirror(t *testing.T) {
	zero := func(v *mirrorView) { *v = mirrorView{} }
	if err := checkMirror(mirrorView{}, gatherFacts()); !errors.Is(err, errMirrorRejected) {
		t.Fatalf("checkMirror(zero view) = %v; want errMirrorRejected", err)
	}
	r := newReader(zero, nil)
	st := r.Status()
	if !st.Fallback || st.Mode != schedstats.SourceRuntimeMetrics || st.Reason == "" {
		t.Fatalf("Status() = %+v; want fallback to runtime/metrics with a reason", st)
	}
	checkMetricsParts(t, r)
}

func checkMetricsParts(t *testing.T, r *reader) {
	t.Helper()
	var s schedstats.Snapshot
	r.Read(&s)
	if s.GOMAXPROCS != runtime.GOMAXPROCS(0) {
		t.Errorf("GOMAXPROCS = %d; want %d", s.GOMAXPROCS, runtime.GOMAXPROCS(0))
	}
	if s.Goroutines.Total < 1 || s.GoroutinesCreated < 1 || s.Threads < 1 {
		t.Errorf("Goroutines = %+v, created %d, threads %d; want all > 0", s.Goroutines, s.GoroutinesCreated, s.Threads)
	}
	if len(s.SchedLatency.Counts) == 0 || len(s.SchedLatency.Bounds) != len(s.SchedLatency.Counts)+1 {
		t.Errorf("SchedLatency has %d bounds, %d counts; want n+1, n > 0", len(s.SchedLatency.Bounds), len(s.SchedLatency.Counts))
	}
	if s.Sources.Goroutines != schedstats.SourceRuntimeMetrics || s.Sources.Latency != schedstats.SourceRuntimeMetrics {
		t.Errorf("Sources = %+v; want runtime/metrics for goroutines and latency", s.Sources)
	}
	if r.Status().Fallback && (s.Sources.RunQueues != schedstats.SourceNone || s.IdlePs != 0 || s.GlobalRunQueue != 0) {
		t.Errorf("fallback Read filled sched parts: %+v", s)
	}
}

func TestCheckMirrorRules(t *testing.T) {
	f := runtimeFacts{maxThreads: 10000, gomaxprocs: 4, goid: 7, created: 20, threads: 5, goroutines: 10}
	good := mirrorView{goidgen: 32, nmidle: 1, mnext: 6, maxmcount: 10000, nmfreed: 1, ngsys: 3, npidle: 2, nmspinning: 0, runqSize: 0}
	if err := checkMirror(good, f); err != nil {
		t.Fatalf("checkMirror(good) = %v; want nil", err)
	}
	tests := []struct {
		name string
		edit func(*mirrorView)
	}{
		{"maxmcount", func(v *mirrorView) { v.maxmcount = 9999 }},
		{"npidle>gomaxprocs", func(v *mirrorView) { v.npidle = 5 }},
		{"npidle<0", func(v *mirrorView) { v.npidle = -1 }},
		{"nmspinning", func(v *mirrorView) { v.nmspinning = 9 }},
		{"goidgen<goid", func(v *mirrorView) { v.goidgen = 6 }},
		{"goidgen<created", func(v *mirrorView) { v.goidgen = 19 }},
		{"nmfreed>mnext", func(v *mirrorView) { v.nmfreed = 7 }},
		{"threads", func(v *mirrorView) { v.mnext = 4; v.nmfreed = 0 }},
		{"runq", func(v *mirrorView) { v.runqSize = -3 }},
		{"ngsys", func(v *mirrorView) { v.ngsys = 1 << 20 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := good
			tt.edit(&v)
			if err := checkMirror(v, f); !errors.Is(err, errMirrorRejected) {
				t.Errorf("checkMirror(%+v) = %v; want errMirrorRejected", v, err)
			}
		})
	}
}

func TestReaderUnderLoadAndIdle(t *testing.T) {
	if mirrorName == "" {
		t.Skip("no sched mirror for this Go version; TestNewReaderStatus checks the fallback")
	}
	r := processReader()
	if r.Status().Fallback {
		t.Fatalf("no accepted mirror: %+v", r.Status())
	}
	procs := runtime.GOMAXPROCS(0)
	stop := spin(8 * procs)
	var s schedstats.Snapshot
	var samples, busy, queued int
	deadline := time.Now().Add(2 * time.Second)
	time.Sleep(50 * time.Millisecond) // let the spinners fill the queues
	for samples < 100 && time.Now().Before(deadline) {
		r.Read(&s)
		samples++
		if s.IdlePs == 0 {
			busy++
		}
		if s.GlobalRunQueue > 0 {
			queued++
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	t.Logf("under load: %d samples, %d with no idle P, %d with a global run queue > 0 (last %d)", samples, busy, queued, s.GlobalRunQueue)
	if queued == 0 {
		t.Errorf("GlobalRunQueue = 0 in all %d samples under load; want > 0 in some", samples)
	}
	if busy < samples*9/10 {
		t.Errorf("IdlePs == 0 in %d of %d samples under load; want >= 90%%", busy, samples)
	}

	// The reader does not count its own P: an idle process reads every
	// P idle.
	idle := false
	for i := 0; i < 100 && !idle; i++ {
		time.Sleep(20 * time.Millisecond)
		r.Read(&s)
		idle = s.IdlePs == procs && s.GlobalRunQueue == 0
	}
	if !idle {
		t.Errorf("idle: IdlePs = %d, GlobalRunQueue = %d; want %d and 0", s.IdlePs, s.GlobalRunQueue, procs)
	}
	goleak.VerifyNone(t)
}

func TestReaderReadAllocs(t *testing.T) {
	r := processReader()
	var s schedstats.Snapshot
	r.Read(&s)
	if n := testing.AllocsPerRun(100, func() { r.Read(&s) }); n != 0 {
		t.Errorf("Read allocates %v times per call; want 0", n)
	}
}

func TestReaderConcurrent(t *testing.T) {
	r := processReader()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s schedstats.Snapshot
			for range 200 {
				r.Read(&s)
				if s.GOMAXPROCS < 1 {
					t.Errorf("GOMAXPROCS = %d; want >= 1", s.GOMAXPROCS)
					return
				}
			}
			_ = r.Status()
		}()
	}
	wg.Wait()
	goleak.VerifyNone(t)
}

func BenchmarkReaderRead(b *testing.B) {
	r := processReader()
	var s schedstats.Snapshot
	r.Read(&s)
	b.ReportAllocs()
	for b.Loop() {
		r.Read(&s)
	}
	// At 10 Hz a sampler spends ns/op × 10 per second of wall time.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)*10/1e9*100, "cpu%@10Hz")
}
