// Command mapsgc keeps a cache of 200,000 small maps (one per user, a few
// string fields each) and rebuilds 10,000 of them per tick, 50 ticks a
// second: many small pointer-rich allocations with a large live heap, at
// the default GOGC. It runs the gdiag agent, GOMAXPROCS 2. Expected:
// gc-pressure, from main.rebuild.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/gdiag/gdiag/probes"
)

// perTick maps are rebuilt every 20 ms: 500,000 small maps a second.
const perTick = 10_000

func profile(i int) map[string]string {
	return map[string]string{"id": strconv.Itoa(i), "name": "user" + strconv.Itoa(i), "plan": "pro", "region": "eu"}
}

func rebuild(cache []map[string]string, from int) {
	for i := from; i < from+perTick; i++ {
		cache[i%len(cache)] = profile(i)
	}
}

func main() {
	dur := flag.Duration("duration", 5*time.Minute, "exit after")
	flag.Parse()
	runtime.GOMAXPROCS(2)
	agent, err := probes.Start(probes.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer agent.Close()
	cache := make([]map[string]string, 200_000)
	for i := range cache {
		cache[i] = profile(i)
	}
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		for i := 0; ; i += perTick {
			<-t.C
			rebuild(cache, i)
		}
	}()
	fmt.Printf("heldout: mapsgc pid %d ready\n", os.Getpid())
	time.Sleep(*dur)
	runtime.KeepAlive(cache)
}
