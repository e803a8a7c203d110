package sched

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/schedstats"
)

func TestSparkline(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		vals  []float64
		width int
		want  string
	}{
		{nil, 5, ""},
		{[]float64{1, 2}, 0, ""},
		{[]float64{0, 0, 0}, 3, "▁▁▁"},
		{[]float64{0, 1, 2, 3, 4, 5, 6}, 7, "▁▃▄▅▆▇█"},
		{[]float64{0.001, 1000}, 2, "▂█"}, // above zero is never ▁
		{[]float64{1, nan, -3, 1}, 4, "█ ▁█"},
		{[]float64{9, 9, 0, 4}, 2, "▁█"}, // the last width values, scaled among themselves
		{[]float64{math.Inf(1), 2}, 2, "██"},
	}
	for _, c := range cases {
		if got := sparkline(c.vals, c.width); got != c.want {
			t.Errorf("sparkline(%v, %d) = %q; want %q", c.vals, c.width, got, c.want)
		}
	}
}

// hist builds a runtime/metrics-style histogram: bounds are the edges.
func hist(bounds []float64, counts ...uint64) schedstats.Histogram {
	return schedstats.Histogram{Bounds: bounds, Counts: counts}
}

func TestDist(t *testing.T) {
	inf := math.Inf(1)
	b := []float64{math.Inf(-1), 0, 1e-6, 2e-6, 4e-6, inf}
	cases := []struct {
		name string
		h    schedstats.Histogram
		want Dist
	}{
		{"empty", hist(b, 0, 0, 0, 0, 0), Dist{}},
		{"one bucket", hist(b, 0, 0, 10, 0, 0), Dist{Count: 10, P50: 2e-6, P90: 2e-6, P99: 2e-6, Max: 2e-6}},
		{"spread", hist(b, 0, 50, 0, 50, 0), Dist{Count: 100, P50: 1e-6, P90: 4e-6, P99: 4e-6, Max: 4e-6}},
		{"overflow", hist(b, 0, 0, 0, 0, 4), Dist{Count: 4, P50: 4e-6, P90: 4e-6, P99: 4e-6, Max: 4e-6, over: [4]bool{true, true, true, true}}},
		{"malformed", hist(b[:2], 1, 2, 3), Dist{Count: 6}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := dist(c.h)
			if !near(got, c.want) {
				t.Errorf("dist(%v) = %+v; want %+v", c.h, got, c.want)
			}
			if got.Count > 0 && (got.P50 > got.P90 || got.P90 > got.P99 || got.P99 > got.Max) {
				t.Errorf("dist(%v) = %+v; want p50 ≤ p90 ≤ p99 ≤ max", c.h, got)
			}
		})
	}
}

func near(a, b Dist) bool {
	eq := func(x, y float64) bool { return math.Abs(x-y) <= 1e-12 }
	return a.Count == b.Count && eq(a.P50, b.P50) && eq(a.P90, b.P90) && eq(a.P99, b.P99) && eq(a.Max, b.Max) && a.over == b.over
}

// loadHistory reads testdata/history.json, four snapshots a second apart
// taken from the demo under load, as the agent serves them.
func loadHistory(t testing.TB) *history {
	t.Helper()
	b, err := os.ReadFile("testdata/history.json")
	if err != nil {
		t.Fatal(err)
	}
	var hs apiv1.History
	if err := json.Unmarshal(b, &hs); err != nil {
		t.Fatal(err)
	}
	h := &history{}
	for _, s := range hs.Snapshots {
		h.add(s)
	}
	return h
}

func TestHistoryAdd(t *testing.T) {
	h := loadHistory(t)
	if len(h.snaps) != 4 {
		t.Fatalf("history has %d snapshots; want 4", len(h.snaps))
	}
	last, _ := h.latest()
	if h.add(last) {
		t.Errorf("add(same time) = true; want false: a refresh faster than the sampler must not add an interval")
	}
	if b := last.SchedLatency.Bounds; !math.IsInf(b[0], -1) || !math.IsInf(b[len(b)-1], 1) {
		t.Errorf("latency bounds after add = %v … %v; want ±Inf decoded from the strings -Inf and +Inf", b[0], b[len(b)-1])
	}
	for i := range maxHistory + 10 {
		s := last.Clone()
		s.Time = last.Time.Add(time.Duration(i+1) * time.Second)
		h.add(s)
	}
	if len(h.snaps) != maxHistory {
		t.Errorf("history length after many adds = %d; want %d", len(h.snaps), maxHistory)
	}
}

