package probes

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"sync/atomic"
	"time"
)

// standardProfiles are the runtime's profiles served at /v1/profile/{name}:
// the usual seven, and goroutineleak when the runtime has it.
var standardProfiles = runtimeProfiles()

// leakProfile is the runtime's profile of goroutines blocked forever on
// unreachable channels or locks. Go 1.26 has it when the program is built
// with GOEXPERIMENT=goroutineleakprofile; writing it runs a GC cycle that
// looks for such goroutines.
const leakProfile = "goroutineleak"

func runtimeProfiles() map[string]struct{} {
	m := map[string]struct{}{
		"cpu": {}, "heap": {}, "allocs": {}, "mutex": {}, "block": {}, "goroutine": {}, "threadcreate": {},
	}
	if pprof.Lookup(leakProfile) != nil {
		m[leakProfile] = struct{}{}
	}
	return m
}

// The CPU profiler and the tracer are process-wide, so these try-locks are
// too: every Handler and agent in the process shares them. A second request
// is refused with 409 instead of queueing behind a capture of minutes.
var (
	cpuBusy   atomic.Bool
	traceBusy atomic.Bool
)

// captureContext ends when the client goes away or the agent stops.
func (a *api) captureContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(a.base, cancel)
	return ctx, func() { stop(); cancel() }
}

// sleepCtx waits d or until ctx is done; it reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (a *api) serveProfile(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	dbg, err := parseIntParam(q, "debug", 0, 2)
	if err != nil {
		writeParamError(w, err)
		return
	}
	if fn, ok := a.profiles[name]; ok {
		a.serveCustomProfile(w, r, name, fn)
		return
	}
	if _, ok := standardProfiles[name]; !ok && name == leakProfile {
		writeError(w, http.StatusNotFound, "profile goroutineleak is not available in this runtime",
			"build the program with Go 1.26 or later and GOEXPERIMENT=goroutineleakprofile")
		return
	} else if !ok {
		writeError(w, http.StatusBadRequest, "unknown profile "+strconv.Quote(truncate(name)),
			"GET /v1/info lists the profiles")
		return
	}
	if name == "cpu" {
		a.serveCPUProfile(w, r, dbg)
		return
	}
	if _, given, err := captureDuration(q, 0, a.max); err != nil || given {
		writeError(w, http.StatusBadRequest, name+" is a point-in-time profile and takes no duration",
			"omit seconds and duration; to compare two moments, take two profiles and use go tool pprof -base")
		return
	}
	if dbg == 2 && name != "goroutine" && name != leakProfile {
		writeError(w, http.StatusBadRequest, "debug=2 is only for the goroutine and goroutineleak profiles", "use debug=0 or debug=1")
		return
	}
	if name == "goroutine" && dbg == 2 {
		a.serveStackDump(w, r)
		return
	}
	p := pprof.Lookup(name)
	if p == nil {
		writeError(w, http.StatusNotFound, "profile "+name+" is not available in this runtime", "")
		return
	}
	var buf bytes.Buffer
	if err := p.WriteTo(&buf, dbg); err != nil {
		writeError(w, http.StatusConflict, "write "+name+" profile: "+err.Error(), "retry")
		return
	}
	writeProfile(w, name, dbg, buf.Bytes())
}

// serveStackDump serves goroutine?debug=2 from stackDump rather than
// pprof, whose writer cuts the dump at 64 MiB (about 100,000 goroutines
// of a real server) and stops the world again for each larger buffer it
// tries. The dump is bounded by a pause budget instead (max_pause).
func (a *api) serveStackDump(w http.ResponseWriter, r *http.Request) {
	maxPause, err := parseDurationParam(r.URL.Query(), "max_pause", 0, maxCensusPause)
	if err != nil {
		writeParamError(w, err)
		return
	}
	ctx, cancel := a.captureContext(r)
	defer cancel()
	d, err := stackDump(ctx, maxPause)
	if err != nil {
		if r.Context().Err() == nil {
			writeDumpError(w, "goroutine dump", err)
		}
		return
	}
	defer d.release()
	writeProfile(w, "goroutine", 2, d.b)
}

