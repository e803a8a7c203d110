// Command slice runs, for each of a stream of requests (one every 500ms,
// each on a goroutine of its own), a tight loop over a 64 MiB slice: two
// passes of arithmetic over 16M integers with no function call. Started
// with GODEBUG=asyncpreemptoff=1 by the test.
package main

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/testdata/preempt/internal/service"
)

var result atomic.Int64

func main() {
	data := make([]int32, 16<<20)
	for i := range data {
		data[i] = int32(i * 2654435761)
	}
	service.Main("slice", func(ctx context.Context) {
		service.Every(ctx, 500*time.Millisecond, func() {
			go func() { result.Store(score(data)) }()
		})
	})
}

// score folds the slice twice over.
//
//go:noinline
func score(data []int32) int64 {
	var s int64
	for pass := range 2 {
		for _, v := range data {
			s += int64(v) * int64(pass+1)
			s ^= s >> 13
		}
	}
	return s
}
