package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ErrIncomplete reports that Measure saw fewer finished tasks than it submitted.
var ErrIncomplete = errors.New("bench: not every task ran")

// Result is what Measure reports for one run, encoded as one JSON object by cmd/rss.
type Result struct {
	Lib     string `json:"lib"`
	Tasks   int    `json:"tasks"`
	Workers int    `json:"workers"`
	Sleep   string `json:"sleep"`
	// Completed counts tasks that finished; it equals Tasks unless the library lost some.
	Completed int64 `json:"completed"`
	// WallSeconds runs from the first Submit to the return of Wait.
	WallSeconds float64 `json:"wall_seconds"`
	// PeakRSSBytes is VmHWM from /proc/self/status: the process's peak
	// resident set, so it means something only in a fresh process. It is 0
	// where /proc is missing.
	PeakRSSBytes uint64 `json:"peak_rss_bytes"`
	// PeakHeapBytes and PeakStackBytes are the largest sampled values of
	// /memory/classes/heap/objects:bytes and /memory/classes/heap/stacks:bytes.
	PeakHeapBytes  uint64 `json:"peak_heap_bytes"`
	PeakStackBytes uint64 `json:"peak_stack_bytes"`
	// MaxGoroutines is the largest sampled /sched/goroutines:goroutines.
	MaxGoroutines uint64 `json:"max_goroutines"`
}

// Measure submits tasks copies of a task that sleeps for sleep to lib with
// workers workers, waits for them, and samples the runtime every every
// meanwhile. Sampling misses peaks shorter than every.
func Measure(lib Library, tasks, workers int, sleep, every time.Duration) (Result, error) {
	res := Result{Lib: lib.Name, Tasks: tasks, Workers: workers, Sleep: sleep.String()}
	var done atomic.Int64
	r := lib.New(workers, Default, func() {
		time.Sleep(sleep)
		done.Add(1)
	})

	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/sched/goroutines:goroutines"},
	}
	sample := func() {
		metrics.Read(samples)
		res.PeakHeapBytes = max(res.PeakHeapBytes, samples[0].Value.Uint64())
		res.PeakStackBytes = max(res.PeakStackBytes, samples[1].Value.Uint64())
		res.MaxGoroutines = max(res.MaxGoroutines, samples[2].Value.Uint64())
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				sample()
			}
		}
	})

	start := time.Now()
	var err error
	for range tasks {
		if err = r.Submit(); err != nil {
			break
		}
	}
	r.Wait()
	res.WallSeconds = time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	sample()

	res.Completed = done.Load()
	res.PeakRSSBytes = peakRSS()
	if err != nil {
		return res, fmt.Errorf("bench: %s: submit: %w", lib.Name, err)
	}
	if res.Completed != int64(tasks) {
		return res, fmt.Errorf("%w: %s ran %d of %d", ErrIncomplete, lib.Name, res.Completed, tasks)
	}
	return res, nil
}

// peakRSS reads VmHWM from /proc/self/status, in bytes, or 0 if unavailable.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		f := bytes.Fields(s.Bytes())
		if len(f) == 3 && string(f[0]) == "VmHWM:" && string(f[2]) == "kB" {
			kb, err := strconv.ParseUint(string(f[1]), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}
