//go:build gdiag_deep && go1.26 && !go1.27

package probes

import (
	"runtime"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
	"go.uber.org/goleak"
)

// Run with: go test -race -tags gdiag_deep -ldflags=-checklinkname=0 ./probes/

func TestDeepMode(t *testing.T) {
	r := processReader()
	if st := r.Status(); st.Mode != schedstats.SourceDeep || st.Fallback {
		t.Fatalf("Status() = %+v; want deep mode", st)
	}
	procs := runtime.GOMAXPROCS(0)
	stop := spin(8 * procs)
	var s schedstats.Snapshot
	queued := 0
	for range 30 {
		r.Read(&s)
		if len(s.LocalRunQueues) != procs || s.Sources.RunQueues != schedstats.SourceDeep {
			t.Fatalf("LocalRunQueues = %v (source %v); want %d entries from deep", s.LocalRunQueues, s.Sources.RunQueues, procs)
		}
		for _, q := range s.LocalRunQueues {
			if q < 0 || q > runqCap {
				t.Errorf("local run queue = %d; want 0..%d", q, runqCap)
			}
			if q > 0 {
				queued++
			}
		}
		time.Sleep(time.Millisecond)
	}
	stop()
	if queued == 0 {
		t.Errorf("local run queues empty in all samples under load; want some > 0")
	}
	if n := testing.AllocsPerRun(50, func() { r.Read(&s) }); n != 0 {
		t.Errorf("deep Read allocates %v per call; want 0", n)
	}
	goleak.VerifyNone(t)
}

func TestDeepCheckRejects(t *testing.T) {
	bad := []*pMirror{{id: 1}, {id: 0, status: 99}}
	d := &deepReader{allp: &bad}
	if err := d.check(); err == nil {
		t.Errorf("check(swapped ids, bad status) = nil; want an error")
	}
	short := []*pMirror{}
	if err := (&deepReader{allp: &short}).check(); err == nil {
		t.Errorf("check(empty allp) = nil; want an error")
	}
	r := newReader(liveSched(), &deepReader{allp: &bad})
	if st := r.Status(); st.Mode != schedstats.SourceSched || st.Reason == "" {
		t.Errorf("Status() with a bad deep mirror = %+v; want sched mode and a reason", st)
	}
}
