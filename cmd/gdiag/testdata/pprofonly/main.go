// Command pprofonly is a tiny Go service with net/http/pprof and nothing
// else, for gdiag's end-to-end tests against a plain pprof target. It
// prints "listening on http://ADDR" as its first line on stdout, keeps a
// little CPU and allocation work going so that profiles have samples, and
// exits on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"
)

var (
	sink []byte
	// kept is memory held for the life of the process, so that the heap
	// profile always has something in use.
	kept [][]byte
)

func main() {
	addr := flag.String("listen", "127.0.0.1:0", "loopback address to serve /debug/pprof/ on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for range 64 {
		kept = append(kept, make([]byte, 64<<10))
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go work(ctx)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// work burns a few milliseconds of CPU and allocates, every 10 ms.
func work(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for end := time.Now().Add(3 * time.Millisecond); time.Now().Before(end); {
			sink = make([]byte, 1024)
		}
	}
}
