// Command gc imitates GC pressure: a service keeps a pointer-rich live
// heap (an in-memory index of 100,000 entries, about 12 MiB) and someone
// lowered GOGC to 5 to save memory, while every request builds and
// throws away a large temporary buffer (256 KiB, as when encoding a
// response into a fresh bytes.Buffer). With so little headroom above
// the live heap, the collector starts a new cycle after every few requests
// and must mark the whole index each time: tens of GC cycles a second, a
// large share of the CPU in the collector (GCCPUFraction) and requests
// slowed by mark assists.
//
// gdiag doctor should name GC pressure, with renderResponse as the top
// allocator. The fix is usually to allocate less (reuse buffers, sync.Pool)
// or to give the heap room: a higher GOGC with a GOMEMLIMIT.
//
//	go run ./examples/incidents/gc [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"context"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

const (
	gcPercent   = 5         // the lowered GOGC
	indexSize   = 250_000   // live entries, each a small object with pointers
	garbageSize = 512 << 10 // bytes allocated and dropped per request
)

// entry is one element of the live index; the pointers make the collector
// visit every entry on every cycle.
type entry struct {
	key  string
	next *entry
	val  []byte
}

// index is the live heap; it stays reachable for the program's life.
var index atomic.Pointer[[]*entry]

func main() {
	harness.Main(harness.Program{
		Name: "gc",
		Start: func(context.Context, *sync.WaitGroup) error {
			buildIndex()
			debug.SetGCPercent(gcPercent)
			return nil
		},
		Handle: func(ctx context.Context, seq uint64) error {
			renderResponse(seq)
			return harness.Work(ctx)
		},
	})
}

// buildIndex fills the live heap.
func buildIndex() {
	idx := make([]*entry, indexSize)
	var prev *entry
	for i := range idx {
		e := &entry{key: string(rune('a' + i%26)), next: prev, val: make([]byte, 64)}
		idx[i], prev = e, e
	}
	index.Store(&idx)
}

// garbage keeps the last response reachable until the next one, so that
// the compiler cannot drop the allocation.
var garbage atomic.Pointer[[]byte]

// renderResponse allocates a fresh 256 KiB buffer per request and touches
// every page of it, as encoding a large response would.
func renderResponse(seq uint64) {
	buf := make([]byte, garbageSize)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = byte(seq)
	}
	garbage.Store(&buf)
}
