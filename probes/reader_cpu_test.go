package probes

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

var cpuMinute = flag.Bool("cpu-minute", false, "TestSamplingCPU: measure a minute of 10 Hz sampling")

// TestSamplingCPU measures the process CPU time a 10 Hz sampler costs,
// in three runs of the same length: the idle process (the runtime's own
// background work), a 10 Hz ticker alone (the wakeups), and the ticker
// with a Read per tick. Sampling costs the last minus the first; the reads
// alone, the last minus the second. Over one second each by default, over
// a minute each with
//
//	go test -run TestSamplingCPU -v ./probes/ -args -cpu-minute
//
// It reads the threads' CPU time from /proc, so it is Linux only. On the
// 2-core VM we test on, a 10 Hz ticker waking an otherwise idle process
// costs about 0.24% of a core by itself (the runtime's timer wakeups, with
// no gdiag code: see the log), far more than the reads.
func TestSamplingCPU(t *testing.T) {
	if _, err := procCPU(); err != nil {
		t.Skipf("no per-thread CPU time in /proc: %v", err) // not Linux; nothing to measure
	}
	d := time.Second
	if *cpuMinute {
		d = time.Minute
	}
	r := processReader()
	pct := func(c, w time.Duration) float64 { return 100 * c.Seconds() / w.Seconds() }
	before, _ := procCPU()
	start := time.Now()
	time.Sleep(d)
	after, _ := procCPU()
	idle := pct(after-before, time.Since(start))
	base, baseWall, _ := tickLoop(t, d, nil)
	cpu, wall, reads := tickLoop(t, d, r)
	t.Logf("idle process: %.3f%% of one core; 10 Hz ticker alone: %.3f%%; ticker and %d reads: %.3f%%",
		idle, pct(base, baseWall), reads, pct(cpu, wall))
	t.Logf("10 Hz sampling costs %.3f%% of one core over the idle process (the reads alone %.3f%%)",
		pct(cpu, wall)-idle, pct(cpu, wall)-pct(base, baseWall))
	if reads < int(d/(100*time.Millisecond))/2 {
		t.Errorf("%d reads in %v; want about %d", reads, wall, d/(100*time.Millisecond))
	}
}

// tickLoop runs a 10 Hz ticker for d, reading a snapshot on each tick when
// r is not nil, and returns the process CPU time used, the wall time and
// the number of reads.
func tickLoop(t *testing.T, d time.Duration, r *reader) (cpu, wall time.Duration, reads int) {
	var s schedstats.Snapshot
	before, _ := procCPU()
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for time.Since(start) < d {
		<-tick.C
		if r != nil {
			r.Read(&s)
			reads++
		}
	}
	after, err := procCPU()
	if err != nil {
		t.Fatal(err)
	}
	return after - before, time.Since(start), reads
}

// procCPU returns the CPU time of all the process's threads, in
// nanoseconds, from /proc/self/task/*/schedstat (the scheduler's own
// accounting; /proc/self/stat would round to 10 ms ticks).
func procCPU() (time.Duration, error) {
	stats, err := filepath.Glob("/proc/self/task/*/schedstat")
	if err != nil || len(stats) == 0 {
		return 0, fmt.Errorf("no /proc/self/task/*/schedstat")
	}
	var total int64
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the thread exited since the glob
		}
		f := bytes.Fields(b)
		if len(f) == 0 {
			return 0, fmt.Errorf("bad %s", path)
		}
		n, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bad %s: %v", path, err)
		}
		total += n
	}
	return time.Duration(total), nil
}
