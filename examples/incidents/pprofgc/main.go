// Command pprofgc is a service with only net/http/pprof, no gdiag agent,
// under GC pressure: a large pointer-rich live index (300,000 entries),
// GOGC lowered to 5 and about 100 MiB/s of short-lived garbage from its
// own request loop (renderPage). It is what gdiag doctor meets on a
// service nobody prepared for it: doctor must read the CPU profile it
// takes (the collector's share, marking and assists included), find
// GOMAXPROCS itself, name gc-pressure, and suggest only commands that work
// on a pprof URL.
//
// The first stdout line is "incident: pprofgc pid PID ready URL".
//
//	go run ./examples/incidents/pprofgc [-duration 0]
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
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	gcPercent   = 5
	indexSize   = 300_000
	pageSize    = 256 << 10 // bytes of garbage per request
	requestsPer = 400       // requests a second
)

type entry struct {
	key  string
	next *entry
	val  []byte
}

var (
	index atomic.Pointer[[]*entry]
	sink  atomic.Pointer[[]byte]
)

func main() {
	duration := flag.Duration("duration", 0, "exit after this long; 0 runs until SIGINT or SIGTERM")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	buildIndex()
	debug.SetGCPercent(gcPercent)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pprofgc:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	done := make(chan struct{})
	go func() { defer close(done); requests(ctx) }()
	fmt.Printf("incident: pprofgc pid %d ready http://%s\n", os.Getpid(), ln.Addr())
	<-ctx.Done()
	<-done
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	fmt.Fprintln(os.Stderr, "pprofgc: stopping")
}

func buildIndex() {
	idx := make([]*entry, indexSize)
	var prev *entry
	for i := range idx {
		e := &entry{key: fmt.Sprint(i), next: prev, val: make([]byte, 48)}
		idx[i], prev = e, e
	}
	index.Store(&idx)
}

// requests serves requestsPer requests a second, each rendering a page.
func requests(ctx context.Context) {
	t := time.NewTicker(time.Second / requestsPer)
	defer t.Stop()
	for seq := 0; ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			renderPage(seq)
		}
	}
}

// renderPage builds a response and drops it: garbage.
func renderPage(seq int) {
	buf := make([]byte, pageSize)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = byte(seq)
	}
	sink.Store(&buf)
}
