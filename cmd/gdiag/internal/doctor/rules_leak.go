package doctor

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/schedstats"
)

// Thresholds of the leak rules; doc.go has the reasoning.
const (
	provenCritical  = 100               // proven leaked goroutines that make the finding critical
	staticMinCount  = 100               // goroutines on one stack for a static leak
	staticMinWait   = time.Minute       // how long each must have been parked
	connShare       = 0.75              // share of the growth in connection stacks that makes it load
	connSocketRatio = 0.5               // sockets gained per connection goroutine gained, to say it tracks them
	connTrackRatio  = 0.1               // accepted sockets gained per goroutine gained in connection-related stacks, to say they follow
	connTrackMin    = 20                // and at least this many sockets gained
	leakCapGrowth   = 400               // growth that needs no relative bar (schedstats' cap)
	leakWarnScore   = leakCapGrowth / 4 // growth per score point
)

// leak names goroutine leaks in the order of their proof: the runtime's
// goroutineleak profile (proven), a crowd parked on one stack for minutes
// (static, growing or not), and a count that grows steadily over the
// window (suspected). Growth in connection stacks that the process's open
// sockets follow is load, not a leak.
func (a *analysis) leak() {
	proven := a.provenLeak()
	a.staticLeak(proven)
	a.growth()
}

// provenLeak reports the goroutines the runtime proved leaked; it returns
// their group keys, so that the other rules do not report them again.
func (a *analysis) provenLeak() map[string]bool {
	lp := a.o.Leaks
	if lp == nil {
		why := a.o.LeakMissing
		if why == "" {
			why = "not read"
		}
		a.notChecked("proven goroutine leaks: " + why)
		return nil
	}
	a.check("proven goroutine leaks (the runtime's goroutineleak profile)")
	if lp.Leaked <= 0 || len(lp.Groups) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var stacks []Stack
	for _, g := range lp.Groups {
		seen[leakKey(g)] = true
		if len(stacks) < 3 {
			stacks = append(stacks, Stack{Count: g.Count, State: g.State, Frames: frameStrings(g.Frames)})
		}
	}
	top := lp.Groups[0]
	name := culprit(funcsOf(frameStrings(top.Frames)))
	sev, score := grade(float64(lp.Leaked), provenCritical/criticalFactor)
	state := strings.TrimSuffix(top.State, " (leaked)")
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseLeakProven, Severity: sev,
		Evidence: []schedstats.Evidence{
			{Name: "leaked_goroutines", Value: float64(lp.Leaked), Unit: "goroutines"},
			{Name: "largest_group", Value: float64(top.Count), Unit: "goroutines"},
		},
		Summary: fmt.Sprintf("The runtime proved %d goroutines blocked forever: nothing reachable can wake them. %d are in %q at %s.",
			lp.Leaked, top.Count, state, name)},
		Score: score, Title: fmt.Sprintf("Goroutine leak (proven): %d goroutines blocked forever in %s", lp.Leaked, name),
		Stacks: stacks,
		Next:   []string{"gdiag profile goroutineleak " + a.target}}
	a.add(f)
	return seen
}

// leakKey identifies a group across a leak profile and a census: the
// state without " (leaked)", and the frames.
func leakKey(g gdump.Group) string {
	g.State = strings.TrimSuffix(g.State, " (leaked)")
	return groupKey(g)
}

// blockingStates are the waits a leaked goroutine sits in: channel
// operations, select, and locks. IO wait, sleeps, syscalls and the
// runtime's own parking are not.
func blockingState(state string) bool {
	s, _, _ := strings.Cut(state, " (")
	switch {
	case s == "chan receive", s == "chan send", s == "select", s == "semacquire",
		strings.HasPrefix(s, "sync."), s == "sync.Cond.Wait":
		return true
	}
	return strings.HasPrefix(state, "chan receive (nil chan)") || strings.HasPrefix(state, "chan send (nil chan)") ||
		strings.HasPrefix(state, "select (no cases)")
}

// foreverState is a wait that can never end, whatever else happens: a
// nil channel or a select with no cases.
func foreverState(state string) bool {
	return strings.Contains(state, "(nil chan)") || strings.HasPrefix(state, "select (no cases)")
}

