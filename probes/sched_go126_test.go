//go:build go1.26 && !go1.27

package probes

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/gdiag/gdiag/schedstats"
)

// TestShiftedMirror reads the real sched variable 8 bytes off, as a
// mirror would after the runtime inserted a field: the self-check must
// reject it and the Reader must fall back.
func TestShiftedMirror(t *testing.T) {
	for _, shift := range []int{8, -8, 16} {
		base := unsafe.Pointer(&runtimeSched)
		if shift < 0 {
			// Read before sched from a buffer holding its first bytes, so
			// that no address outside a variable is touched.
			buf := make([]byte, unsafe.Sizeof(runtimeSched)+8)
			copy(buf[8:], unsafe.Slice((*byte)(base), unsafe.Sizeof(runtimeSched)))
			base = unsafe.Pointer(&buf[0])
		} else {
			base = unsafe.Add(base, shift)
		}
		src := schedSource(base)
		var v mirrorView
		f := gatherFacts()
		src(&v)
		if err := checkMirror(v, f); !errors.Is(err, errMirrorRejected) {
			t.Errorf("shift %d: checkMirror(%+v) = %v; want errMirrorRejected", shift, v, err)
		}
		r := newReader(src, nil)
		if st := r.Status(); !st.Fallback || st.Mode != schedstats.SourceRuntimeMetrics {
			t.Errorf("shift %d: Status() = %+v; want fallback", shift, st)
		}
		checkMetricsParts(t, r)
	}
}

func TestLiveMirrorAccepted(t *testing.T) {
	var v mirrorView
	f := gatherFacts()
	liveSched()(&v)
	if err := checkMirror(v, f); err != nil {
		t.Fatalf("checkMirror(live) = %v; want nil", err)
	}
	t.Logf("live view: %+v", v)
}
