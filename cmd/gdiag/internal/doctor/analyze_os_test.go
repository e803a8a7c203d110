package doctor

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/procfs"
	"github.com/gdiag/gdiag/schedstats"
)

// osReadings builds n one-second kernel readings: per second the process
// uses cpu cores, its threads wait delay seconds, the host is busy of its
// 2 CPUs, and the cgroup (quota 0 for none) throttles throttled of 10
// periods; sockets established grow by conns a second.
func osReadings(n int, cpu, delay, busy, quota float64, throttled uint64, conns int) []OSReading {
	var out []OSReading
	for i := range n {
		s := procfs.Sample{Time: t0.Add(time.Duration(i) * time.Second), PID: 42,
			CPU:      time.Duration(float64(i) * cpu * float64(time.Second)),
			RunDelay: time.Duration(float64(i) * delay * float64(time.Second)),
			Threads:  8, CPUsAllowed: 2,
			Host: procfs.Host{CPUs: 2, Load1: 2 * busy * 4, Total: time.Duration(i) * 2 * time.Second,
				Busy: time.Duration(float64(i) * busy * 2 * float64(time.Second))}}
		if quota > 0 || throttled > 0 {
			s.Cgroup = procfs.Cgroup{Version: 1, Path: "/sys/fs/cgroup/cpu/x", Quota: quota,
				Periods: uint64(10 * i), Throttled: uint64(i) * throttled, ThrottledTime: time.Duration(i) * time.Duration(throttled) * 10 * time.Millisecond}
		}
		out = append(out, OSReading{Sample: s, Sockets: procfs.SocketCount{Total: 5 + conns*i, Established: 2 + conns*i, Inbound: 1 + conns*i, Listening: 1}})
	}
	return out
}

// latencyHistory is a history whose goroutines wait ~50 ms for a P.
func latencyHistory() []schedstats.Snapshot {
	return history(16, func(i int, s *schedstats.Snapshot) { s.SchedLatency.Counts[5] = uint64(50 * i) })
}

