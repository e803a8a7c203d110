// Package incidents holds no code: its subdirectories are small programs,
// one per kind of trouble gdiag doctor recognises, plus a healthy
// baseline, and this package's test checks that each starts and stops
// cleanly. README.md lists the programs, what each imitates, and the
// signals measured on each through the agent API.
//
//	go run ./examples/incidents/leak -agent-dir /tmp/gd1   # incident: leak pid 1234 ready
//	GDIAG_DIR=/tmp/gd1 gdiag doctor 1234 --window 15s
//
// Every program runs the same request load and the gdiag agent (see
// internal/harness) and adds one fault: leak (goroutine leak), cpu (CPU
// saturation), mutex (lock contention), gc (GC pressure), threads (thread
// growth from blocking system calls), pool (pool overload), stw (long
// stop-the-world pauses), preempt (pauses spent waiting for a loop that
// cannot be preempted: preemption-delay), deadlock (a lock-order deadlock
// that requests pile up behind: lock-stall); healthy adds none.
package incidents
