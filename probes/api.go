package probes

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/schedstats"
)

// source is what the API reads. A nil function turns its endpoint off
// (it then answers 404 and leaves Info.Capabilities), so the API can be
// tested against fakes and can run before every part exists.
type source struct {
	latest   func() (schedstats.Snapshot, bool)
	history  func() []schedstats.Snapshot
	interval time.Duration
	findings func() []schedstats.Finding
	census   func(context.Context, apiv1.CensusFilter, time.Duration) (apiv1.Census, error)
	pools    func() []apiv1.Pool
	reader   func() apiv1.ReaderStatus
	flight   func(w io.Writer) (int64, error)
	// ops turns on the operations that change the process (run a GC,
	// set GOGC or the memory limit, switch a profile's rate on for a
	// capture). Only the agent sets it: its listeners are owner-only or
	// need the token, while Handler authenticates no one.
	ops bool
	// os serves /v1/os; nil (or unavailable, off Linux) turns it off.
	os *osView
}

// api serves the /v1/ routes. It is safe for concurrent use.
type api struct {
	src      source
	max      time.Duration
	profiles map[string]ProfileFunc
	started  time.Time
	log      *slog.Logger
	// base is canceled when the agent stops, so that captures in flight
	// end at once instead of holding the shutdown for minutes.
	base context.Context
	// heavy holds a slot for each request in progress to an endpoint
	// whose answer costs memory or CPU in proportion to the process.
	heavy chan struct{}
	// heavyWait bounds the wait for a slot before a 503.
	heavyWait time.Duration
}

// Handler returns the /v1/ API as an http.Handler, to mount on a service's
// own mux. Handler performs no authentication or authorization at all: the
// caller must put it behind its own (profiles and traces reveal code and
// data). Requests are matched on the path suffix after "/v1/", so the
// handler may be mounted under a prefix with http.StripPrefix.
func Handler(opts HandlerOptions) http.Handler {
	max := opts.MaxDuration
	if max <= 0 {
		max = defaultMaxDuration
	}
	return newAPI(handlerSource(&opts), max, opts.Profiles, opts.Logger, context.Background())
}

func newAPI(src source, max time.Duration, extra map[string]ProfileFunc, log *slog.Logger, base context.Context) *api {
	a := &api{src: src, max: max, started: time.Now(), log: discardLogger(log), base: base,
		heavy: make(chan struct{}, maxExpensive), heavyWait: maxHeavyWait}
	a.profiles = make(map[string]ProfileFunc, len(extra))
	for name, fn := range extra {
		if fn != nil {
			a.profiles[name] = fn
		}
	}
	return a
}

type route struct {
	serve func(w http.ResponseWriter, r *http.Request, arg string)
	cap   string // capability the route needs, "" for always
	heavy bool   // costs in proportion to the process: limited to maxExpensive at once
	// post, when set, serves POST: an operation that changes the process,
	// offered only with the ops capability.
	post func(w http.ResponseWriter, r *http.Request, arg string)
}

func (a *api) route(path string) (route, string, bool) {
	rest, ok := strings.CutPrefix(path, "/v1/")
	if !ok {
		return route{}, "", false
	}
	if name, ok := strings.CutPrefix(rest, "profile/"); ok && name != "" && !strings.Contains(name, "/") {
		return route{a.serveProfile, apiv1.CapProfile, true, a.serveRateProfile}, name, true
	}
	switch rest {
	case "info":
		return route{a.serveInfo, "", false, nil}, "", true
	case "snapshot":
		return route{a.serveSnapshot, apiv1.CapSnapshot, false, nil}, "", true
	case "history":
		return route{a.serveHistory, apiv1.CapHistory, true, nil}, "", true
	case "findings":
		return route{a.serveFindings, apiv1.CapFindings, true, nil}, "", true
	case "goroutines":
		return route{a.serveGoroutines, apiv1.CapGoroutines, true, nil}, "", true
	case "pools":
		return route{a.servePools, apiv1.CapPools, false, nil}, "", true
	case "trace":
		return route{a.serveTrace, apiv1.CapTrace, false, nil}, "", true
	case "flight":
		return route{a.serveFlight, apiv1.CapFlight, true, nil}, "", true
	case "os":
		return route{a.serveOS, apiv1.CapOS, false, nil}, "", true
	case "memstats":
		return route{a.serveMemStats, "", false, nil}, "", true
	case "gc":
		return route{nil, apiv1.CapOps, false, a.serveGC}, "", true
	case "gcpercent":
		return route{a.serveGCPercent, "", false, a.setGCPercent}, "", true
	case "memlimit":
		return route{a.serveMemLimit, "", false, a.setMemLimit}, "", true
	}
	return route{}, "", false
}

