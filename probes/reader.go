package probes

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/schedstats"
)

// Read fills s from the running process, reusing s's slices: the
// runtime's sched structure through a mirror checked at start-up, per-P
// run queues in deep mode, and runtime/metrics for the rest (and for
// everything when the mirror is absent or rejected). s.Sources says which
// source filled each part. Read is a schedstats.ReadFunc.
//
// The process has one reader, shared by every caller: the agent, Handler,
// the exporters and the caller's own code. The first Read checks the
// mirror against facts the runtime states through public APIs, which
// stops the world twice for a few microseconds; no later call checks
// again. Read is safe for concurrent use (calls are serialised), never
// panics, costs about a microsecond and allocates nothing when s is reused
// (BenchmarkReaderRead).
func Read(s *schedstats.Snapshot) { processReader().Read(s) }

// processReader is the process's one reader, created on first use.
var processReader = sync.OnceValue(func() *reader { return newReader(liveSched(), newDeepReader()) })

// reader fills snapshots from the runtime; see Read.
type reader struct {
	mu     sync.Mutex
	m      *metricsReader
	sched  viewSource // nil without an accepted mirror
	deep   *deepReader
	view   mirrorView
	status apiv1.ReaderStatus
}

func newReader(src viewSource, deep *deepReader) *reader {
	r := &reader{m: newMetricsReader()}
	r.status = apiv1.ReaderStatus{Mode: schedstats.SourceRuntimeMetrics, Mirror: mirrorName, Fallback: true,
		Missing: missingMetrics(metricNames[:])}
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
			err = fmt.Errorf("%w: self-check panicked: %v", errMirrorRejected, p)
		}
	}()
	return check()
}

// Read fills s in place; see the function Read.
func (r *reader) Read(s *schedstats.Snapshot) {
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
			s.IdlePs = idlePs(v, s)
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

// idlePs counts the Ps with nothing to run, as if the reader were not
// there. The runtime's npidle leaves out two Ps that only the reading
// keeps from idling: the P this goroutine runs on, and the P of the
// spinning M that the reader's own wake-up starts (a goroutine made
// runnable wakes an M to look for work; it finds none and parks). So
// while no goroutine waits for a P, the reader's P and the Ps of spinning
// Ms count as idle; otherwise they would run that work, and count as
// busy. Without this an idle process reads as one or two busy Ps.
func idlePs(v *mirrorView, s *schedstats.Snapshot) int {
	n := int(v.npidle)
	if s.Goroutines.Runnable == 0 && v.runqSize == 0 {
		n += int(v.nmspinning) + 1
	}
	return min(n, s.GOMAXPROCS)
}

// Status reports which source fills the snapshots and why, for /v1/info.
func (r *reader) Status() apiv1.ReaderStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}
