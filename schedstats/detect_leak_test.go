package schedstats_test

import (
	"testing"

	"github.com/gdiag/gdiag/schedstats"
)

// leakWindow returns n snapshots one second apart whose goroutine count
// rises by rate a second from start, with a little noise.
func leakWindow(start, rate float64, n int) []schedstats.Snapshot {
	h := healthy(n)
	for i := range h {
		h[i].Goroutines.Total = int(start + rate*float64(i) + float64(i%3))
	}
	return h
}

// TestLeakSeverityNeverFalls slides a window along leaks that go on at
// a steady rate, as the agent's history and gdiag doctor's repeated runs
// do: once a leak is found, later windows must find it again and never
// grade it lower. Before the growth bar was capped, the bar relative to
// each window's start rose with the leak: +531 at 1,200 goroutines was
// critical and +651 at 1,740 a warning, and slower leaks disappeared.
func TestLeakSeverityNeverFalls(t *testing.T) {
	for _, c := range []struct {
		name   string
		th     schedstats.Thresholds
		window int     // samples per window
		rate   float64 // goroutines per second
	}{
		{"doctor 20s window, 100/s", schedstats.Thresholds{LeakMinSamples: 5, LeakMinRatio: 0.1}, 20, 100},
		{"doctor 20s window, 30/s", schedstats.Thresholds{LeakMinSamples: 5, LeakMinRatio: 0.1}, 20, 30},
		{"agent defaults 5 min, 2/s", schedstats.Thresholds{}, 300, 2},
		{"agent defaults 5 min, 100/s", schedstats.Thresholds{}, 300, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen := false
			var worst schedstats.Severity
			for start := 0.0; start < 100000; start += c.rate * float64(c.window) / 4 {
				f, ok := leakFinding(schedstats.Detect(leakWindow(20+start, c.rate, c.window), c.th))
				switch {
				case !ok && seen:
					t.Fatalf("window starting at %.0f goroutines: no leak finding; an earlier window had one", 20+start)
				case !ok:
					continue
				case f.Severity < worst:
					t.Fatalf("window starting at %.0f goroutines: %v; an earlier window was %v", 20+start, f.Severity, worst)
				}
				seen, worst = true, max(worst, f.Severity)
			}
			if !seen {
				t.Fatal("no window found the leak")
			}
		})
	}
	// The figures of the report that found the inversion.
	th := schedstats.Thresholds{LeakMinSamples: 5, LeakMinRatio: 0.1}
	for _, c := range []struct{ first, growth float64 }{{1200, 531}, {1740, 651}} {
		f, ok := leakFinding(schedstats.Detect(leakWindow(c.first, c.growth/19, 20), th))
		if !ok || f.Severity != schedstats.Critical {
			t.Errorf("leak of +%.0f from %.0f: found %v, %v; want critical", c.growth, c.first, ok, f.Severity)
		}
	}
}

// TestLeakSeverityGrowsWithGrowth: from the same start, more growth never
// grades lower.
func TestLeakSeverityGrowsWithGrowth(t *testing.T) {
	var prev schedstats.Severity
	for g := 0.0; g <= 3000; g += 50 {
		s := schedstats.Thresholds{}.LeakSeverity(g)
		if s < prev {
			t.Fatalf("LeakSeverity(%v) = %v; LeakSeverity(%v) was %v", g, s, g-50, prev)
		}
		prev = s
	}
	if s := (schedstats.Thresholds{}).LeakSeverity(400); s != schedstats.Critical {
		t.Errorf("LeakSeverity(400) = %v; want critical", s)
	}
	if s := (schedstats.Thresholds{}).LeakSeverity(399); s != schedstats.Warning {
		t.Errorf("LeakSeverity(399) = %v; want warning", s)
	}
}

func leakFinding(fs []schedstats.Finding) (schedstats.Finding, bool) {
	for _, f := range fs {
		if f.Cause == schedstats.CauseGoroutineLeak {
			return f, true
		}
	}
	return schedstats.Finding{}, false
}