func TestDerive(t *testing.T) {
	h := loadHistory(t)
	d := h.derive()
	if d.WindowSeconds < 0.9 || d.WindowSeconds > 1.1 || d.PauseWindowSeconds < 2.9 || d.PauseWindowSeconds > 3.1 {
		t.Errorf("derive() windows = %v s, pauses %v s; want about 1 and 3", d.WindowSeconds, d.PauseWindowSeconds)
	}
	if d.SchedLatency.Count == 0 || d.SchedLatency.P99 <= 0 || d.GoroutinesCreatedPerSec <= 0 {
		t.Errorf("derive() = %+v; want latency and goroutine creation from a loaded demo", d)
	}
	one := &history{}
	one.add(h.snaps[0])
	if d := one.derive(); d.WindowSeconds != 0 || d.SchedLatency.Count != h.snaps[0].SchedLatency.Count() {
		t.Errorf("derive() of one snapshot = %+v; want since-start figures", d)
	}
	if d := (&history{}).derive(); d != (Derived{}) {
		t.Errorf("derive() of nothing = %+v; want zero", d)
	}
}

func TestFrameFits(t *testing.T) {
	h := loadHistory(t)
	deep := loadHistory(t)
	deep.snaps[3].LocalRunQueues = []int{3, 0, 1, 7}
	wide := loadHistory(t)
	wide.snaps[3].LocalRunQueues = make([]int, 256)
	wide.snaps[3].LocalRunQueues[200] = 9
	cases := []struct {
		name          string
		h             *history
		width, height int
		want          []string
	}{
		{"80x24", h, 80, 24, []string{"GOMAXPROCS 2", "busy 1  idle 1", "THREADS    9", "global 0",
			"per-P queues: build the service with -tags gdiag_deep", "GOROUTINES 33", "runnable 0",
			"SCHED LAT  p50", "STW GC", "last 3s", "q quits", "▁"}},
		{"deep", deep, 80, 24, []string{"per-P P0:3 P1:0 P2:1 P3:7"}},
		{"many Ps", wide, 80, 24, []string{"per-P sum 9 max 9 ▁"}},
		{"narrow", h, 40, 24, []string{"GOMAXPROCS 2", "SCHED LAT"}},
		{"short", h, 80, 6, []string{"gdiag sched", "GOMAXPROCS", "GOROUTINES", "SCHED LAT"}},
		{"tiny", h, 10, 2, []string{"gdiag sche"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lines := frame(c.h, frameOpts{Target: "1234", Width: c.width, Height: c.height, Quit: "q quits"})
			text := strings.Join(lines, "\n")
			if len(lines) > c.height {
				t.Errorf("frame(%dx%d) has %d lines; want at most %d\n%s", c.width, c.height, len(lines), c.height, text)
			}
			for _, l := range lines {
				if n := utf8.RuneCountInString(l); n > c.width {
					t.Errorf("frame(%dx%d) line %q has %d columns; want at most %d", c.width, c.height, l, n, c.width)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("frame(%dx%d) lacks %q:\n%s", c.width, c.height, w, text)
				}
			}
		})
	}
}

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// TestFrameGolden compares the frame of the fixture history at 80x24 with
// testdata/frame80.golden; go test -run TestFrameGolden -update rewrites it.
func TestFrameGolden(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC // the header shows the snapshot's local time
	got := strings.Join(frame(loadHistory(t), frameOpts{Target: "1234", Width: 80, Height: 24, Refresh: time.Second, Quit: "q quits"}), "\n") + "\n"
	const golden = "testdata/frame80.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestFrameGolden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("frame(fixture, 80x24) =\n%s\nwant (%s):\n%s", got, golden, want)
	}
}

func TestFrameNarrowHasNoSparklines(t *testing.T) {
	text := strings.Join(frame(loadHistory(t), frameOpts{Width: 60}), "\n")
	if strings.ContainsAny(text, "▂▃▄▅▆▇█") {
		t.Errorf("frame(60 columns) has sparklines; want none below %d columns:\n%s", sparkStart+1+minSpark, text)
	}
}

func TestFrameSources(t *testing.T) {
	h := loadHistory(t)
	h.snaps[3].Sources = schedstats.Sources{}
	h.snaps[3].LocalRunQueues = nil
	text := strings.Join(frame(h, frameOpts{}), "\n")
	for _, w := range []string{"GOMAXPROCS n/a", "THREADS    n/a", "GOROUTINES n/a", "SCHED LAT  n/a", "STW GC     n/a"} {
		if !strings.Contains(text, w) {
			t.Errorf("frame(no sources) lacks %q:\n%s", w, text)
		}
	}
	if got := frame(&history{}, frameOpts{Target: "9"}); len(got) != 1 || !strings.Contains(got[0], "no snapshot") {
		t.Errorf("frame(empty) = %q; want a no-snapshot line", got)
	}
}

