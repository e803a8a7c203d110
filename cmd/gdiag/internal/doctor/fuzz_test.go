package doctor

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/procfs"
	"github.com/gdiag/gdiag/schedstats"
)

// byteSource turns fuzz input into numbers; past the end it yields zeros.
type byteSource struct{ b []byte }

func (s *byteSource) u64() uint64 {
	var buf [8]byte
	n := copy(buf[:], s.b)
	s.b = s.b[n:]
	return binary.LittleEndian.Uint64(buf[:])
}

func (s *byteSource) small(n int) int { return int(s.u64() % uint64(n)) }

func (s *byteSource) float() float64 {
	switch s.small(8) {
	case 0:
		return math.NaN()
	case 1:
		return math.Inf(1 - 2*s.small(2))
	case 2:
		return -float64(s.small(1000))
	}
	return float64(s.small(1<<20)) / 64
}

func (s *byteSource) hist() schedstats.Histogram {
	n := s.small(6)
	h := schedstats.Histogram{Counts: make([]uint64, n)}
	for i := 0; i <= n-s.small(2); i++ {
		h.Bounds = append(h.Bounds, s.float())
	}
	for i := range h.Counts {
		h.Counts[i] = s.u64() % 1e6
	}
	return h
}

// observation builds an Observation of any shape, odd values included.
func (s *byteSource) observation() *Observation {
	o := &Observation{Agent: s.small(2) == 0, GOMAXPROCS: s.small(5) - 1, Elapsed: time.Duration(s.u64() % uint64(200*time.Second))}
	for i := range s.small(40) {
		o.History = append(o.History, schedstats.Snapshot{
			Time: t0.Add(time.Duration(i-s.small(3)) * time.Second), GOMAXPROCS: s.small(5) - 1,
			Threads: s.small(1000), GlobalRunQueue: s.small(100), LocalRunQueues: make([]int, s.small(3)),
			Goroutines: schedstats.GoroutineStates{Total: s.small(1 << 16), Runnable: s.small(100)},
			MsCreated:  s.u64() % 1000, MutexWait: time.Duration(s.u64() % 1e12),
			SchedLatency: s.hist(), GCPauses: s.hist(), OtherPauses: s.hist(),
			Sources: schedstats.Sources{Mutex: schedstats.Source(s.small(3))},
		})
	}
	for i := range s.small(4) {
		c := Census{Time: t0.Add(time.Duration(s.small(30)) * time.Second), Total: s.small(5000)}
		for range s.small(4) {
			c.Groups = append(c.Groups, gdump.Group{State: []string{"syscall", "chan receive", "", "IO wait", "chan send (nil chan)", "select"}[s.small(6)],
				Count: s.small(3000) - 10, MinWait: time.Duration(s.small(5)) * time.Minute,
				Frames: []gdump.Frame{{Func: "runtime.gopark"}, {Func: "main.f" + string(rune('a'+i)), File: "x.go", Line: 1}, {Func: "runtime.cgocall"}, {Func: "net/http.(*conn).serve"}, {}}[:s.small(6)]})
		}
		o.Censuses = append(o.Censuses, c)
	}
	for i := range s.small(10) {
		p := apiv1.Pool{Name: []string{"a", "b"}[s.small(2)], Rejected: s.u64() % 1e6, Submitted: s.u64() % 1e6, Queued: s.small(100),
			QueueWait: pool.Histogram{Bounds: []time.Duration{time.Millisecond, time.Second}[:s.small(3)], Counts: []uint64{s.u64() % 100, s.u64() % 100, s.u64() % 100}[:s.small(4)]}}
		o.PoolPolls = append(o.PoolPolls, PoolPoll{Time: t0.Add(time.Duration(i-s.small(2)) * time.Second), Pools: []apiv1.Pool{p}})
	}
	if s.small(2) == 0 {
		o.CPU = &CPUProfile{Duration: time.Duration(s.u64() % 1e10), Seconds: s.float(), GCSeconds: s.float(), App: []Func{{Name: "main.x", Percent: s.float()}}}
	}
	if s.small(2) == 0 {
		o.Mutex = &Contention{Seconds: s.float(), Events: s.float(), Empty: s.small(2) == 0}
		o.Block = &Contention{Seconds: s.float(), Top: []Func{{Name: "main.y"}}}
	}
	if s.small(2) == 0 {
		o.Allocs = &Allocs{Bytes: s.float(), Top: []Func{{Name: "main.z", Flat: s.float()}}}
	}
	for range s.small(3) {
		o.Mem = append(o.Mem, MemStats{NumGC: s.u64() % 1000, TotalAlloc: s.u64(), GCCPUFraction: s.float(), PauseNs: make([]uint64, s.small(300))})
	}
	for range s.small(4) {
		o.ThreadsCreated = append(o.ThreadsCreated, s.small(1000))
	}
	for i := range s.small(20) {
		r := OSReading{Sample: procfs.Sample{Time: t0.Add(time.Duration(i-s.small(3)) * time.Second),
			CPU: time.Duration(s.u64() % 1e12), RunDelay: time.Duration(s.u64() % 1e12), CPUsAllowed: s.small(4),
			Cgroup: procfs.Cgroup{Path: []string{"/a", "/b"}[s.small(2)], Quota: s.float(), Periods: s.u64() % 1e6, Throttled: s.u64() % 1e6, ThrottledTime: time.Duration(s.u64() % 1e12)},
			Host:   procfs.Host{CPUs: s.small(4), Load1: s.float(), Busy: time.Duration(s.u64() % 1e12), Steal: time.Duration(s.u64() % 1e12), Total: time.Duration(s.u64() % 1e12)}},
			Sockets: procfs.SocketCount{Established: s.small(5000) - 10}}
		if s.small(4) == 0 {
			r.SocketErr = "permission denied"
		}
		o.OS = append(o.OS, r)
	}
	if s.small(2) == 0 {
		o.Leaks = &LeakProfile{Leaked: s.small(1000) - 1}
		for range s.small(3) {
			o.Leaks.Groups = append(o.Leaks.Groups, gdump.Group{State: "chan send (leaked)", Count: s.small(500), Frames: []gdump.Frame{{Func: "main.g"}}[:s.small(2)]})
		}
	}
	o.MemoryLimit, o.MemoryLimitFrom = s.float(), []string{"", "env"}[s.small(2)]
	return o
}

