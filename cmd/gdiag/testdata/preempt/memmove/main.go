// Command memmove snapshots a 384 MiB table into a second buffer, back to
// back, with copy: one runtime.memmove per snapshot, which cannot be
// preempted. Asynchronous preemption stays on, and the program has no
// gdiag agent: the test runs it with -pprof, net/http/pprof only.
package main

import (
	"context"
	"sync/atomic"

	"github.com/gdiag/gdiag/cmd/gdiag/testdata/preempt/internal/service"
)

var snapshots atomic.Int64

func main() {
	table, snap := make([]byte, 384<<20), make([]byte, 384<<20)
	for i := range table {
		table[i] = byte(i >> 12)
	}
	service.Main("memmove", func(ctx context.Context) {
		for ctx.Err() == nil {
			copy(snap, table)
			snapshots.Add(1)
		}
	})
}