// ServeHTTP dispatches one request; it never panics on bad input.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, arg, ok := a.route(r.URL.Path)
	if !ok {
		writeError(w, http.StatusNotFound, "no such endpoint: "+truncate(r.URL.Path),
			"GET /v1/info lists what this endpoint offers")
		return
	}
	serve := rt.serve
	if r.Method == http.MethodPost && rt.post != nil {
		if !a.has(apiv1.CapOps) {
			a.log.Warn("probes: refused an operation on an endpoint without operations", "path", truncate(r.URL.Path))
			writeError(w, http.StatusForbidden, "operations that change the process are not offered here",
				"use the agent's owner-only socket or its token TCP listener (probes.Start); probes.Handler authenticates no one, so it offers none")
			return
		}
		serve = rt.post
	} else if r.Method != http.MethodGet || serve == nil {
		allow := []string{}
		if rt.serve != nil {
			allow = append(allow, http.MethodGet)
		}
		if rt.post != nil {
			allow = append(allow, http.MethodPost)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, "method "+truncate(r.Method)+" is not allowed", "use "+strings.Join(allow, " or "))
		return
	}
	if rt.cap != "" && !a.has(rt.cap) {
		writeError(w, http.StatusNotFound, rt.cap+" is not enabled on this endpoint",
			"GET /v1/info lists the capabilities")
		return
	}
	if rt.heavy && a.heavyRequest(r, arg) {
		release, ok := a.acquireHeavy(r)
		if !ok {
			if r.Context().Err() == nil {
				w.Header().Set("Retry-After", "5")
				writeError(w, http.StatusServiceUnavailable,
					"too many expensive requests in progress (at most "+strconv.Itoa(maxExpensive)+" at once), and none ended within "+a.heavyWait.String(),
					"retry later; history, findings, censuses, point-in-time profiles and the flight recorder share the limit")
			}
			return
		}
		defer release()
	}
	serve(w, r, arg)
}

// heavyRequest reports whether r answers with a body that costs in
// proportion to the process. Captures over a duration (a CPU profile, a
// trace, a custom or rate-switched profile) are not: they are one at a
// time per process already, hold little memory, and would hold a slot for
// minutes.
func (a *api) heavyRequest(r *http.Request, profile string) bool {
	if !strings.HasPrefix(r.URL.Path, "/v1/profile/") {
		return true
	}
	_, custom := a.profiles[profile]
	return r.Method == http.MethodGet && profile != "cpu" && !custom
}

// acquireHeavy waits for one of the maxExpensive slots, at most
// a.heavyWait and no longer than the client stays. A request that waits
// holds only its connection, which the listener's cap bounds.
func (a *api) acquireHeavy(r *http.Request) (release func(), ok bool) {
	select {
	case a.heavy <- struct{}{}:
		return func() { <-a.heavy }, true
	default:
	}
	t := time.NewTimer(a.heavyWait)
	defer t.Stop()
	select {
	case a.heavy <- struct{}{}:
		return func() { <-a.heavy }, true
	case <-t.C:
	case <-r.Context().Done():
	case <-a.base.Done():
	}
	return nil, false
}

func (a *api) has(c string) bool {
	switch c {
	case apiv1.CapSnapshot:
		return a.src.latest != nil
	case apiv1.CapHistory:
		return a.src.history != nil
	case apiv1.CapFindings:
		return a.src.findings != nil
	case apiv1.CapGoroutines:
		return a.src.census != nil
	case apiv1.CapPools:
		return a.src.pools != nil
	case apiv1.CapFlight:
		return a.src.flight != nil
	case apiv1.CapProfile, apiv1.CapTrace:
		return true
	case apiv1.CapOps:
		return a.src.ops
	case apiv1.CapOS:
		return a.src.os.available()
	}
	return false
}

func (a *api) capabilities() []string {
	var caps []string
	for _, c := range []string{apiv1.CapSnapshot, apiv1.CapHistory, apiv1.CapFindings, apiv1.CapGoroutines,
		apiv1.CapPools, apiv1.CapProfile, apiv1.CapTrace, apiv1.CapFlight, apiv1.CapOps, apiv1.CapOS} {
		if a.has(c) {
			caps = append(caps, c)
		}
	}
	return caps
}