func TestAnalyzeOSAndLeaks(t *testing.T) {
	connGroup := func(n int) gdump.Group {
		return gdump.Group{State: "IO wait", Count: n, Frames: []gdump.Frame{
			{Func: "internal/poll.runtime_pollWait", File: "netpoll.go", Line: 1}, {Func: "net/http.(*conn).serve", File: "server.go", Line: 2}}}
	}
	cases := []struct {
		name     string
		edit     func(o *Observation)
		cause    string
		severity schedstats.Severity
		title    string
	}{
		{"throttled by a quota", func(o *Observation) {
			o.OS = osReadings(16, 0.2, 0.6, 0.5, 0.2, 9, 0)
			o.History = latencyHistory()
			o.CPU.Seconds = 1.4
		}, schedstats.CauseCPUStarved, schedstats.Critical, "quota of 0.2 CPU"},
		{"host contention", func(o *Observation) {
			o.OS = osReadings(16, 0.05, 1.5, 1, 0, 0, 0)
			o.History = history(16, func(i int, s *schedstats.Snapshot) {
				s.SchedLatency.Counts[5] = uint64(50 * i)
				if i >= 9 {
					s.OtherPauses.Counts[6] = uint64(i - 8) // long pauses: the world could not stop
				}
			})
			o.CPU.Seconds = 0.35
		}, schedstats.CauseCPUStarved, schedstats.Critical, "other processes"},
		{"host contention below its quota", func(o *Observation) {
			o.OS = osReadings(16, 0.05, 1.5, 1, 0.5, 0, 0) // quota 0.5 CPU, never throttled
			o.History = latencyHistory()
			o.CPU.Seconds = 0.35
		}, schedstats.CauseCPUStarved, schedstats.Critical, "other processes"},
		{"a quiet process on a crowded host", func(o *Observation) {
			o.OS = osReadings(16, 0.05, 0.42, 1, 0, 0, 0) // got 11% of what it wanted, but wanted under half a core
		}, schedstats.CauseCPUStarved, schedstats.Warning, "other processes"},
		{"healthy on a busy host", func(o *Observation) {
			o.OS = osReadings(16, 0.13, 0.25, 0.9, 0, 0, 0)
		}, schedstats.CauseCPUStarved, schedstats.Warning, "other processes"},
		{"own saturation beside a busy host", func(o *Observation) {
			o.OS = osReadings(16, 1.9, 0.5, 1, 0, 0, 0)
			o.History = latencyHistory()
			o.CPU.Seconds = 13
		}, schedstats.CauseCPUSaturation, schedstats.Critical, "main.handle"},
		{"proven leak", func(o *Observation) {
			o.Leaks = &LeakProfile{Leaked: 500, Groups: []gdump.Group{{State: "chan send (leaked)", Count: 500,
				Frames: []gdump.Frame{{Func: "main.fetchAll.func1", File: "main.go", Line: 30}}}}}
		}, schedstats.CauseLeakProven, schedstats.Critical, "main.fetchAll.func1"},
		{"static leak", func(o *Observation) {
			o.Censuses[1].Groups = append(o.Censuses[1].Groups, gdump.Group{State: "sync.Mutex.Lock", Count: 3000, MinWait: 3 * time.Minute,
				Frames: []gdump.Frame{{Func: "sync.(*Mutex).Lock", File: "mutex.go", Line: 1}, {Func: "main.(*cache).get", File: "main.go", Line: 7}}})
		}, schedstats.CauseLeakStatic, schedstats.Warning, "main.(*cache).get"},
		{"static leak on a nil channel", func(o *Observation) {
			o.Censuses[1].Groups = append(o.Censuses[1].Groups, gdump.Group{State: "chan receive (nil chan)", Count: 800, MinWait: 2 * time.Minute,
				Frames: []gdump.Frame{{Func: "main.wait", File: "main.go", Line: 7}}})
		}, schedstats.CauseLeakStatic, schedstats.Critical, "main.wait"},
		{"connections are load", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 60*i })
			o.Censuses = []Census{{Time: t0, Total: 50, Groups: []gdump.Group{connGroup(10)}},
				{Time: t0.Add(15 * time.Second), Total: 950, Groups: []gdump.Group{connGroup(910)}}}
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 60)
		}, schedstats.CauseConnectionGrowth, schedstats.Warning, "load, not a leak"},
		{"handlers stuck on a lock inside conn.serve are a leak", func(o *Observation) {
			stuck := func(n int) gdump.Group {
				return gdump.Group{State: "sync.Mutex.Lock", Count: n, Frames: []gdump.Frame{
					{Func: "sync.(*Mutex).Lock", File: "mutex.go", Line: 1}, {Func: "main.(*store).touch", File: "main.go", Line: 40},
					{Func: "net/http.(*conn).serve", File: "server.go", Line: 2}}}
			}
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 60*i })
			o.Censuses = []Census{{Time: t0, Total: 50, Groups: []gdump.Group{stuck(10)}},
				{Time: t0.Add(15 * time.Second), Total: 950, Groups: []gdump.Group{stuck(910)}}}
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 0)
		}, schedstats.CauseGoroutineLeak, schedstats.Critical, "main.(*store).touch"},
		{"connection goroutines that outlive their sockets are a leak", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 60*i })
			o.Censuses = []Census{{Time: t0, Total: 50, Groups: []gdump.Group{connGroup(10)}},
				{Time: t0.Add(15 * time.Second), Total: 950, Groups: []gdump.Group{connGroup(910)}}}
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 0) // sockets flat
		}, schedstats.CauseGoroutineLeak, schedstats.Critical, "net/http.(*conn).serve"},
		{"streams that hold several goroutines each, sockets following, are load", func(o *Observation) {
			stream := func(fn string, n int) gdump.Group {
				return gdump.Group{State: "select", Count: n, Frames: []gdump.Frame{
					{Func: fn, File: "watch.go", Line: 9}, {Func: "google.golang.org/grpc.(*Server).handleStream", File: "server.go", Line: 2}}}
			}
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 180*i })
			o.Censuses = []Census{{Time: t0, Total: 50, Groups: []gdump.Group{stream("main.(*watch).send", 5), stream("main.(*watch).recv", 5)}},
				{Time: t0.Add(15 * time.Second), Total: 2750, Groups: []gdump.Group{stream("main.(*watch).send", 905), stream("main.(*watch).recv", 905), connGroup(900)}}}
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 40) // 600 sockets for 2,700 goroutines
		}, schedstats.CauseConnectionGrowth, schedstats.Warning, "load, not a leak"},
		{"a request's leaked goroutine beside clients that keep connections is a leak", func(o *Observation) {
			audit := func(n int) gdump.Group {
				return gdump.Group{State: "chan send", Count: n, Frames: []gdump.Frame{{Func: "main.audit", File: "main.go", Line: 26}},
					CreatedBy: gdump.Frame{Func: "main.order", File: "main.go", Line: 40}}
			}
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 60*i })
			o.Censuses = []Census{{Time: t0, Total: 50, Groups: []gdump.Group{connGroup(10), audit(5)}},
				{Time: t0.Add(15 * time.Second), Total: 950, Groups: []gdump.Group{connGroup(310), audit(605)}}}
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 20) // 300 more accepted connections
		}, schedstats.CauseGoroutineLeak, schedstats.Critical, "main.audit"},
		{"response bodies never closed: outbound connections are a leak", func(o *Observation) {
			loop := func(fn string, n int) gdump.Group {
				return gdump.Group{State: "select", Count: n, Frames: []gdump.Frame{{Func: fn, File: "transport.go", Line: 9}},
					CreatedBy: gdump.Frame{Func: "net/http.(*Transport).dialConn", File: "transport.go", Line: 1}}
			}
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 100*i })
			o.Censuses = []Census{{Time: t0, Total: 50, Groups: []gdump.Group{loop("net/http.(*persistConn).readLoop", 2), loop("net/http.(*persistConn).writeLoop", 2)}},
				{Time: t0.Add(15 * time.Second), Total: 1550, Groups: []gdump.Group{loop("net/http.(*persistConn).readLoop", 752), loop("net/http.(*persistConn).writeLoop", 752)}}}
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 50)
			for i := range o.OS {
				o.OS[i].Sockets.Inbound = 2 // the same two clients all along: the sockets are its own
			}
		}, schedstats.CauseGoroutineLeak, schedstats.Critical, "persistConn"},
		{"a stream's send loop, created by its handler, is the stream's", func(o *Observation) {
			handler := func(n int) gdump.Group {
				return gdump.Group{State: "chan receive", Count: n, Frames: []gdump.Frame{{Func: "main.(*watchServer).Watch", File: "watch.go", Line: 3},
					{Func: "google.golang.org/grpc.(*Server).processStreamingRPC", File: "server.go", Line: 2}}}
			}
			send := func(n int) gdump.Group {
				return gdump.Group{State: "select", Count: n, Frames: []gdump.Frame{{Func: "main.(*stream).sendLoop", File: "watch.go", Line: 9}},
					CreatedBy: gdump.Frame{Func: "main.(*watchServer).Watch", File: "watch.go", Line: 5}}
			}
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 120*i })
			o.Censuses = []Census{{Time: t0, Total: 50, Groups: []gdump.Group{handler(5), send(5)}},
				{Time: t0.Add(15 * time.Second), Total: 1850, Groups: []gdump.Group{handler(905), send(905)}}}
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 12) // 180 accepted connections for 1,800 goroutines
		}, schedstats.CauseConnectionGrowth, schedstats.Warning, "load, not a leak"},
		{"a watcher each request leaves behind, beside handlers in flight, is a leak", func(o *Observation) {
			handler := func(n int) gdump.Group {
				return gdump.Group{State: "select", Count: n, Frames: []gdump.Frame{{Func: "main.main.func1", File: "main.go", Line: 30},
					{Func: "net/http.HandlerFunc.ServeHTTP", File: "server.go", Line: 1}, {Func: "net/http.(*conn).serve", File: "server.go", Line: 2}}}
			}
			watch := func(n int) gdump.Group {
				return gdump.Group{State: "chan receive", Count: n, Frames: []gdump.Frame{{Func: "main.watch", File: "main.go", Line: 19}},
					CreatedBy: gdump.Frame{Func: "main.main.func1", File: "main.go", Line: 28}}
			}
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 120*i })
			o.Censuses = []Census{{Time: t0, Total: 50, Groups: []gdump.Group{connGroup(10), handler(2), watch(10)}},
				{Time: t0.Add(15 * time.Second), Total: 1850, Groups: []gdump.Group{connGroup(310), handler(7), watch(1521)}}}
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 20)
		}, schedstats.CauseGoroutineLeak, schedstats.Critical, "main.watch"},
		{"handlers in a long system call, one per connection, are load", func(o *Observation) {
			slow := func(n int) gdump.Group {
				return gdump.Group{State: "syscall", Count: n, Frames: []gdump.Frame{{Func: "syscall.Syscall", File: "syscall.go", Line: 1},
					{Func: "main.main.func1", File: "main.go", Line: 30}, {Func: "net/http.(*conn).serve", File: "server.go", Line: 2}}}
			}
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 40*i })
			o.Censuses = []Census{{Time: t0, Total: 50, Groups: []gdump.Group{connGroup(10), slow(10)}},
				{Time: t0.Add(15 * time.Second), Total: 650, Groups: []gdump.Group{connGroup(310), slow(310)}}}
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 20)
		}, schedstats.CauseConnectionGrowth, schedstats.Warning, "load, not a leak"},
		{"growth without censuses, sockets following, is load", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 60*i })
			o.Censuses = nil // the census failed: which stacks grew is unknown
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 60)
		}, schedstats.CauseConnectionGrowth, schedstats.Warning, "load, not a leak"},
		{"growth without censuses is at most a warning", func(o *Observation) {
			o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = 50 + 60*i })
			o.Censuses = o.Censuses[:1]
			o.OS = osReadings(16, 0.1, 0, 0.2, 0, 0, 0)
		}, schedstats.CauseGoroutineLeak, schedstats.Warning, "stacks unknown"},
		{"pprof-only saturation", func(o *Observation) {
			o.Agent, o.GOMAXPROCS, o.History, o.PoolPolls = false, 2, nil, nil
			o.CPU.Seconds = 13
		}, schedstats.CauseCPUSaturation, schedstats.Warning, "main.handle"},
		{"pprof-only GC without GOMAXPROCS", func(o *Observation) {
			o.Agent, o.GOMAXPROCS, o.History, o.PoolPolls = false, 0, nil, nil
			o.CPU = &CPUProfile{Duration: 7 * time.Second, Seconds: 6, GCSeconds: 3.6,
				App: []Func{{Name: "github.com/prometheus/prometheus/promql.(*evaluator).eval", Flat: 2, Percent: 33, Unit: "seconds"}}}
			o.Mem[1].NumGC = 300
		}, schedstats.CauseGCPressure, schedstats.Critical, "GC pressure"},
		{"GC at 70% of the process's CPU, 33% of GOMAXPROCS×wall", func(o *Observation) {
			o.Agent, o.GOMAXPROCS, o.History, o.PoolPolls = false, 2, nil, nil
			o.CPU = &CPUProfile{Duration: 7 * time.Second, Seconds: 6.6, GCSeconds: 4.6,
				App: []Func{{Name: "main.handle", Flat: 1, Percent: 15, Unit: "seconds"}}}
			o.Mem[1].NumGC = 300
		}, schedstats.CauseGCPressure, schedstats.Critical, "GC pressure"},
		{"pool held by its key limit", func(o *Observation) {
			o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) {
				p.QueueWait.Counts[2], p.Queued, p.Parked, p.QueueCapacity, p.KeyLimit, p.Running = uint64(20*i), 1, 63, 64, 2, 2
				p.Keys = []apiv1.PoolKey{{Key: "bulk", Running: 2, Parked: 63}}
			})
		}, schedstats.CausePoolOverload, schedstats.Warning, "key limit"},
		{"pool held by its key limit, nothing else queued", func(o *Observation) {
			o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) {
				p.QueueWait.Counts[2], p.Queued, p.Parked, p.QueueCapacity, p.KeyLimit, p.Running = uint64(20*i), 0, 20, 64, 2, 2
				p.Keys = []apiv1.PoolKey{{Key: "tenant-a", Running: 2, Parked: 20}}
			})
		}, schedstats.CausePoolOverload, schedstats.Warning, "key limit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := healthy()
			c.edit(o)
			fs, _, _ := Analyze(o, "http://127.0.0.1:9090")
			if len(fs) == 0 || fs[0].Cause != c.cause {
				t.Fatalf("Analyze = %s; want %s first", causes(fs), c.cause)
			}
			f := fs[0]
			if strings.Contains(c.name, "response bodies") && !strings.Contains(f.Summary, "Body is never closed") {
				t.Errorf("summary %q; want the unclosed response body named", f.Summary)
			}
			if strings.Contains(c.name, "below its quota") && !strings.Contains(f.Summary, "not the quota") {
				t.Errorf("summary %q; want it to say the quota did not hold the process back", f.Summary)
			}
			if f.Severity != c.severity || !strings.Contains(f.Title, c.title) {
				t.Errorf("first finding = %v %q; want %v, a title with %q\n%s", f.Severity, f.Title, c.severity, c.title, f.Summary)
			}
			for _, g := range fs {
				if g.Cause == schedstats.CauseGoroutineLeak && c.cause == schedstats.CauseConnectionGrowth {
					t.Errorf("connection growth also reported as a leak: %s", causes(fs))
				}
				for _, n := range g.Next {
					if !o.Agent && (strings.HasPrefix(n, "gdiag sched") || strings.HasPrefix(n, "gdiag pools")) {
						t.Errorf("next %q needs the agent; the target is pprof-only", n)
					}
				}
			}
		})
	}
}