// staticLeak names crowds of goroutines parked on one stack, in a
// channel, select or lock wait, for at least staticMinWait each: what a
// leak that stopped growing looks like. An idle worker pool looks the same
// from outside, so it is a suspicion (a warning), unless the wait can never
// end (nil channel, empty select).
func (a *analysis) staticLeak(proven map[string]bool) {
	cs := a.o.Censuses
	if len(cs) == 0 {
		a.notChecked("static goroutine leaks: no goroutine census")
		return
	}
	a.check("static goroutine leaks (goroutines parked on one stack for minutes)")
	var groups []gdump.Group
	young := 0 // parked as a leak would be, but not for long enough to tell
	for _, g := range cs[len(cs)-1].Groups {
		if g.Count < staticMinCount || proven[leakKey(g)] || connectionGroup(g) {
			continue
		}
		// A wait on a nil channel or an empty select never ends, however
		// short it has been; other waits must have lasted staticMinWait.
		// (The runtime only notes a wait's start at the first GC after it,
		// so a process that rarely collects shows its waits late.)
		switch {
		case g.MinWait >= staticMinWait && blockingState(g.State) || foreverState(g.State):
			groups = append(groups, g)
		case blockingState(g.State):
			young = max(young, g.Count)
		}
	}
	if len(groups) == 0 {
		if young > 0 {
			a.notChecked(fmt.Sprintf("static goroutine leaks: %d goroutines are parked on one stack, but for less than %s; run doctor again later to tell a leak from a wait", young, minutes(staticMinWait)))
		}
		return
	}
	slices.SortStableFunc(groups, func(x, y gdump.Group) int { return cmp.Compare(y.Count, x.Count) })
	total, forever := 0, 0
	var stacks []Stack
	for _, g := range groups {
		total += g.Count
		if foreverState(g.State) {
			forever += g.Count
		}
		if len(stacks) < 3 {
			stacks = append(stacks, Stack{Count: g.Count, State: g.State, Frames: frameStrings(g.Frames)})
		}
	}
	top := groups[0]
	name := culprit(funcsOf(frameStrings(top.Frames)))
	sev, score := schedstats.Warning, math.Min(float64(total)/staticMinCount, 99)
	if forever >= staticMinCount {
		sev, score = grade(float64(forever), staticMinCount/criticalFactor)
	}
	title := fmt.Sprintf("Goroutine leak (suspected): %d goroutines parked in %s for minutes", total, name)
	if forever >= staticMinCount {
		title = fmt.Sprintf("Goroutine leak: %d goroutines blocked forever on a nil channel or an empty select in %s", forever, name)
	}
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseLeakStatic, Severity: sev,
		Evidence: []schedstats.Evidence{
			{Name: "parked_goroutines", Value: float64(total), Unit: "goroutines"},
			{Name: "parked_at_least", Value: top.MinWait.Seconds(), Unit: "seconds"},
			{Name: "largest_group", Value: float64(top.Count), Unit: "goroutines"},
		}},
		Score: score, Title: title,
		Stacks: stacks,
		Next: []string{fmt.Sprintf("gdiag goroutines %s --state %s --min-wait 1m", a.target, shellQuote(strings.SplitN(top.State, " (", 2)[0])),
			"gdiag goroutines --diff " + a.target + " --after 10s"}}
	f.Summary = fmt.Sprintf("%d goroutines are parked in %q on the same stack, at %s", top.Count, top.State, name)
	if top.MinWait >= staticMinWait {
		f.Summary += fmt.Sprintf(", each for at least %s (the dump's wait time)", minutes(top.MinWait))
	}
	f.Summary += "."
	switch {
	case forever > 0:
		f.Summary += fmt.Sprintf(" %d of them wait on a nil channel or an empty select, which nothing can ever end.", forever)
	case a.o.Leaks != nil:
		f.Summary += " The runtime's leak profile found none of them unreachable: they may wait on something still referenced (an idle worker pool, a channel kept in a map)."
	default:
		f.Summary += " An idle worker pool looks the same; the goroutineleak profile (GOEXPERIMENT=goroutineleakprofile) would prove a leak."
	}
	a.add(f)
}

func minutes(d time.Duration) string {
	if m := int(d / time.Minute); m != 1 {
		return fmt.Sprintf("%d minutes", m)
	}
	return "1 minute"
}

// connectionGroup reports whether a goroutine group waits on a network
// connection: in network IO wait, or parked where a connection's own loop
// parks (HTTP/2 and gRPC connection loops wait in select). The first frame
// below the runtime and the locks decides: a handler blocked on a mutex
// inside net/http's conn.serve waits on the mutex, not on the connection.
func connectionGroup(g gdump.Group) bool {
	if g.State == "IO wait" {
		return true
	}
	for _, f := range g.Frames {
		if isPlumbing(f.Func) {
			continue
		}
		for _, p := range connFuncPrefixes {
			if strings.HasPrefix(f.Func, p) {
				return true
			}
		}
		return false
	}
	return false
}

