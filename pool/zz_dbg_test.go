package pool

import (
	"unsafe"
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestZZDebug(t *testing.T) {
	for _, q := range []int{1024, 2} {
		p := New("dbg", WithMaxWorkers(2), WithQueueSize(q), WithoutRegistry())
		var n atomic.Int64
		fn := func(context.Context) error { n.Add(1); return nil }
		start := time.Now()
		const N = 2000000
		for range N {
			_ = p.Submit(context.Background(), fn)
		}
		for n.Load() < N {
			time.Sleep(time.Millisecond)
		}
		el := time.Since(start)
		_ = p.Stop(context.Background())
		t.Logf("q=%d: %v/task blocks=%d parks=%d spins=%d kicks=%d wakeups=%d", q, el/N, dbgBlocks.Load(), dbgParks.Load(), dbgSpins.Load(), dbgKicks.Load(), dbgWakeups.Load())
		dbgBlocks.Store(0); dbgParks.Store(0); dbgSpins.Store(0); dbgKicks.Store(0); dbgWakeups.Store(0)
	}
}

func TestZZSize(t *testing.T) { t.Logf("worker %d taskRec %d slot %d", unsafe.Sizeof(worker{}), unsafe.Sizeof(taskRec{}), unsafe.Sizeof(slot{})) }
