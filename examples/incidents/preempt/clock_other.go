//go:build !linux

package main

import "time"

// timed returns the wall-clock time f takes; on Linux it is the thread's
// CPU time instead.
func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
