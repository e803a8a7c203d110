//go:build go1.26 && !go1.27

package probes

import (
	"sync/atomic"
	"unsafe"
)

// mirrorName names the runtime layout this file mirrors; Status reports it.
const mirrorName = "go1.26"

// schedMirror mirrors the leading fields of runtime.schedt (runtime2.go,
// Go 1.26) up to runq. The field types are chosen to have the runtime's
// sizes and alignments on every port: sync/atomic's types share the
// 8-byte alignment of runtime/internal/atomic's, and the mutex keeps its
// lock-rank prefix when the staticlockranking experiment is on
// (lockRankPad in sched_lockrank*.go). Only fields up to runq are
// mirrored, so the mirror is smaller than the real variable.
type schedMirror struct {
	goidgen    atomic.Uint64
	lastpoll   atomic.Int64
	pollUntil  atomic.Int64
	pollingNet atomic.Int32

	lock mutexMirror

	midle        listHeadManualMirror
	nmidle       int32
	nmidlelocked int32
	mnext        int64
	maxmcount    int32
	nmsys        int32
	nmfreed      int64

	ngsys        atomic.Int32
	nGsyscallNoP atomic.Int32

	pidle        uintptr
	npidle       atomic.Int32
	nmspinning   atomic.Int32
	needspinning atomic.Uint32

	runq gQueueMirror
}

// mutexMirror is runtime.mutex: a lock-rank prefix (empty unless the
// staticlockranking experiment is on) and a uintptr key.
type mutexMirror struct {
	rank lockRankPad
	key  uintptr
}

// listHeadManualMirror is runtime.listHeadManual.
type listHeadManualMirror struct {
	obj         uintptr
	initialized bool
	nodeOffset  uintptr
}

// gQueueMirror is runtime.gQueue.
type gQueueMirror struct {
	head uintptr
	tail uintptr
	size int32
}

// The mirror reads the real variable; a linkname to runtime.sched links
// without linker flags on Go 1.26. If the runtime ever renamed or
// reshaped it, this would still link (or read the wrong bytes): the
// self-check in selfcheck.go is what rejects such a mirror.
//
//go:linkname runtimeSched runtime.sched
var runtimeSched schedMirror

// liveSched returns the view source reading the runtime's sched variable.
func liveSched() viewSource {
	return schedSource(unsafe.Pointer(&runtimeSched))
}

// schedSource returns a view source reading a schedMirror laid at p.
// Tests pass a shifted or zeroed address to force a wrong mirror.
func schedSource(p unsafe.Pointer) viewSource {
	m := (*schedMirror)(p)
	return func(v *mirrorView) {
		// The runtime updates npidle, nmspinning, ngsys and goidgen
		// atomically; the int32/int64 fields it guards with sched.lock are
		// read racily, which is enough for a sample (the self-check and
		// plausible() reject torn values).
		v.goidgen = m.goidgen.Load()
		v.nmidle = atomic.LoadInt32(&m.nmidle)
		// Plain loads: on 32-bit ports these int64s are only 4-aligned,
		// where a 64-bit atomic load would fault.
		v.mnext = m.mnext
		v.maxmcount = atomic.LoadInt32(&m.maxmcount)
		v.nmfreed = m.nmfreed
		v.ngsys = m.ngsys.Load()
		v.npidle = m.npidle.Load()
		v.nmspinning = m.nmspinning.Load()
		v.runqSize = atomic.LoadInt32(&m.runq.size)
	}
}
