package probes

import (
	"bytes"
	"context"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gdiag/gdiag/apiv1"
)

// Bounds on what an operation may set.
const (
	// maxGCPercent bounds GOGC: far above any use, below overflow in the
	// runtime's arithmetic.
	maxGCPercent = 1 << 20
	// minMemoryLimit refuses a limit below which the runtime would
	// collect continuously: a typo ("512" for 512 MiB) must not stall the
	// service.
	minMemoryLimit = 1 << 20
)

// peerKey carries who is on the other end of a connection, for the log
// of operations.
type peerKey struct{}

// peerContext describes the connection's peer: the socket's, whose uid
// the listener checked, or a TCP address, whose requests carry the token.
func peerContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitConn); ok {
		c = lc.Conn
	}
	var who string
	switch c := c.(type) {
	case *net.UnixConn:
		who = "socket uid " + strconv.Itoa(os.Getuid())
	default:
		who = "tcp " + c.RemoteAddr().String() + " with the token"
	}
	return context.WithValue(ctx, peerKey{}, who)
}

func peerOf(r *http.Request) string {
	if who, ok := r.Context().Value(peerKey{}).(string); ok {
		return who
	}
	return r.RemoteAddr
}

// logOp records an operation that changed the process, and who asked.
func (a *api) logOp(r *http.Request, op string, args ...any) {
	a.log.Info("probes: operation", append([]any{"op", op, "peer", peerOf(r)}, args...)...)
}

func (a *api) serveMemStats(w http.ResponseWriter, r *http.Request, _ string) {
	var m apiv1.MemStats
	runtime.ReadMemStats(&m.MemStats)
	m.GOGC, m.MemoryLimit = gcSettings()
	writeJSON(w, m)
}

// gcSettings reads GOGC and the memory limit without setting them
// (debug.SetGCPercent(-1) to read would switch the collector off for a
// moment).
func gcSettings() (gogc int, limit int64) {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(s)
	gogc, limit = -1, math.MaxInt64
	if s[0].Value.Kind() == metrics.KindUint64 {
		gogc = int(s[0].Value.Uint64())
	}
	if s[1].Value.Kind() == metrics.KindUint64 && s[1].Value.Uint64() < math.MaxInt64 {
		limit = int64(s[1].Value.Uint64())
	}
	return gogc, limit
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return s[0].Value.Uint64()
	}
	return 0
}

// gcRunning lets one agent-requested GC run at a time: runtime.GC blocks
// its caller for a whole cycle, and a queue of them would be a way to
// keep the collector busy.
var gcRunning sync.Mutex

func (a *api) serveGC(w http.ResponseWriter, r *http.Request, _ string) {
	if !gcRunning.TryLock() {
		writeError(w, http.StatusConflict, "a GC requested through the agent is already running", "retry when it ends")
		return
	}
	defer gcRunning.Unlock()
	res := apiv1.GC{HeapBefore: heapBytes()}
	start := time.Now()
	runtime.GC()
	res.Took = apiv1.Duration(time.Since(start))
	res.HeapAfter = heapBytes()
	a.logOp(r, "gc", "heap_before", res.HeapBefore, "heap_after", res.HeapAfter, "took", time.Duration(res.Took))
	writeJSON(w, res)
}

func (a *api) serveGCPercent(w http.ResponseWriter, r *http.Request, _ string) {
	gogc, _ := gcSettings()
	writeJSON(w, apiv1.GCPercent{Previous: gogc, Percent: gogc})
}

func (a *api) setGCPercent(w http.ResponseWriter, r *http.Request, _ string) {
	s := r.URL.Query().Get("percent")
	hint := "give percent=N (0 to " + strconv.Itoa(maxGCPercent) + ", as GOGC) or percent=off"
	n := -1
	if s != "off" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 0 || n > maxGCPercent {
			writeError(w, http.StatusBadRequest, "bad percent "+strconv.Quote(truncate(s)), hint)
			return
		}
	}
	prev := debug.SetGCPercent(n)
	a.logOp(r, "setgc", "previous", prev, "percent", n)
	writeJSON(w, apiv1.GCPercent{Previous: prev, Percent: n})
}

func (a *api) serveMemLimit(w http.ResponseWriter, r *http.Request, _ string) {
	_, limit := gcSettings()
	writeJSON(w, apiv1.MemoryLimit{Previous: limit, Bytes: limit})
}

