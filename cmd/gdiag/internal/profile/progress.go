package profile

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Progress shows that a capture of length d is under way, on w (stderr):
// a bar redrawn in place when w is a terminal, otherwise one line, so that
// logs of scripted runs stay readable. It shows nothing for d <= 0. The
// returned stop erases the bar and waits for its goroutine; it may be
// called more than once.
func Progress(w io.Writer, what string, d time.Duration) (stop func()) {
	if d <= 0 {
		return func() {}
	}
	if !isTerminal(w) {
		fmt.Fprintf(w, "%s for %v…\n", what, d)
		return func() {}
	}
	done, finished := make(chan struct{}), make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(max(d/40, 100*time.Millisecond))
		defer tick.Stop()
		for {
			fmt.Fprintf(w, "\r%s %s", what, bar(time.Since(start), d))
			select {
			case <-done:
				fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", len(what)+40))
				return
			case <-tick.C:
			}
		}
	}()
	return sync.OnceFunc(func() { close(done); <-finished })
}

// bar draws [=====     ] 2.0s/5s; past d it stays full while the target
// finishes writing.
func bar(el, d time.Duration) string {
	const width = 20
	n := min(int(float64(width)*float64(el)/float64(d)), width)
	return fmt.Sprintf("[%s%s] %4.1fs/%v", strings.Repeat("=", n), strings.Repeat(" ", width-n), min(el, d).Seconds(), d)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
