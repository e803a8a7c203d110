// Command deadlock imitates a lock-order deadlock: at start, a settlement
// job takes the accounts lock and then wants the ledger lock, while a
// reconciliation job holds the ledger lock and wants the accounts lock.
// Neither ever gets it. Every twentieth request then records an audit
// entry in a goroutine of its own, which takes the ledger lock: about 10
// goroutines a second pile up behind the deadlock, blocked forever in
// sync.Mutex.Lock. The request load itself does not touch the locks, so
// the service still answers; only the audit trail has stopped.
//
// The mutex profile and the runtime's lock wait (/sync/mutex/wait/total)
// show nothing: both are recorded when a waiter gets the lock. gdiag
// doctor should name a lock-stall once the oldest waiters have waited a
// minute (the goroutine dump reports waits in whole minutes), with the
// settlement and reconciliation stacks among those shown.
//
//	go run ./examples/incidents/deadlock [-agent-dir DIR] [-duration 0] [-load 200]
package main

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/gdiag/gdiag/examples/incidents/internal/harness"
)

// auditCap bounds the goroutines piled behind the deadlock.
const auditCap = 20_000

var (
	accounts, ledger sync.Mutex
	audits           atomic.Int64
)

func main() {
	harness.Main(harness.Program{Name: "deadlock", Start: start, Handle: handle})
}

// start deadlocks the two jobs before the ready line: each takes its
// first lock, waits until the other has taken its own, and asks for the
// other's. The two goroutines are never released, so they are not in wg.
func start(context.Context, *sync.WaitGroup) error {
	var held sync.WaitGroup
	held.Add(2)
	go settle(&held)
	go reconcile(&held)
	held.Wait()
	return nil
}

func settle(held *sync.WaitGroup) {
	accounts.Lock()
	held.Done()
	held.Wait()
	ledger.Lock() // never returns: reconcile holds it
}

func reconcile(held *sync.WaitGroup) {
	ledger.Lock()
	held.Done()
	held.Wait()
	accounts.Lock() // never returns: settle holds it
}

// handle serves one request; every twentieth records an audit entry.
func handle(ctx context.Context, seq uint64) error {
	if seq%20 == 0 && audits.Add(1) <= auditCap {
		go audit(seq)
	}
	return harness.Work(ctx)
}

// audit appends to the ledger, behind the deadlocked lock.
func audit(seq uint64) {
	ledger.Lock()
	defer ledger.Unlock()
	_ = seq
}
