package doctor

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

func TestParseMemStats(t *testing.T) {
	b, err := os.ReadFile("testdata/memstats.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseMemStats(bytes.NewReader(b), t0)
	if err != nil {
		t.Fatalf("parseMemStats(testdata) = %v", err)
	}
	if m.NumGC == 0 || m.TotalAlloc == 0 || m.NextGC == 0 || len(m.PauseNs) != 256 || !m.Time.Equal(t0) {
		t.Errorf("parseMemStats(testdata) = %+v; want NumGC, TotalAlloc, NextGC and 256 pauses", m)
	}
	for _, bad := range []string{"", "heap profile: 1: 2 [3: 4] @ heap/1048576\n", "# NumGC = x\n# TotalAlloc = 1\n# NextGC = 1\n# HeapAlloc = 1\n"} {
		if _, err := parseMemStats(strings.NewReader(bad), t0); err == nil {
			t.Errorf("parseMemStats(%q) = nil error; want one", bad)
		}
	}
}

func TestWindowPauses(t *testing.T) {
	ring := make([]uint64, 256)
	for i := range ring {
		ring[i] = uint64(i)
	}
	cases := []struct {
		from, to uint64
		want     []time.Duration
	}{
		{10, 12, []time.Duration{10, 11}}, // GCs 11 and 12 sit at indexes 10 and 11
		{300, 300, nil},                   // no cycle in between
		{0, 1000, nil},                    // more than the ring holds: the last 256
		{257, 258, []time.Duration{1}},    // wrapped around
		{5, 3, nil},                       // counter went backwards
	}
	for _, c := range cases {
		got := windowPauses(MemStats{NumGC: c.from}, MemStats{NumGC: c.to, PauseNs: ring})
		if c.to-c.from > 256 && c.to > c.from {
			if len(got) != 256 {
				t.Errorf("windowPauses(%d, %d) has %d pauses; want 256", c.from, c.to, len(got))
			}
			continue
		}
		if len(got) != len(c.want) || (len(got) > 0 && got[0] != c.want[0]) {
			t.Errorf("windowPauses(%d, %d) = %v; want %v", c.from, c.to, got, c.want)
		}
	}
}

func TestParseThreadCreate(t *testing.T) {
	n, err := parseThreadCreate(strings.NewReader("threadcreate profile: total 11\n10 @ 0x0\n"))
	if n != 11 || err != nil {
		t.Errorf("parseThreadCreate = %d, %v; want 11", n, err)
	}
	if _, err := parseThreadCreate(strings.NewReader("goroutine profile: total 3\n")); err == nil {
		t.Errorf("parseThreadCreate(goroutine profile) = nil error; want one")
	}
}

// fakeProfile builds a profile with one sample per stack (innermost first).
func fakeProfile(types []string, stacks [][]string, values [][]int64) *profile.Profile {
	p := &profile.Profile{DurationNanos: int64(5 * time.Second)}
	for _, ty := range types {
		unit := "count"
		if ty == "cpu" || ty == "delay" {
			unit = "nanoseconds"
		}
		p.SampleType = append(p.SampleType, &profile.ValueType{Type: ty, Unit: unit})
	}
	fns := map[string]*profile.Function{}
	for i, st := range stacks {
		s := &profile.Sample{Value: values[i]}
		for _, name := range st {
			fn := fns[name]
			if fn == nil {
				fn = &profile.Function{ID: uint64(len(fns) + 1), Name: name}
				fns[name] = fn
				p.Function = append(p.Function, fn)
			}
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn}}}
			p.Location = append(p.Location, loc)
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

// roundTrip writes p and reads it back, as doctor reads a fetched profile.
func roundTrip(t *testing.T, p *profile.Profile) *profile.Profile {
	t.Helper()
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	q, err := readProfile(&b)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestSummarizeCPU(t *testing.T) {
	p := roundTrip(t, fakeProfile([]string{"samples", "cpu"}, [][]string{
		{"crypto/sha256.block", "main.spin", "runtime.goexit"},
		{"runtime.scanobject", "runtime.gcDrain", "runtime.gcBgMarkWorker"},
	}, [][]int64{{3, 3e9}, {1, 1e9}}))
	c := summarizeCPU(p, 5*time.Second, 5)
	if c.Seconds != 4 || c.GCSeconds != 1 || c.Duration != 5*time.Second {
		t.Errorf("summarizeCPU = %+v; want 4s sampled, 1s in the GC", c)
	}
	if c.Top[0].Name != "crypto/sha256.block" || c.App[0].Name != "main.spin" || c.App[0].Percent != 75 {
		t.Errorf("summarizeCPU top = %v, app = %v; want the leaf first and main.spin as the application", c.Top, c.App)
	}
}

func TestContentionDelta(t *testing.T) {
	stacks := [][]string{
		{"sync.(*Mutex).Unlock", "main.fight"},
		{"sync.(*Mutex).Unlock", "main.other"},
	}
	start := roundTrip(t, fakeProfile([]string{"contentions", "delay"}, stacks, [][]int64{{10, 1e9}, {5, 5e9}}))
	end := roundTrip(t, fakeProfile([]string{"contentions", "delay"}, stacks, [][]int64{{110, 31e9}, {10, 15e9}}))
	t0, err := totalContention(start, false)
	if err != nil {
		t.Fatal(err)
	}
	t1, _ := totalContention(end, false)
	c := contentionDelta(t0, t1, 5)
	if !near(c.Seconds, 40) || c.Events != 105 || c.Empty {
		t.Errorf("contentionDelta = %+v; want 40s contended, 105 events", c)
	}
	if len(c.Top) != 2 || c.Top[0].Name != "main.fight" {
		t.Errorf("contentionDelta top = %v; want main.fight first of two", c.Top)
	}
	// The block profile counts lock waits only.
	blk := roundTrip(t, fakeProfile([]string{"contentions", "delay"}, [][]string{{"runtime.chanrecv1", "main.wait"}}, [][]int64{{1, 9e9}}))
	if tb, _ := totalContention(blk, true); tb.delay != 0 {
		t.Errorf("totalContention(channel wait, lockOnly) delay = %v; want 0", tb.delay)
	}
	if _, err := totalContention(roundTrip(t, fakeProfile([]string{"samples", "cpu"}, nil, nil)), false); err == nil {
		t.Errorf("totalContention(cpu profile) = nil error; want one")
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAllocTotals(t *testing.T) {
	p := roundTrip(t, fakeProfile([]string{"alloc_objects", "alloc_space", "inuse_objects", "inuse_space"}, [][]string{
		{"runtime.makeslice", "main.churn"}, {"bytes.growSlice", "main.read"},
	}, [][]int64{{1, 900, 0, 0}, {1, 100, 0, 0}}))
	by, total, err := allocTotals(p)
	if err != nil || total != 1000 || by["main.churn"] != 900 || by["bytes.growSlice"] != 100 {
		t.Errorf("allocTotals = %v, %v, %v; want main.churn 900 of 1000", by, total, err)
	}
}

func TestCulprit(t *testing.T) {
	cases := []struct {
		in   []string
		want string
	}{
		{[]string{"runtime.gopark", "runtime.chanrecv1", "main.leaky"}, "main.leaky"},
		{[]string{"sync.(*Mutex).Lock", "github.com/x/y.(*T).M"}, "github.com/x/y.(*T).M"},
		{[]string{"runtime.gopark", "net/http.(*conn).serve"}, "net/http.(*conn).serve"},
		{[]string{"runtime.gopark"}, "runtime.gopark"},
		{nil, ""},
	}
	for _, c := range cases {
		if got := culprit(c.in); got != c.want {
			t.Errorf("culprit(%v) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestParseUintList(t *testing.T) {
	if got, err := parseUintList("[1 2 3]"); err != nil || len(got) != 3 || got[2] != 3 {
		t.Errorf("parseUintList([1 2 3]) = %v, %v; want [1 2 3]", got, err)
	}
	for _, bad := range []string{"1 2]", "[1 2", "1 2", "[1 x]"} {
		if got, err := parseUintList(bad); err == nil {
			t.Errorf("parseUintList(%q) = %v, nil; want an error", bad, got)
		}
	}
}
