// Command preempt imitates the incident where the world cannot stop: a
// service runs with asynchronous preemption turned off
// (GODEBUG=asyncpreemptoff=1, which some deployments set to work around
// trouble with signals) and has a hot loop without function calls. Here a
// pricing goroutine recomputes a book of 65,536 instruments five times a
// second in reprice, a loop of multiply-adds that makes no call and runs
// about 100 ms, and a feed goroutine encodes the latest prices for
// subscribers every 20 ms, a 512 KiB frame each time, which keeps the
// garbage collector busy.
//
// Without asynchronous preemption a goroutine stops only at a function
// call, so every stop-the-world request that comes during reprice (the
// collector asks for two per cycle) waits for the loop to end: the world
// takes up to 100 ms just to stop, and during that time every other
// goroutine, and every request in flight, waits. The pauses show in the
// runtime's /sched/pauses/stopping/gc:seconds as much as in
// /sched/pauses/total/gc:seconds: the time goes in stopping, not in the
// collector's work. gdiag doctor should name preemption-delay, the
// goroutine running reprice, and asyncpreemptoff.
//
// The program sets GODEBUG=asyncpreemptoff=1 for itself: when GODEBUG
// does not mention asyncpreemptoff, it executes itself again with it (the
// runtime reads GODEBUG only at start; the process keeps its PID). Run it
// with GODEBUG=asyncpreemptoff=0 to see the same loop preempted in time.
//
//	go run ./examples/incidents/preempt [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"context"
	"encoding/binary"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

const (
	instruments = 1 << 16                // the book
	loopTime    = 100 * time.Millisecond // one reprice, calibrated at start
	period      = 200 * time.Millisecond // a reprice starts this often
	feedEvery   = 20 * time.Millisecond  // a feed frame is encoded this often
)

func main() {
	if !strings.Contains(os.Getenv("GODEBUG"), "asyncpreemptoff") {
		reexec("asyncpreemptoff=1") // returns only if it could not
	}
	harness.Main(harness.Program{Name: "preempt", Start: start})
}

func start(ctx context.Context, wg *sync.WaitGroup) error {
	book := make([]float64, instruments)
	for i := range book {
		book[i] = 100 + float64(i%997)/10
	}
	rounds := calibrate(book)
	prices := [2][]float64{make([]float64, instruments), make([]float64, instruments)}
	published.Store(&prices[0])
	wg.Go(func() { pricer(ctx, book, prices, rounds) })
	wg.Go(func() { feed(ctx) })
	return nil
}

// published is the latest prices.
var published atomic.Pointer[[]float64]

// pricer reprices the book every period until ctx ends, into the buffer
// readers are not using, and publishes it.
func pricer(ctx context.Context, book []float64, prices [2][]float64, rounds int) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		out := prices[n%2]
		reprice(book, out, rounds)
		published.Store(&out)
	}
}

// frames counts the feed's frames; the last one is kept for subscribers.
var (
	frames    atomic.Int64
	lastFrame atomic.Pointer[[]byte]
)

// feed encodes the latest prices for subscribers every feedEvery: a new
// frame of 8 bytes per instrument each time.
func feed(ctx context.Context) {
	tick := time.NewTicker(feedEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p := *published.Load()
		frame := make([]byte, 0, 8*len(p))
		for _, v := range p {
			frame = binary.LittleEndian.AppendUint64(frame, math.Float64bits(v))
		}
		lastFrame.Store(&frame)
		frames.Add(1)
	}
}

// reprice computes every instrument's price from the book, rounds times
// over: a tight loop of arithmetic with no function call in it, so that
// with asynchronous preemption off nothing can stop it before it returns.
//
//go:noinline
func reprice(book, out []float64, rounds int) {
	for r := 0; r < rounds; r++ {
		drift := 1 + float64(r)*1e-9
		for i, p := range book {
			v := p * drift
			v = v*0.999 + out[i]*0.001
			out[i] = v
		}
	}
}

// calibrate returns the rounds of reprice that take about loopTime of CPU.
func calibrate(book []float64) int {
	out := make([]float64, len(book))
	rounds := 1
	for {
		d := timed(func() { reprice(book, out, rounds) })
		if d >= 20*time.Millisecond {
			return max(1, int(math.Round(float64(rounds)*float64(loopTime)/float64(d))))
		}
		rounds *= 2
	}
}
