// Package testcrash holds tests that fail the ways tests fail in CI, so
// that scripts/crash-corpus can record what go test prints: a test that
// hangs until -timeout ends it, a test that panics, and a synctest bubble
// that deadlocks. They are run only by that script, with -run naming one.
package testcrash

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestHang(t *testing.T) {
	var mu sync.Mutex
	mu.Lock()
	done := make(chan struct{})
	for range 3 {
		go func() {
			mu.Lock()
			defer mu.Unlock()
			close(done)
		}()
	}
	t.Log("waiting for a result that never comes")
	<-done
}

type cache struct{ items map[string]int }

func TestPanic(t *testing.T) {
	var c *cache
	t.Log("looking up a key")
	if c.items["k"] != 0 {
		t.Fatal("unexpected value")
	}
	c.items["k"] = 1
}

func TestBubbleDeadlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ch := make(chan int)
		go func() { ch <- 1 }()
		go func() { time.Sleep(time.Second); <-ch; <-ch }()
		time.Sleep(2 * time.Second)
		<-ch
	})
}
