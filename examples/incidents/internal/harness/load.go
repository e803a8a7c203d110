package harness

import (
	"context"
	"crypto/sha256"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// DefaultRPS is the load's default rate, in requests per second.
const DefaultRPS = 200

// LoadPoolName is the name of the pool the load's requests run on, as
// /v1/pools and gdiag pools show it.
const LoadPoolName = "requests"

// tenants are the keys of the load's requests, in turn.
var tenants = []string{"tenant-a", "tenant-b", "tenant-c", "tenant-d"}

// RunLoad submits rps requests a second to p, each handled by handle,
// until ctx ends. A request's context is ctx, so requests still queued
// when ctx ends are canceled rather than run.
//
// The rate is kept against the clock, not per tick: when the generator
// itself is delayed (a saturated CPU, a stopped world) it submits the
// requests that fell due meanwhile, as independent clients would have
// sent them, up to one second's worth; older ones are dropped. When p's
// queue is full the submission blocks. rps <= 0 sends nothing.
func RunLoad(ctx context.Context, p *pool.Pool, rps int, handle func(ctx context.Context, seq uint64) error) {
	if rps <= 0 {
		return
	}
	interval := time.Second / time.Duration(rps)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	var seq uint64 // requests submitted or dropped so far
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		due := uint64(time.Since(start) / interval)
		if due > seq+uint64(rps) {
			seq = due - uint64(rps) // too far behind: drop the oldest
		}
		for ; seq < due && ctx.Err() == nil; seq++ {
			s := seq
			_ = p.Go(ctx, pool.Task{ // errors: only ctx ending, and then the loop ends too
				Key:   tenants[s%uint64(len(tenants))],
				Label: "request",
				Fn:    func(ctx context.Context) error { return handle(ctx, s) },
			})
		}
	}
}

// workRounds is the number of SHA-256 rounds in about a millisecond of
// CPU on this machine, set by calibrate; 0 until then.
var workRounds atomic.Int64

// defaultRounds is used before calibration: about 1 ms on a 2020s x86 core.
const defaultRounds = 3000

var calibrateOnce sync.Once

// calibrate measures how many rounds of Burn take a millisecond, once per
// process, so that Work is about a millisecond of CPU on any machine.
func calibrate() {
	calibrateOnce.Do(func() {
		const probe = 20 * time.Millisecond
		start := time.Now()
		n := 0
		for time.Since(start) < probe {
			Burn(100)
			n += 100
		}
		workRounds.Store(max(int64(n)*int64(time.Millisecond)/int64(time.Since(start)), 1))
	})
}

// Work is one request's work: about a millisecond of CPU (SHA-256 rounds,
// calibrated when the program starts) and a 4 KiB response buffer, as a
// small JSON endpoint would spend. It returns ctx's error if ctx has
// already ended.
func Work(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rounds := int(workRounds.Load())
	if rounds == 0 {
		rounds = defaultRounds
	}
	h := Burn(rounds)
	resp := make([]byte, 4<<10)
	copy(resp, h[:])
	sink.Store(&resp)
	return nil
}

// sink keeps the compiler from proving Work's allocation and Burn's
// hashing dead.
var sink atomic.Pointer[[]byte]

// Burn hashes a 32-byte block rounds times with SHA-256 and returns the
// result: CPU work that cannot be optimised away and does not allocate.
func Burn(rounds int) [32]byte {
	var h [32]byte
	for range rounds {
		h = sha256.Sum256(h[:])
	}
	return h
}
