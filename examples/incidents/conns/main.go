// Command conns is a healthy server whose clients keep their connections
// open: an HTTP/1.1 keep-alive server on loopback, and a client process
// (this program again, started with -client) that opens 30 new
// connections a second, up to 1,200, each sending a request every three
// seconds. After 40 s of growth the clients hold their connections for
// 20 s, close them all, wait 20 s, and start over. The server holds one
// goroutine per open connection (net/http's conn.serve, mostly in IO
// wait), so its goroutine count climbs steadily with the connections and
// falls back to the baseline when they close.
//
// A leak detector that only sees a straight line of goroutines calls this
// a leak. gdiag doctor should call it load (connection-growth, a warning
// at most), with the process's established connections rising alongside
// the goroutines as evidence, and never a goroutine leak.
//
//	go run ./examples/incidents/conns [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

// The client population's cycle.
const (
	connsPerSecond = 30
	maxConns       = 1200
	growFor        = 40 * time.Second
	holdFor        = 20 * time.Second
	idleFor        = 20 * time.Second
	requestEvery   = 3 * time.Second
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-client" {
		clients(os.Args[2])
		return
	}
	harness.Main(harness.Program{Name: "conns", Start: serve})
}

// serve starts the server and the client process; both stop with ctx.
func serve(ctx context.Context, wg *sync.WaitGroup) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	}), IdleTimeout: time.Minute, ReadHeaderTimeout: 10 * time.Second}
	exe, err := os.Executable()
	if err != nil {
		ln.Close()
		return err
	}
	// The clients live in a process of their own, as real clients do; they
	// exit when their stdin closes, which happens when this process ends.
	cmd := exec.Command(exe, "-client", ln.Addr().String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		ln.Close()
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		ln.Close()
		return err
	}
	wg.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "conns: serve: %v\n", err)
		}
	})
	wg.Go(func() {
		<-ctx.Done()
		stdin.Close()
		_ = cmd.Wait()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
	})
	return nil
}

// clients runs the client population against addr until stdin closes.
func clients(addr string) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	for ctx.Err() == nil {
		cycle(ctx, addr)
	}
}

// cycle opens connections for growFor, holds them for holdFor, closes
// them all and waits idleFor.
func cycle(ctx context.Context, addr string) {
	cctx, closeAll := context.WithCancel(ctx)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / connsPerSecond)
	grow := time.NewTimer(growFor)
	n := 0
growing:
	for {
		select {
		case <-ctx.Done():
			break growing
		case <-grow.C:
			break growing
		case <-tick.C:
			if n < maxConns {
				n++
				wg.Go(func() { client(cctx, addr) })
			}
		}
	}
	tick.Stop()
	wait(ctx, holdFor)
	closeAll()
	wg.Wait()
	wait(ctx, idleFor)
}

func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// client keeps one connection and sends a request on it every
// requestEvery until ctx ends.
func client(ctx context.Context, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	context.AfterFunc(ctx, func() { c.Close() })
	r := bufio.NewReader(c)
	for ctx.Err() == nil {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: conns\r\n\r\n"); err != nil {
			return
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		wait(ctx, requestEvery)
	}
}