var connFuncPrefixes = []string{
	"net/http.(*conn).serve", "net/http.(*persistConn).", "net/http.(*http2serverConn).", "net/http.(*http2ClientConn).",
	"golang.org/x/net/http2.(*serverConn).", "golang.org/x/net/http2.(*ClientConn).",
	"google.golang.org/grpc/internal/transport.", "net.(*conn).", "net.(*netFD).", "internal/poll.(*FD).",
	"crypto/tls.(*Conn).",
}

// growth names steady goroutine growth over the window (schedstats' leak
// detector on the history, else the censuses), and tells load from a
// leak: when most of the growth is in connection stacks, the growth is
// connections; the process's established sockets, when the kernel's
// figures are at hand, show whether they follow.
func (a *analysis) growth() {
	o := a.o
	if len(o.History) == 0 && len(o.Censuses) < 2 {
		a.notChecked("goroutine growth: neither history nor two goroutine censuses were gathered")
		return
	}
	a.check("goroutine growth")
	var ev []schedstats.Evidence
	var growth float64
	if f, ok := a.sched[schedstats.CauseGoroutineLeak]; ok {
		ev, growth = schedEvidence(f), evidenceValue(f, "growth")
	} else if len(o.History) < a.th.LeakMinSamples && len(o.Censuses) >= 2 {
		first, last := o.Censuses[0], o.Censuses[len(o.Censuses)-1]
		growth = float64(last.Total - first.Total)
		need := math.Min(math.Max(float64(a.th.LeakMinGrowth), a.th.LeakMinRatio*float64(first.Total)), leakCapGrowth)
		if growth < need || !monotone(o.Censuses) {
			return
		}
		trend := make([]float64, len(o.Censuses))
		for i, c := range o.Censuses {
			trend[i] = float64(c.Total)
		}
		ev = []schedstats.Evidence{{Name: "goroutines", Value: float64(last.Total), Unit: "goroutines", Trend: trend},
			{Name: "growth", Value: growth, Unit: "goroutines"}}
	} else {
		return
	}
	if len(o.Censuses) < 2 {
		a.blindGrowth(ev, growth)
		return
	}
	grew := growingGroups(o.Censuses)
	var connGrowth, allGrowth int
	for _, s := range grew {
		allGrowth += s.Growth
		if s.conn {
			connGrowth += s.Growth
		}
	}
	// Connection stacks whose sockets did not follow are goroutines that
	// outlived their connections: a leak, not load.
	socketsFollow, known := a.socketsFollow(connGrowth)
	if allGrowth > 0 && float64(connGrowth) >= connShare*float64(allGrowth) && (socketsFollow || !known) {
		a.connections(ev, growth, grew, connGrowth, allGrowth, false)
		return
	}
	// A server may hold several goroutines per connection, in stacks that
	// are not connection loops (a streaming handler in select under
	// conn.serve, a gRPC stream's send and receive loops): when most of
	// the growth is in such stacks and the accepted sockets rose with
	// them, the growth is connections all the same. A goroutine leaked
	// by a request (blocked sending, or on a lock) is not in one.
	var relGrowth int
	for _, s := range grew {
		if s.related {
			relGrowth += s.Growth
		}
	}
	if allGrowth > 0 && float64(relGrowth) >= connShare*float64(allGrowth) && a.socketsTrack(float64(relGrowth)) {
		for i := range grew {
			grew[i].conn = grew[i].related
		}
		a.connections(ev, growth, grew, relGrowth, allGrowth, true)
		return
	}
	if known && !socketsFollow {
		for i := range grew {
			grew[i].conn = false
		}
	}
	var leaking []Stack
	for _, s := range grew {
		if !s.conn {
			leaking = append(leaking, s.Stack)
		}
	}
	sev := a.th.LeakSeverity(growth)
	score := math.Min(growth/leakWarnScore, 99)
	if sev == schedstats.Critical {
		score += 100
	}
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseGoroutineLeak, Severity: sev, Evidence: ev}, Score: score, Title: "Goroutine leak"}
	f.Summary = fmt.Sprintf("Goroutines grew by %.0f over the window without levelling off.", growth)
	f.Next = []string{"gdiag goroutines --diff " + a.target + " --after 10s"}
	if len(leaking) > 0 {
		top := leaking[0]
		name := culprit(funcsOf(top.Frames))
		f.Title = "Goroutine leak in " + name
		f.Summary += fmt.Sprintf(" The largest growing group (%d, +%d) is blocked in %q at %s.", top.Count, top.Growth, top.State, name)
		if strings.HasPrefix(name, "net/http.(*persistConn).") {
			f.Summary += " These are HTTP client connections the process keeps open: a response whose Body is never closed (or read to its end) keeps its connection and two goroutines, as does a new http.Transport per request."
		}
		f.Stacks = leakStacks(leaking)
		f.Next = append([]string{fmt.Sprintf("gdiag goroutines %s --state %s", a.target, shellQuote(top.State))}, f.Next...)
	}
	a.add(f)
}

