// Package service is the frame of the held-out programs of gdiag's
// preemption-delay tests: a process with garbage to collect, the gdiag
// agent (or only net/http/pprof), and one piece of hot code of its own.
// The programs were written apart from examples/incidents/preempt, on
// which doctor's rule was built, to see how it does on code it has not
// seen. They take the incident programs' flags and print their ready line.
package service

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // the -pprof form
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/gdiag/gdiag/probes"
)

// Main parses -agent-dir and -duration, as the incident programs do,
// starts the agent, the garbage and hot (which must return when its
// context ends), prints "incident: NAME pid PID ready" and runs until a
// signal or the end of -duration. With GDIAG_HELDOUT_PPROF=1 in the
// environment it serves net/http/pprof on a loopback port instead of the
// agent, and writes the URL to the file pprof-url in -agent-dir.
func Main(name string, hot func(ctx context.Context)) {
	dir := flag.String("agent-dir", "", "the agent's directory")
	duration := flag.Duration("duration", 3*time.Minute, "exit after this long")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	if os.Getenv("GDIAG_HELDOUT_PPROF") == "1" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(name, err)
		}
		srv := &http.Server{Handler: http.DefaultServeMux}
		go srv.Serve(ln)
		defer srv.Close()
		if err := os.WriteFile(filepath.Join(*dir, "pprof-url"), []byte("http://"+ln.Addr().String()), 0o600); err != nil {
			fail(name, err)
		}
	} else {
		agent, err := probes.Start(probes.Options{Dir: *dir, Flight: &probes.FlightOptions{}})
		if err != nil {
			fail(name, err)
		}
		defer agent.Close()
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { garbage(ctx) })
	}
	wg.Go(func() { hot(ctx) })
	fmt.Printf("incident: %s pid %d ready\n", name, os.Getpid())
	<-ctx.Done()
	wg.Wait()
}

func fail(name string, err error) {
	fmt.Fprintf(os.Stderr, "heldout %s: %v\n", name, err)
	os.Exit(1)
}

// kept holds the last response of each garbage goroutine.
var kept sync.Map

// garbage builds a 256 KiB response every 10ms, as a handler would,
// which keeps the collector running (and stopping the world) often.
func garbage(ctx context.Context) {
	n := 0
	Every(ctx, 10*time.Millisecond, func() {
		buf := make([]byte, 256<<10)
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = byte(n)
		}
		kept.Store(n%4, buf)
		n++
	})
}

// Every calls f every period until ctx ends.
func Every(ctx context.Context, period time.Duration, f func()) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		f()
	}
}
