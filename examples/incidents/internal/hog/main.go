// Command hog keeps every CPU of the host busy: one spinning thread per
// CPU (or -threads N) until it is stopped or -duration ends. It is the
// other program of the contended incident.
//
//	nice -n -10 go run ./examples/incidents/internal/hog -duration 1m
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

func main() {
	threads := flag.Int("threads", runtime.NumCPU(), "spinning threads")
	duration := flag.Duration("duration", 5*time.Minute, "stop after this long")
	flag.Parse()
	runtime.GOMAXPROCS(*threads)
	var stop atomic.Bool
	for range *threads {
		go func() {
			for x := 0; !stop.Load(); x++ {
			}
		}()
	}
	fmt.Printf("hog: pid %d spinning on %d threads\n", os.Getpid(), *threads)
	time.Sleep(*duration)
	stop.Store(true)
}
