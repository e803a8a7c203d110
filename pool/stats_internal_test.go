package pool

import (
	"testing"
	"time"
)

func TestBucketOf(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 0}, {-5, 0}, {time.Microsecond, 0}, {time.Microsecond + 1, 1}, {2 * time.Microsecond, 1},
		{2*time.Microsecond + 1, 2}, {3 * time.Microsecond, 2}, {4 * time.Microsecond, 2},
		{time.Millisecond, 10}, {bucketBounds[numBounds-1], numBounds - 1},
		{bucketBounds[numBounds-1] + 1, numBounds}, {time.Hour, numBounds},
	}
	for _, tt := range tests {
		if got := bucketOf(tt.d); got != tt.want {
			t.Errorf("bucketOf(%v) = %d; want %d", tt.d, got, tt.want)
		}
	}
	// Every value lands in the bucket whose bounds contain it.
	for d := time.Duration(1); d < 100*time.Millisecond; d = d*3/2 + 1 {
		i := bucketOf(d)
		if i < numBounds && d > bucketBounds[i] || i > 0 && d <= bucketBounds[i-1] {
			t.Fatalf("bucketOf(%v) = %d, outside (%v, %v]", d, i, bucketBounds[max(i-1, 0)], bucketBounds[min(i, numBounds-1)])
		}
	}
}

func TestQuantile(t *testing.T) {
	var h histogram
	for range 90 {
		h.observe(3 * time.Microsecond) // bucket (2µs, 4µs]
	}
	for range 10 {
		h.observe(time.Hour) // overflow
	}
	s := h.snapshot()
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, 4 * time.Microsecond}, {0.45, 4 * time.Microsecond}, {0.9, 4 * time.Microsecond},
		{0.99, bucketBounds[numBounds-1]}, {2, bucketBounds[numBounds-1]},
	}
	for _, tt := range tests {
		if got := s.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %v; want %v", tt.q, got, tt.want)
		}
	}
	if s.Count != 100 || s.Sum != 90*3*time.Microsecond+10*time.Hour {
		t.Errorf("snapshot Count, Sum = %d, %v; want 100, %v", s.Count, s.Sum, 90*3*time.Microsecond+10*time.Hour)
	}
	if got := (Histogram{}).Quantile(0.5); got != 0 {
		t.Errorf("empty Quantile(0.5) = %v; want 0", got)
	}
}

// FuzzQuantile checks that Quantile never panics and stays within the
// bounds for arbitrary (including malformed) snapshots, such as ones decoded
// from JSON sent by another process.
func FuzzQuantile(f *testing.F) {
	f.Add(uint64(1), uint64(0), uint64(5), 0.5, 3)
	f.Add(uint64(0), uint64(0), uint64(0), 1.0, 29)
	f.Add(uint64(3), uint64(0), uint64(0), 0.5, 0)
	f.Add(uint64(7), uint64(1), uint64(1<<40), -1.0, 2)
	f.Fuzz(func(t *testing.T, a, b, c uint64, q float64, nb int) {
		nb = min(max(nb, 0), numBounds)
		h := Histogram{Bounds: bucketBounds[:nb:nb], Counts: make([]uint64, nb+1)}
		for i, v := range []uint64{a, b, c} {
			if i < len(h.Counts) {
				h.Counts[i] = v % (1 << 50)
				h.Count += h.Counts[i]
			}
		}
		got := h.Quantile(q)
		if got < 0 || nb > 0 && got > h.Bounds[nb-1] {
			t.Fatalf("Quantile(%v) = %v; want within [0, %v]", q, got, h.Bounds[max(nb-1, 0)])
		}
	})
}
