// Command hash fingerprints a 512 MiB buffer back to back, as a
// deduplicating store would, with hash/maphash: maphash.Bytes hands the
// whole buffer to the runtime's memhash, which cannot be preempted however
// long it runs. Asynchronous preemption stays on.
package main

import (
	"context"
	"hash/maphash"
	"sync/atomic"

	"github.com/gdiag/gdiag/cmd/gdiag/testdata/preempt/internal/service"
)

var sums atomic.Uint64

func main() {
	blob := make([]byte, 512<<20)
	for i := range blob {
		blob[i] = byte(i)
	}
	seed := maphash.MakeSeed()
	service.Main("hash", func(ctx context.Context) {
		for ctx.Err() == nil {
			sum := maphash.Bytes(seed, blob)
			blob[0] = byte(sum)
			sums.Add(1)
		}
	})
}
