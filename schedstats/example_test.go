package schedstats_test

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

func ExampleParseSchedtrace() {
	// Standard error of a program run with GODEBUG=schedtrace=1000,
	// interleaved with its own logging.
	stderr := `listening on :8080
SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=6 spinningthreads=0 needspinning=0 idlethreads=2 runqueue=17 [ 3 5 ] schedticks=[ 10 20 ]
SCHED 2009ms: gomaxprocs=2 idleprocs=2 threads=6 spinningthreads=0 needspinning=0 idlethreads=4 runqueue=0 [ 0 0 ] schedticks=[ 31 40 ]
`
	recs, err := schedstats.ParseSchedtrace(strings.NewReader(stderr))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		s := r.Snapshot()
		fmt.Printf("%v: %d queued globally, local %v, %d idle Ps\n", r.Uptime, s.GlobalRunQueue, s.LocalRunQueues, s.IdlePs)
	}
	// Output:
	// 1.004s: 17 queued globally, local [3 5], 0 idle Ps
	// 2.009s: 0 queued globally, local [0 0], 2 idle Ps
}

func ExampleDetect() {
	// One snapshot a second; goroutines climb by 20 a second.
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var history []schedstats.Snapshot
	for i := range 30 {
		history = append(history, schedstats.Snapshot{
			Time:       t0.Add(time.Duration(i) * time.Second),
			GOMAXPROCS: 4,
			Threads:    8,
			Goroutines: schedstats.GoroutineStates{Total: 100 + 20*i},
		})
	}
	for _, f := range schedstats.Detect(history, schedstats.Thresholds{}) {
		fmt.Println(f.Severity, f.Cause)
		fmt.Println(f.Summary)
	}
	// Output:
	// critical goroutine-leak
	// goroutines grew steadily from 100 to 680 (r²=1.00): a leak, or load that keeps rising
}

func ExampleSampler() {
	// A stand-in reader; the probes package supplies the runtime's.
	created := uint64(0)
	read := func(s *schedstats.Snapshot) {
		created += 500
		s.GoroutinesCreated = created
	}
	s := schedstats.NewSampler(read, schedstats.SamplerOptions{Size: 60})
	s.SampleNow()
	time.Sleep(10 * time.Millisecond)
	s.SampleNow()
	h := s.History()
	d := schedstats.Diff(h[0], h[1])
	fmt.Println(len(h), "samples; goroutines are being created:", d.GoroutinesCreatedPerSec > 0)
	// Output:
	// 2 samples; goroutines are being created: true
}

func ExampleSampler_Start() {
	read := func(s *schedstats.Snapshot) { s.GOMAXPROCS = 8 }
	s := schedstats.NewSampler(read, schedstats.SamplerOptions{Interval: time.Second})
	s.Start() // takes a first sample at once
	defer s.Stop()
	for {
		if latest, ok := s.Latest(); ok {
			fmt.Println("GOMAXPROCS", latest.GOMAXPROCS)
			return
		}
		time.Sleep(time.Millisecond)
	}
	// Output:
	// GOMAXPROCS 8
}

func ExampleHistogram_Quantile() {
	h := schedstats.Histogram{
		Bounds: []float64{0, 0.001, 0.01, math.Inf(1)},
		Counts: []uint64{90, 9, 1},
	}
	fmt.Printf("p50 ≤ %gs, p99 ≤ %gs\n", h.Quantile(0.5), h.Quantile(0.99))
	lo, hi := h.QuantileBucket(1)
	fmt.Printf("max in [%g, %g]\n", lo, hi)
	// Output:
	// p50 ≤ 0.001s, p99 ≤ 0.01s
	// max in [0.01, +Inf]
}

func ExampleLookup() {
	m, ok := schedstats.Lookup("gdiag_sched_latency_seconds")
	fmt.Println(ok, m.Type, m.Unit, m.Help)
	// Output:
	// true histogram seconds Time goroutines spent runnable before running.
}
