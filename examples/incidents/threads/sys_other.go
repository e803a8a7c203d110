//go:build !linux

package main

import (
	"errors"
	"time"
)

// checkSyscall reports that the fault needs Linux's raw nanosleep.
func checkSyscall() error {
	return errors.New("the threads incident needs Linux (raw nanosleep system calls)")
}

// blockingSyscall is never called outside Linux; checkSyscall fails first.
func blockingSyscall(time.Duration) {}