func (a *api) setMemLimit(w http.ResponseWriter, r *http.Request, _ string) {
	s := r.URL.Query().Get("bytes")
	var n int64 = math.MaxInt64
	if s != "off" {
		var err error
		hint := "give bytes=N, at least " + strconv.Itoa(minMemoryLimit) + " (1 MiB), or bytes=off for no limit"
		if n, err = strconv.ParseInt(s, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, "bad bytes "+strconv.Quote(truncate(s)), hint)
			return
		}
		if n < minMemoryLimit {
			writeError(w, http.StatusBadRequest, "a memory limit of "+s+" bytes is under the 1 MiB minimum: the collector would run without pause", hint)
			return
		}
	}
	prev := debug.SetMemoryLimit(n)
	a.logOp(r, "memlimit", "previous", prev, "bytes", n)
	writeJSON(w, apiv1.MemoryLimit{Previous: prev, Bytes: n})
}

// rateBusy lets one rate-switched capture per profile run at a time: the
// rate is process-wide, and two overlapping captures would restore it in
// the wrong order.
var rateBusy = map[string]*sync.Mutex{"mutex": {}, "block": {}}

// serveRateProfile serves POST /v1/profile/{mutex,block}: it switches the
// profile's sampling rate on for the capture (mutex: 1 in rate=N events,
// 5 by default; block: one sample per rate=N nanoseconds blocked,
// 10000 by default), waits the capture's duration, writes the profile and
// restores the rate the process had, also when the client leaves. Both
// switches are logged.
//
// The runtime tells the mutex fraction (SetMutexProfileFraction(-1)) but
// not the block rate. So the block rate is switched on only when the
// block profile shows that the process samples nothing (see
// blockProfilingOff), and switched off after; a process that set a rate
// and has not sampled a single event yet would lose its rate.
func (a *api) serveRateProfile(w http.ResponseWriter, r *http.Request, name string) {
	mu, ok := rateBusy[name]
	if !ok {
		writeError(w, http.StatusMethodNotAllowed, "POST switches a profile's rate on for a capture; only mutex and block have one",
			"use GET for the "+truncate(name)+" profile")
		return
	}
	d, err := positiveCapture(r, defaultCPUProfileDuration, a.max)
	if err != nil {
		writeParamError(w, err)
		return
	}
	rate := map[string]int{"mutex": 5, "block": 10000}[name]
	if s := r.URL.Query().Get("rate"); s != "" {
		if rate, err = strconv.Atoi(s); err != nil || rate < 1 || rate > math.MaxInt32 {
			writeError(w, http.StatusBadRequest, "bad rate "+strconv.Quote(truncate(s)), "give rate=N, a whole number of 1 or more")
			return
		}
	}
	if !mu.TryLock() {
		writeError(w, http.StatusConflict, "a "+name+" capture with the rate switched on is already running", "retry when it ends")
		return
	}
	defer mu.Unlock()
	if name == "block" && !blockProfilingOff() {
		writeError(w, http.StatusConflict, "block profiling is already on in this process, at a rate the runtime does not tell",
			"take the profile without switching the rate on (GET, or gdiag profile block without --enable-rate): it holds what the process's own rate sampled")
		return
	}
	prev := setRate(name, rate)
	a.logOp(r, "profile-rate-on", "profile", name, "rate", rate, "previous", prev, "duration", d)
	ctx, cancel := a.captureContext(r)
	defer cancel()
	sleepCtx(ctx, d)
	restored := func() { setRate(name, prev); a.logOp(r, "profile-rate-restored", "profile", name, "rate", prev) }
	if r.Context().Err() != nil {
		restored()
		return
	}
	var buf bytes.Buffer
	err = pprof.Lookup(name).WriteTo(&buf, 0)
	restored()
	if err != nil {
		writeError(w, http.StatusConflict, "write "+name+" profile: "+err.Error(), "retry")
		return
	}
	writeProfile(w, name, 0, buf.Bytes())
}

// setRate sets the mutex fraction or the block rate and returns the one
// before. The runtime tells the block rate to no one, so it is switched
// on only when it was off (blockProfilingOff) and is restored to off.
func setRate(name string, rate int) int {
	if name == "mutex" {
		return runtime.SetMutexProfileFraction(rate)
	}
	runtime.SetBlockProfileRate(rate)
	if rate == 0 {
		n, _ := runtime.BlockProfile(nil)
		blockRestored.Store(int64(n))
	}
	return 0
}

// blockRestored holds the block profile's record count when this package
// last switched the rate off, or -1.
var blockRestored = func() *atomic.Int64 { var v atomic.Int64; v.Store(-1); return &v }()

// blockProfilingOff tells, as well as the runtime allows, whether block
// profiling is off: the profile holds no record, or no more than when this
// package switched it off. (A process that switches it on itself and
// blocks only on stacks already recorded would read as off.)
func blockProfilingOff() bool {
	n, _ := runtime.BlockProfile(nil)
	return n == 0 || int64(n) == blockRestored.Load()
}
