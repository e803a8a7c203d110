package goroutines

import (
	"testing"
	"time"
)

// TestStateTextPlurals checks the wait times as the group headers print
// them: "1 minute", never "1 minutes".
func TestStateTextPlurals(t *testing.T) {
	for _, c := range []struct {
		lo, hi time.Duration
		want   string
	}{
		{0, 30 * time.Second, "chan receive"},
		{0, time.Minute, "chan receive, up to 1 minute"},
		{0, 5 * time.Minute, "chan receive, up to 5 minutes"},
		{time.Minute, time.Minute, "chan receive, 1 minute"},
		{3 * time.Minute, 12 * time.Minute, "chan receive, 3 to 12 minutes"},
	} {
		if got := stateText("chan receive", c.lo, c.hi); got != c.want {
			t.Errorf("stateText(%v, %v) = %q; want %q", c.lo, c.hi, got, c.want)
		}
	}
}
