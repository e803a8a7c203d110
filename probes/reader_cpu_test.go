package probes

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

var cpuMinute = flag.Bool("cpu-minute", false, "TestSamplingCPU: measure a minute of 10 Hz sampling")

// TestSamplingCPU measures the process CPU time a 10 Hz sampler costs:
// over one second by default, over a minute with
//
//	go test -run TestSamplingCPU ./probes/ -args -cpu-minute
//
// It reads utime+stime from /proc/self/stat, so it is Linux only, and
// the figure includes the idle process's own background CPU.
func TestSamplingCPU(t *testing.T) {
	if _, err := procCPU(); err != nil {
		t.Skipf("no /proc/self/stat: %v", err) // not Linux; nothing to measure
	}
	d := time.Second
	if *cpuMinute {
		d = time.Minute
	}
	r := NewReader()
	var s schedstats.Snapshot
	before, _ := procCPU()
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	reads := 0
	for time.Since(start) < d {
		<-tick.C
		r.Read(&s)
		reads++
	}
	tick.Stop()
	after, err := procCPU()
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	cpu := after - before
	t.Logf("10 Hz sampling: %d reads in %v used %v CPU (%.3f%% of one core, incl. ticker wakeups)",
		reads, wall.Round(time.Millisecond), cpu, 100*cpu.Seconds()/wall.Seconds())
	if reads < int(d/(100*time.Millisecond))/2 {
		t.Errorf("%d reads in %v; want about %d", reads, wall, d/(100*time.Millisecond))
	}
}

// procCPU returns the process's user+system CPU time from /proc/self/stat.
func procCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces; utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad /proc/self/stat")
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("bad /proc/self/stat")
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad /proc/self/stat")
	}
	// USER_HZ is 100 on every Linux port Go supports.
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}
