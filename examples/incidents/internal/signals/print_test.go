package main

import (
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
)

func TestWaitQuantile(t *testing.T) {
	bounds := []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond}
	zero := apiv1.Histogram{Bounds: bounds, Counts: []uint64{0, 0, 0, 0}}
	cases := []struct {
		name   string
		counts []uint64
		q      float64
		want   time.Duration
	}{
		{"empty", []uint64{0, 0, 0, 0}, 0.99, 0},
		{"all fast", []uint64{10, 0, 0, 0}, 0.99, time.Millisecond},
		{"median", []uint64{5, 5, 0, 0}, 0.5, time.Millisecond},
		{"tail", []uint64{90, 9, 1, 0}, 0.99, 10 * time.Millisecond},
		{"overflow", []uint64{0, 0, 0, 3}, 0.5, 100 * time.Millisecond},
	}
	for _, c := range cases {
		got := waitQuantile(zero, apiv1.Histogram{Bounds: bounds, Counts: c.counts}, c.q)
		if got != c.want {
			t.Errorf("%s: waitQuantile(%v, %v) = %v; want %v", c.name, c.counts, c.q, got, c.want)
		}
	}
	if got := waitQuantile(zero, apiv1.Histogram{Bounds: bounds[:1], Counts: []uint64{1, 2}}, 0.5); got != 0 {
		t.Errorf("waitQuantile with mismatched layouts = %v; want 0", got)
	}
}
