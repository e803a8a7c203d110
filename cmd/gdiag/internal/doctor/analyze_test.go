package doctor

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	tracecmd "github.com/gdiag/gdiag/cmd/gdiag/internal/trace"
	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// latBounds is a small histogram layout in the runtime's shape.
var latBounds = []float64{math.Inf(-1), 0, 1e-6, 1e-3, 0.01, 0.05, 0.1, 1, math.Inf(1)}

// history builds n one-second snapshots of a calm process and lets edit
// change each.
func history(n int, edit func(i int, s *schedstats.Snapshot)) []schedstats.Snapshot {
	h := make([]schedstats.Snapshot, n)
	for i := range h {
		s := schedstats.Snapshot{Time: t0.Add(time.Duration(i) * time.Second), GOMAXPROCS: 2, Threads: 10,
			Goroutines: schedstats.GoroutineStates{Total: 50, Waiting: 48, Running: 2}}
		s.Sources.Mutex = schedstats.SourceRuntimeMetrics
		// Cumulative histograms: 200 fast scheduling events a second.
		s.SchedLatency = schedstats.Histogram{Bounds: latBounds, Counts: []uint64{0, 0, uint64(200 * (i + 1)), 0, 0, 0, 0, 0}}
		s.GCPauses = schedstats.Histogram{Bounds: latBounds, Counts: []uint64{0, 0, 0, uint64(2 * i), 0, 0, 0, 0}}
		s.OtherPauses = schedstats.Histogram{Bounds: latBounds, Counts: make([]uint64, 8)}
		if edit != nil {
			edit(i, &s)
		}
		h[i] = s
	}
	return h
}

func calmPools(n int, edit func(i int, p *apiv1.Pool)) []PoolPoll {
	var out []PoolPoll
	for i := range n {
		p := apiv1.Pool{Name: "http", MaxWorkers: 16, Workers: 4, QueueCapacity: 64, Submitted: uint64(100 * i), Completed: uint64(100 * i),
			QueueWait: pool.Histogram{Bounds: []time.Duration{time.Millisecond, 100 * time.Millisecond, time.Second}, Counts: []uint64{uint64(100 * i), 0, 0, 0}}}
		if edit != nil {
			edit(i, &p)
		}
		out = append(out, PoolPoll{Time: t0.Add(time.Duration(i) * time.Second), Pools: []apiv1.Pool{p}})
	}
	return out
}

func leakCensuses(growth int) []Census {
	grp := func(n int) gdump.Group {
		return gdump.Group{State: "chan receive", Count: n, Frames: []gdump.Frame{
			{Func: "runtime.gopark", File: "/go/src/runtime/proc.go", Line: 1}, {Func: "main.leakyHandler", File: "/src/main.go", Line: 42}}}
	}
	idle := gdump.Group{State: "IO wait", Count: 5, Frames: []gdump.Frame{{Func: "internal/poll.runtime_pollWait", File: "netpoll.go", Line: 1}}}
	return []Census{
		{Time: t0, Total: 50, Groups: []gdump.Group{idle, grp(10)}},
		{Time: t0.Add(15 * time.Second), Total: 50 + growth, Groups: []gdump.Group{grp(10 + growth), idle}},
	}
}

// healthy is a calm observation of an agent process, with every part.
func healthy() *Observation {
	return &Observation{
		Agent: true, GOMAXPROCS: 2, Elapsed: 15 * time.Second,
		History:   history(16, nil),
		Censuses:  leakCensuses(0),
		PoolPolls: calmPools(15, nil),
		CPU:       &CPUProfile{Duration: 7 * time.Second, Seconds: 2, GCSeconds: 0.1, Top: []Func{{Name: "main.handle", Flat: 1, Percent: 50, Unit: "seconds"}}, App: []Func{{Name: "main.handle", Flat: 1.5, Percent: 75}}},
		Mutex:     &Contention{Seconds: 0.5, Events: 100},
		Block:     &Contention{Seconds: 0.2},
		Allocs:    &Allocs{Bytes: 1 << 20, Top: []Func{{Name: "main.handle", Flat: 1 << 20, Percent: 100, Unit: "bytes"}}},
		Mem:       []MemStats{{Time: t0, NumGC: 10, TotalAlloc: 1 << 20}, {Time: t0.Add(15 * time.Second), NumGC: 12, TotalAlloc: 2 << 20, GCCPUFraction: 0.01}},
	}
}

