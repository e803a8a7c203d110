package pool_test

import (
	"bytes"
	"context"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/gdiag/gdiag/pool"
)

// spin burns CPU for about d.
func spin(d time.Duration) uint64 {
	var x uint64
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := range 1000 {
			x += uint64(i) * x
		}
	}
	return x
}

func TestPprofLabels(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Fatalf("StartCPUProfile() = %v", err) // another profile is running: a real failure here
	}
	p := pool.New("pprof-test", pool.WithMaxWorkers(2), pool.WithoutRegistry())
	var sink atomic.Uint64
	for i := range 40 {
		label := ""
		if i%2 == 0 {
			label = "crunch"
		}
		_ = p.Go(context.Background(), pool.Task{Label: label, Fn: func(context.Context) error {
			sink.Add(spin(10 * time.Millisecond))
			return nil
		}})
	}
	stop(t, p)
	pprof.StopCPUProfile()

	prof, err := profile.Parse(&buf)
	if err != nil {
		t.Fatalf("profile.Parse() = %v", err)
	}
	var pooled, labelled int
	for _, s := range prof.Sample {
		if slicesContain(s.Label["pool"], "pprof-test") {
			pooled++
			if slicesContain(s.Label["task"], "crunch") {
				labelled++
			}
		}
	}
	// 400 ms of CPU at 100 Hz gives about 40 samples; a few suffice.
	if pooled < 3 || labelled < 1 {
		t.Fatalf("samples with pool=pprof-test = %d, with task=crunch = %d; want ≥3 and ≥1", pooled, labelled)
	}
}

func slicesContain(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
