package bench_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/bench"
)

// IgnoreCurrent: importing ants starts its default pool's goroutines in an init.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m, goleak.IgnoreCurrent()) }

// TestAllRun runs every library once on a small workload, with fewer workers
// than tasks so that each library has to block or queue, and checks that
// every task ran exactly once and that no more than workers ran at a time.
func TestAllRun(t *testing.T) {
	const tasks, workers = 500, 4
	for _, m := range bench.Modes {
		for _, lib := range bench.Libraries() {
			t.Run(m.String()+"/"+lib.Name, func(t *testing.T) { runAll(t, lib, m, tasks, workers) })
		}
	}
}

func runAll(t *testing.T, lib bench.Library, m bench.Mode, tasks, workers int) {
	var ran, running, peak atomic.Int64
	r := lib.New(workers, m, func() {
		now := running.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		time.Sleep(10 * time.Microsecond)
		running.Add(-1)
		ran.Add(1)
	})
	for range tasks {
		if err := r.Submit(); err != nil {
			t.Fatalf("Submit() = %v; want nil", err)
		}
	}
	r.Wait()
	if got := ran.Load(); got != int64(tasks) {
		t.Errorf("%s ran %d tasks; want %d", lib.Name, got, tasks)
	}
	if got := peak.Load(); lib.Name != "go" && got > int64(workers) {
		t.Errorf("%s ran %d tasks at once; want at most %d", lib.Name, got, workers)
	}
}

func TestLibraries(t *testing.T) {
	seen := map[string]bool{}
	for _, lib := range bench.Libraries() {
		if seen[lib.Name] {
			t.Errorf("library %q listed twice", lib.Name)
		}
		seen[lib.Name] = true
		if got, ok := bench.LibraryByName(lib.Name); !ok || got.Name != lib.Name {
			t.Errorf("LibraryByName(%q) = %q, %v; want %q, true", lib.Name, got.Name, ok, lib.Name)
		}
	}
	for _, want := range []string{"gdiag", "gdiag-nostats", "gdiag-keyed", "ants", "pond", "conc", "errgroup", "chan", "go"} {
		if !seen[want] {
			t.Errorf("Libraries() lacks %q", want)
		}
	}
	if _, ok := bench.LibraryByName("nope"); ok {
		t.Error(`LibraryByName("nope") found a library; want none`)
	}
}

// TestMeasure runs the cmd/rss measurement in-process on a small workload:
// the peak figures must at least cover what the workload itself needs.
func TestMeasure(t *testing.T) {
	const tasks, workers = 2000, 50
	for _, name := range []string{"chan", "conc"} {
		lib, _ := bench.LibraryByName(name)
		res, err := bench.Measure(lib, tasks, workers, 2*time.Millisecond, time.Millisecond)
		if err != nil {
			t.Fatalf("Measure(%s) error = %v", name, err)
		}
		if res.Completed != tasks {
			t.Errorf("Measure(%s).Completed = %d; want %d", name, res.Completed, tasks)
		}
		// 2000 tasks of 2 ms on 50 workers need at least 80 ms.
		if res.WallSeconds < 0.08 {
			t.Errorf("Measure(%s).WallSeconds = %v; want >= 0.08", name, res.WallSeconds)
		}
		if res.MaxGoroutines < workers {
			t.Errorf("Measure(%s).MaxGoroutines = %d; want >= %d", name, res.MaxGoroutines, workers)
		}
		if res.PeakHeapBytes == 0 || res.PeakStackBytes == 0 || res.PeakRSSBytes == 0 {
			t.Errorf("Measure(%s) peaks = heap %d, stacks %d, rss %d; want all > 0",
				name, res.PeakHeapBytes, res.PeakStackBytes, res.PeakRSSBytes)
		}
	}
}

// TestMeasureIncomplete checks that Measure notices a library that drops tasks.
func TestMeasureIncomplete(t *testing.T) {
	lossy := bench.Library{Name: "lossy", New: func(int, bench.Mode, func()) bench.Runner { return dropAll{} }}
	_, err := bench.Measure(lossy, 10, 1, 0, time.Millisecond)
	if !errors.Is(err, bench.ErrIncomplete) {
		t.Fatalf("Measure(lossy) error = %v; want ErrIncomplete", err)
	}
}

type dropAll struct{}

func (dropAll) Submit() error { return nil }
func (dropAll) Wait()         {}