func (a *api) serveCPUProfile(w http.ResponseWriter, r *http.Request, dbg int) {
	if dbg != 0 {
		writeError(w, http.StatusBadRequest, "the cpu profile has no text form", "omit debug, and read the profile with go tool pprof")
		return
	}
	d, err := positiveCapture(r, defaultCPUProfileDuration, a.max)
	if err != nil {
		writeParamError(w, err)
		return
	}
	if !cpuBusy.CompareAndSwap(false, true) {
		writeError(w, http.StatusConflict, "a CPU profile is already running; retry when it ends", "retry in a few seconds")
		return
	}
	defer cpuBusy.Store(false)
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		// Someone outside this package is profiling.
		writeError(w, http.StatusConflict, "a CPU profile is already running; retry when it ends", err.Error())
		return
	}
	a.log.Info("probes: CPU profile started", "duration", d)
	ctx, cancel := a.captureContext(r)
	defer cancel()
	sleepCtx(ctx, d)
	pprof.StopCPUProfile()
	if r.Context().Err() != nil {
		return // the client has gone; nobody reads the answer
	}
	writeProfile(w, "cpu", 0, buf.Bytes())
}

func (a *api) serveCustomProfile(w http.ResponseWriter, r *http.Request, name string, fn ProfileFunc) {
	d, err := positiveCapture(r, defaultCPUProfileDuration, a.max)
	if err != nil {
		writeParamError(w, err)
		return
	}
	a.log.Info("probes: profile started", "name", name, "duration", d)
	ctx, cancel := a.captureContext(r)
	defer cancel()
	var buf bytes.Buffer
	err = fn(ctx, &buf, d)
	if r.Context().Err() != nil {
		return
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		writeError(w, http.StatusConflict, "profile "+name+": "+err.Error(), "retry when the capture in progress ends")
		return
	}
	writeProfile(w, name, 0, buf.Bytes())
}

func (a *api) serveTrace(w http.ResponseWriter, r *http.Request, _ string) {
	d, err := positiveCapture(r, defaultTraceDuration, a.max)
	if err != nil {
		writeParamError(w, err)
		return
	}
	if !traceBusy.CompareAndSwap(false, true) {
		writeError(w, http.StatusConflict, "a trace is already running; retry when it ends", "retry in a few seconds")
		return
	}
	defer traceBusy.Store(false)
	// The trace streams straight to the client: minutes of trace can be
	// large, and the server's write timeout bounds a slow reader.
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="gdiag.trace"`)
	h.Set("Cache-Control", "no-store")
	if err := trace.Start(w); err != nil {
		writeError(w, http.StatusConflict, "a trace is already running; retry when it ends", err.Error())
		return
	}
	a.log.Info("probes: execution trace started", "duration", d)
	ctx, cancel := a.captureContext(r)
	defer cancel()
	sleepCtx(ctx, d)
	trace.Stop()
}

func (a *api) serveFlight(w http.ResponseWriter, r *http.Request, _ string) {
	var buf bytes.Buffer
	if _, err := a.src.flight(&buf); err != nil {
		writeError(w, http.StatusConflict, "flight recorder: "+err.Error(), "the recorder may not be running yet; retry")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="gdiag-flight.trace"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// positiveCapture reads a capture duration that must be above zero.
func positiveCapture(r *http.Request, def, max time.Duration) (time.Duration, error) {
	d, _, err := captureDuration(r.URL.Query(), def, max)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, badParam("duration", "zero", "use a duration above zero, such as seconds=5")
	}
	return d, nil
}

func writeProfile(w http.ResponseWriter, name string, dbg int, b []byte) {
	h := w.Header()
	if dbg > 0 {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="`+name+`.pprof"`)
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
