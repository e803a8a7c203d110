// Command nilchan is a metrics forwarder whose output channel is never
// made (the constructor that should make it is skipped by a config flag):
// every report goroutine blocks forever sending on a nil channel. 600 leak
// at start, then 2 a second. net/http/pprof only, no agent. Expected: a
// leak first; once parked a minute, a static leak on a nil channel
// (critical: nothing can ever receive from a nil channel).
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"time"
)

type forwarder struct {
	out chan []byte // nil: newForwarder was never called
}

func (f *forwarder) report(b []byte) {
	go func() { f.out <- b }()
}

func main() {
	dur := flag.Duration("duration", 5*time.Minute, "exit after")
	flag.Parse()
	f := &forwarder{}
	for i := 0; i < 600; i++ {
		f.report([]byte("boot"))
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go http.Serve(ln, nil)
	go func() {
		for range time.Tick(500 * time.Millisecond) {
			f.report([]byte("tick"))
		}
	}()
	fmt.Printf("heldout: nilchan pid %d ready http://%s\n", os.Getpid(), ln.Addr())
	time.Sleep(*dur)
}