func (a *api) profileNames() []string {
	names := make([]string, 0, len(standardProfiles)+len(a.profiles))
	for name := range standardProfiles {
		names = append(names, name)
	}
	for name := range a.profiles {
		if _, std := standardProfiles[name]; !std {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func (a *api) serveInfo(w http.ResponseWriter, r *http.Request, _ string) {
	info := apiv1.Info{
		PID:          os.Getpid(),
		GoVersion:    runtime.Version(),
		Module:       mainModule(),
		GOMAXPROCS:   runtime.GOMAXPROCS(0),
		NumCPU:       runtime.NumCPU(),
		APIVersion:   apiv1.Version,
		Started:      a.started,
		Uptime:       apiv1.Duration(time.Since(a.started)),
		Capabilities: a.capabilities(),
		Profiles:     a.profileNames(),
		MaxDuration:  apiv1.Duration(a.max),
		GODEBUG:      &apiv1.GODEBUG{Env: os.Getenv("GODEBUG"), Default: buildSetting("DefaultGODEBUG")},
	}
	if a.src.reader != nil {
		info.Reader = a.src.reader()
	}
	writeJSON(w, info)
}

func (a *api) serveSnapshot(w http.ResponseWriter, r *http.Request, _ string) {
	s, ok := a.src.latest()
	if !ok {
		writeError(w, http.StatusNotFound, "no snapshot yet", "the sampler takes its first sample at start; retry")
		return
	}
	writeJSON(w, apiv1.Snapshot{Snapshot: s})
}

// serveHistory sends the sampler's window, or its newest last snapshots
// (last=N; 0 or absent for all): a client that draws a few minutes of
// sparklines need not take the whole window, at about 13 kB a snapshot.
func (a *api) serveHistory(w http.ResponseWriter, r *http.Request, _ string) {
	last, err := parseIntParam(r.URL.Query(), "last", 0, math.MaxInt32)
	if err != nil {
		writeParamError(w, err)
		return
	}
	h := a.src.history()
	if last > 0 && last < len(h) {
		h = h[len(h)-last:]
	}
	writeJSON(w, apiv1.History{Interval: apiv1.Duration(a.src.interval), Snapshots: h})
}

func (a *api) serveFindings(w http.ResponseWriter, r *http.Request, _ string) {
	f := a.src.findings()
	if f == nil {
		f = []schedstats.Finding{}
	}
	writeJSON(w, apiv1.Findings{Findings: f})
}

func (a *api) servePools(w http.ResponseWriter, r *http.Request, _ string) {
	p := a.src.pools()
	if p == nil {
		p = []apiv1.Pool{}
	}
	writeJSON(w, apiv1.Pools{Pools: p})
}

func (a *api) serveGoroutines(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	minWait, err := parseDurationParam(q, "min_wait", 0, maxCensusWait)
	if err != nil {
		writeParamError(w, err)
		return
	}
	maxGroups, err := parseIntParam(q, "max_groups", 0, maxCensusGroups)
	if err != nil {
		writeParamError(w, err)
		return
	}
	state := q.Get("state")
	if len(state) > 64 {
		writeError(w, http.StatusBadRequest, "state is too long", "use a state such as \"chan receive\" or \"running\"")
		return
	}
	maxPause, err := parseDurationParam(q, "max_pause", 0, maxCensusPause)
	if err != nil {
		writeParamError(w, err)
		return
	}
	ctx, cancel := a.captureContext(r)
	defer cancel()
	c, err := a.src.census(ctx, apiv1.CensusFilter{MinWait: minWait, State: state, MaxGroups: maxGroups}, maxPause)
	if r.Context().Err() != nil {
		return // the client has gone, and the census stopped with it
	}
	if err != nil {
		writeDumpError(w, "goroutine census", err)
		return
	}
	writeJSON(w, apiv1.Goroutines{MinWait: apiv1.Duration(minWait), State: state, MaxGroups: maxGroups, Census: c})
}

// writeDumpError answers a census or full dump that did not run.
func writeDumpError(w http.ResponseWriter, what string, err error) {
	var pe *pauseError
	switch {
	case errors.As(err, &pe):
		writeError(w, http.StatusConflict, what+" refused: "+err.Error(),
			"allow a longer pause with max_pause="+(pe.estimate*2).Round(time.Second).String()+
				" (at most "+maxCensusPause.String()+"), or filter nothing and use /v1/profile/goroutine?debug=1, which stops the world only briefly")
	case errors.Is(err, errDumpBusy):
		writeError(w, http.StatusConflict, what+": "+err.Error(), "retry in a few seconds")
	default:
		writeError(w, http.StatusConflict, what+" failed: "+err.Error(), "retry")
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode response: "+err.Error(), "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg, hint string) {
	b, _ := json.Marshal(apiv1.Error{Error: msg, Hint: hint})
	h := w.Header()
	h.Del("Content-Disposition")
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func writeParamError(w http.ResponseWriter, err error) {
	var pe *paramError
	if errors.As(err, &pe) {
		writeError(w, http.StatusBadRequest, pe.msg, pe.hint)
		return
	}
	writeError(w, http.StatusBadRequest, err.Error(), "")
}

// truncate keeps echoed request data short in error messages.
func truncate(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// buildSetting returns the named build setting of the binary, "" when
// absent.
func buildSetting(key string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == key {
				return s.Value
			}
		}
	}
	return ""
}

func mainModule() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		return bi.Main.Path
	}
	return ""
}
