package schedstats_test

import (
	"math"
	"slices"
	"testing"

	"github.com/gdiag/gdiag/schedstats"
)

// TestRebucket checks the exporters' re-bucketing: each runtime bucket
// goes under the first bound at or above its upper edge, the count is kept,
// and the quantile of the result is the first bound at or above the
// original's.
func TestRebucket(t *testing.T) {
	bounds := schedstats.ExportBounds()
	if len(bounds) != 22 || bounds[0] != 1e-6 || bounds[len(bounds)-1] != 10 || !slices.IsSorted(bounds) {
		t.Fatalf("ExportBounds() = %v; want 22 ascending bounds from 1µs to 10s", bounds)
	}
	bounds[0] = 42
	if schedstats.ExportBounds()[0] != 1e-6 {
		t.Fatal("ExportBounds shares its result")
	}
	rb := []float64{math.Inf(-1), 0}
	for b := 1e-7; b < 100; b *= 1.25 {
		rb = append(rb, b)
	}
	rb = append(rb, math.Inf(1))
	h := schedstats.Histogram{Bounds: rb, Counts: make([]uint64, len(rb)-1)}
	for i := range h.Counts {
		h.Counts[i] = uint64(i*31) % 7
	}
	h.Counts[len(h.Counts)-1] = 2 // beyond 100s: the open-ended bucket
	eb := schedstats.ExportBounds()
	counts := make([]uint64, len(eb)+1)
	n, sum := h.Rebucket(eb, counts)
	if n != h.Count() {
		t.Errorf("Rebucket count = %d; want %d", n, h.Count())
	}
	if !(sum > 0) || math.IsInf(sum, 0) {
		t.Errorf("Rebucket sum = %v; want a positive, finite estimate", sum)
	}
	var total uint64
	for _, c := range counts {
		total += c
	}
	if total != n {
		t.Errorf("Rebucket counts sum to %d; want %d", total, n)
	}
	got := schedstats.Histogram{Bounds: append(append([]float64{0}, eb...), math.Inf(1)), Counts: counts}
	for _, q := range []float64{0, 0.1, 0.5, 0.9, 0.99, 0.999, 1} {
		lib := h.Quantile(q)
		want := eb[len(eb)-1]
		if k := slices.IndexFunc(eb, func(b float64) bool { return b >= lib }); k >= 0 {
			want = eb[k]
		}
		if g := got.Quantile(q); g != want {
			t.Errorf("q=%v: re-bucketed quantile %v; want %v, the first export bound ≥ %v", q, g, want, lib)
		}
	}
	if n := testing.AllocsPerRun(100, func() { h.Rebucket(eb, counts) }); n != 0 {
		t.Errorf("Rebucket allocates %v times; want 0", n)
	}
	// Malformed and empty histograms give zero counts, not a panic.
	for _, bad := range []schedstats.Histogram{{}, {Bounds: []float64{1}, Counts: []uint64{3, 4}}} {
		if n, _ := bad.Rebucket(eb, counts); n != 0 || slices.ContainsFunc(counts, func(c uint64) bool { return c != 0 }) {
			t.Errorf("Rebucket(%+v) = %d, %v; want nothing counted", bad, n, counts)
		}
	}
}

func TestRebucketPanicsOnShortCounts(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Rebucket with len(counts) == len(bounds) did not panic")
		}
	}()
	schedstats.Histogram{}.Rebucket([]float64{1, 2}, make([]uint64, 2))
}
