package schedstats_test

import (
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// counterReader returns a reader whose n-th call reports n goroutines, a
// 4-entry local run queue and a 3-bucket latency histogram.
func counterReader() (schedstats.ReadFunc, *atomic.Int64) {
	var n atomic.Int64
	return func(s *schedstats.Snapshot) {
		v := int(n.Add(1))
		s.GOMAXPROCS = 4
		s.Goroutines.Total = v
		s.GoroutinesCreated = uint64(10 * v)
		s.LocalRunQueues = append(s.LocalRunQueues[:0], v, v, v, v)
		s.SchedLatency.Bounds = append(s.SchedLatency.Bounds[:0], 0, 0.001, 0.01, 1)
		s.SchedLatency.Counts = append(s.SchedLatency.Counts[:0], uint64(v), 0, 0)
	}, &n
}

// runtimeReader reads the scheduler's figures from runtime/metrics,
// reusing its sample slice and the snapshot's slices.
func runtimeReader() schedstats.ReadFunc {
	samples := []metrics.Sample{
		{Name: "/sched/gomaxprocs:threads"},
		{Name: "/sched/goroutines:goroutines"},
		{Name: "/sched/goroutines/runnable:goroutines"},
		{Name: "/sched/goroutines-created:goroutines"},
		{Name: "/sched/threads/total:threads"},
		{Name: "/sched/latencies:seconds"},
		{Name: "/sched/pauses/total/gc:seconds"},
		{Name: "/sched/pauses/total/other:seconds"},
		{Name: "/sync/mutex/wait/total:seconds"},
	}
	setHist := func(h *schedstats.Histogram, v metrics.Value) {
		fh := v.Float64Histogram()
		h.Bounds = append(h.Bounds[:0], fh.Buckets...)
		h.Counts = append(h.Counts[:0], fh.Counts...)
	}
	return func(s *schedstats.Snapshot) {
		metrics.Read(samples)
		s.GOMAXPROCS = int(samples[0].Value.Uint64())
		s.Goroutines.Total = int(samples[1].Value.Uint64())
		s.Goroutines.Runnable = int(samples[2].Value.Uint64())
		s.GoroutinesCreated = samples[3].Value.Uint64()
		s.Threads = int(samples[4].Value.Uint64())
		setHist(&s.SchedLatency, samples[5].Value)
		setHist(&s.GCPauses, samples[6].Value)
		setHist(&s.OtherPauses, samples[7].Value)
		s.MutexWait = time.Duration(samples[8].Value.Float64() * float64(time.Second))
		s.Sources = schedstats.Sources{Procs: schedstats.SourceRuntimeMetrics, Goroutines: schedstats.SourceRuntimeMetrics}
	}
}

func TestNewSamplerNilPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Errorf("NewSampler(nil) did not panic")
		}
	}()
	schedstats.NewSampler(nil, schedstats.SamplerOptions{})
}

func TestSamplerRing(t *testing.T) {
	read, _ := counterReader()
	s := schedstats.NewSampler(read, schedstats.SamplerOptions{Size: 3})
	if _, ok := s.Latest(); ok {
		t.Errorf("Latest() on a new sampler reported a sample")
	}
	if h := s.History(); len(h) != 0 {
		t.Errorf("History() = %d samples; want 0", len(h))
	}
	for range 5 {
		s.SampleNow()
	}
	h := s.History()
	if len(h) != 3 {
		t.Fatalf("History() holds %d samples; want 3", len(h))
	}
	for i, want := range []int{3, 4, 5} {
		if h[i].Goroutines.Total != want || h[i].LocalRunQueues[0] != want || h[i].SchedLatency.Counts[0] != uint64(want) {
			t.Errorf("History()[%d] = %d goroutines; want %d", i, h[i].Goroutines.Total, want)
		}
		if h[i].Time.IsZero() {
			t.Errorf("History()[%d].Time is zero; want the sampling time", i)
		}
	}
	if h[1].Time.Before(h[0].Time) {
		t.Errorf("History not oldest first: %v then %v", h[0].Time, h[1].Time)
	}
	// History hands out copies.
	h[2].LocalRunQueues[0] = -1
	if l, ok := s.Latest(); !ok || l.Goroutines.Total != 5 || l.LocalRunQueues[0] != 5 {
		t.Errorf("Latest() = %+v, %v; want the fifth sample, unchanged", l, ok)
	}
	if d := schedstats.Diff(h[1], h[2]); d.SchedLatency.Count() != 1 {
		t.Errorf("Diff of the last two samples = %+v; want one latency event", d)
	}
}

