package sched

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/schedstats"
	"go.uber.org/goleak"
)

// fakeSource serves snapshots one second apart, then the errors in errs
// (nil entries serve a snapshot), then blocks until ctx ends.
type fakeSource struct {
	mu   sync.Mutex
	next schedstats.Snapshot
	errs []error
	n    int
}

func (f *fakeSource) snapshot(ctx context.Context) (schedstats.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	if len(f.errs) == 0 {
		f.mu.Unlock()
		<-ctx.Done()
		f.mu.Lock()
		return schedstats.Snapshot{}, ctx.Err()
	}
	err := f.errs[0]
	f.errs = f.errs[1:]
	if err != nil {
		return schedstats.Snapshot{}, err
	}
	f.next.Time = f.next.Time.Add(time.Second)
	return f.next.Clone(), nil
}

func newFake(t *testing.T, errs ...error) (*fakeSource, *history) {
	h := loadHistory(t)
	last, _ := h.latest()
	return &fakeSource{next: last.Clone(), errs: errs}, h
}

var (
	gone    = cli.Errorf(cli.ExitTarget, "is the process still running?", "cannot connect to 1234: connection refused")
	stalled = cli.Errorf(cli.ExitTimeout, "raise --timeout", "1234 did not answer snapshot within 10s")
)

func TestLiveExits(t *testing.T) {
	defer goleak.VerifyNone(t)
	cases := []struct {
		name     string
		errs     []error
		count    int
		cancel   bool // cancel the context once the source blocks
		code     int  // exit code of the returned error
		wantOut  []string
		wantErr  string
		wantDraw int // frames drawn
	}{
		{name: "count", errs: []error{nil, nil, nil}, count: 3, wantDraw: 3},
		{name: "target gone", errs: []error{nil, gone}, code: cli.ExitTarget, wantErr: "lost 1234 during the live view", wantDraw: 2},
		{name: "stall then recover", errs: []error{stalled, nil}, count: 3, wantOut: []string{"! 1234 did not answer snapshot within 10s; retrying"}, wantDraw: 3},
		{name: "remote error", errs: []error{cli.Errorf(cli.ExitRemote, "", "500")}, code: cli.ExitRemote, wantErr: "500", wantDraw: 1},
		{name: "interrupted", errs: []error{nil}, cancel: true, wantDraw: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, h := newFake(t, c.errs...)
			var out bytes.Buffer
			sc := &screen{out: &out, outTTY: true, outFd: -1}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancel {
				go func() {
					for {
						src.mu.Lock()
						blocked := src.n > len(c.errs)
						src.mu.Unlock()
						if blocked {
							cancel()
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
			}
			err := live(ctx, sc, src, h, "1234", options{interval: time.Millisecond, count: c.count})
			if cli.ExitCode(err) != c.code && !(err == nil && c.code == 0) || err != nil && !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("live() = %v (exit %d); want exit %d, %q", err, cli.ExitCode(err), c.code, c.wantErr)
			}
			s := out.String()
			if !strings.HasPrefix(s, enterScreen) || !strings.HasSuffix(s, leaveScreen) {
				t.Errorf("live() output starts %q, ends %q; want the alternate screen entered and left", head(s), tail(s))
			}
			if n := strings.Count(s, home) - strings.Count(enterScreen, home); n != c.wantDraw {
				t.Errorf("live() drew %d frames; want %d", n, c.wantDraw)
			}
			for _, w := range c.wantOut {
				if !strings.Contains(s, w) {
					t.Errorf("live() output lacks %q", w)
				}
			}
			if strings.Contains(s, "\n") && !strings.Contains(s, "\r\n") {
				t.Errorf("live() ends lines with \\n alone; raw mode needs \\r\\n")
			}
		})
	}
}

func head(s string) string { return s[:min(len(s), 20)] }
func tail(s string) string { return s[max(0, len(s)-20):] }

// TestLivePlain checks that off a terminal the view prints frames without
// escape codes.
func TestLivePlain(t *testing.T) {
	src, h := newFake(t, nil)
	var out bytes.Buffer
	err := live(context.Background(), &screen{out: &out, outFd: -1}, src, h, "1234", options{interval: time.Millisecond, count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.String(); strings.Contains(s, "\x1b") || strings.Count(s, "gdiag sched 1234") != 2 || !strings.Contains(s, "Ctrl-C quits") {
		t.Errorf("live(plain) output = %q; want two frames, no escapes", s)
	}
}

// TestFetchQuit checks that a quit key abandons a request to a stalled
// target, and that the request's goroutine ends.
func TestFetchQuit(t *testing.T) {
	defer goleak.VerifyNone(t)
	keys := make(chan byte, 2)
	keys <- 'x'
	keys <- 'q'
	ev := &events{keys: keys}
	src := &fakeSource{} // no errs: blocks until its context ends
	_, quit, err := ev.fetch(context.Background(), src)
	if !quit || err != nil {
		t.Errorf("fetch(stalled, keys x q) = quit %v, %v; want quit", quit, err)
	}
	close(keys)
	if ev.waitTick(context.Background(), time.After(time.Millisecond)) || ev.keys != nil {
		t.Errorf("waitTick(closed keys) quit or kept the closed channel; want it to ignore stdin's end")
	}
}

func TestIsQuit(t *testing.T) {
	for k, want := range map[byte]bool{'q': true, 'Q': true, 3: true, 'x': false, '\r': false, 0: false} {
		if got := isQuit(k); got != want {
			t.Errorf("isQuit(%q) = %v; want %v", k, got, want)
		}
	}
}