func TestAnalyzeCauses(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(o *Observation)
		cause string // "" for no findings
		title string // part of the first finding's title
	}{
		{"healthy", func(o *Observation) {}, "", ""},
		{"healthy pprof", func(o *Observation) {
			o.Agent, o.GOMAXPROCS, o.History, o.PoolPolls = false, 0, nil, nil
			o.ThreadsCreated = []int{10, 10, 11}
		}, "", ""},
		{"leak", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 60*i })
			o.Censuses = leakCensuses(900)
		}, schedstats.CauseGoroutineLeak, "main.leakyHandler"},
		{"leak pprof", func(o *Observation) {
			o.Agent, o.GOMAXPROCS, o.History, o.PoolPolls = false, 0, nil, nil
			o.Censuses = leakCensuses(900)
		}, schedstats.CauseGoroutineLeak, "main.leakyHandler"},
		{"leak pprof falling", func(o *Observation) {
			o.Agent, o.GOMAXPROCS, o.History, o.PoolPolls = false, 0, nil, nil
			c := leakCensuses(900)
			o.Censuses = []Census{c[0], {Time: t0.Add(7 * time.Second), Total: 2000}, c[1]}
		}, "", ""},
		{"cpu backlog", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Runnable, s.GlobalRunQueue = 12, 10 })
			o.CPU.Seconds = 13
		}, schedstats.CauseCPUSaturation, "main.handle"},
		{"cpu latency", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.SchedLatency.Counts[5] = uint64(50 * i) })
			o.CPU.Seconds = 13
		}, schedstats.CauseCPUSaturation, "CPU saturation"},
		{"latency from a busy machine", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.SchedLatency.Counts[5] = uint64(50 * i) })
			o.CPU.Seconds = 1
		}, "", ""},
		{"latency burst", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) {
				if i >= 8 {
					s.SchedLatency.Counts[5] = 400
				}
			})
			o.CPU.Seconds = 13
		}, "", ""},
		{"mutex profile", func(o *Observation) {
			o.Mutex = &Contention{Seconds: 300, Events: 1e5, Top: []Func{{Name: "main.fight", Flat: 300, Percent: 100, Unit: "seconds"}}}
		}, schedstats.CauseMutexContention, "main.fight"},
		{"mutex runtime wait", func(o *Observation) {
			o.Mutex = &Contention{Empty: true}
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.MutexWait = time.Duration(i) * 20 * time.Second })
		}, schedstats.CauseMutexContention, "Mutex contention"},
		{"gc", func(o *Observation) {
			o.CPU = &CPUProfile{Duration: 7 * time.Second, Seconds: 12, GCSeconds: 5}
			o.Mem[1].NumGC = 700
			o.Allocs.Top[0].Name = "main.churn"
		}, schedstats.CauseGCPressure, "main.churn"},
		{"gc share on a busy machine", func(o *Observation) {
			o.CPU = &CPUProfile{Duration: 7 * time.Second, Seconds: 4, GCSeconds: 1.4}
			o.Mem[1].NumGC = 700
		}, schedstats.CauseGCPressure, "GC pressure"},
		{"gc without cycles", func(o *Observation) {
			o.CPU = &CPUProfile{Duration: 7 * time.Second, Seconds: 12, GCSeconds: 5}
			o.Mem[1].NumGC = o.Mem[0].NumGC
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.GCPauses.Counts[3] = 0 })
		}, "", ""},
		{"threads", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Threads = 10 + 20*i })
			o.Censuses[1].Groups = append(o.Censuses[1].Groups, gdump.Group{State: "syscall", Count: 280,
				Frames: []gdump.Frame{{Func: "syscall.Syscall", File: "syscall.go", Line: 1}, {Func: "main.blockingRead", File: "main.go", Line: 9}}})
		}, schedstats.CauseThreadGrowth, "main.blockingRead"},
		{"threads pprof", func(o *Observation) {
			o.Agent, o.GOMAXPROCS, o.History, o.PoolPolls = false, 0, nil, nil
			o.ThreadsCreated = []int{10, 100, 300}
		}, schedstats.CauseThreadGrowth, "Thread growth"},
		{"pool rejects", func(o *Observation) {
			o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) { p.Rejected, p.Queued = uint64(50*i), 64 })
		}, schedstats.CausePoolOverload, "http overloaded"},
		{"pool queue wait", func(o *Observation) {
			o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) { p.QueueWait.Counts[2], p.Queued = uint64(20*i), 10 })
		}, schedstats.CausePoolOverload, "http starved"},
		{"pool key hog", func(o *Observation) {
			o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) {
				p.Keys, p.Queued = []apiv1.PoolKey{{Key: "t1", Running: 1}, {Key: "bulk", Running: 14}}, 5
			})
		}, schedstats.CausePoolOverload, `taken by key "bulk"`},
		{"busy balanced keys", func(o *Observation) {
			o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) {
				p.Keys, p.Queued = []apiv1.PoolKey{{Key: "a", Running: 8}, {Key: "b", Running: 8}}, 5
			})
		}, "", ""},
		{"stw", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) {
				if i >= 9 {
					s.OtherPauses.Counts[6] = uint64(i - 8)
				}
			})
		}, schedstats.CauseSTWPauses, "Stop-the-world"},
		{"one long pause", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) {
				if i >= 9 {
					s.GCPauses.Counts[6] = 1
				}
			})
		}, "", ""},
		{"own census pause", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) {
				if i >= 1 {
					s.OtherPauses.Counts[6] = 1
				}
			})
		}, "", ""},
		{"stw pprof", func(o *Observation) {
			o.Agent, o.GOMAXPROCS, o.History, o.PoolPolls = false, 0, nil, nil
			o.Mem[1].PauseNs = make([]uint64, 256)
			o.Mem[1].PauseNs[10] = uint64(300 * time.Millisecond)
			o.Mem[1].PauseNs[11] = uint64(60 * time.Millisecond)
		}, schedstats.CauseSTWPauses, "Stop-the-world"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := healthy()
			c.edit(o)
			fs, _, _ := Analyze(o, "1234")
			if c.cause == "" {
				if len(fs) != 0 {
					t.Fatalf("Analyze(%s) = %s; want no findings", c.name, causes(fs))
				}
				return
			}
			if len(fs) == 0 || fs[0].Cause != c.cause {
				t.Fatalf("Analyze(%s) = %s; want %s first", c.name, causes(fs), c.cause)
			}
			f := fs[0]
			if !strings.Contains(f.Title, c.title) {
				t.Errorf("Analyze(%s) title = %q; want it to contain %q", c.name, f.Title, c.title)
			}
			if len(f.Evidence) == 0 || len(f.Next) == 0 || f.Summary == "" || f.Score < 1 {
				t.Errorf("Analyze(%s) = %+v; want evidence, next commands, a summary and a score", c.name, f)
			}
			if f.Severity != schedstats.Critical && f.Severity != schedstats.Warning {
				t.Errorf("Analyze(%s) severity = %q", c.name, f.Severity)
			}
		})
	}
}

