//go:build gdiag_deep && go1.26 && !go1.27

package probes

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	_ "unsafe" // for go:linkname
)

// Deep mode reads runtime.allp, which the Go 1.26 linker refuses to link
// by name unless the program is built with -ldflags=-checklinkname=0:
//
//	go build -tags gdiag_deep -ldflags=-checklinkname=0 ./yourcmd
//
// Without the tag none of this is compiled and no linker flag is needed.
//
//go:linkname runtimeAllp runtime.allp
var runtimeAllp []*pMirror

// pMirror mirrors the leading fields of runtime.p (runtime2.go, Go 1.26)
// up to runqtail.
type pMirror struct {
	id          int32
	status      uint32
	link        uintptr
	schedtick   uint32
	syscalltick uint32
	sysmontick  struct {
		schedtick, syscalltick uint32
		schedwhen, syscallwhen int64
	}
	m      uintptr
	mcache uintptr
	pcache struct {
		base        uintptr
		cache, scav uint64
	}
	raceprocctx  uintptr
	oldm         uintptr
	deferpool    []uintptr
	deferpoolbuf [32]uintptr
	goidcache    uint64
	goidcacheend uint64
	runqhead     uint32
	runqtail     uint32
}

// pStatusMax is runtime._Pdead, the largest P status.
const pStatusMax = 4

// runqCap is the length of runtime.p.runq.
const runqCap = 256

type deepReader struct {
	allp *[]*pMirror
}

func newDeepReader() *deepReader { return &deepReader{allp: &runtimeAllp} }

// check validates the p mirror: allp has GOMAXPROCS entries, each p's id
// is its index, its status is a known one and its queue fits runq.
func (d *deepReader) check() error {
	n := runtime.GOMAXPROCS(0)
	ps := *d.allp
	if len(ps) != n {
		return fmt.Errorf("%w: len(allp) = %d; GOMAXPROCS = %d", errMirrorRejected, len(ps), n)
	}
	var errs []error
	for i, p := range ps {
		if p == nil {
			errs = append(errs, fmt.Errorf("allp[%d] is nil", i))
			continue
		}
		if int(p.id) != i {
			errs = append(errs, fmt.Errorf("allp[%d].id = %d", i, p.id))
		}
		if st := atomic.LoadUint32(&p.status); st > pStatusMax {
			errs = append(errs, fmt.Errorf("allp[%d].status = %d", i, st))
		}
		if q := queueLen(p); q > runqCap {
			errs = append(errs, fmt.Errorf("allp[%d] run queue = %d; want <= %d", i, q, runqCap))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", errMirrorRejected, errors.Join(errs...))
	}
	return nil
}

func queueLen(p *pMirror) uint32 {
	// Load head first, as runqsize does: tail only grows past it.
	h := atomic.LoadUint32(&p.runqhead)
	t := atomic.LoadUint32(&p.runqtail)
	return t - h
}

// read appends the per-P run queue lengths to dst[:0]. It reports false
// (and an empty slice) while allp does not match gomaxprocs, as during a
// GOMAXPROCS change.
func (d *deepReader) read(dst []int, gomaxprocs int) ([]int, bool) {
	dst = dst[:0]
	// Copy the slice header once: procresize replaces allp under STW.
	ps := *d.allp
	if len(ps) != gomaxprocs {
		return dst, false
	}
	for _, p := range ps {
		q := queueLen(p)
		if q > runqCap {
			q = runqCap // a torn read between head and tail
		}
		dst = append(dst, int(q))
	}
	return dst, true
}
