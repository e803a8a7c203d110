package main

import (
	"syscall"
	"time"
)

// checkSyscall reports whether blockingSyscall works here; on Linux it does.
func checkSyscall() error { return nil }

// blockingSyscall blocks its goroutine's thread in the kernel for d with a
// raw nanosleep system call. Unlike time.Sleep, which parks only the
// goroutine, it keeps the thread, so the runtime must hand its P to
// another thread, creating one if none is idle.
func blockingSyscall(d time.Duration) {
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	for {
		var rem syscall.Timespec
		err := syscall.Nanosleep(&ts, &rem)
		if err != syscall.EINTR { // the runtime's signals interrupt it: sleep the rest
			return
		}
		ts = rem
	}
}
