// Command regexcpu is a log filter that compiles and runs backtracking-
// heavy regular expressions on every line, with 8 workers and the default
// GOMAXPROCS, behind net/http/pprof only. Expected (pprof target):
// cpu-saturation from the CPU profile against GOMAXPROCS, in regexp
// called from main.filter.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

var matched atomic.Int64

func filter(line string) {
	re := regexp.MustCompile(`(a|aa|aaa)*(b|bb)*[a-z]+[0-9]{2,}x$`)
	if re.MatchString(line) {
		matched.Add(1)
	}
}

func main() {
	dur := flag.Duration("duration", 5*time.Minute, "exit after")
	flag.Parse()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go http.Serve(ln, nil)
	line := strings.Repeat("aab", 200) + "zz99y"
	for range 8 {
		go func() {
			for {
				filter(line)
			}
		}()
	}
	fmt.Printf("heldout: regexcpu pid %d ready http://%s\n", os.Getpid(), ln.Addr())
	time.Sleep(*dur)
}
