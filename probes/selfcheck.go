package probes

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync/atomic"
)

// errMirrorRejected is wrapped by the self-check's error when a mirrored
// runtime structure disagrees with what the runtime states elsewhere.
var errMirrorRejected = errors.New("probes: runtime mirror rejected")

// mirrorView is the version-independent view of the runtime's sched
// fields the Reader uses. Each sched_goXXX.go file fills it from its own
// mirror, so the checks below apply to every version.
type mirrorView struct {
	goidgen    uint64
	nmidle     int32
	mnext      int64
	maxmcount  int32
	nmfreed    int64
	ngsys      int32
	npidle     int32
	nmspinning int32
	runqSize   int32
}

// viewSource fills a mirrorView from some memory; nil means no mirror.
type viewSource func(*mirrorView)

// runtimeFacts are values the runtime states through public APIs, used to
// validate a mirror. They are gathered before the view is read: the
// counters compared against them only grow.
type runtimeFacts struct {
	maxThreads int    // debug.SetMaxThreads
	gomaxprocs int    // runtime.GOMAXPROCS(0)
	goid       uint64 // the checking goroutine's id
	created    uint64 // /sched/goroutines-created:goroutines
	threads    uint64 // /sched/threads/total:threads
	goroutines uint64 // /sched/goroutines:goroutines
}

// maxRunq bounds a plausible global run queue: far beyond any real
// program, far below what a misread pointer looks like as an int32.
const maxRunq = 1 << 24

// factsGathered counts the calls of gatherFacts, each of which stops the
// world: a test checks that a process gathers them once.
var factsGathered atomic.Int64

// gatherFacts reads the runtimeFacts. SetMaxThreads stops the world
// twice, which is why the process's reader checks its mirror once, not at
// every Read.
//
// SetMaxThreads only returns the limit by setting one. The value set for
// that moment is the highest the runtime takes, never a lower one: the
// runtime kills a process whose live threads exceed the limit at once
// ("program exceeds 10000-thread limit"), and a process may run more than
// the default 10,000 after raising it.
func gatherFacts() runtimeFacts {
	factsGathered.Add(1)
	n := debug.SetMaxThreads(math.MaxInt32)
	debug.SetMaxThreads(n)
	s := []metrics.Sample{
		{Name: "/sched/goroutines-created:goroutines"},
		{Name: "/sched/threads/total:threads"},
		{Name: "/sched/goroutines:goroutines"},
	}
	metrics.Read(s)
	f := runtimeFacts{maxThreads: n, gomaxprocs: runtime.GOMAXPROCS(0), goid: currentGoid()}
	f.created, f.threads, f.goroutines = uint64Of(s[0]), uint64Of(s[1]), uint64Of(s[2])
	return f
}

func uint64Of(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}

// currentGoid parses the calling goroutine's id from its stack header
// ("goroutine 18 [running]:"); 0 if the header is not understood.
func currentGoid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	var id uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// checkMirror validates a view against facts. Every rule is a fact the
// runtime keeps true; a view read at a wrong offset or from a variable
// that no longer exists (reading zero) breaks several of them.
func checkMirror(v mirrorView, f runtimeFacts) error {
	var errs []string
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Sprintf(format, args...))
	}
	if int(v.maxmcount) != f.maxThreads {
		bad("maxmcount = %d; debug.SetMaxThreads reports %d", v.maxmcount, f.maxThreads)
	}
	if v.npidle < 0 || int(v.npidle) > f.gomaxprocs {
		bad("npidle = %d; want 0..%d (GOMAXPROCS)", v.npidle, f.gomaxprocs)
	}
	if v.nmspinning < 0 || int(v.nmspinning) > f.gomaxprocs {
		bad("nmspinning = %d; want 0..%d (GOMAXPROCS)", v.nmspinning, f.gomaxprocs)
	}
	if f.goid == 0 || v.goidgen < f.goid {
		bad("goidgen = %d; below the current goroutine id %d", v.goidgen, f.goid)
	}
	if v.goidgen < f.created {
		bad("goidgen = %d; below %d goroutines created", v.goidgen, f.created)
	}
	if v.nmfreed < 0 || v.nmfreed > v.mnext {
		bad("nmfreed = %d; want 0..mnext (%d)", v.nmfreed, v.mnext)
	}
	// threads/total is mnext-nmfreed less cgo's extra Ms; new threads may
	// start between the two reads, hence the slack.
	if live := v.mnext - v.nmfreed; live < int64(f.threads) || live > int64(f.threads)+64 {
		bad("mnext-nmfreed = %d; /sched/threads/total reports %d", live, f.threads)
	}
	if v.nmidle < 0 || int64(v.nmidle) > v.mnext {
		bad("nmidle = %d; want 0..mnext (%d)", v.nmidle, v.mnext)
	}
	if v.runqSize < 0 || v.runqSize > maxRunq {
		bad("runq.size = %d; want 0..%d", v.runqSize, maxRunq)
	}
	if v.ngsys < 0 || uint64(v.ngsys) > f.goroutines+64 {
		bad("ngsys = %d; want 0..%d goroutines", v.ngsys, f.goroutines)
	}
	if len(errs) == 0 {
		return nil
	}
	// One line, since Status().Reason ends up in JSON and logs.
	return fmt.Errorf("%w: %s", errMirrorRejected, strings.Join(errs, "; "))
}

// plausible is the cheap per-Read guard: a sample that breaks it is not
// reported (the runtime/metrics parts still are).
func plausible(v *mirrorView, gomaxprocs int) bool {
	return v.npidle >= 0 && int(v.npidle) <= gomaxprocs &&
		v.nmspinning >= 0 && int(v.nmspinning) <= gomaxprocs &&
		v.nmfreed >= 0 && v.nmfreed <= v.mnext &&
		v.nmidle >= 0 && v.runqSize >= 0 && v.runqSize <= maxRunq && v.ngsys >= 0
}