// blindGrowth reports growth seen in the counts when no two censuses say
// which stacks grew: load when the process's established connections
// rose with the goroutines, else growth of unknown cause, a warning at
// most, since a leak cannot be told from load without the stacks.
func (a *analysis) blindGrowth(ev []schedstats.Evidence, growth float64) {
	if follow, known := a.socketsFollow(int(growth)); known && follow {
		a.connections(ev, growth, nil, 0, 0, true)
		return
	}
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseGoroutineLeak, Severity: schedstats.Warning, Evidence: ev},
		Score: math.Min(growth/leakWarnScore, 99), Title: "Goroutine growth (stacks unknown: a leak or load)"}
	f.Summary = fmt.Sprintf("Goroutines grew by %.0f over the window without levelling off, but no two goroutine censuses were taken, so which stacks grew, and whether they are a leak or load, is not known.", growth)
	if _, known := a.inboundGrowth(); !known {
		f.Summary += " The connection count could not be read either (" + a.osWhy() + ")."
	}
	f.Next = []string{"gdiag goroutines --diff " + a.target + " --after 10s"}
	a.add(f)
}

// connections reports goroutine growth in connection stacks as load: a
// warning at most, with the connection count as evidence. bySockets says
// the sockets, not the stacks, show that the growth is connections.
func (a *analysis) connections(ev []schedstats.Evidence, growth float64, grew []grownGroup, connGrowth, allGrowth int, bySockets bool) {
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseConnectionGrowth, Severity: schedstats.Warning, Evidence: ev},
		Score: 1, Title: "Goroutines grew with open connections (load, not a leak)"}
	switch {
	case bySockets && allGrowth > 0:
		f.Summary = fmt.Sprintf("Goroutines grew by %.0f in step with the connections the process accepted, %.0f%% of it in goroutines that wait for a connection's data (a server may hold several per stream).",
			growth, 100*float64(connGrowth)/float64(allGrowth))
	case allGrowth > 0:
		f.Evidence = append(f.Evidence, schedstats.Evidence{Name: "connection_goroutine_share", Value: float64(connGrowth) / float64(allGrowth), Unit: "fraction"})
		f.Summary = fmt.Sprintf("Goroutines grew by %.0f, %.0f%% of it in connection stacks (network IO wait or a connection's serve loop): each open connection holds a goroutine.",
			growth, 100*float64(connGrowth)/float64(allGrowth))
	default:
		f.Summary = fmt.Sprintf("Goroutines grew by %.0f (no two goroutine censuses say which stacks).", growth)
	}
	if os := a.o.OS; len(os) >= 2 && os[0].SocketErr == "" && os[len(os)-1].SocketErr == "" {
		s0, s1 := os[0].Sockets.Inbound, os[len(os)-1].Sockets.Inbound
		trend := make([]float64, 0, len(os))
		for _, r := range os {
			trend = append(trend, float64(r.Sockets.Inbound))
		}
		f.Evidence = append(f.Evidence, schedstats.Evidence{Name: "tcp_accepted", Value: float64(s1), Unit: "connections", Trend: trend},
			schedstats.Evidence{Name: "tcp_accepted_growth", Value: float64(s1 - s0), Unit: "connections"})
		f.Summary += fmt.Sprintf(" The TCP connections it accepted rose with them, %d → %d: the goroutines follow its clients.", s0, s1)
	} else {
		f.Summary += " The connection count could not be read (" + a.osWhy() + ")."
	}
	f.Summary += " If the count returns to its baseline when clients disconnect, this is load."
	var stacks []Stack
	for _, s := range grew {
		if s.conn {
			stacks = append(stacks, s.Stack)
		}
	}
	f.Stacks = leakStacks(stacks)
	f.Next = []string{"gdiag goroutines --diff " + a.target + " --after 10s"}
	a.add(f)
}

// grownGroup is a goroutine group that grew, whether it is a connection's
// loop (conn), and whether it belongs to a connection (related: conn, or
// waiting for data with a connection frame in its stack, or created by a
// function of such a group).
type grownGroup struct {
	Stack
	conn, related bool
}

