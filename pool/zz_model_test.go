package pool

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

func BenchmarkZZModelRing(b *testing.B) {
	var q ring
	var n atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			var r taskRec
			for !stop.Load() {
				if q.pop(&r) {
					n.Add(1)
				} else {
					runtime.Gosched()
				}
			}
		})
	}
	r := taskRec{key: "x"}
	var inflight atomic.Int64
	_ = inflight
	for i := 0; i < b.N; i++ {
		for q.len() > 1024 {
			runtime.Gosched()
		}
		q.push(&r, 2048)
	}
	for n.Load() < int64(b.N) {
		runtime.Gosched()
	}
	stop.Store(true)
	wg.Wait()
}

func BenchmarkZZModelChan(b *testing.B) {
	ch := make(chan taskRec, 1024)
	var n atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range ch {
				n.Add(1)
			}
		})
	}
	r := taskRec{key: "x"}
	for i := 0; i < b.N; i++ {
		ch <- r
	}
	close(ch)
	wg.Wait()
}

func BenchmarkZZModelChanPtr(b *testing.B) {
	ch := make(chan *taskRec, 1024)
	var n atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for range ch {
				n.Add(1)
			}
		})
	}
	r := &taskRec{key: "x"}
	for i := 0; i < b.N; i++ {
		ch <- r
	}
	close(ch)
	wg.Wait()
}