func causes(fs []Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Cause+"("+f.Title+")")
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// TestAnalyzeSymptomsRankBelowCause: a long GC pause and GC-driven
// scheduling latency rank below the GC pressure that explains them.
func TestAnalyzeSymptomsRankBelowCause(t *testing.T) {
	o := healthy()
	o.CPU = &CPUProfile{Duration: 7 * time.Second, Seconds: 12, GCSeconds: 4}
	o.Mem[1].NumGC = 700
	o.History = history(16, func(i int, s *schedstats.Snapshot) {
		s.Goroutines.Runnable = 30 // a backlog far past its threshold: critical
		if i >= 5 {
			s.GCPauses.Counts[7] = uint64(i - 4) // pauses of a second: critical
		}
	})
	fs, _, _ := Analyze(o, "1234")
	got := []string{}
	for _, f := range fs {
		got = append(got, f.Cause)
	}
	want := []string{schedstats.CauseGCPressure, schedstats.CauseCPUSaturation, schedstats.CauseSTWPauses}
	if !slices.Equal(got, want) {
		t.Fatalf("Analyze causes = %v; want %v", got, want)
	}
	if !strings.Contains(fs[2].Summary, "consequence") {
		t.Errorf("demoted summary = %q; want it to say it is a consequence", fs[2].Summary)
	}
}