// FuzzAnalyze checks that no observation, however odd, makes Analyze or
// Render panic, or produces a report JSON cannot encode (NaN, infinity).
func FuzzAnalyze(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{7, 200, 3, 0, 1, 255, 9, 42}, 64))
	f.Add(bytes.Repeat([]byte{255}, 2048))
	f.Add(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}, 300))
	f.Fuzz(func(t *testing.T, data []byte) {
		o := (&byteSource{b: data}).observation()
		fs, _, _ := Analyze(o, "1234")
		rep := &Report{Target: "1234", Window: "1s", Findings: fs}
		if _, err := json.Marshal(rep); err != nil {
			t.Fatalf("json.Marshal(report) = %v", err)
		}
		if err := Render(io.Discard, rep); err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if math.IsNaN(f.Score) || f.Score < 1 {
				t.Fatalf("finding %s has score %v", f.Cause, f.Score)
			}
		}
	})
}

// FuzzParseMemStats checks the MemStats parser on arbitrary input.
func FuzzParseMemStats(f *testing.F) {
	b, err := os.ReadFile("testdata/memstats.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("# NumGC = 3\n# PauseNs = [1 2\n")
	f.Add("# PauseNs = [" + strings.Repeat("9 ", 300) + "]\n# NumGC = 18446744073709551615\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMemStats(strings.NewReader(s), t0)
		if err != nil {
			return
		}
		windowPauses(MemStats{NumGC: m.NumGC / 2}, m)
		windowPauses(m, m)
	})
}
