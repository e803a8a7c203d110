package probes_test

import (
	"fmt"

	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

// A Reader is created once and reused; reading into the same Snapshot
// allocates nothing.
func ExampleReader() {
	r := probes.NewReader()
	var s schedstats.Snapshot
	r.Read(&s)

	// Without an accepted mirror (another Go version, or a failed
	// self-check) the Reader says why and fills what runtime/metrics has.
	st := r.Status()
	fmt.Println("fallback explained:", st.Fallback == (st.Reason != ""))
	fmt.Println("GOMAXPROCS known:", s.GOMAXPROCS > 0)
	fmt.Println("latency from:", s.Sources.Latency)
	// Output:
	// fallback explained: true
	// GOMAXPROCS known: true
	// latency from: runtime/metrics
}
