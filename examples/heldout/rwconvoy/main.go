// Command rwconvoy is a config store behind one sync.RWMutex whose reload
// takes the write lock for 5 ms, 50 times a second, while 32 readers take
// the read lock for every lookup: each write blocks the readers, a convoy.
// It runs the gdiag agent with the mutex profile on (fraction 5).
// Expected: mutex-contention, in main.(*config).reload or its readers.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gdiag/gdiag/probes"
)

type config struct {
	mu   sync.RWMutex
	vals map[string]int
}

func (c *config) lookup(k string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.vals[k]
}

func (c *config) reload() {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := time.Now().Add(5 * time.Millisecond)
	for time.Now().Before(end) {
		c.vals["x"]++
	}
}

func main() {
	dur := flag.Duration("duration", 5*time.Minute, "exit after")
	flag.Parse()
	runtime.SetMutexProfileFraction(5)
	agent, err := probes.Start(probes.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer agent.Close()
	c := &config{vals: map[string]int{"x": 1}}
	go func() {
		for range time.Tick(20 * time.Millisecond) {
			c.reload()
		}
	}()
	for range 32 {
		go func() {
			for {
				c.lookup("x")
				time.Sleep(100 * time.Microsecond)
			}
		}()
	}
	fmt.Printf("heldout: rwconvoy pid %d ready\n", os.Getpid())
	time.Sleep(*dur)
}
