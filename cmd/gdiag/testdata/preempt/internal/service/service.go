// Package service is the frame of the held-out programs of gdiag's
// preemption-delay tests: a process with garbage to collect, the gdiag
// agent (or only net/http/pprof), and one piece of hot code of its own.
// The programs were written apart from examples/incidents/preempt, on
// which doctor's rule was built, to see how it does on code it has not
// seen.
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
	"sync"
	"syscall"
	"time"

	"github.com/gdiag/gdiag/probes"
)

// Main parses -agent-dir, -pprof and -duration, starts the agent (or a
// loopback pprof server), the garbage and hot (which must return when its
// context ends), prints "heldout: NAME pid PID ready [URL]" and runs until
// a signal or the end of -duration.
func Main(name string, hot func(ctx context.Context)) {
	dir := flag.String("agent-dir", "", "the agent's directory")
	pprof := flag.Bool("pprof", false, "serve net/http/pprof on a loopback port instead of the agent")
	duration := flag.Duration("duration", 3*time.Minute, "exit after this long")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	url := ""
	if *pprof {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(name, err)
		}
		srv := &http.Server{Handler: http.DefaultServeMux}
		go srv.Serve(ln)
		defer srv.Close()
		url = " http://" + ln.Addr().String()
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
	fmt.Printf("heldout: %s pid %d ready%s\n", name, os.Getpid(), url)
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
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		buf := make([]byte, 256<<10)
		for i := 0; i < len(buf); i += 4096 {
			buf[i] = byte(n)
		}
		kept.Store(n%4, buf)
	}
}
