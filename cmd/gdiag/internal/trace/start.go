package tracecmd

import (
	"io"
	"strings"

	"github.com/gdiag/gdiag/gdump"
	xtrace "golang.org/x/exp/trace"
)

// BeforeTrace counts the waits that were under way when the trace began,
// by how gdiag named them. The trace reports such a goroutine as waiting
// from the start, without the reason the runtime gives for waits that
// begin inside it; Go 1.23 and later add the goroutine's stack, which
// names the wait (runtime.chanrecv is "chan receive"); for older traces,
// and stacks that name nothing, a goroutine dump taken right after a
// live capture names the waits that lasted the whole trace (gdiag trace
// only, not gdiag analyze), and for a net/http/pprof target, whose Go may
// be older, one taken just before names the waits under way at the start.
type BeforeTrace struct {
	Waits     int `json:"waits"`
	FromStack int `json:"fromStack"` // named from the trace's own stacks
	FromDump  int `json:"fromDump"`  // named from a goroutine dump taken just before or after the trace
	// Runtime counts goroutines waiting through the whole trace that are
	// in neither dump: the runtime's own, which dumps leave out.
	Runtime int `json:"runtime"`
	Unknown int `json:"unknown"` // left in the "unknown" category
}

// unnamed is a wait under way when the trace began that neither the
// trace's stack nor the runtime named.
type unnamed struct {
	id    xtrace.GoID
	nanos int64
	whole bool // lasted the whole trace: a dump taken after it shows the same wait
}

// stackReason names the wait of a goroutine parked at stack (innermost
// frame first) with the block reason the runtime would have given it
// (runtime/traceruntime.go's traceBlockReasonStrings), or "" when the
// frames do not say.
func stackReason(frames []string) string {
	for _, f := range frames {
		switch {
		case f == "runtime.gopark" || f == "runtime.goparkunlock":
			continue
		case strings.HasPrefix(f, "runtime.chanrecv"):
			return "chan receive"
		case strings.HasPrefix(f, "runtime.chansend"):
			return "chan send"
		case f == "runtime.selectgo":
			return "select"
		case f == "runtime.block":
			return "forever"
		case f == "runtime.netpollblock" || f == "internal/poll.runtime_pollWait":
			return "network"
		case f == "time.Sleep":
			return "sleep"
		case f == "sync.runtime_notifyListWait":
			return "sync.(*Cond).Wait"
		case f == "runtime.semacquire1" || strings.Contains(f, "runtime_Semacquire"):
			return "sync"
		case systemWait(f):
			return "system goroutine wait"
		case strings.HasPrefix(f, "runtime."):
			continue // another runtime frame on the way to the parking call
		}
		return ""
	}
	return ""
}

// systemWait reports whether f is where one of the runtime's own
// goroutines parks between jobs.
func systemWait(f string) bool {
	switch f {
	case "runtime.forcegchelper", "runtime.bgsweep", "runtime.bgscavenge", "runtime.(*scavengerState).park",
		"runtime.runFinalizers", "runtime.runfinq", "runtime.(*cleanupQueue).dequeue", "runtime.updateMaxProcsGoroutine",
		"runtime.gcBgMarkWorker", "runtime.ReadTrace", "runtime.traceReader", "runtime.(*wakeableSleep).sleep",
		"runtime.unique_runtime_registerUniqueMapCleanup.func2":
		return true
	}
	return false
}

// dumpReason maps a goroutine dump's state ("chan receive", "IO wait",
// "sync.Mutex.Lock", ...) to the trace's block reason, or "" for a
// goroutine that is not waiting (running, runnable, in a syscall).
func dumpReason(state string) string {
	status, reason := gdump.SplitState(state)
	if status != "waiting" && status != "leaked" {
		return ""
	}
	switch {
	case strings.HasPrefix(reason, "chan receive"):
		return "chan receive"
	case strings.HasPrefix(reason, "chan send"):
		return "chan send"
	case reason == "select (no cases)":
		return "forever"
	case strings.HasPrefix(reason, "select"):
		return "select"
	case reason == "IO wait":
		return "network"
	case reason == "sleep":
		return "sleep"
	case reason == "sync.Cond.Wait":
		return "sync.(*Cond).Wait"
	case strings.HasPrefix(reason, "sync.") || strings.HasPrefix(reason, "semacquire"):
		return "sync"
	case strings.HasPrefix(reason, "GC ") || strings.HasSuffix(reason, "(idle)") || reason == "finalizer wait" ||
		reason == "cleanup wait" || reason == "trace reader (blocked)" || reason == "force gc (idle)":
		return "system goroutine wait"
	}
	return reason
}

// maxDump bounds the goroutine dump read to name waits; a larger one is
// read up to here, naming what it has.
const maxDump = 256 << 20

// dumped is what a goroutine dump says of goroutines' waits.
type dumped struct {
	reason map[xtrace.GoID]string // block reasons of the waiting goroutines
	seen   map[xtrace.GoID]bool   // every goroutine in the dump
}

// readDump reads a goroutine dump (debug=2); it returns nil when the dump
// cannot be read whole, for then a goroutine missing from it says nothing.
func readDump(r io.Reader) *dumped {
	d := &dumped{reason: map[xtrace.GoID]string{}, seen: map[xtrace.GoID]bool{}}
	res, err := gdump.Scan(r, gdump.Options{MaxBytes: maxDump}, func(g *gdump.Goroutine) error {
		id := xtrace.GoID(g.ID)
		d.seen[id] = true
		if reason := dumpReason(g.State); reason != "" {
			d.reason[id] = reason
		}
		return nil
	})
	if err != nil || res.Truncated || res.Count == 0 {
		return nil
	}
	return d
}

// needsDump reports whether a goroutine dump taken now could name a wait:
// one under way when the trace began, unnamed, that lasted the whole trace.
func (z *summarizer) needsDump() bool {
	for _, u := range z.unnamed {
		if u.whole {
			return true
		}
	}
	return false
}

// nameFromDumps names unnamed waits from goroutine dumps taken just before
// the trace (pre) and just after it (post), either nil when not taken. A
// wait that lasted the whole trace takes the reason the goroutine still
// has after it; any other, the one it had just before. A goroutine that
// waited through the whole trace and is in neither dump is one of the
// runtime's own, which dumps leave out (a goroutine of the program would
// have to be created in the instant before the trace and end in the
// instant after it).
func (z *summarizer) nameFromDumps(pre, post *dumped) {
	kept := z.unnamed[:0]
	for _, u := range z.unnamed {
		var r string
		switch {
		case u.whole && post != nil && post.reason[u.id] != "":
			r = post.reason[u.id]
		case pre != nil && pre.reason[u.id] != "" && (!u.whole || post == nil || !post.seen[u.id]):
			r = pre.reason[u.id]
		case u.whole && pre != nil && post != nil && !pre.seen[u.id] && !post.seen[u.id]:
			z.wait("system goroutine wait", u.nanos)
			z.before.Runtime++
			continue
		default:
			kept = append(kept, u)
			continue
		}
		z.wait(r, u.nanos)
		z.before.FromDump++
	}
	z.unnamed = kept
}
