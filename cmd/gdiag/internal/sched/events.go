package sched

import (
	"context"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// events waits for the live view's next step while watching the keyboard.
type events struct {
	keys <-chan byte // nil without a terminal on stdin
	quit string      // how to leave, for the header
}

// isQuit reports whether k asks to leave: q, or Ctrl-C, which raw mode
// delivers as a byte instead of a signal.
func isQuit(k byte) bool { return k == 'q' || k == 'Q' || k == 3 }

// key handles one receive from e.keys and reports whether it asks to quit.
func (e *events) key(k byte, ok bool) bool {
	if !ok {
		e.keys = nil // stdin closed: only signals can stop the view now
		return false
	}
	return isQuit(k)
}

// waitTick waits for the next tick and reports whether the user quit or
// ctx ended first.
func (e *events) waitTick(ctx context.Context, tick <-chan time.Time) bool {
	for {
		select {
		case <-ctx.Done():
			return true
		case <-tick:
			return false
		case k, ok := <-e.keys:
			if e.key(k, ok) {
				return true
			}
		}
	}
}

// fetch reads a snapshot, abandoning the request if the user quits while
// a slow target makes it wait.
func (e *events) fetch(ctx context.Context, src source) (s schedstats.Snapshot, quit bool, err error) {
	type result struct {
		s   schedstats.Snapshot
		err error
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		s, err := src.snapshot(fctx)
		done <- result{s, err}
	}()
	for {
		select {
		case r := <-done:
			return r.s, false, r.err
		case k, ok := <-e.keys:
			if e.key(k, ok) {
				cancel()
				<-done
				return schedstats.Snapshot{}, true, nil
			}
		}
	}
}
