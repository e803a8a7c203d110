package main

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// timed runs f on a locked thread and returns the CPU time that thread
// spent in it: on a busy machine the wall-clock time would count the wait
// for a core too.
func timed(f func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var a, b unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &a) != nil {
		start := time.Now()
		f()
		return time.Since(start)
	}
	f()
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &b) != nil {
		return 0
	}
	return time.Duration(b.Nano() - a.Nano())
}
