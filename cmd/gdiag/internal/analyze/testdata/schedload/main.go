// Command schedload makes a real GODEBUG=schedtrace log with a phase of
// saturation inside a long quiet run, for gdiag analyze's tests:
//
//	go build -o /tmp/schedload . && GODEBUG=schedtrace=100 GOMAXPROCS=2 /tmp/schedload -quiet 30s -busy 3s 2> ../schedtrace-phase.txt
//
// (built first: under go run, GODEBUG would reach the go command too)
//
// It idles (a ticker and a little work every 10 ms) for -quiet, then runs
// 16 CPU-bound goroutines per P for -busy, then idles for -quiet again.
package main

import (
	"flag"
	"runtime"
	"sync"
	"time"
)

var sink int

func main() {
	quiet := flag.Duration("quiet", 60*time.Second, "idle time before and after the busy phase")
	busy := flag.Duration("busy", 4*time.Second, "length of the busy phase")
	flag.Parse()
	idle(*quiet)
	var wg sync.WaitGroup
	end := time.Now().Add(*busy)
	for range 16 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			n := 0
			for time.Now().Before(end) {
				for i := range 1000 {
					n += i
				}
			}
			sink += n & 1
		})
	}
	wg.Wait()
	idle(*quiet)
}

func idle(d time.Duration) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); {
		<-tick.C
		sink += len(make([]byte, 64))
	}
}
