// Package cputime reads the CPU time of the running process, for
// benchmarks that report it beside wall-clock time: on a shared machine the
// wall-clock time of a benchmark mostly measures the wait for a core, while
// the process's CPU time counts what it did, on every thread (other
// goroutines' and the garbage collector's included). Linux and other Unix
// systems only; safe for concurrent use.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the user and system CPU time the process has used, or 0
// when the system cannot tell.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