// TestAnalyzeStarvedPoolIsSymptom: a pool whose queue waits because its
// tasks fight over a lock ranks below the contention.
func TestAnalyzeStarvedPoolIsSymptom(t *testing.T) {
	o := healthy()
	o.Mutex = &Contention{Seconds: 150, Top: []Func{{Name: "main.fight", Flat: 150, Percent: 100}}}
	o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) { p.QueueWait.Counts[3], p.Queued = uint64(50*i), 10 })
	fs, _, _ := Analyze(o, "1234")
	if len(fs) != 2 || fs[0].Cause != schedstats.CauseMutexContention || fs[1].Cause != schedstats.CausePoolOverload {
		t.Fatalf("Analyze = %s; want mutex-contention, then pool-overload", causes(fs))
	}
}

func TestAnalyzeEmpty(t *testing.T) {
	fs, _, missing := Analyze(&Observation{}, "x")
	if fs == nil || len(fs) != 0 {
		t.Errorf("Analyze(empty) = %v; want an empty, non-nil slice", fs)
	}
	if len(missing) < 5 {
		t.Errorf("Analyze(empty) notChecked = %q; want each rule to say what it missed", missing)
	}
}

// TestAnalyzeStarvedPoolUnderPauses: long stop-the-world pauses hold up
// every queued task, so a starved pool ranks below them, however long
// its queue wait.
func TestAnalyzeStarvedPoolUnderPauses(t *testing.T) {
	o := healthy()
	o.History = history(16, func(i int, s *schedstats.Snapshot) {
		if i >= 9 {
			s.OtherPauses.Counts[6] = uint64(i - 8)
		}
	})
	o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) { p.QueueWait.Counts[3], p.Queued = uint64(50*i), 10 })
	fs, _, _ := Analyze(o, "1234")
	if len(fs) != 2 || fs[0].Cause != schedstats.CauseSTWPauses || fs[1].Cause != schedstats.CausePoolOverload ||
		!strings.Contains(fs[1].Summary, "consequence of the stw-pauses") {
		t.Fatalf("Analyze = %s; want stw-pauses, then the starved pool as its consequence", causes(fs))
	}
}

// TestMutexNextEnablesRate: when the mutex profile samples nothing, the
// next command asks the agent to switch the rate on; a plain capture
// would print "no samples".
func TestMutexNextEnablesRate(t *testing.T) {
	o := healthy()
	o.Mutex = &Contention{Empty: true}
	o.History = history(16, func(i int, s *schedstats.Snapshot) { s.MutexWait = time.Duration(i) * 20 * time.Second })
	fs, _, _ := Analyze(o, "42")
	if len(fs) == 0 || fs[0].Cause != schedstats.CauseMutexContention {
		t.Fatalf("Analyze = %s; want mutex-contention", causes(fs))
	}
	if next := strings.Join(fs[0].Next, "\n"); !strings.Contains(next, "gdiag profile mutex 42 --duration 10s --enable-rate") {
		t.Errorf("next:\n%s\nwant the mutex profile with --enable-rate", next)
	}
}

