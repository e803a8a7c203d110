package probes

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
)

func benchParked(ch chan struct{}) { <-ch }

// BenchmarkStackDumpPause measures the stop of the world of a full stack
// dump (a census, or goroutine?debug=2) per 100,000 goroutines parked on
// a channel receive, the figure the documentation quotes:
//
//	go test -run '^$' -bench StackDumpPause -benchtime 5x ./probes
func BenchmarkStackDumpPause(b *testing.B) {
	const n = 100000
	ch := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); benchParked(ch) }()
	}
	defer func() { close(ch); wg.Wait() }()
	var pause time.Duration
	var size int
	for b.Loop() {
		start := time.Now()
		d, err := stackDump(context.Background(), time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		// stackDump's own time is the runtime.Stack call, which is the
		// pause; the buffer's allocation is outside it but small.
		pause += time.Since(start)
		size = len(d.b)
		d.release()
	}
	b.ReportMetric(pause.Seconds()/float64(b.N)*100000/float64(runtime.NumGoroutine()), "s/100k-goroutines")
	b.ReportMetric(float64(size)/float64(runtime.NumGoroutine()), "bytes/goroutine")
}
