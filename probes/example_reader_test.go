package probes_test

import (
	"fmt"

	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

// Read fills a snapshot from the running process. Reading into the same
// Snapshot again allocates nothing; Sources says where each part came
// from.
func ExampleRead() {
	var s schedstats.Snapshot
	probes.Read(&s)
	fmt.Println("GOMAXPROCS known:", s.GOMAXPROCS > 0)
	fmt.Println("latency from:", s.Sources.Latency)
	// Output:
	// GOMAXPROCS known: true
	// latency from: runtime/metrics
}
