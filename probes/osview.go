package probes

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/procfs"
)

// osWindow is the shortest time between the two readings the rates of
// /v1/os come from: the kernel counts CPU time in 10 ms ticks, so a
// shorter window would be mostly rounding.
const osWindow = time.Second

// osView keeps what the kernel says about this process's CPU (see
// procfs): the latest reading and the one before it, at least
// osWindow apart. The agent's sampler refreshes it after each snapshot,
// in its own goroutine (about 200 µs per reading on a 20-thread process);
// without a sampler, a request takes two readings itself.
type osView struct {
	mu       sync.Mutex
	prev     procfs.Sample
	cur      procfs.Sample
	read     func(pid int) (procfs.Sample, error)
	disabled error // why the kernel's figures cannot be read here
}

func newOSView() *osView {
	v := &osView{read: procfs.Read}
	if _, err := v.read(os.Getpid()); err != nil {
		v.disabled = err
	}
	return v
}

// available reports whether /v1/os is served.
func (v *osView) available() bool { return v != nil && v.disabled == nil }

// tick takes a reading when the latest is osWindow old.
func (v *osView) tick() {
	if !v.available() {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.cur.Time.IsZero() && time.Since(v.cur.Time) < osWindow {
		return
	}
	s, err := v.read(os.Getpid())
	if err != nil {
		return
	}
	v.prev, v.cur = v.cur, s
}

// get returns the latest reading and the rates since the one before.
// When the sampler has not kept them fresh (Handler without a sampler, or
// the first second), it reads twice, osWindow apart, ending early with
// ctx.
func (v *osView) get(ctx context.Context) (apiv1.OS, error) {
	v.mu.Lock()
	prev, cur := v.prev, v.cur
	v.mu.Unlock()
	if prev.Time.IsZero() || time.Since(cur.Time) > 3*osWindow {
		var err error
		if prev, err = v.read(os.Getpid()); err != nil {
			return apiv1.OS{}, err
		}
		if !sleepCtx(ctx, osWindow) {
			return apiv1.OS{}, ctx.Err()
		}
		if cur, err = v.read(os.Getpid()); err != nil {
			return apiv1.OS{}, err
		}
	}
	r := procfs.Diff(prev, cur)
	return apiv1.OS{Sample: cur, Rates: r}, nil
}

func (a *api) serveOS(w http.ResponseWriter, r *http.Request, _ string) {
	ctx, cancel := a.captureContext(r)
	defer cancel()
	v, err := a.src.os.get(ctx)
	if r.Context().Err() != nil {
		return
	}
	if err != nil {
		writeError(w, http.StatusConflict, "reading /proc: "+err.Error(), "retry")
		return
	}
	v.GOMAXPROCS = runtime.GOMAXPROCS(0)
	writeJSON(w, v)
}
