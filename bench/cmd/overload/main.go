// Command overload runs one overload scenario through the gdiag pool with
// each of its overload controls, through go-zero's adaptive shedder and
// breaker, and through failsafe-go's adaptive limiter and circuit breaker,
// and prints per phase the goodput (requests finished within their
// deadline, per second), the p50 and p99 latency of admitted requests,
// the share refused, and the time to recover after each disturbance.
//
//	go run ./cmd/overload                 # the full scenario, a Markdown table
//	go run ./cmd/overload -only 'gdiag'   # the contenders whose name matches
//
// # Virtual time
//
// Each contender runs in its own testing/synctest bubble: time.Now,
// timers and sleeps inside it follow a fake clock that jumps ahead
// whenever every goroutine of the bubble is blocked. The service's CPU
// bursts and dependency calls are timers, and every library under test
// reads time.Now, so the 110-second scenario runs in a few seconds and a
// busy host cannot change what any contender measures or decides: the
// ranking does not depend on the machine. The cost of the controls
// themselves (nanoseconds per decision) is not in these figures; the
// pool's own cost per task is measured by the benchmarks in ../../pool.
// synctest needs a *testing.T, so main runs the simulation as a test
// through testing.Main.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/zeromicro/go-zero/core/logx"
)

func main() {
	only := flag.String("only", "", "run the contenders whose name matches this regular expression")
	seed := flag.Uint64("seed", 1, "seed of the arrivals and service times of the first run")
	seeds := flag.Int("seeds", 5, "runs, each with its own arrivals (seeds seed, seed+1, ...); the tables show the median of each figure")
	scale := flag.Float64("scale", 1, "scale of the phases' durations")
	contention := flag.Float64("contention", 0.005, "slowdown of a CPU burst per request waiting for a slot")
	trace := flag.String("trace", "", "print every 100 ms the pool's limit, queue and refusals for the gdiag contender of this name, to stderr")
	asJSON := flag.Bool("json", false, "print the results as JSON")
	testing.Init()
	flag.Parse()
	logx.Disable()
	re, err := regexp.Compile(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "overload:", err)
		os.Exit(2)
	}
	ph := scenario(*scale)
	test := func(t *testing.T) {
		var results []result
		var requests int
		for _, c := range contenders() {
			if !re.MatchString(c.name) {
				continue
			}
			var runs []result
			for i := range max(*seeds, 1) {
				reqs := arrivals(ph, *seed+uint64(i))
				requests = len(reqs)
				var recs []record
				synctest.Test(t, func(t *testing.T) { recs = run(c, ph, reqs, *contention, c.name == *trace && i == 0) })
				runs = append(runs, summarize(c, ph, recs))
			}
			results = append(results, median(runs))
		}
		if *asJSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(results)
		} else {
			fmt.Printf("medians of %d runs (seeds %d to %d, about %d requests each); service: %d CPU slots, CPU %v and dependency %v (means, exponential), deadline %v, capacity %.0f/s, contention %g\n",
				max(*seeds, 1), *seed, *seed+uint64(max(*seeds, 1))-1, requests, slots, cpuMean, depMean, deadline, capacity, *contention)
			table(os.Stdout, ph, results)
		}
		os.Stdout = os.Stderr // the test harness's closing "PASS" is not part of the results
	}
	_ = flag.Set("test.run", "^overload$")
	testing.Main(func(string, string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: "overload", F: test}}, nil, nil)
}

// run sends reqs through c, each on its own goroutine at its arrival time,
// and returns what happened to each, in arrival order. It runs inside a
// synctest bubble.
func run(c contender, ph []phase, reqs []request, contention float64, trace bool) []record {
	start := time.Now()
	s := newService(start, ph, contention)
	h := c.new(s)
	if ph, ok := h.(*poolHandler); ok && trace {
		stop := make(chan struct{})
		defer close(stop)
		go ph.trace(start, stop)
	}
	recs := make([]record, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		time.Sleep(time.Until(start.Add(r.at)))
		wg.Go(func() {
			ctx, cancel := context.WithDeadline(context.Background(), start.Add(r.at+deadline))
			defer cancel()
			out := h.handle(ctx, r)
			recs[i] = record{at: r.at, out: out, latency: min(time.Since(start.Add(r.at)), deadline)} // a caller stops waiting at its deadline
		})
	}
	wg.Wait()
	h.stop()
	// Requests abandoned at their deadline may still be running their CPU
	// burst: let them end before the bubble closes.
	synctest.Wait()
	for s.inCPU.Load() > 0 {
		time.Sleep(time.Millisecond)
	}
	return recs
}
