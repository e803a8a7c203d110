package cli

import (
	"math"
	"testing"
)

func TestBounds(t *testing.T) {
	tests := []struct {
		seconds       float64
		most, atLeast string
	}{
		{4.194304, "≤4.2s", "≥4.19s"},
		{0.134217728, "≤135ms", "≥134ms"},
		{0.001, "≤1ms", "≥1ms"},
		{0.01, "≤10ms", "≥10ms"},
		{3.84e-6, "≤3.84µs", "≥3.84µs"},
		{6.4e-8, "≤64ns", "≥64ns"},
		{0, "≤0s", "≥0s"},
		{140737.488355328, "≤39h10m0s", "≥38h53m20s"},
		{math.NaN(), "-", "-"},
		{math.Inf(1), "-", "-"},
	}
	for _, tt := range tests {
		if got := AtMost(tt.seconds); got != tt.most {
			t.Errorf("AtMost(%v) = %q; want %q", tt.seconds, got, tt.most)
		}
		if got := AtLeast(tt.seconds); got != tt.atLeast {
			t.Errorf("AtLeast(%v) = %q; want %q", tt.seconds, got, tt.atLeast)
		}
	}
}