func TestSamplerStartStop(t *testing.T) {
	read, calls := counterReader()
	s := schedstats.NewSampler(read, schedstats.SamplerOptions{Interval: time.Millisecond})
	s.Stop() // a Stop before Start is harmless, and Start then does nothing
	s.Start()
	if calls.Load() != 0 {
		t.Fatalf("Start after Stop sampled; want it to do nothing")
	}
	s2 := schedstats.NewSampler(read, schedstats.SamplerOptions{Interval: time.Millisecond, Size: 8})
	s2.Start()
	s2.Start() // idempotent
	deadline := time.Now().Add(10 * time.Second)
	for len(s2.History()) < 8 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	s2.Stop()
	s2.Stop()
	if got := len(s2.History()); got != 8 {
		t.Fatalf("background sampling filled %d of 8 slots within 10s", got)
	}
	after := calls.Load()
	time.Sleep(5 * time.Millisecond)
	if calls.Load() != after {
		t.Errorf("sampler read after Stop returned")
	}
}

func TestSamplerOnFindings(t *testing.T) {
	// A backlog of 10 goroutines per P in every sample.
	read := func(s *schedstats.Snapshot) {
		s.GOMAXPROCS, s.GlobalRunQueue = 1, 10
	}
	found := make(chan []schedstats.Finding, 1)
	s := schedstats.NewSampler(read, schedstats.SamplerOptions{
		Interval:   time.Millisecond,
		Thresholds: schedstats.Thresholds{RunqueueSamples: 3},
		OnFindings: func(f []schedstats.Finding) {
			select {
			case found <- f:
			default:
			}
		},
	})
	s.Start()
	defer s.Stop()
	select {
	case f := <-found:
		if len(f) != 1 || f[0].Cause != schedstats.CauseRunqueueBacklog {
			t.Errorf("OnFindings got %+v; want one runqueue-backlog finding", f)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnFindings not called within 10s")
	}
	if f := s.Findings(); len(f) != 1 {
		t.Errorf("Findings() = %+v; want one finding", f)
	}
}

func TestSamplerConcurrent(t *testing.T) {
	s := schedstats.NewSampler(runtimeReader(), schedstats.SamplerOptions{Interval: time.Millisecond, Size: 16})
	s.Start()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				s.SampleNow()
				s.Latest()
				s.History()
				s.Findings()
			}
		})
	}
	wg.Wait()
	s.Stop()
	l, ok := s.Latest()
	if !ok || l.GOMAXPROCS < 1 || l.Goroutines.Total < 1 || len(l.SchedLatency.Counts) == 0 {
		t.Errorf("Latest() from runtime/metrics = %+v, %v; want real figures", l, ok)
	}
}

func BenchmarkSamplerSample(b *testing.B) {
	for _, bc := range []struct {
		name string
		read schedstats.ReadFunc
	}{
		{"fake", func() schedstats.ReadFunc { r, _ := counterReader(); return r }()},
		{"runtime-metrics", runtimeReader()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := schedstats.NewSampler(bc.read, schedstats.SamplerOptions{Size: 64})
			for range 128 { // warm every ring slot
				s.SampleNow()
			}
			b.ReportAllocs()
			for b.Loop() {
				s.SampleNow()
			}
		})
	}
}

// TestSamplerSampleAllocs checks that a warm sampler's SampleNow allocates nothing.
func TestSamplerSampleAllocs(t *testing.T) {
	read, _ := counterReader()
	s := schedstats.NewSampler(read, schedstats.SamplerOptions{Size: 4})
	for range 8 {
		s.SampleNow()
	}
	if n := testing.AllocsPerRun(100, s.SampleNow); n != 0 {
		t.Errorf("SampleNow allocates %v times per call; want 0", n)
	}
}