func TestSecs(t *testing.T) {
	cases := []struct {
		v    float64
		want string
	}{
		{math.NaN(), "-"}, {math.Inf(1), "-"}, {0, "0s"}, {3.84e-6, "3.84µs"}, {0.0122, "12.2ms"}, {300, "5m0s"},
	}
	for _, c := range cases {
		if got := secs(c.v); got != c.want {
			t.Errorf("secs(%v) = %q; want %q", c.v, got, c.want)
		}
	}
}

// FuzzFrame renders snapshots as an agent could send them (any JSON that
// decodes): rendering must never panic and must keep to the width.
func FuzzFrame(f *testing.F) {
	b, err := os.ReadFile("testdata/history.json")
	if err != nil {
		f.Fatal(err)
	}
	var hs apiv1.History
	if err := json.Unmarshal(b, &hs); err != nil {
		f.Fatal(err)
	}
	// Real snapshots, with histograms cut to the buckets around the
	// values: the fuzzer mutates (and minimises) small inputs far faster.
	short := func(h schedstats.Histogram) schedstats.Histogram {
		return schedstats.Histogram{Bounds: h.Bounds[:13], Counts: h.Counts[:12]}
	}
	for _, s := range hs.Snapshots[2:] {
		s.SchedLatency, s.GCPauses, s.OtherPauses = short(s.SchedLatency), short(s.GCPauses), short(s.OtherPauses)
		j, _ := json.Marshal(s)
		f.Add(j, 80)
	}
	f.Add([]byte(`{"time":"2026-01-01T00:00:00Z","gomaxprocs":-3,"localRunQueues":[-1,5],"schedLatency":{"bounds":[1,0],"counts":[5,5,5]},"sources":{"procs":"sched","latency":"runtime/metrics","pauses":"runtime/metrics"}}`), 20)
	f.Fuzz(func(t *testing.T, data []byte, width int) {
		var s schedstats.Snapshot
		if json.Unmarshal(data, &s) != nil {
			return
		}
		width = 1 + abs(width)%200
		h := &history{}
		first := s.Clone()
		first.Time = s.Time.Add(-time.Second)
		h.add(first)
		h.add(s)
		for _, l := range frame(h, frameOpts{Width: width, Height: 24}) {
			if n := utf8.RuneCountInString(l); n > width {
				t.Fatalf("line %q has %d columns; want at most %d", l, n, width)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// BenchmarkFrame renders an 80x24 frame from a full history (300
// snapshots), the live view's work per refresh besides the request.
func BenchmarkFrame(b *testing.B) {
	h := loadHistory(b)
	last, _ := h.latest()
	for i := range maxHistory {
		s := last.Clone()
		s.Time = last.Time.Add(time.Duration(i+1) * time.Second)
		s.GoroutinesCreated += uint64(i * 100)
		h.add(s)
	}
	o := frameOpts{Target: "1234", Width: 80, Height: 24, Refresh: time.Second, Quit: "q quits"}
	b.ReportAllocs()
	for b.Loop() {
		frame(h, o)
	}
}

// TestOSRows: the kernel's view shows CPU used against GOMAXPROCS and the
// quota, the throttling and the host's load; without it there is no row.
func TestOSRows(t *testing.T) {
	if ls := osRows(nil); ls != nil {
		t.Errorf("osRows(nil) = %v; want none", ls)
	}
	v := &apiv1.OS{GOMAXPROCS: 2}
	v.Rates.Seconds, v.Rates.CPU, v.Rates.Quota, v.Rates.RunDelay = 1, 0.1, 0.1, 1.9
	v.Rates.Periods, v.Rates.Throttled, v.Rates.ThrottledTime = 10, 9, 0.8
	v.Rates.HostCPUs, v.Rates.HostBusy, v.Rates.Load1 = 2, 0.95, 3.5
	var text []string
	for _, l := range osRows(v) {
		text = append(text, l.text)
	}
	got := strings.Join(text, "\n")
	for _, want := range []string{"used 0.10 cores of 2 Ps", "quota 0.10 cores", "run delay 1.90s/s", "9 of 10 periods (90%)", "busy 95%", "load 3.50 on 2 CPUs"} {
		if !strings.Contains(got, want) {
			t.Errorf("osRows = %q; want %q", got, want)
		}
	}
}