// TestStarvationExplainsSymptoms: under host contention, the long pauses
// and the scheduling latency are symptoms: cpu-starved first, no
// cpu-saturation at all (the process used little CPU), pauses demoted.
func TestStarvationExplainsSymptoms(t *testing.T) {
	o := healthy()
	o.OS = osReadings(16, 0.05, 1.5, 1, 0, 0, 0)
	o.History = history(16, func(i int, s *schedstats.Snapshot) {
		s.SchedLatency.Counts[5] = uint64(50 * i)
		s.Goroutines.Runnable = 12
		if i >= 9 {
			s.OtherPauses.Counts[7] = uint64(i - 8)
		}
	})
	fs, _, missing := Analyze(o, "1234")
	if len(fs) < 2 || fs[0].Cause != schedstats.CauseCPUStarved || fs[1].Cause != schedstats.CauseSTWPauses {
		t.Fatalf("Analyze = %s; want cpu-starved, then stw-pauses", causes(fs))
	}
	for _, f := range fs {
		if f.Cause == schedstats.CauseCPUSaturation {
			t.Errorf("cpu-saturation reported for a process using 0.05 cores: %s", causes(fs))
		}
	}
	if !strings.Contains(strings.Join(missing, "\n"), "not its own saturation") {
		t.Errorf("notChecked = %q; want the reason saturation was not named", missing)
	}
}

