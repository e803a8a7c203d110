// Command cost measures what a gdiag doctor window costs the process it
// watches: the request latency a client sees from a small HTTP service
// running the gdiag agent (about 0.5 ms of CPU a request, 100 requests a
// second), over rounds of 20 s without doctor and 20 s with gdiag doctor
// watching, alternated so that the host's load hits both alike.
//
//	go build -o /tmp/gdiag ./cmd/gdiag
//	go run ./examples/incidents/internal/cost -gdiag /tmp/gdiag [-rounds 3]
//
// It prints the latency quantiles of each kind of round and their ratio.
package main

import (
	"bufio"
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gdiag/gdiag/probes"
)

func main() {
	serve := flag.String("serve", "", "run as the target, with its agent in this `directory`")
	gdiag := flag.String("gdiag", "gdiag", "the gdiag binary")
	rounds := flag.Int("rounds", 3, "rounds of each kind")
	round := flag.Duration("round", 20*time.Second, "length of a round, and of doctor's window")
	rps := flag.Int("rps", 100, "requests per second")
	flag.Parse()
	if *serve != "" {
		target(*serve)
		return
	}
	if err := measure(*gdiag, *rounds, *round, *rps); err != nil {
		fmt.Fprintln(os.Stderr, "cost:", err)
		os.Exit(1)
	}
}

// target serves /work: about half a millisecond of hashing.
func target(dir string) {
	agent, err := probes.Start(probes.Options{Dir: dir, Flight: &probes.FlightOptions{}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer agent.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.Sum256([]byte(r.URL.Path))
		for range 2000 {
			sum = sha256.Sum256(sum[:])
		}
		fmt.Fprintf(w, "%x\n", sum[:4])
	})
	fmt.Printf("target pid %d http://%s\n", os.Getpid(), ln.Addr())
	go http.Serve(ln, nil)
	io.Copy(io.Discard, os.Stdin) // until the parent goes
}

func measure(gdiag string, rounds int, round time.Duration, rps int) error {
	dir, err := os.MkdirTemp("", "gdcost")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "-serve", dir)
	stdin, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return err
	}
	f := strings.Fields(line)
	pid, url := f[2], f[3]+"/work"
	time.Sleep(2 * time.Second)
	var without, with []time.Duration
	for i := range 2 * rounds {
		if i%2 == 0 {
			without = append(without, load(url, round, rps)...)
			continue
		}
		doc := exec.Command(gdiag, "doctor", pid, "--window", round.String(), "--out-dir", dir)
		doc.Env = append(os.Environ(), "GDIAG_DIR="+dir)
		if err := doc.Start(); err != nil {
			return err
		}
		with = append(with, load(url, round, rps)...)
		doc.Wait()
	}
	fmt.Printf("%-16s %8s %10s %10s %10s %10s\n", "", "requests", "p50", "p90", "p99", "max")
	row := func(name string, d []time.Duration) {
		fmt.Printf("%-16s %8d %10v %10v %10v %10v\n", name, len(d), q(d, 0.5), q(d, 0.9), q(d, 0.99), q(d, 1))
	}
	row("without doctor", without)
	row("during doctor", with)
	fmt.Printf("%-16s %8s %10.2f %10.2f %10.2f %10.2f\n", "ratio", "",
		ratio(with, without, 0.5), ratio(with, without, 0.9), ratio(with, without, 0.99), ratio(with, without, 1))
	return nil
}

// load sends rps requests a second for d, each in its own goroutine, and
// returns their latencies (a failed request counts as 10 s).
func load(url string, d time.Duration, rps int) []time.Duration {
	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	c := &http.Client{Timeout: 10 * time.Second}
	t := time.NewTicker(time.Second / time.Duration(rps))
	defer t.Stop()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		<-t.C
		wg.Go(func() {
			start := time.Now()
			resp, err := c.Get(url)
			took := time.Since(start)
			if err != nil {
				took = 10 * time.Second
			} else {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			mu.Lock()
			lat = append(lat, took)
			mu.Unlock()
		})
	}
	wg.Wait()
	return lat
}

func q(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(int(p*float64(len(s))), len(s)-1)].Round(10 * time.Microsecond)
}

func ratio(a, b []time.Duration, p float64) float64 {
	if q(b, p) == 0 {
		return 0
	}
	return float64(q(a, p)) / float64(q(b, p))
}
