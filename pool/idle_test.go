package pool_test

import (
	"bytes"
	"context"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdiag/gdiag/pool"
	"go.uber.org/goleak"
)

// TestIdleWorkersAreNotContention parks 8 idle workers, then wakes them all.
// Their wait must not count as lock contention (the runtime's mutex wait,
// credited when a waiter wakes) nor show as sync.Mutex.Lock in a
// goroutine dump: a diagnostics pool must not make a calm service look
// contended.
func TestIdleWorkersAreNotContention(t *testing.T) {
	defer goleak.VerifyNone(t)
	const n = 8
	p := pool.New("idle", pool.WithMaxWorkers(n), pool.WithIdleTimeout(time.Minute), pool.WithoutRegistry())
	defer p.Stop(context.Background())
	runAll := func() {
		var started, release sync.WaitGroup
		started.Add(n)
		release.Add(1)
		for range n {
			p.Submit(context.Background(), func(context.Context) error { started.Done(); release.Wait(); return nil })
		}
		started.Wait() // all n workers exist and run at once
		release.Done()
	}
	runAll()
	waitFor(t, "every worker to go idle", func() bool { return p.Stats().Idle == n })
	before := mutexWait()
	var dump bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&dump, 2)
	time.Sleep(200 * time.Millisecond) // parked: 8 × 0.2 s if it counted
	runAll()                           // wakes every parked worker
	waited := mutexWait() - before
	if waited > 0.5 {
		t.Errorf("mutex wait grew by %.2fs while %d workers idled 0.2s; want about 0", waited, n)
	}
	for _, g := range strings.Split(dump.String(), "\n\n") {
		if strings.Contains(g, "pool.(*Pool).work") && strings.Contains(g, "[sync.Mutex.Lock") {
			t.Errorf("an idle worker is parked on a mutex:\n%s", g)
		}
	}
}

func mutexWait() float64 {
	s := []metrics.Sample{{Name: "/sync/mutex/wait/total:seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64()
}
