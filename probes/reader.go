package probes

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// Reader fills schedstats.Snapshots from the running process: the
// runtime's sched structure through a mirror checked at start-up, per-P
// run queues in deep mode, and runtime/metrics for the rest (and for
// everything when the mirror is absent or rejected).
//
// A Reader is safe for concurrent use; calls to Read are serialised.
// The zero value is not usable: call NewReader.
type Reader struct {
	mu     sync.Mutex
	m      *metricsReader
	sched  viewSource // nil without an accepted mirror
	deep   *deepReader
	view   mirrorView
	status ReaderStatus
}

// ReaderStatus says which reader fills a Reader's snapshots and why.
type ReaderStatus struct {
	// Mode is SourceSched, SourceDeep, or SourceRuntimeMetrics when the
	// reader fell back.
	Mode schedstats.Source
	// Mirror names the runtime layout mirrored, such as "go1.26"; it is
	// empty when this toolchain has no mirror.
	Mirror string
	// Fallback is true when the mirror was rejected or absent.
	Fallback bool
	// Reason says why the reader fell back (or why deep mode was not
	// used); it is empty when all is well.
	Reason string
}

// NewReader returns a Reader after checking the runtime mirror once
// against facts the runtime states through public APIs. The check stops
// the world briefly (debug.SetMaxThreads), so create one Reader per
// process and share it. NewReader never panics: any doubt about the
// mirror makes the Reader fall back to runtime/metrics.
func NewReader() *Reader {
	return newReader(liveSched(), newDeepReader())
}

func newReader(src viewSource, deep *deepReader) *Reader {
	r := &Reader{m: newMetricsReader()}
	r.status = ReaderStatus{Mode: schedstats.SourceRuntimeMetrics, Mirror: mirrorName, Fallback: true}
	if src == nil {
		r.status.Reason = "no runtime mirror for this Go version"
		return r
	}
	if err := runCheck(func() error { return checkSource(src) }); err != nil {
		r.status.Reason = err.Error()
		return r
	}
	r.sched = src
	r.status.Mode, r.status.Fallback = schedstats.SourceSched, false
	if deep == nil {
		return r
	}
	if err := runCheck(deep.check); err != nil {
		r.status.Reason = "deep mode off: " + err.Error()
		return r
	}
	r.deep = deep
	r.status.Mode = schedstats.SourceDeep
	return r
}

// checkSource gathers the facts first: the counters compared against
// them only grow, so a view read afterwards must be at least as large.
func checkSource(src viewSource) error {
	f := gatherFacts()
	var v mirrorView
	src(&v)
	return checkMirror(v, f)
}

// runCheck runs a check, turning a panic or a memory fault (a mirror
// read at a bad address) into an error.
func runCheck(check func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: self-check panicked: %v", ErrMirrorRejected, p)
		}
	}()
	return check()
}

// Read fills s in place. It reuses s's slices, so reading into the same
// Snapshot again allocates nothing; it costs about a microsecond (see
// BenchmarkReaderRead).
func (r *Reader) Read(s *schedstats.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.Time = time.Now()
	s.Sources = schedstats.Sources{}
	r.m.read(s)
	s.IdlePs, s.IdleThreads, s.SpinningThreads = 0, 0, 0
	s.MsCreated, s.MsFreed, s.GlobalRunQueue, s.SystemGoroutines = 0, 0, 0, 0
	s.LocalRunQueues = s.LocalRunQueues[:0]
	if r.sched != nil {
		v := &r.view
		r.sched(v)
		if plausible(v, s.GOMAXPROCS) {
			s.IdlePs = int(v.npidle)
			s.IdleThreads = int(v.nmidle)
			s.SpinningThreads = int(v.nmspinning)
			s.MsCreated, s.MsFreed = uint64(v.mnext), uint64(v.nmfreed)
			s.Threads = int(v.mnext - v.nmfreed)
			s.GlobalRunQueue = int(v.runqSize)
			s.SystemGoroutines = int(v.ngsys)
			s.Sources.Procs = schedstats.SourceSched
			s.Sources.Threads = schedstats.SourceSched
			s.Sources.RunQueues = schedstats.SourceSched
		}
	}
	if r.deep != nil {
		var ok bool
		s.LocalRunQueues, ok = r.deep.read(s.LocalRunQueues, s.GOMAXPROCS)
		if ok {
			s.Sources.RunQueues = schedstats.SourceDeep
		}
	}
	if r.deep == nil {
		s.LocalRunQueues = nil // documented as nil outside deep mode
	}
}

// Status reports which reader fills the snapshots and why.
func (r *Reader) Status() ReaderStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}