// TestLeakSeverityMonotone: doctor's leak grading, like schedstats',
// never falls as the leak goes on: the same growth from a higher start
// grades the same, and more growth never lower.
func TestLeakSeverityMonotone(t *testing.T) {
	var prev Finding
	for k, start := range []int{50, 500, 1200, 1740, 5000, 20000} {
		o := healthy()
		o.History = history(16, func(i int, s *schedstats.Snapshot) { s.Goroutines.Total = start + 40*i })
		c := leakCensuses(600)
		c[0].Total, c[1].Total = start, start+600
		o.Censuses = c
		fs, _, _ := Analyze(o, "1234")
		if len(fs) == 0 || fs[0].Cause != schedstats.CauseGoroutineLeak {
			t.Fatalf("start %d: Analyze = %s; want goroutine-leak", start, causes(fs))
		}
		if k > 0 && (fs[0].Severity < prev.Severity || fs[0].Score < prev.Score) {
			t.Errorf("start %d: %v score %.1f; from a lower start it was %v %.1f", start, fs[0].Severity, fs[0].Score, prev.Severity, prev.Score)
		}
		prev = fs[0]
	}
}

// TestInGC: the collector's CPU is recognised by any frame of marking,
// assists, scanning or sweeping, in the names of Go 1.19 to 1.26.
func TestInGC(t *testing.T) {
	for _, c := range []struct {
		stack []string
		want  bool
	}{
		{[]string{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker.func2", "runtime.systemstack"}, true},
		{[]string{"runtime.memclrNoHeapPointers", "runtime.gcDrainN", "runtime.gcAssistAlloc1", "runtime.gcAssistAlloc.func1"}, true},
		{[]string{"runtime.gcDrainMarkWorkerIdle", "runtime.gcBgMarkWorker.func2"}, true},
		{[]string{"runtime.(*sweepLocked).sweep", "runtime.sweepone", "runtime.bgsweep"}, true},
		{[]string{"runtime.mallocgc", "main.render"}, false},
		{[]string{"encoding/json.(*encodeState).marshal", "main.handler"}, false},
	} {
		if got := inGC(c.stack); got != c.want {
			t.Errorf("inGC(%q) = %v; want %v", c.stack, got, c.want)
		}
	}
}

// TestStarvedPoolRanksBelowEveryCause: a pool whose queue waits under
// starvation and long pauses ranks below both, however high its own score.
func TestStarvedPoolRanksBelowEveryCause(t *testing.T) {
	o := healthy()
	o.OS = osReadings(16, 0.05, 1.5, 1, 0, 0, 0)
	o.History = history(16, func(i int, s *schedstats.Snapshot) {
		if i >= 5 {
			s.OtherPauses.Counts[6] = uint64(i - 4) // pauses of 100 ms: a warning
		}
	})
	// Queue waits over a second: a critical score of its own.
	o.PoolPolls = calmPools(15, func(i int, p *apiv1.Pool) { p.QueueWait.Counts[3], p.Queued = uint64(500*i), 10 })
	fs, _, _ := Analyze(o, "1234")
	if len(fs) != 3 || fs[0].Cause != schedstats.CauseCPUStarved || fs[1].Cause != schedstats.CauseSTWPauses ||
		fs[2].Cause != schedstats.CausePoolOverload || !strings.Contains(fs[2].Summary, "consequence") {
		t.Fatalf("Analyze = %s; want cpu-starved, stw-pauses, then the starved pool as a consequence", causes(fs))
	}
}

// TestSaturationInBursts: a process that saturates its CPUs one second in
// four, and queues goroutines then, is saturated in bursts though its
// average is low; one that never reaches its CPUs in any second is not,
// and the note says so without pointing at a starvation never found.
func TestSaturationInBursts(t *testing.T) {
	for _, c := range []struct {
		name  string
		burst float64 // cores used one second in four; 0.1 the rest
		want  bool
	}{{"bursts", 1.8, true}, {"never busy", 0.3, false}} {
		t.Run(c.name, func(t *testing.T) {
			o := healthy()
			o.History = latencyHistory()
			o.OS = osReadings(16, 0, 0.01, 0.3, 0, 0, 0)
			var cum time.Duration
			for i := range o.OS {
				o.OS[i].CPU = cum
				used := 0.1
				if i%4 == 0 {
					used = c.burst
				}
				cum += time.Duration(used * float64(time.Second))
			}
			fs, _, missing := Analyze(o, "1234")
			i := slices.IndexFunc(fs, func(f Finding) bool { return f.Cause == schedstats.CauseCPUSaturation })
			if !c.want {
				note := strings.Join(missing, "\n")
				if i >= 0 || !strings.Contains(note, "in no more than one second") || strings.Contains(note, "see cpu-starved") {
					t.Errorf("Analyze = %s, not checked:\n%s\nwant no saturation, the note saying no second reached it", causes(fs), note)
				}
				return
			}
			if i < 0 {
				t.Fatalf("Analyze = %s; want cpu-saturation", causes(fs))
			}
			if f := fs[i]; !strings.HasPrefix(f.Title, "Bursts of CPU saturation") || !strings.Contains(f.Summary, "in 4 of 15 one-second intervals") {
				t.Errorf("finding %q: %s; want bursts, 4 of 15 intervals", f.Title, f.Summary)
			}
		})
	}
}
