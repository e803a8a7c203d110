package dashboards_test

import (
	"fmt"
	"testing"

	"github.com/gdiag/gdiag/dashboards"
)

// All builds every dashboard; MarshalJSON gives the JSON to import into
// Grafana.
func ExampleAll() {
	all, err := dashboards.All()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range all {
		fmt.Println(*d.Uid, "-", *d.Title)
	}
	// Output:
	// gdiag-scheduler - Go scheduler (gdiag)
	// gdiag-pools - Pools (gdiag)
	// gdiag-runtime - Go runtime (gdiag)
}

// Files returns the files the generator writes under dashboards/json.
func ExampleFiles() {
	files, err := dashboards.Files()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(files["gdiag-pools.json"]) > 0, len(files))
	// Output: true 3
}

// BenchmarkAll measures building the three dashboards; the cost quoted in
// doc.go comes from it.
func BenchmarkAll(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dashboards.All(); err != nil {
			b.Fatal(err)
		}
	}
}