// dataWait reports whether goroutines in state wait for data, or serve a
// request in a system call, as a connection's goroutines do, rather than
// wait on a lock or to hand a value on.
func dataWait(state string) bool {
	for _, w := range []string{"IO wait", "select", "chan receive", "syscall"} {
		if strings.HasPrefix(state, w) {
			return true
		}
	}
	return false
}

// connFrame reports whether one of frames is a connection's.
func connFrame(frames []gdump.Frame) bool {
	return slices.ContainsFunc(frames, func(f gdump.Frame) bool {
		return slices.ContainsFunc(connFuncPrefixes, func(p string) bool { return strings.HasPrefix(f.Func, p) }) ||
			strings.HasPrefix(f.Func, "google.golang.org/grpc.")
	})
}

// relate marks the groups that belong to connections: by their own
// frames, then those created by a function in such a group's stack that
// grew no more than twice as much as the groups running it (a stream's
// send and receive loops, one or two per stream). A goroutine a handler
// starts and leaves behind grows with the requests, far past the
// handlers in flight, and stays unrelated.
func relate(out []grownGroup, groups []gdump.Group) {
	funcs := map[string]int{} // growth of the related groups running each function
	for i, g := range groups {
		if out[i].conn || dataWait(g.State) && connFrame(g.Frames) {
			out[i].related = true
			seen := map[string]bool{}
			for _, f := range g.Frames {
				if !seen[f.Func] {
					seen[f.Func] = true
					funcs[f.Func] += out[i].Growth
				}
			}
		}
	}
	for i, g := range groups {
		if n := funcs[g.CreatedBy.Func]; !out[i].related && dataWait(g.State) && n > 0 && out[i].Growth <= 2*n {
			out[i].related = true
		}
	}
}

// growingGroups compares the first and the last census and returns the
// groups that grew, most growth first.
func growingGroups(cs []Census) []grownGroup {
	if len(cs) < 2 {
		return nil
	}
	before := map[string]int{}
	for _, g := range cs[0].Groups {
		before[groupKey(g)] += g.Count
	}
	var out []grownGroup
	var groups []gdump.Group
	for _, g := range cs[len(cs)-1].Groups {
		if d := g.Count - before[groupKey(g)]; d > 0 {
			out = append(out, grownGroup{Stack: Stack{Count: g.Count, Growth: d, State: g.State, Frames: frameStrings(g.Frames)}, conn: connectionGroup(g)})
			groups = append(groups, g)
		}
	}
	relate(out, groups)
	slices.SortStableFunc(out, func(x, y grownGroup) int { return cmp.Compare(y.Growth, x.Growth) })
	return out
}

// leakStacks keeps the groups that account for the growth: at most three,
// each with at least a tenth of the largest group's growth (a request in
// flight at the end is not a leak).
func leakStacks(grew []Stack) []Stack {
	var out []Stack
	for _, s := range grew {
		if len(out) == 3 || 10*s.Growth < grew[0].Growth {
			break
		}
		out = append(out, s)
	}
	return out
}

// monotone reports whether the censuses' totals never fall.
func monotone(cs []Census) bool {
	for i := 1; i < len(cs); i++ {
		if cs[i].Total < cs[i-1].Total {
			return false
		}
	}
	return true
}

// socketsTrack reports whether the connections the process accepted rose
// with a growth of connection-related goroutines: by at least
// connTrackRatio sockets per goroutine and connTrackMin in all.
func (a *analysis) socketsTrack(growth float64) bool {
	d, known := a.inboundGrowth()
	return known && float64(d) >= connTrackMin && float64(d) >= connTrackRatio*growth
}

// socketsFollow reports whether the connections the process accepted
// rose with the connection goroutines (by at least connSocketRatio of
// them), and whether the sockets could be counted at all. Connections it
// opened itself do not count: clients that grow with them are its own
// (a response body never closed keeps its connection and two goroutines).
func (a *analysis) socketsFollow(connGrowth int) (follow, known bool) {
	d, known := a.inboundGrowth()
	return known && float64(d) >= connSocketRatio*float64(connGrowth), known
}

// inboundGrowth is how many more connections accepted on its listening
// ports the process held at the end of the window than at the start.
func (a *analysis) inboundGrowth() (int, bool) {
	os := a.o.OS
	if len(os) < 2 || os[0].SocketErr != "" || os[len(os)-1].SocketErr != "" {
		return 0, false
	}
	return os[len(os)-1].Sockets.Inbound - os[0].Sockets.Inbound, true
}