// TestSTWReasonNamed: long pauses the trace shows as stack dumps of every
// goroutine are the program's, and the finding says what call makes them;
// one or two such stops (doctor's own census) are not enough to say so.
func TestSTWReasonNamed(t *testing.T) {
	stops := func(n int) []tracecmd.STWEvent {
		evs := []tracecmd.STWEvent{{Reason: "GC mark termination", TotalNanos: 80e6}}
		for range n {
			evs = append(evs, tracecmd.STWEvent{Reason: "all goroutines stack trace", TotalNanos: 90e6, StoppingNanos: 1e6})
		}
		return evs
	}
	for _, c := range []struct {
		dumps int
		named bool
	}{{6, true}, {2, false}} {
		o := healthy()
		o.History = history(16, func(i int, s *schedstats.Snapshot) {
			if i >= 9 {
				s.OtherPauses.Counts[6] = uint64(i - 8)
			}
		})
		o.Preemption = &Preemption{STW: stops(c.dumps), TraceFrom: "the flight recorder"}
		fs, _, _ := Analyze(o, "42")
		i := slices.IndexFunc(fs, func(f Finding) bool { return f.Cause == schedstats.CauseSTWPauses })
		if i < 0 {
			t.Fatalf("Analyze = %s; want stw-pauses", causes(fs))
		}
		if got := strings.Contains(fs[i].Summary, "runtime.Stack(buf, true)"); got != c.named {
			t.Errorf("%d stack-dump stops: summary %q; want the call named: %v", c.dumps, fs[i].Summary, c.named)
		}
		// On a crowded host, the program's own stops stay its own.
		o.OS = osReadings(16, 0.5, 0.7, 1, 0, 0, 0)
		fs, _, _ = Analyze(o, "42")
		i = slices.IndexFunc(fs, func(f Finding) bool { return f.Cause == schedstats.CauseSTWPauses })
		if i < 0 || c.named && strings.Contains(fs[i].Summary, "consequence of the cpu-starved") {
			t.Errorf("%d stack-dump stops on a crowded host: Analyze = %s; want stw-pauses, not explained by starvation when the call is named", c.dumps, causes(fs))
		}
	}
}

// TestThreadsNotFromSyscalls: when goroutines in system calls account for
// few of the new threads, the finding does not blame the one that waits
// for signals; it says the threads are held otherwise.
func TestThreadsNotFromSyscalls(t *testing.T) {
	o := healthy()
	o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Threads = 10 + 30*i })
	o.Censuses[1].Groups = append(o.Censuses[1].Groups, gdump.Group{State: "syscall", Count: 1,
		Frames: []gdump.Frame{{Func: "os/signal.signal_recv", File: "sig.go", Line: 1}, {Func: "os/signal.loop", File: "signal_unix.go", Line: 2}}})
	fs, _, _ := Analyze(o, "42")
	if len(fs) == 0 || fs[0].Cause != schedstats.CauseThreadGrowth {
		t.Fatalf("Analyze = %s; want thread-growth", causes(fs))
	}
	if f := fs[0]; strings.Contains(f.Title, "signal") || !strings.Contains(f.Summary, "LockOSThread") {
		t.Errorf("finding %q: %s; want no blame on os/signal and LockOSThread named", f.Title, f.Summary)
	}
}

// TestStaticLeakTooSoon: a crowd parked on one stack for less than the
// rule's minute is neither a finding nor passed over in silence.
func TestStaticLeakTooSoon(t *testing.T) {
	o := healthy()
	o.Censuses[1].Groups = append(o.Censuses[1].Groups, gdump.Group{State: "chan send", Count: 4999,
		Frames: []gdump.Frame{{Func: "main.fanout.func1", File: "main.go", Line: 12}}})
	fs, _, notChecked := Analyze(o, "42")
	if slices.ContainsFunc(fs, func(f Finding) bool { return f.Cause == schedstats.CauseLeakStatic }) {
		t.Errorf("Analyze = %s; want no static leak before a minute's wait", causes(fs))
	}
	if !slices.ContainsFunc(notChecked, func(n string) bool {
		return strings.Contains(n, "4999 goroutines are parked on one stack, but for less than 1 minute")
	}) {
		t.Errorf("not checked:\n%s\nwant the parked crowd mentioned", strings.Join(notChecked, "\n"))
	}
}
