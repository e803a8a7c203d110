//go:build unix

package sched

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// pollMillis is how long the key reader waits in poll before checking
// whether it should stop: it bounds how long stop takes.
const pollMillis = 50

// readKeys puts the terminal in raw mode and delivers its key presses.
// stop ends the reader, waits for it and restores the terminal mode.
// It polls rather than blocking in read, because a goroutine blocked in
// read(2) on a terminal cannot be woken and would outlive the view.
func readKeys(f *os.File) (keys <-chan byte, stop func(), err error) {
	fd := int(f.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan byte, 16)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		buf := make([]byte, 16)
		for {
			select {
			case <-done:
				return
			default:
			}
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, pollMillis)
			if errors.Is(err, unix.EINTR) || err == nil && n == 0 {
				continue
			}
			if err != nil || fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 && fds[0].Revents&unix.POLLIN == 0 {
				return
			}
			m, err := unix.Read(fd, buf)
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
				continue
			}
			if err != nil || m == 0 {
				return
			}
			for _, b := range buf[:m] {
				select {
				case ch <- b:
				case <-done:
					return
				}
			}
		}
	}()
	stop = func() {
		close(done)
		wg.Wait()
		_ = term.Restore(fd, old)
	}
	return ch, stop, nil
}
