// Command jsoncpu saturates its one P with JSON encoding: GOMAXPROCS 1,
// and a catalogue endpoint that encodes a 2,000-item document per request,
// driven by 16 concurrent clients in the same process. It runs the gdiag
// agent. Expected: cpu-saturation, in encoding/json called from
// main.catalogue (unless the host starves it first).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/gdiag/gdiag/probes"
)

type item struct {
	ID    int               `json:"id"`
	Name  string            `json:"name"`
	Tags  []string          `json:"tags"`
	Attrs map[string]string `json:"attrs"`
	Price float64           `json:"price"`
}

var items = func() []item {
	out := make([]item, 2000)
	for i := range out {
		out[i] = item{ID: i, Name: fmt.Sprintf("item-%d", i), Tags: []string{"a", "b", "c"},
			Attrs: map[string]string{"colour": "red", "size": "xl"}, Price: float64(i) / 3}
	}
	return out
}()

func catalogue(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(items)
}

func main() {
	dur := flag.Duration("duration", 5*time.Minute, "exit after")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	agent, err := probes.Start(probes.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer agent.Close()
	http.HandleFunc("/catalogue", catalogue)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go http.Serve(ln, nil)
	for range 16 {
		go func() {
			for {
				resp, err := http.Get("http://" + ln.Addr().String() + "/catalogue")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	fmt.Printf("heldout: jsoncpu pid %d ready http://%s\n", os.Getpid(), ln.Addr())
	time.Sleep(*dur)
}
